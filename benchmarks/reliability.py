"""Reliability figure: run the storage fault matrix N times, count silent corruption.

Each run of each scenario uses a fresh cache and a loopback server with
injected faults (random sizes, cut points, archive contents and kill points
per run), calls the storage API (``storage.prepare``, in this process or in
child processes), then checks the outcome against the truth. Columns:

- runs, faults: runs of the scenario and faults injected (server faults, kills,
  planted junk, crafted archives, bad settings);
- intact: the run ended with the right data prepared (after the repair or the
  rerun the scenario prescribes);
- clear error: the expected dmzoo error was raised (only where every source is
  bad: all mirrors bad, a malicious archive or bomb, a wrong file in ``--from``,
  a missing file offline, a read-only data dir, a foreign folder to ``rm``, a
  malformed setting), with the message the scenario checks, nothing marked
  complete, nothing written where it must not be;
- unexpected error: any other failure, including a broken promise that is not
  corruption (e.g. more than one download per file with 8 processes);
- the figures that must be 0: **wrong data** (success reported with wrong
  bytes, a failed or killed run left a dataset marked complete, a damaged
  cache used silently); **outside** (a file outside dmzoo's own folders written
  or deleted: bystander files planted in every run, among them a foreign
  ``<root>/dmzoo/toy/9.9.9`` folder and another program's cache under
  ``DMZOO_HOME``, and whatever a malicious archive reaches); **oversize** (a
  cached file larger than expected, or a server that pushed more than the file
  plus 8 MiB of socket buffers before the client hung up).

Network scenarios run ``prepare`` in this process; the process scenarios
(8 processes at once, SIGKILL) use real child processes, as the tests do.

    python benchmarks/reliability.py 20          # 20 runs of every scenario
    python benchmarks/reliability.py 3 --only rm # only the scenarios naming "rm"
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import io
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import warnings
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from dmzoo.core import storage  # noqa: E402
from dmzoo.core.errors import (  # noqa: E402
    ChecksumError,
    DamagedCacheError,
    DmzooError,
    OfflineError,
    StorageError,
    UnsafeArchiveError,
)
from dmzoo.core.spec import Alternate  # noqa: E402
from support.http_server import (  # noqa: E402
    Drop,
    Endless,
    FileServer,
    Html,
    Slow,
    Status,
    Trickle,
    WrongBytes,
)
from support.storage_helpers import (  # noqa: E402
    PAUSE_ENV,
    build_copy,
    child_env,
    child_result,
    make_spec,
    payload,
    resource,
    sha256,
    start_child,
    tar_bytes,
    wait_until,
)


def scenario_table(rng: random.Random, size: int):
    """Network scenarios: name -> (faults on mirror 1, faults on mirror 2, success expected)."""
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
        "endless body -> mirror 2": ([Endless(times=None)], [], True),
        "Content-Length 1 TB -> mirror 2": ([Endless(times=None, announce=True)], [], True),
        "drop every 2-5 KB (> 20 resumes)": ([Drop(times=None, after=rng.randrange(2000, 5000))],
                                             [], True),
        "URL fails mid-file, rerun resumes": ([Drop(after=cut), Status(times=None, code=503)],
                                              [Status(times=None, code=404)], True),
        "trickle 1 B/10 ms -> mirror 2": ([Trickle(times=None, interval=0.01)], [], True),
    }


SLACK = 8 << 20  # socket buffers: bytes a server may push before it notices the hang-up
# per-run flags: a download outgrew its expected size; something outside dmzoo's folders
# was written or deleted (bystander files, malicious archive leaks, foreign folders)
RUN = {"oversize": False, "outside": False}


def run_one(name: str, faults1, faults2, expect_ok: bool, size: int, seed: int, tmp: Path
            ) -> tuple[str, int]:
    """Outcome of one run and how many faults were injected (server faults, kills, junk)."""
    servers: list[FileServer] = []
    outcome = _run(name, faults1, faults2, expect_ok, size, seed, tmp, servers)
    extra = 1 if name.startswith(("stale", "SIGKILL")) else 0
    return outcome, extra + sum(s.faults_fired for s in servers)


def _oversize(servers: list[FileServer], downloads: Path, size: int) -> bool:
    """A cached file larger than expected, or a server that pushed far more than the file."""
    big = downloads.is_dir() and any(p.stat().st_size > size for p in downloads.iterdir()
                                     if p.is_file())
    return bool(big) or any(s.bytes_sent > size + SLACK for s in servers)


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
        downloads = storage.dataset_dir(spec) / "downloads"
        if name.startswith("stale"):
            part = downloads / "f.bin.part"
            part.parent.mkdir(parents=True)
            part.write_bytes(payload(size // 2, seed + 1))
        if name.startswith("trickle"):
            os.environ["DMZOO_MIN_RATE"] = "20000,0.3"
        try:
            if name.startswith("SIGKILL"):
                part = downloads / "f.bin.part"
                proc = start_child(spec)
                wait_until(lambda: part.exists() and part.stat().st_size >= 65536, timeout=60)
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                if storage.is_prepared(spec):
                    return "corrupt"
                result = child_result(start_child(spec))
                ok = result["ok"]
            elif name.startswith("URL fails"):
                ok = _fail_then_resume(spec, s1, s2, downloads)
            else:
                try:
                    storage.prepare(spec, build_copy, quiet=True)
                    ok = True
                except StorageError:
                    ok = False
        finally:
            os.environ.pop("DMZOO_MIN_RATE", None)
        RUN["oversize"] = _oversize(servers, downloads, size)
        prepared = storage.is_prepared(spec)
        if ok:
            intact = prepared and (storage.prepared_dir(spec) / "f.bin").read_bytes() == data
            return "intact" if intact else "corrupt"
        if prepared:
            return "corrupt"
        return "clean error" if not expect_ok else "unexpected error"


def _fail_then_resume(spec, s1: FileServer, s2: FileServer, downloads: Path) -> bool:
    """First run: mirror 1 dies mid-file then answers 503, mirror 2 has no file: a
    DownloadError that keeps the partial. Second run, servers healthy: it must resume."""
    try:
        storage.prepare(spec, build_copy, quiet=True)
        return False
    except StorageError as exc:
        if "every URL failed" not in str(exc):
            return False
    part = downloads / "f.bin.part"
    kept = part.stat().st_size if part.exists() else 0
    s1.clear_faults()
    s2.clear_faults()
    s1.reset_counts()
    try:
        storage.prepare(spec, build_copy, quiet=True)
    except StorageError:
        return False
    return kept > 0 and bool(s1.log) and s1.log[0][2] == f"bytes={kept}-"


# -- shared checks for the scenarios below ------------------------------------------------------
def snapshot(root: Path) -> dict[str, str]:
    """``{relative path: dir | link target | sha256}`` of everything under ``root`` (no link followed)."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = "link:" + os.readlink(path)
            elif path.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = sha256(path.read_bytes())
    return out


