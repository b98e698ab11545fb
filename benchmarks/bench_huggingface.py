"""``huggingface`` vs ``datasets`` + ``with_format("torch")`` + ``DataLoader`` on 10,000 real images.

Writes the same 10,000 PNG files as ``bench_image_folder.py`` (MNIST test images, or
scikit-learn digits), loads them with ``datasets.load_dataset("imagefolder", ...)`` (offline,
every cache in a temporary folder) and saves that with ``save_to_disk``; both sides then read
that local dataset (``load_from_disk``: resolving 10,000 loose files again in
``load_dataset`` costs seconds on either side and is not what is compared). Times, in one
process:

* datasets: one shuffled epoch of ``DataLoader(ds.with_format("torch"), batch_size=128,
  num_workers=2)`` (each image decoded per sample by ``datasets``; worker start-up included);
* dmzoo first ``prepare_data()``: decode every image once into the uint8 cache;
* dmzoo warm epoch: ``load_datamodule("huggingface", ...)`` + ``setup()`` + one shuffled epoch of
  ``train_dataloader()`` (batch 128, all 10,000 images: ``val_split=0, test_split=0``).

Goal: datasets epoch / dmzoo warm epoch >= 10::

    .venv/bin/python benchmarks/bench_huggingface.py [--images 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_image_folder import BATCH, dmzoo_epoch, write_pngs  # noqa: E402


def datasets_epoch(dataset) -> float:
    import torch

    start = time.perf_counter()
    loader = torch.utils.data.DataLoader(dataset.with_format("torch"), batch_size=BATCH,
                                         shuffle=True, num_workers=2)
    seen = sum(len(batch["label"]) for batch in loader)
    assert seen == len(dataset)
    return time.perf_counter() - start


def dmzoo_module(root: Path, home: Path):
    import dmzoo

    return dmzoo.load_datamodule("huggingface", path=str(root), image_size=28, batch_size=BATCH,
                                 val_split=0, test_split=0, data_dir=str(home))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--images", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.update(HF_DATASETS_OFFLINE="1", HF_HUB_OFFLINE="1", HF_HOME=f"{tmp}/hf",
                          DMZOO_QUIET="1")
        import datasets
        import torch  # noqa: F401  (imports are not part of any timing)

        import dmzoo.plugins.huggingface.datamodule  # noqa: F401

        datasets.disable_progress_bars()
        root, home = Path(tmp) / "images", Path(tmp) / "home"
        origin = write_pngs(root, args.images)
        start = time.perf_counter()
        datasets.load_dataset(str(root)).save_to_disk(f"{tmp}/saved")
        print(f"{args.images:,} images from {origin}: load_dataset('imagefolder') + save_to_disk "
              f"{time.perf_counter() - start:.1f} s")
        root = Path(tmp) / "saved"
        train = datasets.load_from_disk(str(root))["train"]
        print(f"features: {train.features}")
        ds_times = [datasets_epoch(train)]
        start = time.perf_counter()
        dmzoo_module(root, home).prepare_data()
        prepare = time.perf_counter() - start
        dz_times = []
        for _ in range(args.repeat):
            dz_times.append(dmzoo_epoch(lambda: dmzoo_module(root, home)))
            ds_times.append(datasets_epoch(train))
    ds_med, dz_med = statistics.median(ds_times), statistics.median(dz_times)
    print(f"datasets with_format('torch') + DataLoader(num_workers=2) epoch: median {ds_med:.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in ds_times)})")
    print(f"dmzoo huggingface first prepare_data(): {prepare:.3f} s")
    print(f"dmzoo huggingface warm load + setup + epoch: median {dz_med:.3f} s "
          f"(runs: {', '.join(f'{t:.3f}' for t in dz_times)})")
    speedup = ds_med / dz_med
    print(f"warm epoch speed-up: {speedup:.1f}x (goal >= 10x) -> {'OK' if speedup >= 10 else 'MISSED'}"
          f"; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s)")


if __name__ == "__main__":
    main()
