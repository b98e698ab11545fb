"""Vision loader benchmarks: dmzoo's batch path vs torchvision + DataLoader, as ratios.

Every number is measured in this one run, on generated full-size data in the upstream
formats (so no internet is needed): MNIST 60,000 + 10,000 and CIFAR-10 50,000 + 10,000
random images. Prepared through the real storage path (``import_from`` +
``DMZOO_CHECKSUMS``). Usage::

    python benchmarks/bench_vision.py [--workdir DIR] [--json out.json] [--only NAME ...]

Baselines: torchvision's ``MNIST`` dataset (read from the same IDX files) with
``ToTensor + Normalize``; for CIFAR-10 a dataset doing exactly what
``torchvision.datasets.CIFAR10.__getitem__`` does (``Image.fromarray`` + transforms),
because torchvision's class only reads its md5-checked pickle archives.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# dmzoo's epochs take well under a second, so one load spike skews one epoch: the median
# of three is reported. A baseline epoch takes 10-15 s, which averages the spikes out.
DMZOO_EPOCHS = 3
GOALS = {"mnist_vs_tv0": 30.0, "mnist_vs_tv2": 10.0, "cifar_vs_tv2": 10.0,
         "startup": 1.0, "memory": 1.2, "mnist_vs_floor": 1.5, "cifar_vs_floor": 1.5}
LOWER_IS_BETTER = {"memory", "mnist_vs_floor", "cifar_vs_floor"}


# -- data ------------------------------------------------------------------------------------
def generate(workdir: Path) -> dict[str, str]:
    """Write upstream-format files once and prepare dmzoo's cache; return the folders."""
    import dmzoo
    from dmzoo.core import storage
    from dmzoo.plugins.vision.cifar.datamodule import CIFAR10DataModule
    from dmzoo.plugins.vision.mnist.datamodule import MNISTDataModule

    out = {"dmzoo": str(workdir / "dmzoo"), "tv": str(workdir / "tv")}
    if (workdir / "ready").exists():
        return out
    table = workdir / "checksums.tsv"
    lines = []
    for name, cls, n_train in (("mnist", MNISTDataModule, 60000), ("cifar10", CIFAR10DataModule, 50000)):
        files = cls.upstream_files(n_train=n_train, n_test=10000, level=0)
        up = workdir / "upstream" / name
        up.mkdir(parents=True, exist_ok=True)
        for filename, data in files.items():
            (up / filename).write_bytes(data)
            lines.append(f"{name}/{filename}\t{len(data)}\t{hashlib.sha256(data).hexdigest()}")
            if name == "mnist":  # torchvision's MNIST reads the decompressed files
                raw = workdir / "tv" / "MNIST" / "raw"
                raw.mkdir(parents=True, exist_ok=True)
                (raw / filename[:-3]).write_bytes(gzip.decompress(data))
    table.write_text("\n".join(lines) + "\n")
    os.environ["DMZOO_CHECKSUMS"] = str(table)
    os.environ["DMZOO_QUIET"] = "1"
    for name in ("mnist", "cifar10"):
        with storage.import_from(workdir / "upstream" / name):
            dmzoo.load_datamodule(name, data_dir=out["dmzoo"]).prepare_data()
    (workdir / "ready").write_text("ok")
    return out


# -- loaders ---------------------------------------------------------------------------------
def dmzoo_loader(name: str, dirs: dict[str, str], **kwargs):
    import dmzoo

    dm = dmzoo.load_datamodule(name, data_dir=dirs["dmzoo"], val_split=0, **kwargs)
    dm.setup("fit")
    return dm.train_dataloader()


def tv_mnist_loader(dirs: dict[str, str], num_workers: int):
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    t = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    ds = datasets.MNIST(dirs["tv"], train=True, transform=t, download=False)
    return DataLoader(ds, batch_size=128, shuffle=True, num_workers=num_workers)