def written(before: dict[str, str], root: Path, folder: Path, allowed: tuple[str, ...] = ()
            ) -> list[str]:
    """Paths under ``root`` new or changed since ``before``.

    Not counted: the dataset ``folder`` and its parents (created by prepare),
    and whatever is inside ``folder / a`` for each ``a`` in ``allowed``.
    """
    parents = {q.relative_to(root).as_posix() for q in (folder, *folder.parents)
               if q != root and root in q.parents}
    trees = [(folder / a).relative_to(root).as_posix() for a in allowed]
    return [rel for rel, what in snapshot(root).items()
            if before.get(rel) != what and rel not in parents
            and not any(rel == t or rel.startswith(t + "/") for t in trees)]


def flip(rng: random.Random, data: bytes) -> bytes:
    """``data`` with one byte changed (same size, wrong checksum)."""
    out = bytearray(data)
    i = rng.randrange(len(out))
    out[i] ^= rng.randrange(1, 256)
    return bytes(out)


def home(tmp: Path) -> Path:
    os.environ["DMZOO_HOME"] = str(tmp / "home")
    return tmp / "home"


def mnist_like(rng: random.Random, srv: FileServer):
    """A spec with a gzip resource (decompressed alternate accepted) and a plain one, served by ``srv``."""
    raw = payload(rng.randrange(20_000, 200_000), rng.randrange(1 << 30))
    gz = gzip.compress(raw, mtime=0)
    other = payload(rng.randrange(5_000, 100_000), rng.randrange(1 << 30))
    srv.put("images.gz", gz)
    srv.put("labels.bin", other)
    alt = Alternate(filenames=("images", "images-idx3-ubyte"), sha256=sha256(raw), size=len(raw))
    spec = make_spec(resource("images.gz", gz, [srv.url_for("images.gz")], alternates=(alt,)),
                     resource("labels.bin", other, [srv.url_for("labels.bin")]))
    forms = {"images.gz": {"images.gz": gz, "images": raw, "images-idx3-ubyte": raw},
             "labels.bin": {"labels.bin": other}}
    return spec, forms, {"images": raw, "labels.bin": other}


def prepared_ok(spec, truth: dict[str, bytes]) -> bool:
    if not storage.is_prepared(spec):
        return False
    out = storage.prepared_dir(spec)
    return all((out / name).read_bytes() == data for name, data in truth.items())


# -- 8 processes at once -----------------------------------------------------------------------
RACE_CHILD = """
import json, sys, time
from pathlib import Path
import filelock, requests, tqdm.auto, urllib3  # import cost paid before the start line
from dmzoo.core import storage
from dmzoo.core.spec import DataModuleSpec
from support.storage_helpers import build_copy, tree_digest
spec = DataModuleSpec.from_dict(json.loads(sys.argv[1]))
Path(sys.argv[2]).touch()
go = Path(sys.argv[3])
while not go.exists():
    time.sleep(0.002)
try:
    out = storage.prepare(spec, build_copy, quiet=True)
    print(json.dumps({"ok": True, "tree": tree_digest(out)}))
except Exception as exc:
    print(json.dumps({"ok": False, "error": type(exc).__name__, "message": str(exc)}))
"""
RACERS = 8


