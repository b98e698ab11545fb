"""Mid-epoch resume cost: ``load_state_dict`` + the first batch, against a fresh loader's
first batch, at 1% and 99% of a CIFAR-size epoch. Usage::

    python benchmarks/bench_resume.py [--workdir DIR] [--json out.json] [--reps N]

Data: 50,000 generated 3x32x32 uint8 images and labels, memory-mapped from ``.npy`` files
like the vision cache, served by the CIFAR training recipe (shuffle, random crop + flip,
float, normalise; batches of 128). Every number is a median of ``--reps`` runs in this
one process, the variants interleaved. The resume ratios must stay within ``GOAL`` (the state jumps to its
position: it never replays the batches before it); ``replay_99_vs_fresh`` shows what
fast-forwarding through 99% of the epoch would cost instead.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dmzoo.core.fastloader import ArrayDataset, Cast, Compose, Normalize, ToFloat, make_loader
from dmzoo.plugins.vision.augment import RandomCropFlip

N, BATCH = 50_000, 128
GOAL = 2.0


def data(workdir: Path) -> tuple[np.ndarray, np.ndarray]:
    workdir.mkdir(parents=True, exist_ok=True)
    images, labels = workdir / "images.npy", workdir / "labels.npy"
    if not images.exists():
        rng = np.random.default_rng(0)
        np.save(labels, rng.integers(0, 10, N, dtype=np.uint8))
        np.save(images, rng.integers(0, 256, (N, 3, 32, 32), dtype=np.uint8))
    return np.load(images, mmap_mode="r"), np.load(labels, mmap_mode="r")


def build(arrays: tuple[np.ndarray, np.ndarray]) -> Any:
    pixels = Compose([Cast(1), RandomCropFlip(0, size=32, padding=4, flip=0.5, seed=0),
                      ToFloat(0), Normalize(0, (0.49, 0.48, 0.45), (0.25, 0.24, 0.26))])
    return make_loader(ArrayDataset(arrays), batch_size=BATCH, shuffle=True, seed=0,
                       transform=pixels)


def median_time(fn: Callable[[], Any], reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "dmzoo-bench-resume")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--reps", type=int, default=21)
    args = parser.parse_args()

    arrays = data(args.workdir)
    batches = -(-N // BATCH)
    states, expected = {}, {}
    for name, fraction in (("1", 0.01), ("99", 0.99)):
        saver, k = build(arrays), round(fraction * batches)
        it = iter(saver)
        for _ in range(k):
            next(it)
        states[name] = saver.state_dict()
        expected[name] = next(it)

    def resume(name: str) -> Any:
        loader = build(arrays)
        loader.load_state_dict(states[name])
        return next(iter(loader))

    def replay_99() -> Any:
        it = iter(build(arrays))
        for _ in range(round(0.99 * batches)):
            next(it)
        return next(it)

    for name in states:  # the resumed batch is the one the saver gave next
        got = resume(name)
        assert torch.equal(got[0], expected[name][0]) and torch.equal(got[1], expected[name][1])
    # interleaved, so a slow spell of the machine hits every variant alike
    runs: dict[str, Callable[[], Any]] = {"fresh": lambda: next(iter(build(arrays)))}
    runs.update({name: (lambda name=name: resume(name)) for name in states})
    times: dict[str, list[float]] = {key: [] for key in runs}
    for _ in range(args.reps):
        for key, fn in runs.items():
            times[key].append(median_time(fn, 1))
    fresh = statistics.median(times["fresh"])
    result = {"fresh_first_batch_s": fresh}
    for name in states:
        seconds = statistics.median(times[name])
        result[f"resume_{name}pct_s"] = seconds
        result[f"resume_{name}pct_vs_fresh"] = seconds / fresh
    result["replay_99_vs_fresh"] = median_time(replay_99, max(1, args.reps // 3)) / fresh
    for key, value in result.items():
        print(f"{key:>24}: {value:.4f}")
    ok = all(result[f"resume_{n}pct_vs_fresh"] <= GOAL for n in states)
    print(f"goal: resume within {GOAL}x of a fresh first batch: {'met' if ok else 'MISSED'}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