class TorchvisionStyleCIFAR:
    """What ``torchvision.datasets.CIFAR10`` does per item: HWC array -> PIL -> transform."""

    def __init__(self, data_hwc, targets, transform) -> None:
        self.data, self.targets, self.transform = data_hwc, targets, transform

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i):
        from PIL import Image

        return self.transform(Image.fromarray(self.data[i])), int(self.targets[i])


def tv_cifar_loader(dirs: dict[str, str], num_workers: int):
    import numpy as np
    from torch.utils.data import DataLoader
    from torchvision import transforms

    import dmzoo
    from dmzoo.core import storage

    folder = storage.prepared_dir(dmzoo.get_spec("cifar10"), dirs["dmzoo"])
    data = np.load(folder / "train_images.npy").transpose(0, 2, 3, 1).copy()  # in memory, HWC
    targets = np.load(folder / "train_labels.npy").tolist()
    t = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(),
                            transforms.ToTensor(),
                            transforms.Normalize((0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261))])
    return DataLoader(TorchvisionStyleCIFAR(data, targets, t), batch_size=128, shuffle=True,
                      num_workers=num_workers)


class FloorEpoch:
    """The physical floor of a shuffled, normalised epoch, with no loader at all: numpy
    ``take`` of the epoch's rows into a preallocated buffer, one pass converting them into
    a preallocated float buffer, normalised in place; batches are views of it. Iterating
    gives ``(x, y)`` like a loader, so :func:`epoch` times it the same way."""

    def __init__(self, images, labels, mean, std, batch_size: int) -> None:
        import numpy as np

        self.images, self.labels = np.ascontiguousarray(images), np.asarray(labels, np.int64)
        self.staged = np.empty_like(self.images)
        self.buffer = np.empty(self.images.shape, np.float32)
        channels = (1, -1) + (1,) * (self.images.ndim - 2)  # per channel: N x C x H x W
        mean, std = np.asarray(mean, np.float32), np.asarray(std, np.float32)
        self.scale = (1 / (255 * std)).reshape(channels)
        self.shift = (mean / std).reshape(channels)
        self.batch_size, self.epoch = batch_size, 0

    def __iter__(self):
        import numpy as np
        import torch

        order = np.random.default_rng(self.epoch).permutation(len(self.images))
        self.epoch += 1
        np.take(self.images, order, axis=0, out=self.staged, mode="clip")
        np.multiply(self.staged, self.scale, out=self.buffer, dtype=np.float32)
        np.subtract(self.buffer, self.shift, out=self.buffer)
        x, y = torch.from_numpy(self.buffer), torch.from_numpy(self.labels[order])
        for start in range(0, len(order), self.batch_size):
            yield x[start:start + self.batch_size], y[start:start + self.batch_size]


def floor_loader(dirs: dict[str, str], name: str = "mnist", batch_size: int = 128) -> FloorEpoch:
    """:class:`FloorEpoch` over dmzoo's prepared training images of ``name`` (read into RAM)."""
    import numpy as np

    import dmzoo
    from dmzoo.core import storage

    folder = storage.prepared_dir(dmzoo.get_spec(name), dirs["dmzoo"])
    meta = json.loads((folder / "meta.json").read_text())
    return FloorEpoch(np.load(folder / "train_images.npy"), np.load(folder / "train_labels.npy"),
                      meta["mean"], meta["std"], batch_size)


def epoch(loader, repeat: int = 1) -> tuple[float, int]:
    """Median seconds of ``repeat`` epochs, and the examples in one."""
    times = []
    for _ in range(repeat):
        start, n = time.perf_counter(), 0
        for x, y in loader:
            assert x.dtype.is_floating_point
            n += len(y)
        times.append(time.perf_counter() - start)
    return statistics.median(times), n


# -- start-up and memory, each in a fresh interpreter ----------------------------------------
STARTUP = {
    "dmzoo": """
import time, sys; t0 = time.perf_counter()
import dmzoo
dm = dmzoo.load_datamodule("mnist", data_dir=sys.argv[1], batch_size=128, normalize=True)
dm.setup("fit"); x, y = next(iter(dm.train_dataloader()))
print(time.perf_counter() - t0)
""",
    "torchvision": """
import time, sys; t0 = time.perf_counter()
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
t = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
ds = datasets.MNIST(sys.argv[2], train=True, transform=t, download=False)
x, y = next(iter(DataLoader(ds, batch_size=128, shuffle=True)))
print(time.perf_counter() - t0)
""",
}