def run_race(rng: random.Random, tmp: Path) -> tuple[str, int]:
    """8 processes start ``prepare`` at the same instant (a start line they all wait on).

    The first download stalls 0.5 s mid-body so the others really wait on the
    locks. Intact: every process got the right tree and the server saw exactly
    one GET per file; a wrong tree anywhere is corrupt; extra downloads or a
    failed process are an unexpected error.
    """
    home(tmp)
    big = payload(rng.randrange(200_000, 1_000_000), rng.randrange(1 << 30))
    blob = payload(200_000, rng.randrange(1 << 30))
    members = {f"set/{i:03d}.bin": blob[i * 997:i * 997 + rng.randrange(1, 5000)]
               for i in range(rng.randrange(2, 60))}
    archive = tar_bytes(members)
    expected = {"big.bin": sha256(big), **{f"set.tar.gz.d/{k}": sha256(v) for k, v in members.items()}}
    with FileServer(tmp / "srv") as srv:
        srv.put("big.bin", big)
        srv.put("set.tar.gz", archive)
        spec = make_spec(resource("big.bin", big, [srv.url_for("big.bin")]),
                         resource("set.tar.gz", archive, [srv.url_for("set.tar.gz")]))
        srv.fault("big.bin", Slow(delay=0.5, after=rng.randrange(1, len(big))))
        env = child_env(DMZOO_TIMEOUT="10,5")  # the 0.5 s stall is not a timeout here
        go = tmp / "go"
        ready = [tmp / f"ready-{i}" for i in range(RACERS)]
        procs = [subprocess.Popen([sys.executable, "-c", RACE_CHILD, json.dumps(spec.to_dict()),
                                   str(r), str(go)], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for r in ready]
        try:
            wait_until(lambda: all(r.exists() for r in ready), timeout=120, what="children ready")
            go.touch()
            results = [child_result(p, timeout=120) for p in procs]
        finally:
            for p in procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        faults = 1 + srv.faults_fired  # the race itself, plus the stall
        gets = dict(srv.counts())
    if any(r["ok"] and r["tree"] != expected for r in results):
        return "corrupt", faults
    if not storage.is_prepared(spec):
        return "unexpected error", faults
    if not all(r["ok"] for r in results):
        return "unexpected error", faults
    if gets != {"big.bin": 1, "set.tar.gz": 1}:
        print(f"8 processes: downloads per file {gets} (want exactly 1 each)", file=sys.stderr)
        return "unexpected error", faults
    return "intact", faults


# -- SIGKILL during extraction / build ---------------------------------------------------------
def run_kill_build(rng: random.Random, tmp: Path) -> tuple[str, int]:
    """Kill a child mid-extraction (random moment) or after extraction, before the marker; rerun.

    Corrupt if the killed run left the dataset marked ready, or the rerun
    reports success with a wrong tree.
    """
    home(tmp)
    blob = payload(300_000, rng.randrange(1 << 30))
    many = {f"many/{i:05d}.bin": blob[i * 263:i * 263 + rng.randrange(16, 300)]
            for i in range(rng.randrange(300, 1000))}
    archive = tar_bytes(many)
    expected = {f"many.tar.gz.d/{k}": sha256(v) for k, v in many.items()}
    with FileServer(tmp / "srv") as srv:
        srv.put("many.tar.gz", archive)
        spec = make_spec(resource("many.tar.gz", archive, [srv.url_for("many.tar.gz")]))
        folder = storage.dataset_dir(spec)
        flag = tmp / "extracted"  # build_copy touches it after extracting, then blocks
        proc = start_child(spec, **{PAUSE_ENV: str(flag)})
        try:
            if rng.random() < 0.5:  # mid-extraction, at a random moment once it has begun
                wait_until(lambda: flag.exists() or any(
                    folder.glob("prepared.tmp-*/.many.tar.gz.d.extract-*")), timeout=60)
                time.sleep(rng.uniform(0, 0.1))
            else:  # extracted into the temp folder, not yet renamed or marked
                wait_until(flag.exists, timeout=60)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        if storage.is_prepared(spec):
            return "corrupt", 1
        result = child_result(start_child(spec))
    if not result["ok"]:
        return "unexpected error", 1
    intact = result["tree"] == expected and storage.is_prepared(spec)
    return ("intact" if intact else "corrupt"), 1


# -- malicious archives ------------------------------------------------------------------------
def malicious_archive(rng: random.Random, root: Path, depth: int) -> tuple[str, bytes]:
    """A random malicious archive: (file name, bytes). ``depth``: levels from the extraction
    folder up to ``root``, so every escape lands inside ``root`` where it can be seen."""
    token = f"EVIL-{rng.randrange(1 << 30)}"
    k = rng.randrange(1, depth + 1)
    up = "../" * k
    victim = "../" * depth + "victim.txt"
    blob = payload(10_000, rng.randrange(1 << 30))
    good = [("f", f"ok/{i}.bin", blob[i * 100:i * 100 + 100]) for i in range(rng.randrange(0, 20))]
    variant = rng.randrange(12)
    chain = [("l", f"L/s{i}", f"s{i - 1}/.." if i > 1 else "..") for i in range(depth, 0, -1)]
    bad = [
        [("f", up + token, b"evil")],                                   # ../ traversal
        [("d", "x", b""), ("f", "x/" + up + "../" + token, b"evil")],   # hidden ../
        [("f", str(root / token), b"evil")],                            # absolute path
        [("l", "esc", up), ("f", f"esc/{token}", b"evil")],             # symlink escape
        [("l", "esc", str(root)), ("f", f"esc/{token}", b"evil")],      # absolute symlink
        [("l", "v", victim), ("f", "v", b"evil")],                      # overwrite through a link
        [("h", "h", victim)],                                           # hard link outside
        [("l", "d/l1", ".."), ("l", "d/l1/l2", "../.."), ("f", f"d/l1/l2/{token}", b"evil")],
        [("f", up + token, b"evil")],                                   # zip ../ traversal
        [("f", "/" + str(root / token).lstrip("/"), b"evil")],          # zip absolute path
        [("l", "evil", f"L/s{depth}/victim.txt"), *chain],              # link chain: read
        [("l", "evil", f"L/s{depth}/victim.txt"), *chain, ("f", "evil", b"evil")],  # and write
    ][variant]
    members = good + bad + [("f", "ok/after.bin", blob[:100])]  # a member after the bad one
    if variant in (8, 9):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            for _, name, data in members:
                zf.writestr(zipfile.ZipInfo(name), data)
        return "bad.zip", buf.getvalue()
    buf = io.BytesIO()
    gz = rng.random() < 0.5
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as tar:
        for kind, name, data in members:
            info = tarfile.TarInfo(name)
            if kind == "f":
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            elif kind == "d":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.type = tarfile.SYMTYPE if kind == "l" else tarfile.LNKTYPE
                info.linkname = data
                tar.addfile(info)
    return ("bad.tar.gz" if gz else "bad.tar"), buf.getvalue()


def run_malicious(rng: random.Random, tmp: Path) -> tuple[str, int]:
    """prepare a dataset whose (checksum-correct) archive is malicious.

    Clean error: ``UnsafeArchiveError``, nothing marked ready, and nothing new
    or changed anywhere under the run's folder except the verified download and
    lock files (the victim file next to it included). Corrupt: success reported,
    or anything written.
    """
    root = tmp
    home(tmp)
    (root / "victim.txt").write_bytes(b"precious")
    with FileServer(tmp / "srv") as srv:
        spec0 = make_spec(resource("x", b"x", [srv.url_for("x")]))
        folder = storage.dataset_dir(spec0)
        depth = len(folder.relative_to(root).parts) + 2  # prepared.tmp-*/.<name>.d.extract-*
        name, archive = malicious_archive(rng, root, depth)
        srv.put(name, archive)
        spec = make_spec(resource(name, archive, [srv.url_for(name)]))
        before = snapshot(root)
        saved = getattr(tarfile, "data_filter", None)
        if saved is not None and rng.random() < 0.5:  # as on Python 3.11.2 (no data filter)
            del tarfile.data_filter
        try:
            storage.prepare(spec, build_copy, quiet=True)
            ok, clean = True, False
        except UnsafeArchiveError as exc:
            ok, clean = False, "damaged" not in str(exc)
        except Exception as exc:  # noqa: BLE001 - any other failure is counted, not raised
            print(f"malicious archive: {type(exc).__name__}: {exc}", file=sys.stderr)
            ok, clean = False, False
        finally:
            if saved is not None:
                tarfile.data_filter = saved
    leaks = written(before, root, folder, allowed=("downloads", ".locks", ".dmzoo-entry"))
    if leaks:
        print(f"malicious archive {name}: written outside: {leaks}", file=sys.stderr)
        RUN["outside"] = True
    if ok or storage.is_prepared(spec):
        return "corrupt", 1
    return ("clean error" if clean and not leaks else "unexpected error"), 1


# -- --from with a wrong file ------------------------------------------------------------------
def run_import_wrong(rng: random.Random, tmp: Path) -> tuple[str, int]:
    """``import_from`` a folder where one resource exists only in a wrong copy.

    Clean error: ``ChecksumError`` naming the file and saying nothing was
    imported, no copy of it in the cache, no temp leftovers, no network; then
    the same folder with the right file prepares intact data.
    """
    folder_home = home(tmp)
    with FileServer(tmp / "srv") as srv:
        spec, forms, truth = mnist_like(rng, srv)
        folder = storage.dataset_dir(spec)
        bad = rng.choice(sorted(forms))
        src = tmp / "src"
        sub = src / "raw" if rng.random() < 0.5 else src  # found in a subfolder too
        sub.mkdir(parents=True)
        for res_name, names in forms.items():
            name, data = rng.choice(sorted(names.items()))
            if res_name == bad:
                wrong = rng.choice([flip(rng, data), data[:rng.randrange(len(data))],
                                    data + b"\0", gzip.compress(b"not " + data[:100], mtime=0)])
                (sub / name).write_bytes(wrong)
                right = (sub / name, data)
            else:
                (sub / name).write_bytes(data)
        before = snapshot(folder_home) if folder_home.exists() else {}
        try:
            with storage.import_from(src):
                storage.prepare(spec, build_copy, quiet=True)
            ok, clean = True, False
        except ChecksumError as exc:
            ok = False
            clean = bad in str(exc) and "nothing imported" in str(exc)
        except Exception as exc:  # noqa: BLE001
            print(f"--from wrong file: {type(exc).__name__}: {exc}", file=sys.stderr)
            ok, clean = False, False
        downloads = folder / "downloads"
        imported_bad = any((downloads / n).exists() for n in forms[bad])
        if ok or imported_bad or storage.is_prepared(spec):
            return "corrupt", 1
        # "nothing imported" is true: no file of any resource, no temp copy
        leftovers = downloads.is_dir() and any(downloads.iterdir())
        stray = written(before, folder_home, folder, allowed=("downloads", ".locks",
                                                               ".dmzoo-entry"))
        if not clean or leftovers or stray or sum(srv.counts().values()):
            return "unexpected error", 1
        # the failed import must not spoil the next one
        for p in list(sub.iterdir()):
            if p.name in forms[bad]:
                p.unlink()
        right[0].write_bytes(right[1])
        with storage.import_from(src):
            storage.prepare(spec, build_copy, quiet=True)
        if not prepared_ok(spec, truth):
            return "corrupt", 1
        if sum(srv.counts().values()):
            return "unexpected error", 1
    return "clean error", 1


# -- offline with a missing file ---------------------------------------------------------------
def run_offline(rng: random.Random, tmp: Path) -> tuple[str, int]:
    """``DMZOO_OFFLINE=1`` with some files cached, some missing, some cached but corrupt.

    Clean error: ``OfflineError`` naming every accepted name of every missing
    file and the downloads folder, no request, nothing written but lock files
    (a corrupt cached copy is discarded); then online, prepare downloads just
    the missing files once each and ends intact.
    """
    folder_home = home(tmp)
    with FileServer(tmp / "srv") as srv:
        spec, forms, truth = mnist_like(rng, srv)
        extra = payload(rng.randrange(1_000, 50_000), rng.randrange(1 << 30))
        srv.put("extra.bin", extra)
        spec = make_spec(*spec.resources, resource("extra.bin", extra, [srv.url_for("extra.bin")]))
        forms["extra.bin"] = {"extra.bin": extra}
        truth["extra.bin"] = extra
        folder = storage.dataset_dir(spec)
        downloads = folder / "downloads"
        downloads.mkdir(parents=True)
        states = {r: rng.choice(["missing", "cached", "corrupt"]) for r in forms}
        if all(s == "cached" for s in states.values()):
            states[rng.choice(sorted(states))] = "missing"
        for res_name, state in states.items():
            name, data = rng.choice(sorted(forms[res_name].items()))
            if state == "cached":
                (downloads / name).write_bytes(data)
            elif state == "corrupt":
                (downloads / name).write_bytes(flip(rng, data))
        missing = [r for r, s in states.items() if s != "cached"]
        before = snapshot(folder_home)
        os.environ["DMZOO_OFFLINE"] = "1"
        message, ok = "", False
        try:
            with contextlib.redirect_stderr(io.StringIO()):  # "discarding corrupt cached file"
                storage.prepare(spec, build_copy, quiet=True)
            ok = True
        except OfflineError as exc:
            message = str(exc)
        except Exception as exc:  # noqa: BLE001
            print(f"offline: {type(exc).__name__}: {exc}", file=sys.stderr)
        finally:
            del os.environ["DMZOO_OFFLINE"]
        faults = len(missing)
        if ok:
            return ("unexpected error" if prepared_ok(spec, truth) else "corrupt"), faults
        if storage.is_prepared(spec):
            return "corrupt", faults
        named = message and str(downloads) in message and all(
            n in message for r in missing for n in forms[r])
        stray = written(before, folder_home, folder, allowed=(".locks", ".dmzoo-entry"))
        if not named or stray or sum(srv.counts().values()):
            if stray:
                print(f"offline: written {stray}", file=sys.stderr)
            return "unexpected error", faults
        with contextlib.redirect_stderr(io.StringIO()):
            storage.prepare(spec, build_copy, quiet=True)
        if not prepared_ok(spec, truth):
            return "corrupt", faults
        if dict(srv.counts()) != {r: 1 for r in missing}:
            return "unexpected error", faults
    return "clean error", faults


# -- read-only data dir ------------------------------------------------------------------------
def _writable(folder: Path) -> bool:
    probe = folder / f".probe-{os.getpid()}"
    try:
        probe.touch()
    except OSError:
        return False
    probe.unlink()
    return True


def make_read_only(root: Path):
    """Make the tree at ``root`` read-only (mode bits, plus ``chattr +i`` as root).

    Returns a function that undoes it, or None (nothing changed) where this
    machine cannot produce a read-only folder.
    """
    paths = [root, *(Path(d) / n for d, ds, fs in os.walk(root) for n in ds + fs)]
    for p in paths:
        p.chmod(0o555 if p.is_dir() else 0o444)
    immutable = False
    if _writable(root) and shutil.which("chattr"):  # root ignores permission bits
        immutable = subprocess.run(["chattr", "-R", "+i", str(root)],
                                   capture_output=True).returncode == 0

    def undo() -> None:
        if immutable:
            subprocess.run(["chattr", "-R", "-i", str(root)], capture_output=True, check=True)
        for p in paths:
            p.chmod(0o755 if p.is_dir() else 0o644)

    if _writable(root):
        undo()
        return None
    return undo


def read_only_possible() -> bool:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "ro").mkdir()
        undo = make_read_only(Path(tmp) / "ro")
        if undo is None:
            return False
        undo()
        return True


