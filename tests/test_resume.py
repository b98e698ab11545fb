"""Exact mid-epoch resumption: a loader state taken after k batches, loaded into a fresh
loader (same process, another process, other num_workers, another world size), gives
exactly the batches an uninterrupted run would have given, augmentation included."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from test_distributed import free_port
from torch.utils.data import DistributedSampler

import dmzoo
from dmzoo.core.epochs import EpochSampler, epoch_permutation
from dmzoo.core.errors import InvalidArgumentError, SplitMismatchError
from dmzoo.core.fastloader import ArrayDataset, ArrayLoader, Compose, ToFloat, make_loader
from dmzoo.plugins.vision.augment import RandomCropFlip
from dmzoo.plugins.vision.cifar.datamodule import CIFAR10DataModule
from dmzoo.plugins.vision.mnist.datamodule import MNISTDataModule
from support.resume_lightning import sample_fingerprints

SUPPORT = Path(__file__).resolve().parent / "support"
IMAGES = np.random.default_rng(0).integers(0, 256, (103, 3, 8, 8), dtype=np.uint8)


def loader(batch_size: int = 10, **kwargs):
    """103 images, shuffled, randomly cropped and flipped: every kind of randomness."""
    ds = ArrayDataset((IMAGES, np.arange(len(IMAGES))))
    augment = Compose([RandomCropFlip(0, size=8, padding=2, seed=1), ToFloat(0)])
    return make_loader(ds, batch_size=batch_size, shuffle=True, seed=3, transform=augment,
                       **kwargs)


def same(got: list, want: list) -> bool:
    return len(got) == len(want) and all(
        torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(got, want, strict=True))


@pytest.mark.parametrize("n", [0, 1, 7, 1000, 100_003])
def test_the_epoch_order_is_the_int64_randperm_of_seed_plus_epoch(n):
    """The order earlier releases made (and saved states point into), whatever dtype the
    permutation is computed in."""
    for seed, epoch in ((0, 0), (5, 3), (2**31 + 7, 1)):
        expected = torch.randperm(n, generator=torch.Generator().manual_seed(seed + epoch))
        got = epoch_permutation(n, seed, epoch)
        assert got.dtype == np.int64 and got.tolist() == expected.tolist()


@pytest.mark.parametrize("k", [0, 1, 6, 10, 11])
def test_a_state_after_k_batches_continues_with_batch_k_plus_1(k):
    ref = loader()
    epochs = [list(ref) for _ in range(3)]
    first = loader()
    batches = iter(first)
    for _ in range(k):
        next(batches)
    state = first.state_dict()
    assert json.loads(json.dumps(state)) == state  # plain numbers: any checkpoint format holds it
    resumed = loader()
    resumed.load_state_dict(state)
    rest = list(resumed)
    assert same(rest, epochs[0][k:] if k < 11 else epochs[1])  # k = 11: the epoch was over
    assert same(list(resumed), epochs[1] if k < 11 else epochs[2])  # later epochs unchanged


def test_the_length_of_a_resumed_epoch_counts_the_batches_before_the_resume():
    """Lightning counts batches from the saved batch_idx up to ``len(loader)``."""
    first = loader()
    batches = iter(first)
    for _ in range(4):
        next(batches)
    resumed = loader()
    resumed.load_state_dict(first.state_dict())
    assert len(resumed) == 11 and len(list(resumed)) == 7 and len(resumed) == 11


def test_worker_counts_and_persistent_workers_do_not_matter():
    ref = loader()
    want = [list(ref) for _ in range(2)]
    saver = loader(num_workers=2, persistent_workers=True)
    assert same(list(saver), want[0])  # workers give the single-process batches
    batches = iter(saver)
    taken = [next(batches) for _ in range(3)]
    state = saver.state_dict()
    del batches
    resumed = loader()
    resumed.load_state_dict(state)
    assert same(taken + list(resumed), want[1])
    back = loader(num_workers=2)
    back.load_state_dict(state)
    assert same(list(back), want[1][3:])


def test_augmentation_is_a_function_of_the_sample_position_not_of_the_batching():
    per_sample = torch.cat([x for x, _ in loader(batch_size=10)])
    assert torch.equal(per_sample, torch.cat([x for x, _ in loader(batch_size=7)]))
    crops = RandomCropFlip(0, size=8, padding=2, seed=1)
    raw = torch.from_numpy(IMAGES[:20])
    assert not torch.equal(crops((raw,))[0], crops((raw,))[0])  # called directly: new draws


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("before, after", [(2, 1), (1, 2), (2, 3)])
def test_the_elastic_rule_in_one_process(before, after, drop_last):
    """Saved at one world size after k batches per rank, resumed at another: the rest of
    the epoch exactly once (plus the documented padding), then the same global orders."""
    n, size, k = 53, 4, 3
    ds = ArrayDataset({"id": np.arange(n)})

    def ranks(world):
        return [make_loader(ds, batch_size=size, sampler=EpochSampler(
            ds, seed=5, num_replicas=world, rank=r, drop_last=drop_last)) for r in range(world)]

    def interleave(shards):
        return [int(s[i]) for i in range(max(map(len, shards))) for s in shards if i < len(s)]

    savers = ranks(before)
    seen = [[int(i) for b in itertools.islice(s, k) for i in b["id"]] for s in savers]
    states = [s.state_dict() for s in savers]
    assert len({json.dumps(s) for s in states}) == 1  # every rank saves the same state
    consumed = k * size * before
    order = epoch_permutation(n, 5, 0)
    assert interleave(seen) == order[:consumed].tolist() and states[0]["position"] == consumed
    resumed = ranks(after)
    for r in resumed:
        r.load_state_dict(states[0])
    rest = interleave([[int(i) for b in r for i in b["id"]] for r in resumed])
    left = n - consumed
    kept = left - left % after if drop_last else left + (-left % after)
    assert rest == np.take(order, np.arange(consumed, consumed + kept), mode="wrap").tolist()
    whole = sum(seen, []) + rest
    if not drop_last:  # every sample; repeats are only the padding, from the epoch's start
        assert set(whole) == set(range(n)) and len(whole) - n == -left % after
    following = interleave([[int(i) for b in r for i in b["id"]] for r in resumed])
    again = interleave([[int(i) for b in r for i in b["id"]] for r in ranks(after)])
    assert len(following) == (n - n % after if drop_last else n + -n % after)
    assert following == np.take(epoch_permutation(n, 5, 1), np.arange(len(following)),
                                 mode="wrap").tolist()
    assert following != again  # a fresh loader starts at epoch 0 instead


def test_states_for_other_data_or_of_another_kind_are_refused():
    state = loader().state_dict()
    with pytest.raises(SplitMismatchError, match="seed 3 .now 4."):
        make_loader(ArrayDataset((IMAGES, IMAGES[:, 0, 0, 0])), batch_size=10, shuffle=True,
                    seed=4).load_state_dict(state)
    with pytest.raises(SplitMismatchError, match="num_samples"):
        make_loader(ArrayDataset((IMAGES[:50],)), batch_size=10, shuffle=True,
                    seed=3).load_state_dict(state)
    for bad in (None, {}, {**state, "format": 99}, {**state, "position": "3"}):
        with pytest.raises(InvalidArgumentError, match="state_dict"):
            loader().load_state_dict(bad)
    with pytest.raises(InvalidArgumentError, match="out of range"):
        loader().load_state_dict({**state, "position": 104})
    ds = ArrayDataset((IMAGES,))
    custom = ArrayLoader(ds, batch_sampler=[list(range(i, i + 10)) for i in range(0, 103, 10)])
    custom.load_state_dict({**state, "shuffle": None, "seed": None})  # an epoch boundary: fine
    with pytest.raises(InvalidArgumentError, match="epoch boundary"):
        custom.load_state_dict({**state, "shuffle": None, "seed": None, "num_yielded": 2,
                                "position": 20})


def test_plain_loop_helpers_save_and_restore_loader_data_and_model(tmp_path):
    from dmzoo.core.errors import DataFormatError
    from dmzoo.interop import load_training_state, save_training_state

    def setup(seed: int = 0):
        dm = dmzoo.load_datamodule("wine", batch_size=16, seed=seed)
        dm.setup("fit")
        return dm, dm.train_dataloader(), torch.nn.Linear(13, 3)

    path = tmp_path / "run.pt"
    dm, train, model = setup()
    assert load_training_state(path, loader=train, datamodule=dm, model=model) is False
    want = [sample_fingerprints(b) for b in setup()[1]][2:]
    batches = iter(train)
    next(batches), next(batches)
    save_training_state(path, loader=train, datamodule=dm, model=model)
    assert [p.name for p in tmp_path.iterdir()] == ["run.pt"]  # no partial file left
    dm2, train2, model2 = setup()
    assert load_training_state(path, loader=train2, datamodule=dm2, model=model2) is True
    assert torch.equal(model2.weight, model.weight)
    assert [sample_fingerprints(b) for b in train2] == want
    other, train3, model3 = setup(seed=1)  # another split: refused before anything is restored
    with pytest.raises(SplitMismatchError):
        load_training_state(path, loader=train3, datamodule=other, model=model3)
    assert train3.state_dict()["position"] == 0 and not torch.equal(model3.weight, model.weight)
    with pytest.raises(DataFormatError, match="holds no optim"):
        load_training_state(path, loader=train2, optim=torch.optim.SGD(model2.parameters(), 0.1))
    torch.save({"weights": 1}, path)
    with pytest.raises(DataFormatError, match="not a dmzoo training state"):
        load_training_state(path, loader=train2)


def test_lightning_keeps_the_dmzoo_sampler_under_ddp():
    """Lightning injects a DistributedSampler unless the loader already has one: dmzoo's
    is one, so the datamodule's seed (not Lightning's) orders a DDP run."""
    from lightning.pytorch import Trainer
    from lightning.pytorch.trainer.states import RunningStage

    trainer = Trainer(accelerator="cpu", devices=2, strategy="ddp", logger=False)
    train = loader()
    assert isinstance(train.sampler, DistributedSampler)
    prepared = trainer._data_connector._prepare_dataloader(train, shuffle=True,
                                                            mode=RunningStage.TRAINING)
    assert prepared is train


# -- real processes -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    """Offline fixtures of mnist and cifar10 (50 train images each), prepared once."""
    root = tmp_path_factory.mktemp("resume")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DMZOO_HOME", str(root / "home"))
        return {name: cls.fixture(root / name, dmzoo.get_spec(name))["data_dir"]
                for name, cls in (("mnist", MNISTDataModule), ("cifar10", CIFAR10DataModule))}


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    proc = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "OMP_NUM_THREADS": "1", **(env or {})})
    assert proc.returncode == 0, proc.stderr[-4000:]
    return proc


@pytest.mark.slow
@pytest.mark.parametrize("workers", [(0, 2), (2, 0)])
def test_plain_loops_resume_in_another_process(tmp_path, prepared, workers):
    cases = {"mnist": ["mnist", {"data_dir": prepared["mnist"], "batch_size": 8,
                                 "val_split": 0.2}],
             "cifar_augment": ["cifar10", {"data_dir": prepared["cifar10"], "batch_size": 8,
                                           "val_split": 0.2, "augment": True}],
             "wine": ["wine", {"batch_size": 16}]}
    (tmp_path / "cases.json").write_text(json.dumps(cases))
    k = 3
    run(str(SUPPORT / "resume_plain.py"), "save", str(tmp_path / "cases.json"), str(tmp_path),
        str(tmp_path / "saved.json"), "--k", str(k), "--num-workers", str(workers[0]))
    run(str(SUPPORT / "resume_plain.py"), "resume", str(tmp_path / "cases.json"), str(tmp_path),
        str(tmp_path / "resumed.json"), "--num-workers", str(workers[1]))
    saved = json.loads((tmp_path / "saved.json").read_text())
    resumed = json.loads((tmp_path / "resumed.json").read_text())
    for case, (name, kwargs) in cases.items():
        dm = dmzoo.load_datamodule(name, **kwargs)
        dm.setup("fit")
        train = dm.train_dataloader()
        want = [sample_fingerprints(b) for _ in range(2) for b in train]
        assert len(saved[case]) == k and saved[case] + resumed[case] == want, case


@pytest.mark.slow
def test_lightning_resumes_a_sigkilled_run_bit_for_bit(tmp_path, prepared):
    script = str(SUPPORT / "resume_lightning.py")
    common = ["--data-dir", prepared["cifar10"], "--epochs", "3"]
    run(script, *common, "--out", str(tmp_path / "whole.jsonl"), "--ckpt-dir", str(tmp_path / "a"))
    killed = subprocess.run([sys.executable, script, *common, "--out", str(tmp_path / "cut.jsonl"),
                             "--ckpt-dir", str(tmp_path / "b"), "--kill-at", "7",
                             "--num-workers", "2"], capture_output=True, text=True, timeout=300)
    assert killed.returncode == -9, killed.stderr[-4000:]  # SIGKILL, mid-epoch 1 of 5 batches
    resumed = run(script, *common, "--out", str(tmp_path / "cut.jsonl"),
                  "--ckpt-dir", str(tmp_path / "b"), "--kill-at", "7", "--resume")
    whole = [json.loads(line) for line in (tmp_path / "whole.jsonl").read_text().splitlines()]
    cut = [json.loads(line) for line in (tmp_path / "cut.jsonl").read_text().splitlines()]
    assert len(whole) == 16 and [r["step"] for r in cut[:8]] == list(range(8))
    # the samples of every step, augmentation included: bit for bit
    assert [r.get("samples") for r in cut] == [r.get("samples") for r in whole]
    # the training itself carries on (float sums from worker-made batches may differ in
    # the last bits: BLAS picks its kernels by memory alignment)
    assert [r["loss"] for r in cut[:-1]] == pytest.approx([r["loss"] for r in whole[:-1]], rel=1e-5)
    assert cut[-1]["weights"] == pytest.approx(whole[-1]["weights"], rel=1e-5)
    assert "ended before the epoch ended" not in resumed.stderr


@pytest.mark.slow
@pytest.mark.parametrize("before, after", [(2, 1), (1, 2)])
def test_elastic_resume_with_gloo_processes(tmp_path, before, after):
    n, size, k = 53, 4, 3  # as in support/resume_elastic.py

    def launch(world: int, *args: str) -> list[dict]:
        port, out = free_port(), tmp_path / f"out{world}-{args[0]}"
        procs = [subprocess.Popen(
            [sys.executable, str(SUPPORT / "resume_elastic.py"), *args, str(out)],
            env={**os.environ, "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1",
                 "MASTER_PORT": str(port), "WORLD_SIZE": str(world), "RANK": str(r)},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for r in range(world)]
        for proc in procs:
            output = proc.communicate(timeout=240)[0]
            assert proc.returncode == 0, output[-4000:]
        return [json.loads((out / f"rank{r}.json").read_text()) for r in range(world)]

    def interleave(shards):
        return [s[i] for i in range(max(map(len, shards))) for s in shards if i < len(s)]

    state = str(tmp_path / "loader.pt")
    saved = launch(before, "save", state, "--k", str(k))
    resumed = launch(after, "resume", state)
    assert [r["sampler_world"] for r in saved + resumed] == [before] * before + [after] * after
    consumed, order = k * size * before, epoch_permutation(n, 5, 0)
    first = interleave([r["passes"][0] for r in saved])
    rest = interleave([r["passes"][0] for r in resumed])
    pad = -(n - consumed) % after
    assert first + rest == order.tolist() + order[:pad].tolist()  # the uninterrupted order
    assert sorted(set(first + rest)) == list(range(n))  # each sample once, plus padding
    following = interleave([r["passes"][1] for r in resumed])
    assert following == epoch_permutation(n, 5, 1).tolist() + \
        epoch_permutation(n, 5, 1)[:-n % after].tolist()


@pytest.mark.slow
def test_lightning_ddp_keeps_the_dmzoo_order(tmp_path, prepared):
    """A real two-process Lightning DDP fit: each rank trains on its stride of the
    datamodule's own global order (its seed) with the same augmentation as a one-process
    shard of it, not on a DistributedSampler Lightning made."""
    from dmzoo.interop import distributed_loader

    for key in ("LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "RANK"):
        assert key not in os.environ
    out = tmp_path / "steps.jsonl"
    run(str(SUPPORT / "resume_lightning.py"), "--data-dir", prepared["cifar10"], "--epochs", "2",
        "--devices", "2", "--out", str(out), "--ckpt-dir", str(tmp_path / "c"))
    dm = dmzoo.load_datamodule("cifar10", data_dir=prepared["cifar10"], batch_size=8,
                               val_split=0.2, augment=True)
    dm.setup("fit")
    for rank, path in enumerate((out, out.with_suffix(".rank1"))):
        seen = [json.loads(line).get("samples") for line in path.read_text().splitlines()]
        shard = distributed_loader(dm.train_dataloader(), num_replicas=2, rank=rank)
        want = [sample_fingerprints(b) for _ in range(2) for b in shard]
        assert [s for s in seen if s] == want and len(want) == 6  # 40 samples, 2 ranks, 8/batch


@pytest.mark.slow
def test_lightning_ddp_run_resumes_on_one_device(tmp_path, prepared):
    """Elastic under Lightning: a 2-process DDP run SIGKILLed mid-epoch, resumed with
    devices=1: the rest of the epoch exactly once, then the one-device global order."""
    script, out = str(SUPPORT / "resume_lightning.py"), tmp_path / "steps.jsonl"
    common = ["--data-dir", prepared["cifar10"], "--out", str(out), "--ckpt-dir",
              str(tmp_path / "c"), "--kill-at", "4"]
    killed = subprocess.run([sys.executable, script, *common, "--devices", "2", "--epochs", "3"],
                            capture_output=True, text=True, timeout=300,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert killed.returncode == -9, killed.stderr[-4000:]
    # Lightning fixes the epoch length when it first builds the loader: after an elastic
    # resume (a 1 + 3 batch epoch here) it must rebuild it for the 5-batch epochs after
    resumed = run(script, *common, "--devices", "1", "--epochs", "3", "--resume",
                  "--reload-every-epoch")
    assert "ended before the epoch ended" not in resumed.stderr
    dm = dmzoo.load_datamodule("cifar10", data_dir=prepared["cifar10"], batch_size=8,
                               val_split=0.2, augment=True)
    dm.setup("fit")
    train = dm.train_dataloader()
    epochs = [[s for b in train for s in sample_fingerprints(b)] for _ in range(3)]

    def records(path: Path) -> list[dict]:
        return [r for r in map(json.loads, path.read_text().splitlines()) if "samples" in r]

    rank0, rank1 = records(out), records(out.with_suffix(".rank1"))
    assert [r["step"] for r in rank1] == [0, 1, 2, 3]  # 3 batches per rank, then 1 of epoch 1
    before = [[r["samples"] for r in rank if r["epoch"] == 1][0] for rank in (rank0, rank1)]
    interleaved = [s for pair in zip(*before, strict=True) for s in pair]
    after = [s for r in rank0[4:] if r["epoch"] == 1 for s in r["samples"]]
    assert interleaved + after == epochs[1]  # each sample of epoch 1 once, in its global order
    assert [s for r in rank0 if r["epoch"] == 2 for s in r["samples"]] == epochs[2]
