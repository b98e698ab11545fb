"""Reliability figure: run the storage fault matrix N times, count silent corruption.

Each run of each scenario uses a fresh cache and a loopback server with
injected faults (random sizes and cut points per run), calls
``storage.prepare``, then checks the outcome against the truth:

- intact: prepare returned and the prepared bytes equal the served file;
- clean error: prepare raised a ``StorageError`` (only expected where every
  source is bad) and nothing was marked complete;
- CORRUPT: prepare reported success with wrong bytes, or a failed run left a
  dataset marked complete. Must be 0.

    python benchmarks/reliability.py 20          # 20 runs of every scenario
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from dmzoo.core import storage  # noqa: E402
from dmzoo.core.errors import StorageError  # noqa: E402
from support.http_server import Drop, FileServer, Html, Slow, Status, WrongBytes  # noqa: E402
from support.storage_helpers import (  # noqa: E402
    build_copy,
    child_result,
    make_spec,
    payload,
    resource,
    start_child,
    wait_until,
)


def scenario_table(rng: random.Random, size: int):
    """name -> (faults on mirror 1, faults on mirror 2, success expected, extra setup)."""
    cut = rng.randrange(1, size - 1)
    return {
        "drop mid-body (resume)": ([Drop(after=cut), Drop(after=rng.randrange(1, size // 2))], [], True),
        "drop, Range ignored": ([Drop(after=cut)], [], True),
        "500 x2 then OK": ([Status(times=2, code=500)], [], True),
        "429 then OK": ([Status(times=1, code=429)], [], True),
        "404 -> mirror 2": ([Status(times=None, code=404)], [], True),
        "wrong bytes -> mirror 2": ([WrongBytes(times=None)], [], True),
        "HTML 200 -> mirror 2": ([Html(times=None)], [], True),
        "stall (timeout) -> mirror 2": ([Slow(times=None, delay=3)], [], True),
        "stale .part from other file": ([], [], True),
        "all mirrors bad": ([WrongBytes(times=None)], [Html(times=None)], False),
        "SIGKILL mid-download, rerun": ([Slow(delay=30, after=rng.randrange(65_537, size))], [], True),
    }


def run_one(name: str, faults1, faults2, expect_ok: bool, size: int, seed: int, tmp: Path
            ) -> tuple[str, int]:
    """Outcome of one run and how many faults were injected (server faults, kills, junk)."""
    servers: list[FileServer] = []
    outcome = _run(name, faults1, faults2, expect_ok, size, seed, tmp, servers)
    extra = 1 if name.startswith(("stale", "SIGKILL")) else 0
    return outcome, extra + sum(s.faults_fired for s in servers)


def _run(name, faults1, faults2, expect_ok, size, seed, tmp, servers) -> str:
    os.environ["DMZOO_HOME"] = str(tmp / "home")
    data = payload(size, seed)
    with FileServer(tmp / "a", range_support=name != "drop, Range ignored") as s1, \
            FileServer(tmp / "b") as s2:
        servers += [s1, s2]
        s1.put("f.bin", data)
        s2.put("f.bin", data)
        s1.fault("f.bin", *faults1)
        s2.fault("f.bin", *faults2)
        spec = make_spec(resource("f.bin", data, [s1.url_for("f.bin"), s2.url_for("f.bin")]))
        if name.startswith("stale"):
            part = storage.dataset_dir(spec) / "downloads" / "f.bin.part"
            part.parent.mkdir(parents=True)
            part.write_bytes(payload(size // 2, seed + 1))
        if name.startswith("SIGKILL"):
            part = storage.dataset_dir(spec) / "downloads" / "f.bin.part"
            proc = start_child(spec)
            wait_until(lambda: part.exists() and part.stat().st_size >= 65536, timeout=60)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            if storage.is_prepared(spec):
                return "corrupt"
            result = child_result(start_child(spec))
            ok = result["ok"]
        else:
            try:
                storage.prepare(spec, build_copy, quiet=True)
                ok = True
            except StorageError:
                ok = False
        prepared = storage.is_prepared(spec)
        if ok:
            intact = prepared and (storage.prepared_dir(spec) / "f.bin").read_bytes() == data
            return "intact" if intact else "corrupt"
        if prepared:
            return "corrupt"
        return "clean error" if not expect_ok else "unexpected error"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=int, nargs="?", default=10, help="runs per scenario")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.update({"DMZOO_BACKOFF": "0.01", "DMZOO_TIMEOUT": "2,0.3", "DMZOO_QUIET": "1"})
    rng = random.Random(args.seed)
    names = list(scenario_table(random.Random(0), 100_000))
    stats = {n: {"runs": 0, "faults": 0, "intact": 0, "clean error": 0, "unexpected error": 0,
                 "corrupt": 0} for n in names}
    start = time.perf_counter()
    for _ in range(args.runs):
        for name in names:
            size = rng.randrange(70_000, 400_000)
            faults1, faults2, expect_ok = scenario_table(rng, size)[name]
            with tempfile.TemporaryDirectory() as tmp:
                outcome, faults = run_one(name, faults1, faults2, expect_ok, size, rng.randrange(1 << 30),
                                  Path(tmp))
            row = stats[name]
            row["runs"] += 1
            row["faults"] += faults
            row[outcome] += 1
    elapsed = time.perf_counter() - start
    cols = ["runs", "faults", "intact", "clean error", "unexpected error", "corrupt"]
    width = max(map(len, names)) + 2
    print(f"{'scenario':<{width}}" + "".join(f"{c:>{len(c) + 2}}" for c in cols))
    for name in names:
        print(f"{name:<{width}}" + "".join(f"{stats[name][c]:>{len(c) + 2}}" for c in cols))
    total = {c: sum(s[c] for s in stats.values()) for c in cols}
    print(f"{'TOTAL':<{width}}" + "".join(f"{total[c]:>{len(c) + 2}}" for c in cols))
    print(f"\n{total['runs']} runs in {elapsed:.1f}s; reported success with corrupt data: "
          f"{total['corrupt']} (must be 0)")
    sys.exit(1 if total["corrupt"] or total["unexpected error"] else 0)


if __name__ == "__main__":
    main()
