"""Start-up cost of dmzoo and its DataModule base: cold processes, as ratios to ``import torch``.

Why: Lightning's ``Trainer`` needs dmzoo datamodules to be ``LightningDataModule``s, so when
Lightning is installed the base is Lightning's, chosen when ``dmzoo.core.datamodule`` is
first imported (by ``load_datamodule`` or ``dmzoo.DataModule``, never by ``import dmzoo``
or listing). This measures what that choice costs, with Lightning selected (``auto``,
installed), opted out (``DMZOO_LIGHTNING=0``) and not installed (hidden from the import
system). Every case runs as a fresh interpreter, interleaved, in this one run::

    python benchmarks/bench_contract_import.py --repeat 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

HIDE = ("import sys\nclass Hide:\n    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('lightning', 'pytorch_lightning'):\n"
        "            raise ImportError(name)\nsys.meta_path.insert(0, Hide())\n")
LOAD = "import dmzoo; dmzoo.load_datamodule('mnist')"
CASES = {
    "import torch": ("import torch", {}),
    "import dmzoo; list_datamodules()": ("import dmzoo; dmzoo.list_datamodules()", {}),
    "load_datamodule('mnist'), Lightning (auto)": (LOAD, {"DMZOO_LIGHTNING": "auto"}),
    "load_datamodule('mnist'), DMZOO_LIGHTNING=0": (LOAD, {"DMZOO_LIGHTNING": "0"}),
    "load_datamodule('mnist'), not installed": (HIDE + LOAD, {"DMZOO_LIGHTNING": "auto"}),
    "import lightning.pytorch": ("import lightning.pytorch", {}),
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
    print(f"{'case':<46} {'median s':>9} {'x torch':>8}")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"{name:<46} {median:>9.2f} {median / base:>8.2f}")


if __name__ == "__main__":
    main()
