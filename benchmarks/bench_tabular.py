"""Tabular fast path: dmzoo prepare + setup + one training epoch vs ``pandas.read_csv`` alone.

Generates a CSV (default 1,000,000 rows: 6 numerical columns with holes, 3 string
categorical columns of cardinality 5 / 60 / 2,000, a binary label), then times, in
interleaved repeats (pandas, dmzoo, pandas, dmzoo, ...):

* baseline: ``pandas.read_csv(path)`` (default options);
* dmzoo: ``load_datamodule("tabular", data=path, target="label")`` + ``prepare_data()``
  + ``setup("fit")`` (read with pyarrow, split, fit, encode) + one full pass over
  ``train_dataloader()`` (shuffled batches of ``--batch-size``).

Fair by construction: by default both sides run in this one process, after every
import (torch, pandas, pyarrow, dmzoo: importing is not part of "prepare + one epoch"),
with the garbage of the previous run collected; ``--fresh-processes`` instead starts a
new process per run (cold allocator and caches on both sides; imports still untimed).
Prints the median wall and CPU times, their ratios (goal: dmzoo <= 2x read_csv), and
each side's peak RSS (the kernel's high-water mark, reset before the run) with the RSS
after imports (torch alone maps ~700 MiB), from a run in a fresh process (in one long
process the allocators keep freed pages, which would blur the peaks)::

    .venv/bin/python benchmarks/bench_tabular.py [--rows 1000000] [--repeat 5] [--fresh-processes]
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0); False where that is not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def peak_mb() -> float:
    """Peak RSS since the last :func:`reset_peak` (else since the process started)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def import_everything() -> None:
    """Every import either side needs, done before any timing."""
    import pandas  # noqa: F401
    import pyarrow.csv  # noqa: F401
    import torch  # noqa: F401

    import dmzoo  # noqa: F401
    import dmzoo.plugins.tabular.datamodule  # noqa: F401


def generate(path: Path, rows: int, seed: int = 0) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.csv as pcsv

    rng = np.random.default_rng(seed)
    columns = {}
    for i in range(6):
        values = rng.normal(i * 10, 1 + i, rows).round(4)
        holes = rng.random(rows) < 0.01
        columns[f"num{i}"] = pa.array(values, mask=holes)
    for name, card in (("cat_small", 5), ("cat_mid", 60), ("cat_big", 2000)):
        vocab = np.array([f"{name}_{k}" for k in range(card)])
        columns[name] = pa.array(vocab[rng.integers(0, card, rows)])
    columns["label"] = pa.array(np.where(rng.random(rows) < 0.3, "yes", "no"))
    pcsv.write_csv(pa.table(columns), path)


def measure(kind: str, path: str, batch_size: int) -> dict:
    """One timed run of ``kind`` in this process (imports already done)."""
    import pandas as pd

    import dmzoo

    gc.collect()
    reset_peak()
    before = rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    out: dict = {}
    if kind == "pandas":
        frame = pd.read_csv(path)
        rows = len(frame)
        del frame
    else:
        dm = dmzoo.load_datamodule("tabular", data=path, target="label", batch_size=batch_size)
        dm.prepare_data()
        dm.setup("fit")
        out["setup_s"] = time.perf_counter() - start
        rows = 0
        for _inputs, target in dm.train_dataloader():
            rows += len(target)
        del dm, _inputs, target
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if "setup_s" in out:
        out["epoch_s"] = seconds - out["setup_s"]
    return {"seconds": seconds, "cpu": cpu, "rows": rows, "rss_before_mb": before,
            "peak_mb": peak_mb(), **out}


def child(kind: str, path: str, batch_size: int) -> dict:
    import_everything()
    return measure(kind, path, batch_size)


def run_child(kind: str, path: Path, batch_size: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", kind, str(path),
                          "--batch-size", str(batch_size)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--fresh-processes", action="store_true",
                        help="a new process per run instead of one process for all runs")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1], args.batch_size)))
        return
    if not args.fresh_processes:
        import_everything()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "table.csv"
        t0 = time.perf_counter()
        generate(path, args.rows)
        print(f"generated {args.rows:,} rows, {path.stat().st_size / 2**20:.0f} MiB "
              f"in {time.perf_counter() - t0:.1f} s")
        results: dict[str, list[dict]] = {"pandas": [], "dmzoo": []}
        for _ in range(args.repeat):
            for kind in results:  # interleaved, so drifting machine load hits both sides
                if args.fresh_processes:
                    results[kind].append(run_child(kind, path, args.batch_size))
                else:
                    results[kind].append(measure(kind, str(path), args.batch_size))
        # Memory: in one long process the allocators keep freed pages, so each side's peak
        # RSS also comes from one run in a fresh process (the timings above stay as measured).
        memory = results if args.fresh_processes else {
            kind: [run_child(kind, path, args.batch_size)] for kind in results}
    mode = "a fresh process per run" if args.fresh_processes else "one process, imports done first"
    print(f"{args.repeat} interleaved repeats, {mode}")
    med = {k: statistics.median(r["seconds"] for r in v) for k, v in results.items()}
    cpu = {k: statistics.median(r["cpu"] for r in v) for k, v in results.items()}
    for kind, runs in results.items():
        times = ", ".join(f"{r['seconds']:.2f}" for r in runs)
        peak = max(r["peak_mb"] for r in memory[kind])
        base = statistics.median(r["rss_before_mb"] for r in memory[kind])
        label = ("pandas.read_csv" if kind == "pandas"
                 else f"dmzoo prepare+setup+1 epoch (batch {args.batch_size})")
        print(f"{label:<44} median {med[kind]:6.2f} s wall (runs: {times}), {cpu[kind]:.2f} s CPU; "
              f"peak RSS {peak:.0f} MiB (+{peak - base:.0f} MiB over the {base:.0f} MiB after imports"
              f"{'' if args.fresh_processes else ', in a fresh process'})")
    ratio = med["dmzoo"] / med["pandas"]
    print(f"ratio dmzoo / read_csv: {ratio:.2f}x wall (goal <= 2x) -> {'OK' if ratio <= 2 else 'MISSED'}; "
          f"{cpu['dmzoo'] / cpu['pandas']:.2f}x CPU time")
    print(f"load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPU(s) "
          "(wall times inflate when the machine is shared; CPU time does much less)")
    setup = statistics.median(r["setup_s"] for r in results["dmzoo"])
    epoch = statistics.median(r["epoch_s"] for r in results["dmzoo"])
    print(f"dmzoo breakdown (median wall): load+prepare+setup {setup:.2f} s, one epoch over "
          f"{results['dmzoo'][-1]['rows']:,} train rows {epoch:.2f} s")


if __name__ == "__main__":
    main()
