"""``image_folder`` vs torchvision ``ImageFolder`` + ``DataLoader(num_workers=2)`` on 10,000 real PNGs.

Writes the 10,000 MNIST test images of ``../shared/data/mnist`` as PNG files in one
folder per class (or, where that data is absent, scikit-learn's 1,797 digits upsampled
to 28 x 28 and repeated to 10,000 files), then times, in one process:

* torchvision: ``ImageFolder(root, transform=Compose([Resize((28, 28)), ToTensor()]))`` and
  one shuffled epoch of ``DataLoader(batch_size=128, num_workers=2)`` (worker start-up included);
* dmzoo first ``prepare_data()``: scan, decode every PNG once (Pillow, all cores), write the
  uint8 cache (the same RGB pixels, same size);
* dmzoo warm epoch: ``setup()`` + one shuffled epoch of ``train_dataloader()`` (batch 128,
  float32 in [0, 1], all 10,000 images: ``val_split=0, test_split=0``).

Goals: torchvision epoch / dmzoo warm epoch >= 10; dmzoo prepare <= one torchvision epoch::

    .venv/bin/python benchmarks/bench_image_folder.py [--images 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gzip
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"
BATCH = 128


def source_images(n: int) -> tuple[np.ndarray, np.ndarray, str]:
    """``(N x 28 x 28 uint8, labels, where from)``: MNIST test images, else sklearn digits."""
    images_gz, labels_gz = MNIST / "t10k-images-idx3-ubyte.gz", MNIST / "t10k-labels-idx1-ubyte.gz"
    if images_gz.is_file() and labels_gz.is_file():
        with gzip.open(images_gz) as f:
            images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
        with gzip.open(labels_gz) as f:
            labels = np.frombuffer(f.read(), np.uint8, offset=8)
        return images[:n], labels[:n], "MNIST test images (../shared/data/mnist)"
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    small = (digits.images * (255 / 16)).astype(np.uint8)
    big = np.stack([np.asarray(Image.fromarray(d).resize((28, 28), Image.Resampling.BILINEAR))
                    for d in small])
    reps = -(-n // len(big))
    return (np.tile(big, (reps, 1, 1))[:n], np.tile(digits.target, reps)[:n],
            "scikit-learn digits upsampled to 28x28 (MNIST files absent)")


def write_pngs(root: Path, n: int) -> str:
    from PIL import Image

    images, labels, origin = source_images(n)
    for i, (image, label) in enumerate(zip(images, labels, strict=True)):
        folder = root / str(label)
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{i:05d}.png")
    return origin


def torchvision_epoch(root: Path) -> float:
    import torch
    from torchvision import datasets, transforms

    start = time.perf_counter()
    data = datasets.ImageFolder(str(root), transform=transforms.Compose(
        [transforms.Resize((28, 28)), transforms.ToTensor()]))
    loader = torch.utils.data.DataLoader(data, batch_size=BATCH, shuffle=True, num_workers=2)
    seen = sum(len(y) for _, y in loader)
    assert seen == len(data)
    return time.perf_counter() - start


def dmzoo_module(root: Path, home: Path):
    import dmzoo

    return dmzoo.load_datamodule("image_folder", root=str(root), image_size=28, batch_size=BATCH,
                                 val_split=0, test_split=0, data_dir=str(home))


def dmzoo_epoch(make_module: Callable[[], Any]) -> float:
    """One timed ``make_module()`` + ``setup()`` + shuffled epoch (the cache already made);
    ``bench_huggingface.py`` times its datamodule with it too."""
    start = time.perf_counter()
    dm = make_module()
    dm.setup("fit")
    seen = sum(len(y) for _, y in dm.train_dataloader())
    assert seen == len(dm.splits()["train"])
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import torch  # noqa: F401  (imports are not part of any timing)
    import torchvision  # noqa: F401

    import dmzoo.plugins.vision.image_folder.datamodule  # noqa: F401

    os.environ.setdefault("DMZOO_QUIET", "1")
    with tempfile.TemporaryDirectory() as tmp:
        root, home = Path(tmp) / "images", Path(tmp) / "home"
        origin = write_pngs(root, args.images)
        print(f"{args.images:,} PNG files from {origin}")
        tv_first = torchvision_epoch(root)  # also warms the page cache for both sides
        start = time.perf_counter()
        dmzoo_module(root, home).prepare_data()
        prepare = time.perf_counter() - start
        tv, dz = [tv_first], []
        for _ in range(args.repeat):
            dz.append(dmzoo_epoch(lambda: dmzoo_module(root, home)))
            tv.append(torchvision_epoch(root))
    tv_med, dz_med = statistics.median(tv), statistics.median(dz)
    print(f"torchvision ImageFolder + DataLoader(num_workers=2) epoch: median {tv_med:.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in tv)})")
    print(f"dmzoo image_folder first prepare_data() (decode {args.images:,} + cache): "
          f"{prepare:.3f} s")
    print(f"dmzoo image_folder warm setup + epoch: median {dz_med:.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in dz)})")
    speedup, prep_ratio = tv_med / dz_med, prepare / tv_med
    print(f"warm epoch speed-up: {speedup:.1f}x (goal >= 10x) -> {'OK' if speedup >= 10 else 'MISSED'}")
    print(f"first prepare / torchvision epoch: {prep_ratio:.2f}x (goal <= 1x) -> "
          f"{'OK' if prep_ratio <= 1 else 'MISSED'}; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPU(s)")


if __name__ == "__main__":
    main()
