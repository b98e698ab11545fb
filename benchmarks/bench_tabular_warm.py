"""Tabular warm start: a NEW process reaching its first batch from the warm cache vs ``pandas.read_csv``.

Generates the 1,000,000-row CSV of ``bench_tabular.py``, runs one cold
``load_datamodule("tabular", ...)`` + ``setup`` (which fills the warm cache), then, in
interleaved repeats, each in a fresh process with every import done before the clock starts:

* baseline: ``pandas.read_csv(path)``;
* dmzoo warm: ``load_datamodule("tabular", data=path, target="label")`` + ``prepare_data()``
  + ``setup("fit")`` + the first batch of ``train_dataloader()``; the registry starts
  from the saved discovery (written by the cold run), as in any later process;
* the same with ``DMZOO_DISCOVERY_CACHE=0``: every plugin imported to list its specs.

Prints the median times and their ratio (goal: dmzoo warm <= 0.1x read_csv)::

    .venv/bin/python benchmarks/bench_tabular_warm.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_tabular import generate, import_everything  # noqa: E402


def measure(kind: str, path: str) -> float:
    import pandas as pd

    import dmzoo

    start = time.perf_counter()
    if kind == "pandas":
        pd.read_csv(path)
    else:
        dm = dmzoo.load_datamodule("tabular", data=path, target="label", batch_size=512)
        dm.prepare_data()
        dm.setup("fit")
        next(iter(dm.train_dataloader()))
    return time.perf_counter() - start


KINDS = {"pandas": ("pandas", {}), "dmzoo": ("dmzoo", {}),
         "dmzoo, full discovery": ("dmzoo", {"DMZOO_DISCOVERY_CACHE": "0"})}


def run_child(kind: str, path: Path, home: Path) -> float:
    measured, extra = KINDS[kind]
    env = {**os.environ, "DMZOO_HOME": str(home), **extra}
    out = subprocess.run([sys.executable, __file__, "--child", measured, str(path)],
                         capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import_everything()
        print(json.dumps({"seconds": measure(*args.child)}))
        return
    with tempfile.TemporaryDirectory() as tmp:
        path, home = Path(tmp) / "table.csv", Path(tmp) / "home"
        generate(path, args.rows)
        cold = run_child("dmzoo", path, home)
        print(f"{args.rows:,} rows, {path.stat().st_size / 2**20:.0f} MiB; cold dmzoo run "
              f"(read, split, fit, encode, write the cache, first batch): {cold:.2f} s")
        runs: dict[str, list[float]] = {kind: [] for kind in KINDS}
        for _ in range(args.repeat):
            for kind in runs:  # interleaved: machine load drifts over both sides alike
                runs[kind].append(run_child(kind, path, home))
    med = {k: statistics.median(v) for k, v in runs.items()}
    labels = {"pandas": "pandas.read_csv", "dmzoo": "dmzoo warm: load+setup+1st batch",
              "dmzoo, full discovery": "  the same, DMZOO_DISCOVERY_CACHE=0"}
    for kind, times in runs.items():
        print(f"{labels[kind]:<36} median {med[kind]:.3f} s (runs: "
              f"{', '.join(f'{t:.3f}' for t in times)}), each in a new process")
    ratio = med["dmzoo"] / med["pandas"]
    print(f"ratio warm dmzoo / read_csv: {ratio:.3f}x (goal <= 0.1x) -> "
          f"{'OK' if ratio <= 0.1 else 'MISSED'}; with full discovery "
          f"{med['dmzoo, full discovery'] / med['pandas']:.3f}x; "
          f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