def run_read_only(rng: random.Random, tmp: Path) -> tuple[str, int]:
    """``prepare`` with ``data_dir=`` a read-only folder: empty, holding a half-filled
    dataset folder, or holding a prepared dataset (a shared read-only cache).

    The first two must raise a clear ``StorageError`` (says the directory is not
    writable) and change nothing; the prepared one must be served intact
    without writing. No request in any case after the setup.
    """
    home(tmp)
    with FileServer(tmp / "srv") as srv:
        spec, _, truth = mnist_like(rng, srv)
        ro = tmp / "ro"
        ro.mkdir()
        variant = rng.choice(["empty", "half-filled", "prepared"])
        if variant == "half-filled":
            storage.fetch(spec, spec.resources[rng.randrange(2)], data_dir=ro, quiet=True)
        elif variant == "prepared":
            storage.prepare(spec, build_copy, data_dir=ro, quiet=True)
        requests_before = sum(srv.counts().values())
        before = snapshot(ro)
        undo = make_read_only(ro)
        if undo is None:
            raise RuntimeError("cannot make a read-only folder here")
        try:
            try:
                out = storage.prepare(spec, build_copy, data_dir=ro, quiet=True)
                ok, clean = True, False
            except StorageError as exc:
                ok = False
                clean = "cannot write to the data directory" in str(exc) and "writable" in str(exc)
            except Exception as exc:  # noqa: BLE001
                print(f"read-only: {type(exc).__name__}: {exc}", file=sys.stderr)
                ok, clean = False, False
            changed = snapshot(ro) != before
        finally:
            undo()
        quiet_net = sum(srv.counts().values()) == requests_before
    if ok:
        intact = all((out / n).read_bytes() == d for n, d in truth.items()) and storage.is_prepared(
            spec, ro)
        if not intact:
            return "corrupt", 1
        return ("intact" if variant == "prepared" and not changed and quiet_net
                else "unexpected error"), 1
    if variant == "prepared" or not clean or changed or not quiet_net:
        return "unexpected error", 1
    return "clean error", 1

