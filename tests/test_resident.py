"""``device=``: a split resident on one device, batches gathered and transformed there.

Run on the CPU device here (the path is the same torch code on an accelerator; the
benchmark ``benchmarks/bench_device.py`` measures it on a GPU).
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

import dmzoo
from dmzoo.core.errors import InvalidArgumentError
from dmzoo.core.resident import ResidentDataset, resident_loader
from dmzoo.plugins.vision.cifar.datamodule import CIFAR10DataModule
from support.http_server import FileServer
from support.quiet_trainer import quiet_trainer


@pytest.fixture(scope="module")
def cifar_dir(tmp_path_factory):
    """CIFAR-10 (300 train / 60 test random images) prepared through the loopback mirror."""
    root = tmp_path_factory.mktemp("resident")
    files = CIFAR10DataModule.upstream_files(n_train=300, n_test=60, seed=5)
    table = root / "checksums.tsv"
    table.write_text("".join(f"cifar10/{name}\t{len(data)}\t{hashlib.sha256(data).hexdigest()}\n"
                             for name, data in files.items()))
    with FileServer(root / "srv") as server, pytest.MonkeyPatch.context() as mp:
        for name, data in files.items():
            server.put(f"cifar10/{name}", data)
        mp.setenv("DMZOO_MIRROR", server.url)
        mp.setenv("DMZOO_CHECKSUMS", str(table))
        mp.setenv("DMZOO_QUIET", "1")
        dmzoo.load_datamodule("cifar10", data_dir=str(root / "data")).prepare_data()
    return str(root / "data")


def loaders(data_dir: str, split: str, **kwargs):
    """The same split's loader with and without ``device="cpu"``."""
    out = []
    for device in (None, "cpu"):
        dm = dmzoo.load_datamodule("cifar10", data_dir=data_dir, batch_size=32, val_split=50,
                                   device=device, **kwargs)
        dm.setup("fit")
        dm.setup("test")
        out.append(getattr(dm, f"{split}_dataloader")())
    return out


@pytest.mark.parametrize("split", ["train", "val", "test"])
def test_resident_batches_equal_the_cpu_loaders(cifar_dir, split):
    cpu, resident = loaders(cifar_dir, split, normalize=True, augment=True, drop_last=True)
    assert isinstance(resident.dataset, ResidentDataset) and len(resident) == len(cpu)
    for _ in range(2):  # two epochs: a new order each time, the same on both paths
        pairs = list(zip(cpu, resident, strict=True))
        assert pairs
        for (x, y), (rx, ry) in pairs:
            assert rx.dtype == torch.float32 and ry.dtype == torch.int64
            assert torch.equal(y, ry)
            assert torch.allclose(x, rx, atol=1e-6)


def test_resident_epochs_follow_set_epoch_and_differ(cifar_dir):
    _, resident = loaders(cifar_dir, "train")
    first = torch.cat([y for _, y in resident])
    second = torch.cat([y for _, y in resident])
    resident.sampler.set_epoch(0)
    again = torch.cat([y for _, y in resident])
    assert torch.equal(first, again) and not torch.equal(first, second)


def test_resident_loader_resumes_mid_epoch_exactly(cifar_dir):
    """A state taken after k batches, loaded into a fresh resident loader, continues with
    batch k+1 of the uninterrupted run, augmentation included, then the same next epoch."""
    def fresh():
        return loaders(cifar_dir, "train", normalize=True, augment=True)[1]

    whole = fresh()
    reference = [list(whole), list(whole)]  # two uninterrupted epochs
    interrupted = fresh()
    it = iter(interrupted)
    for _ in range(3):
        next(it)
    state = interrupted.state_dict()
    resumed = fresh()
    resumed.load_state_dict(state)
    rest, following = list(resumed), list(resumed)
    assert len(rest) == len(reference[0]) - 3
    for (x, y), (rx, ry) in zip(reference[0][3:] + reference[1], rest + following, strict=True):
        assert torch.equal(y, ry) and torch.equal(x, rx)


def test_resident_shards_cover_every_row_once_per_rank_set():
    images = np.arange(10 * 4, dtype=np.uint8).reshape(10, 1, 2, 2)
    labels = np.arange(10)
    seen = []
    for rank in range(3):
        loader = resident_loader([images, labels], device="cpu", batch_size=2, shuffle=True,
                                 seed=1)
        loader.sampler.num_replicas, loader.sampler.rank = 3, rank  # as under a 3-rank group
        rows = torch.cat([y for _, y in loader])
        assert len(rows) == 4 and len(loader) == 2  # ceil(10 / 3) rows per rank
        seen.append(rows)
    everything = torch.cat(seen)
    assert set(everything.tolist()) == set(range(10))  # nothing lost
    assert len(everything) == 12  # two rows repeated, as DistributedSampler pads


def test_bad_devices_and_arguments_fail_clearly():
    with pytest.raises(InvalidArgumentError, match="device must name a torch device"):
        dmzoo.load_datamodule("cifar10", device="not-a-device")
    with pytest.raises(InvalidArgumentError, match="equal lengths"):
        ResidentDataset([np.zeros((3, 1, 2, 2), np.uint8), np.zeros(2)], device="cpu")
    with pytest.raises(InvalidArgumentError, match="batch_size"):
        resident_loader([np.zeros((2, 1, 2, 2), np.uint8), np.zeros(2)], device="cpu",
                        batch_size=0)
    if not torch.cuda.is_available():
        with pytest.raises(InvalidArgumentError, match="cannot keep the data on device 'cuda'"):
            ResidentDataset([np.zeros((2, 1, 2, 2), np.uint8), np.zeros(2)], device="cuda")


def test_lightning_fits_on_a_resident_datamodule(cifar_dir, tmp_path):
    lightning = pytest.importorskip("lightning.pytorch")

    class Tiny(lightning.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(3 * 32 * 32, 10))
            self.devices_seen: set[str] = set()

        def training_step(self, batch, _):
            x, y = batch
            self.devices_seen.add(str(x.device))
            return torch.nn.functional.cross_entropy(self.net(x), y)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.01)

    dm = dmzoo.load_datamodule("cifar10", data_dir=cifar_dir, batch_size=32, device="cpu",
                               normalize=True, augment=True)
    model = Tiny()
    trainer = quiet_trainer(tmp_path, max_epochs=1, limit_train_batches=3, limit_val_batches=0)
    trainer.fit(model, datamodule=dm)
    assert trainer.global_step == 3 and model.devices_seen == {"cpu"}
