"""Start-up cost of the DataModule base: cold processes, as ratios to ``import torch``.

Why: Lightning's base class is needed for ``Trainer.fit``, but ``import lightning.pytorch``
costs several seconds. ``DMZOO_LIGHTNING=auto`` (default) only uses it once the user
imports Lightning; ``DMZOO_LIGHTNING=1`` imports it eagerly (the simple design we did
not choose). Every case runs as a fresh interpreter, interleaved, in this one run::

    python benchmarks/bench_contract_import.py --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

BUILD = ("import torch; from torch.utils.data import TensorDataset; from dmzoo import DataModule; "
         "DataModule.from_datasets(TensorDataset(torch.zeros(4, 1))).train_dataloader()")
CASES = {
    "import torch": ("import torch", {}),
    "import torchvision.datasets": ("import torchvision.datasets", {}),
    "dmzoo DataModule, auto (default)": (BUILD, {"DMZOO_LIGHTNING": "auto"}),
    "dmzoo DataModule, DMZOO_LIGHTNING=1": (BUILD, {"DMZOO_LIGHTNING": "1"}),
    "import lightning.pytorch": ("import lightning.pytorch", {}),
    "lightning, then dmzoo DataModule (auto)": ("import lightning.pytorch; " + BUILD,
                                                {"DMZOO_LIGHTNING": "auto"}),
}


def time_once(code: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, **env})
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    for code, env in CASES.values():  # warm the OS file cache once, untimed
        time_once(code, env)
    samples: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(args.repeat):
        for name, (code, env) in CASES.items():
            samples[name].append(time_once(code, env))
    base = statistics.median(samples["import torch"])
    print(f"{'case':<42} {'median s':>9} {'x torch':>8}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:<42} {median:>9.2f} {median / base:>8.2f}")


if __name__ == "__main__":
    main()