# -- issue 13 attacks --------------------------------------------------------------------------
def extract_all(files, out_dir: Path) -> None:
    """A builder that extracts every file with ``storage.extract`` (gzip included)."""
    for name, path in files.items():
        storage.extract(path, out_dir / f"{name}.d")


def run_bomb(rng: random.Random, tmp: Path) -> tuple[str, int]:
    """A checksum-correct tar, zip or gzip that expands 200-2000x past its size.

    Clean error: ``UnsafeArchiveError`` saying "archive bomb", nothing marked ready, and
    the dataset folder holds no more than the download (nothing extracted was kept).
    """
    home(tmp)
    kind = rng.choice(["tar", "zip", "gzip"])
    size = rng.randrange(200, 2000) * 50_000  # 10-100 MB once expanded
    body = bytes(size) if kind != "gzip" else b"A" * size  # gzip of zeros reads as an empty tar
    if kind == "tar":
        name, archive = "bomb.tar.gz", tar_bytes({"zeros.bin": body})
    elif kind == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("zeros.bin", body)
        name, archive = "bomb.zip", buf.getvalue()
    else:
        name, archive = "bomb.gz", gzip.compress(body, compresslevel=9)
    with FileServer(tmp / "srv") as srv:
        srv.put(name, archive)
        spec = make_spec(resource(name, archive, [srv.url_for(name)]))
        try:
            storage.prepare(spec, extract_all, quiet=True)
            return "corrupt", 1
        except UnsafeArchiveError as exc:
            clean = "archive bomb" in str(exc)
        except Exception as exc:  # noqa: BLE001
            print(f"bomb: {type(exc).__name__}: {exc}", file=sys.stderr)
            clean = False
    kept = storage.folder_size(storage.dataset_dir(spec))
    if storage.is_prepared(spec):
        return "corrupt", 1
    return ("clean error" if clean and kept <= len(archive) + 4096 else "unexpected error"), 1


def run_record_bomb(rng: random.Random, tmp: Path) -> tuple[str, int]:
    """A CIFAR archive holding more records than the dataset has (a 1,000,004-image
    archive in the issue): the reader must refuse it before reading the extra member."""
    import numpy as np

    from dmzoo.core.errors import DataFormatError
    from dmzoo.plugins.vision.cifar.datamodule import CIFAR10DataModule, read_cifar_archive
    from dmzoo.plugins.vision.formats import random_images

    n = rng.randrange(10, 40)
    extra = rng.randrange(1, 2000)
    gen = np.random.default_rng(rng.randrange(1 << 30))
    train = random_images(n + extra, (3, 32, 32), 10, gen)
    test = random_images(5, (3, 32, 32), 10, gen)
    path = tmp / "cifar.tar.gz"
    path.write_bytes(CIFAR10DataModule.archive_bytes(train, test))
    members = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    try:
        read_cifar_archive(path, members, label_bytes=1, records=n + 5)
        return "corrupt", 1
    except DataFormatError as exc:
        return ("clean error" if "records" in str(exc) and str(path) in str(exc)
                else "unexpected error"), 1


def run_foreign_rm(rng: random.Random, tmp: Path) -> tuple[str, int]:
    """``DMZOO_HOME`` on a shared data folder: ``dmzoo cache rm NAME`` for a name that only
    foreign folders have must refuse; for a name dmzoo also caches it removes only dmzoo's."""
    from dmzoo.cli.main import main as cli_main

    root = home(tmp)
    foreign = {"tensorflow_datasets/toy/3.0.1/train.tfrecord": b"tfds",
               "projects/myapp/src/thesis.tex": b"thesis", "photos/2023/summer/a.jpg": b"jpg"}
    for rel, body in foreign.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(body)
    with FileServer(tmp / "srv") as srv:
        data = payload(rng.randrange(1000, 50_000), rng.randrange(1 << 30))
        srv.put("t.bin", data)
        spec = make_spec(resource("t.bin", data, [srv.url_for("t.bin")]))
        storage.prepare(spec, build_copy, quiet=True)
        before = snapshot(root)
        ref = rng.choice(["myapp", "2023", "photos/2023@summer", "tensorflow_datasets/toy"])
        with contextlib.redirect_stdout(io.StringIO()), \
                contextlib.redirect_stderr(io.StringIO()) as err:
            refused = cli_main(["cache", "rm", ref]) == 1 and "not a dmzoo cache folder" in \
                err.getvalue()
            removed = cli_main(["cache", "rm", "toy"]) == 0
    intact = all((root / rel).read_bytes() == body for rel, body in foreign.items()
                 if (root / rel).exists()) and all((root / rel).exists() for rel in foreign)
    if not intact or any(k not in snapshot(root) for k in before if k.startswith(
            ("tensorflow", "projects", "photos"))):
        RUN["outside"] = True
        return "unexpected error", 1
    if not (refused and removed) or storage.is_prepared(spec):
        return "unexpected error", 1
    return "clean error", 1