MEMORY = """
import sys, glob, dmzoo
workers = int(sys.argv[2])

def pss(pid):
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("Pss:")) * 1024
    except (OSError, StopIteration):
        return 0

def children(pid):
    kids = []
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        with open(path) as f:
            kids += [int(p) for p in f.read().split()]
    return kids

dm = dmzoo.load_datamodule("cifar10", data_dir=sys.argv[1], batch_size=128, normalize=True,
                           augment=True, val_split=0, num_workers=workers,
                           multiprocessing_context="fork" if workers else None)
dm.setup("fit")
import os
peak, most = 0, 0
for i, batch in enumerate(dm.train_dataloader()):
    if i % 40 == 0 or i == 390:
        me = os.getpid()
        kids = children(me)
        peak, most = max(peak, pss(me) + sum(pss(k) for k in kids)), max(most, len(kids))
print(peak, most)
"""


def fresh(code: str, *args: str, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          timeout=900, env={**os.environ, **(env or {})})
    if proc.returncode:
        raise RuntimeError(proc.stderr[-3000:])
    return proc.stdout.strip().splitlines()[-1]


# -- the benchmarks --------------------------------------------------------------------------
def versus_floor(loader, floor, repeat: int = 9) -> tuple[float, float, int]:
    """Medians of ``repeat`` interleaved epochs of ``loader`` and ``floor`` (one warm-up
    each): sub-0.1 s epochs, so interleaving keeps a load spike from landing on one side."""
    epoch(loader)
    epoch(floor)
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(repeat):
        for side, it in zip(times, (loader, floor), strict=True):
            seconds, n = epoch(it)
            side.append(seconds)
    return statistics.median(times[0]), statistics.median(times[1]), n


def bench_mnist(dirs) -> list[tuple[str, float, str]]:
    rows = []
    t_dm, t_floor, n = versus_floor(dmzoo_loader("mnist", dirs, batch_size=128, normalize=True),
                                    floor_loader(dirs))
    t_dm2, _ = epoch(dmzoo_loader("mnist", dirs, batch_size=128, normalize=True, num_workers=2))
    t_tv0, n0 = epoch(tv_mnist_loader(dirs, 0))
    t_tv2, n2 = epoch(tv_mnist_loader(dirs, 2))
    assert n == n0 == n2 == 60000
    rows.append(("MNIST epoch, dmzoo (num_workers=0)", t_dm, "s"))
    rows.append(("MNIST epoch, dmzoo (num_workers=2)", t_dm2, "s"))
    rows.append(("MNIST epoch, floor (numpy take + in-place normalise, no loader)", t_floor, "s"))
    rows.append(("MNIST epoch, torchvision num_workers=0", t_tv0, "s"))
    rows.append(("MNIST epoch, torchvision num_workers=2", t_tv2, "s"))
    rows.append(("mnist_vs_tv0", t_tv0 / t_dm, "x"))
    rows.append(("mnist_vs_tv2", t_tv2 / t_dm, "x"))
    rows.append(("mnist_vs_floor", t_dm / t_floor, "x (lower is better)"))
    return rows


def bench_cifar(dirs) -> list[tuple[str, float, str]]:
    t_dm, n = epoch(dmzoo_loader("cifar10", dirs, batch_size=128, normalize=True, augment=True),
                    DMZOO_EPOCHS)
    t_plain, t_floor, _ = versus_floor(
        dmzoo_loader("cifar10", dirs, batch_size=128, normalize=True),
        floor_loader(dirs, "cifar10"), repeat=5)
    t_tv2, n2 = epoch(tv_cifar_loader(dirs, 2))
    assert n == n2 == 50000
    return [("CIFAR-10 normalize epoch (no augmentation), dmzoo (num_workers=0)", t_plain, "s"),
            ("CIFAR-10 normalize epoch, floor (numpy take + in-place normalise)", t_floor, "s"),
            ("cifar_vs_floor", t_plain / t_floor, "x (lower is better)"),
            ("CIFAR-10 crop+flip+normalize epoch, dmzoo (num_workers=0)", t_dm, "s"),
            ("CIFAR-10 crop+flip+normalize epoch, torchvision-style num_workers=2", t_tv2, "s"),
            ("cifar_vs_tv2", t_tv2 / t_dm, "x")]


