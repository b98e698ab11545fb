"""CIFAR-10 crop+flip+normalize epochs onto an accelerator: three input paths, as ratios.

1. dmzoo ``device=``: the split resident on the device as uint8, each batch gathered,
   converted, normalised and augmented there (``dmzoo.core.resident.ResidentLoader``).
2. dmzoo's CPU fast path (``num_workers=0``), each batch then ``.to(device)``.
3. torchvision-style per-sample loading (PIL + ``RandomCrop`` + ``RandomHorizontalFlip`` +
   ``ToTensor`` + ``Normalize``) with ``DataLoader(num_workers=4, pin_memory=True)``,
   each batch then ``.to(device)``.

Data: generated full-size CIFAR-10 in the upstream binary format, prepared through the
real storage path (no internet). Each epoch ends with a device synchronisation, so
queued kernels are counted. One short script for a lent GPU machine::

    python benchmarks/bench_device.py                 # cuda if available, else cpu
    python benchmarks/bench_device.py --device cpu --n-train 5000   # a smoke run

Goal: the resident path at least 10x faster than the CPU fast path on one GPU.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

GOAL = 10.0
MEAN, STD = (0.4914, 0.4822, 0.4465), (0.247, 0.243, 0.261)


def prepare(workdir: Path, n_train: int) -> str:
    """Generate and prepare CIFAR-10 with ``n_train`` training images; the data folder."""
    import dmzoo
    from dmzoo.core import storage
    from dmzoo.plugins.vision.cifar.datamodule import CIFAR10DataModule

    data = workdir / f"dmzoo-{n_train}"
    if (data / "ready").exists():
        return str(data)
    files = CIFAR10DataModule.upstream_files(n_train=n_train, n_test=1000, level=0)
    upstream = workdir / f"upstream-{n_train}"
    upstream.mkdir(parents=True, exist_ok=True)
    lines = []
    for name, blob in files.items():
        (upstream / name).write_bytes(blob)
        lines.append(f"cifar10/{name}\t{len(blob)}\t{hashlib.sha256(blob).hexdigest()}")
    table = workdir / f"checksums-{n_train}.tsv"
    table.write_text("\n".join(lines) + "\n")
    os.environ["DMZOO_CHECKSUMS"] = str(table)
    with storage.import_from(upstream):
        dmzoo.load_datamodule("cifar10", data_dir=str(data)).prepare_data()
    (data / "ready").write_text("ok")
    return str(data)


def dmzoo_loader(data: str, device: str | None, pin: bool):
    import dmzoo

    dm = dmzoo.load_datamodule("cifar10", data_dir=data, batch_size=512, val_split=0,
                               normalize=True, augment=True, device=device, pin_memory=pin)
    dm.setup("fit")
    return dm.train_dataloader()


def torchvision_loader(data: str, workers: int, pin: bool):
    import numpy as np
    from PIL import Image
    from torch.utils.data import DataLoader, Dataset
    from torchvision import transforms as T

    import dmzoo
    from dmzoo.core import storage

    folder = storage.prepared_dir(dmzoo.get_spec("cifar10"), data)
    images = np.load(folder / "train_images.npy").transpose(0, 2, 3, 1).copy()  # HWC, in RAM
    labels = np.load(folder / "train_labels.npy").astype(np.int64)
    transform = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                           T.Normalize(MEAN, STD)])

    class CIFARStyle(Dataset):  # what torchvision.datasets.CIFAR10.__getitem__ does
        def __len__(self) -> int:
            return len(images)

        def __getitem__(self, i: int):
            return transform(Image.fromarray(images[i])), int(labels[i])

    return DataLoader(CIFARStyle(), batch_size=512, shuffle=True, num_workers=workers,
                      pin_memory=pin, persistent_workers=workers > 0)


def epoch_seconds(loader, device) -> float:
    """Seconds of one epoch, every batch moved to ``device``, synchronised at both ends."""
    import torch

    def sync() -> None:
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    sync()
    start = time.perf_counter()
    for x, y in loader:
        x = x.to(device, non_blocking=True)
        y = y.to(device, non_blocking=True)
    sync()
    return time.perf_counter() - start


def main() -> None:
    import torch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--n-train", type=int, default=50000)
    parser.add_argument("--repeat", type=int, default=3, help="epochs per path (median)")
    parser.add_argument("--workers", type=int, default=4, help="torchvision loader workers")
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "dmzoo-bench-device")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    os.environ.setdefault("DMZOO_QUIET", "1")
    args.workdir.mkdir(parents=True, exist_ok=True)
    device = torch.device(args.device)
    data = prepare(args.workdir, args.n_train)

    pin = device.type == "cuda"  # page-locked host batches only help a CUDA copy
    resident = dmzoo_loader(data, str(device), pin)
    cpu_fast = dmzoo_loader(data, None, pin)
    baseline = torchvision_loader(data, args.workers, pin)
    for loader in (resident, cpu_fast, baseline):  # warm-up: caches, workers, kernels
        epoch_seconds(loader, device)
    times = {"resident": [], "cpu_fast": [], "torchvision": []}
    for _ in range(args.repeat):  # interleaved, so all three see the same machine state
        times["resident"].append(epoch_seconds(resident, device))
        times["cpu_fast"].append(epoch_seconds(cpu_fast, device))
        times["torchvision"].append(epoch_seconds(baseline, device))
    med = {k: statistics.median(v) for k, v in times.items()}
    rows = {
        f"epoch, dmzoo device={device.type} (resident)": (med["resident"], "s"),
        "epoch, dmzoo CPU fast path + .to(device)": (med["cpu_fast"], "s"),
        f"epoch, torchvision + DataLoader(num_workers={args.workers}) + .to(device)":
            (med["torchvision"], "s"),
        "resident vs CPU fast path": (med["cpu_fast"] / med["resident"], "x"),
        "resident vs torchvision": (med["torchvision"] / med["resident"], "x"),
    }
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
    print(f"device: {name}; {args.n_train} images, batch 512, median of {args.repeat}; "
          f"torch {torch.__version__}; python {sys.version.split()[0]}")
    for label, (value, unit) in rows.items():
        mark = ""
        if label == "resident vs CPU fast path":
            mark = f"  goal >= {GOAL:g}: {'met' if value >= GOAL else 'MISSED'}"
        print(f"{label:<66} {value:9.3f} {unit}{mark}")
    if args.json:
        args.json.write_text(json.dumps({k: v[0] for k, v in rows.items()}, indent=1) + "\n")


if __name__ == "__main__":
    main()
