"""Cold ``dmzoo list`` process vs cold ``python -c "import torch"`` process.

Both run as fresh interpreters in the same invocation, interleaved, so the
ratio is comparable across machines. Goal: ``dmzoo list`` <= 0.2 x ``import torch``.

    python benchmarks/bench_list.py --repeat 7
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = {
    "dmzoo list": [sys.executable, "-m", "dmzoo", "list"],
    "import torch": [sys.executable, "-c", "import torch"],
}


def time_once(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    for cmd in COMMANDS.values():  # warm the OS file cache once, untimed
        time_once(cmd)
    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.repeat):
        for name, cmd in COMMANDS.items():
            samples[name].append(time_once(cmd))
    medians = {name: statistics.median(values) for name, values in samples.items()}
    for name, value in medians.items():
        print(f"{name:<14} median {value * 1000:8.1f} ms over {args.repeat} runs")
    ratio = medians["dmzoo list"] / medians["import torch"]
    print(f"ratio dmzoo list / import torch = {ratio:.3f} (goal <= 0.2): {'PASS' if ratio <= 0.2 else 'FAIL'}")


if __name__ == "__main__":
    main()