# A plain loop, like the torchvision baseline: dmzoo's base is chosen at its first import,
# Lightning's whenever Lightning is installed (DMZOO_LIGHTNING=auto), which costs its import;
# DMZOO_LIGHTNING=0 (or no Lightning installed) is the plain-loop figure the goal is about.
STARTUP_RUNS = {"dmzoo": ("dmzoo", {"DMZOO_LIGHTNING": "0"}),
                "dmzoo_lightning": ("dmzoo", {"DMZOO_LIGHTNING": "auto"}),
                "torchvision": ("torchvision", {})}


def bench_startup(dirs, repeats: int = 3) -> list[tuple[str, float, str]]:
    times: dict[str, list[float]] = {name: [] for name in STARTUP_RUNS}
    for _ in range(repeats):  # interleaved, so all see the same machine load
        for name, (code, env) in STARTUP_RUNS.items():
            times[name].append(float(fresh(STARTUP[code], dirs["dmzoo"], dirs["tv"], env=env)))
    med = {name: statistics.median(t) for name, t in times.items()}
    return [("start-up to first batch, dmzoo plain loop (DMZOO_LIGHTNING=0)", med["dmzoo"], "s"),
            ("start-up to first batch, dmzoo with Lightning installed (auto: imports it)",
             med["dmzoo_lightning"], "s"),
            ("start-up to first batch, torchvision (median, fresh process)", med["torchvision"],
             "s"),
            ("startup", med["torchvision"] / med["dmzoo"], "x"),
            ("startup_with_lightning", med["torchvision"] / med["dmzoo_lightning"], "x")]


def bench_memory(dirs) -> list[tuple[str, float, str]]:
    single = int(fresh(MEMORY, dirs["dmzoo"], "0").split()[0])
    total, kids = (int(v) for v in fresh(MEMORY, dirs["dmzoo"], "4").split())
    assert kids == 0, f"array loaders are served in-process, yet {kids} worker processes ran"
    return [("CIFAR-10 epoch, PSS num_workers=0", single / 2**20, "MiB"),
            ("CIFAR-10 epoch, PSS num_workers=4 (served in-process, no copies)", total / 2**20,
             "MiB"),
            ("memory", total / single, "x (lower is better)")]


BENCHES = {"mnist": bench_mnist, "cifar": bench_cifar, "startup": bench_startup,
           "memory": bench_memory}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "dmzoo-bench-vision")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHES), default=sorted(BENCHES))
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DMZOO_QUIET", "1")
    dirs = generate(args.workdir)
    rows = []
    width = 66
    print(f"{'measurement':<{width}}  {'value':>9}  unit   goal", flush=True)
    for name in args.only:
        new = BENCHES[name](dirs)
        rows += new
        for label, value, unit in new:
            print(_row(label, value, unit, width), flush=True)
    if args.json:
        args.json.write_text(json.dumps({r[0]: {"value": r[1], "unit": r[2]} for r in rows},
                                        indent=1) + "\n")


def _row(label: str, value: float, unit: str, width: int) -> str:
    goal = GOALS.get(label)
    mark = ""
    if goal is not None:
        lower = label in LOWER_IS_BETTER
        ok = value <= goal if lower else value >= goal
        mark = f"{'<=' if lower else '>='} {goal:g}  {'met' if ok else 'MISSED'}"
    return f"{label:<{width}}  {value:9.3f}  {unit:<5}  {mark}"


if __name__ == "__main__":
    main()