def run_rm_race(rng: random.Random, tmp: Path) -> tuple[str, int]:
    """``cache rm`` and ``prepare`` at once while a third party holds the dataset lock.

    Intact: prepare raised nothing and, if the data is marked prepared afterwards, it is
    the right data; the lock file survived; a later prepare ends intact.
    """
    import threading

    from dmzoo.core.storage.locks import locked

    home(tmp)
    with FileServer(tmp / "srv") as srv:
        data = payload(rng.randrange(1000, 100_000), rng.randrange(1 << 30))
        srv.put("r.bin", data)
        spec = make_spec(resource("r.bin", data, [srv.url_for("r.bin")]))
        storage.prepare(spec, build_copy, quiet=True)
        entry = storage.select("toy")[0]
        folder = storage.dataset_dir(spec)
        errors: list[BaseException] = []

        def guarded(func):
            def call():
                try:
                    func()
                except StorageError as exc:
                    if "in use" not in str(exc):
                        errors.append(exc)
                except Exception as exc:  # noqa: BLE001
                    errors.append(exc)
            return call

        with locked(folder, "prepare"):
            threads = [threading.Thread(target=guarded(lambda: storage.prepare(
                spec, build_copy, quiet=True))), threading.Thread(target=guarded(
                    lambda: storage.remove(entry)))]
            rng.shuffle(threads)
            for t in threads:
                t.start()
                time.sleep(rng.uniform(0, 0.05))
            time.sleep(rng.uniform(0, 0.2))
        for t in threads:
            t.join(60)
        if errors:
            print(f"rm race: {errors}", file=sys.stderr)
            return "unexpected error", 1
        if storage.is_prepared(spec) and not prepared_ok(spec, {"r.bin": data}):
            return "corrupt", 1
        if not (folder / ".locks" / "prepare.lock").exists():
            return "unexpected error", 1
        storage.prepare(spec, build_copy, quiet=True)
        return ("intact" if prepared_ok(spec, {"r.bin": data}) else "corrupt"), 1


def run_corrupt_cache(rng: random.Random, tmp: Path) -> tuple[str, int]:
    """Damage a prepared cache: resize a file, flip a byte, plant a file, or garble the
    marker. The cheap ``setup()`` check must catch a resize, ``cache verify`` every kind, and
    ``dmzoo prepare`` (repair mode) must end with intact data."""
    home(tmp)
    with FileServer(tmp / "srv") as srv:
        spec, _, truth = mnist_like(rng, srv)
        out = storage.prepare(spec, build_copy, quiet=True)
        variant = rng.choice(["resize", "flip", "extra", "marker"])
        victim = out / rng.choice(sorted(truth))
        if variant == "resize":
            victim.write_bytes(victim.read_bytes()[: -rng.randrange(1, 100)])
        elif variant == "flip":
            victim.write_bytes(flip(rng, victim.read_bytes()))
        elif variant == "extra":
            (out / "planted.bin").write_bytes(b"x")
        else:
            (storage.dataset_dir(spec) / "COMPLETE.json").write_bytes(rng.randbytes(40))
        if variant == "resize":
            try:
                storage.prepared_dir(spec)
                return "corrupt", 1  # used silently
            except DamagedCacheError:
                pass
        entry = [e for e in storage.list_cache() if e.name == "toy"][0]
        if not storage.verify_entry(entry):
            return "corrupt", 1
        with contextlib.redirect_stderr(io.StringIO()), storage.repairing():
            storage.prepare(spec, build_copy, quiet=True)
        entry = [e for e in storage.list_cache() if e.name == "toy"][0]
        if storage.verify_entry(entry) or not prepared_ok(spec, truth):
            return "corrupt", 1
        return "intact", 1


def run_umask(rng: random.Random, tmp: Path) -> tuple[str, int]:
    """Prepare (with an extracted archive) under a random umask: every folder dmzoo made in
    ``prepared/`` must have mode 0777 minus the umask (no 0700 from mkdtemp)."""
    home(tmp)
    mask = rng.choice([0o022, 0o002, 0o027, 0o077])
    archive = tar_bytes({"d/a.bin": payload(1000, rng.randrange(1 << 30))})
    with FileServer(tmp / "srv") as srv:
        srv.put("s.tar.gz", archive)
        spec = make_spec(resource("s.tar.gz", archive, [srv.url_for("s.tar.gz")]))
        old = os.umask(mask)
        try:
            out = storage.prepare(spec, build_copy, quiet=True)
        finally:
            os.umask(old)
    modes = {p.stat().st_mode & 0o777 for p in [out, out / "s.tar.gz.d"]}
    return ("intact" if modes == {0o777 & ~mask} else "unexpected error"), 1


def run_stale_temps(rng: random.Random, tmp: Path) -> tuple[str, int]:
    """What killed runs leave (a builder's tmp folder, a half build, a marker being written,
    a ``--from`` copy): the next prepare removes all of it and ends intact."""
    home(tmp)
    with FileServer(tmp / "srv") as srv:
        spec, _, truth = mnist_like(rng, srv)
        folder = storage.dataset_dir(spec)
        junk = [folder / f"tmp{rng.randrange(1 << 20):x}" / "big.csv",
                folder / f"prepared.tmp-{rng.randrange(99999)}-ab" / "x.npy",
                folder / f".COMPLETE.json.tmp-{rng.randrange(99999)}",
                folder / "downloads" / f".images.gz.import-{rng.randrange(99999)}"]
        for path in rng.sample(junk, rng.randrange(1, len(junk) + 1)):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(bytes(rng.randrange(1, 2_000_000)))
        storage.prepare(spec, build_copy, quiet=True)
    if any(p.exists() for p in junk):
        return "unexpected error", 1
    return ("intact" if prepared_ok(spec, truth) else "corrupt"), 1


BAD_SETTINGS = [("DMZOO_TIMEOUT", "0"), ("DMZOO_TIMEOUT", "-1"), ("DMZOO_TIMEOUT", "nan"),
                ("DMZOO_TIMEOUT", "1,2,3"), ("DMZOO_BACKOFF", "-1"), ("DMZOO_MIN_RATE", "0"),
                ("DMZOO_OFFLINE", "maybe"), ("DMZOO_QUIET", "2"), ("DMZOO_MIRROR", "ftp://x")]


def run_bad_setting(rng: random.Random, tmp: Path) -> tuple[str, int]:
    """A malformed ``DMZOO_*`` value: a one-line ``InvalidSettingError`` naming it, before any
    request; nothing prepared."""
    from dmzoo.core.errors import InvalidSettingError

    home(tmp)
    name, value = rng.choice(BAD_SETTINGS)
    with FileServer(tmp / "srv") as srv:
        spec, _, _ = mnist_like(rng, srv)
        saved = os.environ.get(name)
        os.environ[name] = value
        try:
            storage.prepare(spec, build_copy)
            return "corrupt", 1
        except InvalidSettingError as exc:
            clean = name in str(exc) and "\n" not in str(exc)
        finally:
            if saved is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = saved
        quiet_net = sum(srv.counts().values()) == 0
    return ("clean error" if clean and quiet_net and not storage.is_prepared(spec)
            else "unexpected error"), 1


def run_regzip(rng: random.Random, tmp: Path) -> tuple[str, int]:
    """``--from`` a folder holding a re-gzipped copy (same content, other gzip bytes): the
    error must say that the decompressed file is accepted; nothing imported."""
    home(tmp)
    with FileServer(tmp / "srv") as srv:
        spec, forms, _ = mnist_like(rng, srv)
        src = tmp / "src"
        src.mkdir()
        raw = forms["images.gz"]["images"]
        (src / "images.gz").write_bytes(gzip.compress(raw, compresslevel=rng.randrange(1, 9),
                                                      mtime=rng.randrange(1, 1 << 30)))
        (src / "labels.bin").write_bytes(forms["labels.bin"]["labels.bin"])
        try:
            with storage.import_from(src):
                storage.prepare(spec, build_copy, quiet=True)
            return "corrupt", 1
        except ChecksumError as exc:
            clean = "decompressed file is accepted" in str(exc) and "gunzip" in str(exc)
        downloads = storage.dataset_dir(spec) / "downloads"
        left = downloads.is_dir() and any(downloads.iterdir())
    return ("clean error" if clean and not left else "unexpected error"), 1


