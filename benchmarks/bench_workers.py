"""One epoch per ``num_workers`` in {0, 1, 2, 4}: does any setting make dmzoo slower?

For each dataset (MNIST, CIFAR-10 with ``augment=True``, a 1M-row table), one training
epoch of dmzoo's fast path per ``num_workers`` setting, interleaved over ``--repeat``
rounds (medians), and each setting's time as a ratio to the best one (goal: every ratio
<= 1.2). The image data are generated full size in the upstream formats and prepared
through the real storage path, as in ``bench_vision.py``::

    python benchmarks/bench_workers.py [--repeat 3] [--rows 1000000] [--only mnist cifar10 tabular]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

WORKERS = (0, 1, 2, 4)
GOAL = 1.2


def loaders(name: str, workdir: Path, rows: int) -> dict[int, object]:
    """The training loader of ``name`` for every worker count (the datamodule defaults)."""
    import dmzoo

    if name == "tabular":
        from bench_tabular import generate

        path = workdir / f"table-{rows}.csv"
        if not path.exists():
            generate(path, rows)
        common = {"data": str(path), "target": "label", "batch_size": 512}
    else:
        from bench_vision import generate

        dirs = generate(workdir / "vision")
        common = {"data_dir": dirs["dmzoo"], "batch_size": 128, "val_split": 0,
                  "normalize": True, "augment": name == "cifar10"}
    out = {}
    for workers in WORKERS:
        dm = dmzoo.load_datamodule(name, num_workers=workers, **common)
        dm.prepare_data()
        dm.setup("fit")
        out[workers] = dm.train_dataloader()
    return out


def epoch(loader) -> float:
    start = time.perf_counter()
    for _x, y in loader:
        assert len(y)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--only", nargs="*", default=["mnist", "cifar10", "tabular"],
                        choices=["mnist", "cifar10", "tabular"])
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "dmzoo-bench-workers")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    os.environ.setdefault("DMZOO_QUIET", "1")
    args.workdir.mkdir(parents=True, exist_ok=True)
    print(f"{os.cpu_count()} CPU(s); median of {args.repeat} interleaved epochs per setting")
    for name in args.only:
        made = loaders(name, args.workdir, args.rows)
        for loader in made.values():  # warm-up: page cache, worker start
            epoch(loader)
        times: dict[int, list[float]] = {w: [] for w in made}
        for _ in range(args.repeat):
            for workers, loader in made.items():
                times[workers].append(epoch(loader))
        med = {w: statistics.median(t) for w, t in times.items()}
        best = min(med.values())
        for workers, seconds in med.items():
            ratio = seconds / best
            print(f"{name:<8} num_workers={workers}: {seconds:7.3f} s  {ratio:5.2f}x best  "
                  f"{'ok' if ratio <= GOAL else 'MISSED'} (goal <= {GOAL})", flush=True)


if __name__ == "__main__":
    main()