def run_mirror_namespaces(rng: random.Random, tmp: Path) -> tuple[str, int]:
    """``DMZOO_MIRROR`` serving ``dmzoo/toy`` and ``acme/toy`` (different files): each must get
    its own (``<base>/toy/`` and ``<base>/acme/toy/``)."""
    import dataclasses

    home(tmp)
    ours, theirs = (payload(rng.randrange(1000, 50_000), rng.randrange(1 << 30)) for _ in "ab")
    with FileServer(tmp / "srv") as srv:
        srv.put("toy/m.bin", ours)
        srv.put("acme/toy/m.bin", theirs)
        dead = ["http://127.0.0.1:9/m.bin"]
        spec_ours = make_spec(resource("m.bin", ours, dead))
        spec_theirs = dataclasses.replace(make_spec(resource("m.bin", theirs, dead)),
                                          namespace="acme").validate()
        os.environ["DMZOO_MIRROR"] = srv.url
        try:
            storage.prepare(spec_ours, build_copy, quiet=True)
            storage.prepare(spec_theirs, build_copy, quiet=True)
        finally:
            del os.environ["DMZOO_MIRROR"]
    ok = prepared_ok(spec_ours, {"m.bin": ours}) and prepared_ok(spec_theirs, {"m.bin": theirs})
    return ("intact" if ok else "corrupt"), 1


BAD_TABLES = ("inf feature", "-inf feature", "inf regression target", "latin-1 text",
              "huge finite feature", "latin-1 text with encoding=")


def run_bad_table(rng: random.Random, tmp: Path) -> tuple[str, int]:
    """A CSV with non-finite values or non-UTF-8 text: a one-line ``DataFormatError`` naming
    the column (never NaN features), or, where dmzoo accepts it (a huge finite value in the
    training rows, the right ``encoding=``), finite features and the true class names."""
    import numpy as np

    import dmzoo
    from dmzoo.core.errors import DataFormatError

    home(tmp)
    case = rng.choice(BAD_TABLES)
    n = rng.randrange(60, 200)
    x = [f"{rng.uniform(-5, 5):.4f}" for _ in range(n)]
    labels = [rng.choice(("oui", "non", "peut-être")) for _ in range(n)]
    target, task = "label", {}
    if case in ("inf feature", "-inf feature"):
        x[rng.randrange(n)] = case.split()[0]
    elif case == "huge finite feature":
        x[rng.randrange(n)] = "1e308"
    elif case == "inf regression target":
        target, task = "y", {"task": "regression"}
    bad_y = case == "inf regression target"
    rows = ["a,label,y"] + [f"{a},{lab},{'inf' if bad_y and i == 0 else rng.uniform(0, 1)}"
                            for i, (a, lab) in enumerate(zip(x, labels, strict=True))]
    path = tmp / "data" / "table.csv"
    path.parent.mkdir()
    latin = case.startswith("latin-1")
    path.write_bytes("\n".join(rows).encode("latin-1" if latin else "utf-8"))
    kwargs = {"encoding": "latin-1"} if case.endswith("encoding=") else {}
    try:
        dm = dmzoo.load_datamodule("tabular", data=str(path), target=target, **task, **kwargs)
        dm.prepare_data()
        dm.setup("fit")
        inputs, _ = next(iter(dm.train_dataloader()))
    except DataFormatError as exc:
        named = any(name in str(exc) for name in ("'a'", "'label'", "'y'", "target"))
        # a huge value is accepted when it is in the fitted rows (standardised without
        # overflow), and refused clearly when it lands in val/test beyond float32 once encoded
        expected = case != "latin-1 text with encoding="
        return ("clean error" if expected and named and "\n" not in str(exc)
                else "unexpected error"), 1
    finite = bool(np.isfinite(inputs["x_num"].numpy()).all())
    names_ok = set(dm.classes or ()) <= {"oui", "non", "peut-être"} if target == "label" else True
    expected_ok = case in ("huge finite feature", "latin-1 text with encoding=")
    return ("intact" if expected_ok and finite and names_ok else "corrupt"), 1


def run_hostile_plugin(rng: random.Random, tmp: Path) -> tuple[str, int]:
    """A plugin that raises mid-listing, exits, prints to stdout or answers a hook with the
    wrong type: it is reported, and dmzoo keeps listing and loading the other datamodules."""
    import dmzoo
    from dmzoo.registry import get_registry, reset_registry

    home(tmp)
    kind = rng.choice(("raises after one spec", "sys.exit", "prints", "int data dir"))
    good = dmzoo.get_spec("wine")

    class Hostile:
        @dmzoo.hookimpl
        def dmzoo_datamodule_specs(self):  # noqa: ANN202
            if kind == "sys.exit":
                sys.exit(3)
            if kind == "prints":
                print("noise from a plugin")
            yield good.__class__(**{**good.__dict__, "namespace": "hostile"})
            if kind == "raises after one spec":
                raise RuntimeError("plugin bug")

        @dmzoo.hookimpl
        def dmzoo_data_dir(self, spec):  # noqa: ANN001, ANN202
            return 42 if kind == "int data dir" else None

    reset_registry()
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            dmzoo.register_plugin(Hostile(), name="hostile")
            names = dmzoo.list_datamodules()
            # the hook is asked only without DMZOO_HOME; the default root then lies in tmp
            saved = {k: os.environ.pop(k, None) for k in ("DMZOO_HOME", "XDG_CACHE_HOME")}
            os.environ["XDG_CACHE_HOME"] = str(tmp / "cache")
            try:
                root = storage.data_root(good)
            finally:
                os.environ.pop("XDG_CACHE_HOME")
                os.environ.update({k: v for k, v in saved.items() if v is not None})
            dm = dmzoo.load_datamodule("dmzoo/wine")
            dm.setup("fit")
            next(iter(dm.train_dataloader()))
        reported = any(f.plugin == "hostile" for f in get_registry().failures) or \
            kind == "prints"
        ok = "dmzoo/wine" in names and root.is_relative_to(tmp) and not out.getvalue()
    except BaseException as exc:  # noqa: BLE001  (a plugin must never take dmzoo down)
        print(f"hostile plugin ({kind}): {type(exc).__name__}: {exc}", file=sys.stderr)
        return "unexpected error", 1
    finally:
        reset_registry()
    return ("intact" if ok and reported else "unexpected error"), 1


def run_pickled_parquet(rng: random.Random, tmp: Path) -> tuple[str, int]:
    """A Parquet file whose Arrow extension metadata holds a pickle (CVE-2023-47248): reading
    it as ``tabular`` data must never run the payload (here: creating a marker file)."""
    import pickle

    import pyarrow as pa
    import pyarrow.parquet as pq

    import dmzoo

    home(tmp)
    marker = tmp / "data" / "payload-ran"
    marker.parent.mkdir()

    class Payload:
        def __reduce__(self):  # noqa: ANN204
            return (open, (str(marker), "w"))

    n = rng.randrange(20, 80)
    field = pa.field("x", pa.float64(), metadata={
        b"ARROW:extension:name": b"arrow.py_extension_type",
        b"ARROW:extension:metadata": pickle.dumps(Payload())})
    table = pa.table({"x": pa.array([rng.random() for _ in range(n)]),
                      "label": pa.array([rng.choice("ab") for _ in range(n)])},
                     schema=pa.schema([field, pa.field("label", pa.string())]))
    path = tmp / "data" / "evil.parquet"
    pq.write_table(table, path)
    try:
        dm = dmzoo.load_datamodule("tabular", data=str(path), target="label")
        dm.prepare_data()
        dm.setup("fit")
        outcome = "intact"
    except DmzooError:
        outcome = "clean error"
    except Exception as exc:  # noqa: BLE001
        print(f"pickled parquet: {type(exc).__name__}: {exc}", file=sys.stderr)
        outcome = "unexpected error"
    return ("corrupt" if marker.exists() else outcome), 1


EXTRA_SCENARIOS = {
    "8 processes at once": run_race,
    "SIGKILL mid-extraction/build, rerun": run_kill_build,
    "malicious archive": run_malicious,
    "--from with a wrong file": run_import_wrong,
    "offline, file missing": run_offline,
    "read-only data dir": run_read_only,
    "archive bomb (tar/zip/gzip)": run_bomb,
    "CIFAR archive with extra records": run_record_bomb,
    "cache rm on a shared folder": run_foreign_rm,
    "cache rm racing prepare": run_rm_race,
    "damaged prepared cache, repair": run_corrupt_cache,
    "umask honoured": run_umask,
    "stale temp files of every kind": run_stale_temps,
    "malformed DMZOO_* setting": run_bad_setting,
    "--from a re-gzipped file": run_regzip,
    "mirror folder per namespace": run_mirror_namespaces,
    "table with non-finite or non-UTF-8 values": run_bad_table,
    "hostile plugin": run_hostile_plugin,
    "Parquet with a pickled payload": run_pickled_parquet,
}


def run_extra(name: str, rng: random.Random, tmp: Path) -> tuple[str, int]:
    """Run one of ``EXTRA_SCENARIOS``; a crash of the harness counts as an unexpected error."""
    try:
        return EXTRA_SCENARIOS[name](rng, tmp)
    except Exception as exc:  # noqa: BLE001
        print(f"{name}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return "unexpected error", 1
    finally:
        os.environ.pop("DMZOO_OFFLINE", None)


BYSTANDERS = {"outside/victim.txt": b"user file next to the cache",
              "home/tensorflow_datasets/toy/3.0.1/data.tfrecord": b"another program's cache",
              "home/dmzoo/toy/9.9.9/notes.txt": b"a folder dmzoo did not create"}


def plant_bystanders(tmp: Path) -> None:
    for rel, body in BYSTANDERS.items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_bytes(body)


def bystanders_intact(tmp: Path) -> bool:
    return all((tmp / rel).is_file() and (tmp / rel).read_bytes() == body
               for rel, body in BYSTANDERS.items())


COLUMNS = ["runs", "faults", "intact", "clear error", "unexpected error", "wrong data",
           "outside", "oversize"]
MUST_BE_ZERO = ("wrong data", "outside", "oversize")
OUTCOME_COLUMN = {"intact": "intact", "clean error": "clear error",
                  "unexpected error": "unexpected error", "corrupt": "wrong data"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=int, nargs="?", default=10, help="runs per scenario")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", help="run only the scenarios whose name contains this text")
    args = parser.parse_args()
    os.environ.update({"DMZOO_BACKOFF": "0.01", "DMZOO_TIMEOUT": "2,0.3", "DMZOO_QUIET": "1"})
    rng = random.Random(args.seed)
    network = list(scenario_table(random.Random(0), 100_000))
    extra = list(EXTRA_SCENARIOS)
    if not read_only_possible():
        extra.remove("read-only data dir")
        print("note: skipping 'read-only data dir': cannot make a read-only folder here "
              "(mode bits ignored and no working 'chattr +i')", file=sys.stderr)
    names = [n for n in network + extra if not args.only or args.only in n]
    stats = {n: dict.fromkeys(COLUMNS, 0) for n in names}
    start = time.perf_counter()
    for _ in range(args.runs):
        for name in names:
            RUN.update(oversize=False, outside=False)
            with tempfile.TemporaryDirectory() as tmp:
                plant_bystanders(Path(tmp))
                if name in EXTRA_SCENARIOS:
                    outcome, faults = run_extra(name, rng, Path(tmp))
                else:
                    size = rng.randrange(70_000, 400_000)
                    faults1, faults2, expect_ok = scenario_table(rng, size)[name]
                    outcome, faults = run_one(name, faults1, faults2, expect_ok, size,
                                              rng.randrange(1 << 30), Path(tmp))
                if not bystanders_intact(Path(tmp)):
                    RUN["outside"] = True
            row = stats[name]
            row["runs"] += 1
            row["faults"] += faults
            row[OUTCOME_COLUMN[outcome]] += 1
            row["outside"] += RUN["outside"]
            row["oversize"] += RUN["oversize"]
    elapsed = time.perf_counter() - start
    width = max(map(len, names)) + 2
    print(f"{'scenario':<{width}}" + "".join(f"{c:>{len(c) + 2}}" for c in COLUMNS))
    for name in names:
        print(f"{name:<{width}}" + "".join(f"{stats[name][c]:>{len(c) + 2}}" for c in COLUMNS))
    total = {c: sum(s[c] for s in stats.values()) for c in COLUMNS}
    print(f"{'TOTAL':<{width}}" + "".join(f"{total[c]:>{len(c) + 2}}" for c in COLUMNS))
    zeros = ", ".join(f"{c}: {total[c]}" for c in MUST_BE_ZERO)
    print(f"\n{total['runs']} runs in {elapsed:.1f}s; must be 0: {zeros}")
    sys.exit(1 if any(total[c] for c in MUST_BE_ZERO) or total["unexpected error"] else 0)


if __name__ == "__main__":
    main()
