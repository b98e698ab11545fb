"""Reliability figure: run the storage fault matrix N times, count silent corruption.

Each run of each scenario uses a fresh cache and a loopback server with
injected faults (random sizes, cut points, archive contents and kill points
per run), calls the storage API (``storage.prepare``, in this process or in
child processes), then checks the outcome against the truth:

- intact: prepare returned and the prepared bytes equal the served files;
- clean error: the expected ``StorageError`` subclass was raised (only where
  every source is bad: all mirrors bad, a malicious archive, a wrong file in
  ``--from``, a missing file offline, a read-only data dir), nothing was
  marked complete, nothing was written where it must not be, and where the
  scenario says so a follow-up run with the fault removed ends intact;
- unexpected error: any other failure, including a broken promise that is
  not corruption (e.g. more than one download per file with 8 processes);
- CORRUPT: prepare reported success with wrong bytes, a failed or killed run
  left a dataset marked complete, or a malicious archive wrote anything
  outside its extraction folder. Must be 0.

Network scenarios run ``prepare`` in this process; the process scenarios
(8 processes at once, SIGKILL) use real child processes, as the tests do.

    python benchmarks/reliability.py 20          # 20 runs of every scenario
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
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from dmzoo.core import storage  # noqa: E402
from dmzoo.core.errors import (  # noqa: E402
    ChecksumError,
    OfflineError,
    StorageError,
    UnsafeArchiveError,
)
from dmzoo.core.spec import Alternate  # noqa: E402
from support.http_server import Drop, FileServer, Html, Slow, Status, WrongBytes  # noqa: E402
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
    variant = rng.randrange(10)
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
    ][variant]
    members = good + bad + [("f", "ok/after.bin", blob[:100])]  # a member after the bad one
    if variant >= 8:
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
        try:
            storage.prepare(spec, build_copy, quiet=True)
            ok, clean = True, False
        except UnsafeArchiveError:
            ok, clean = False, True
        except Exception as exc:  # noqa: BLE001 - any other failure is counted, not raised
            print(f"malicious archive: {type(exc).__name__}: {exc}", file=sys.stderr)
            ok, clean = False, False
    leaks = written(before, root, folder, allowed=("downloads", ".locks"))
    if ok or leaks or storage.is_prepared(spec):
        if leaks:
            print(f"malicious archive {name}: written outside: {leaks}", file=sys.stderr)
        return "corrupt", 1
    return ("clean error" if clean else "unexpected error"), 1


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
        leftovers = downloads.is_dir() and any(".import-" in p.name for p in downloads.iterdir())
        if ok or imported_bad or storage.is_prepared(spec):
            return "corrupt", 1
        stray = written(before, folder_home, folder, allowed=("downloads", ".locks"))
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
        stray = written(before, folder_home, folder, allowed=(".locks",))
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


EXTRA_SCENARIOS = {
    "8 processes at once": run_race,
    "SIGKILL mid-extraction/build, rerun": run_kill_build,
    "malicious archive": run_malicious,
    "--from with a wrong file": run_import_wrong,
    "offline, file missing": run_offline,
    "read-only data dir": run_read_only,
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", type=int, nargs="?", default=10, help="runs per scenario")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    os.environ.update({"DMZOO_BACKOFF": "0.01", "DMZOO_TIMEOUT": "2,0.3", "DMZOO_QUIET": "1"})
    rng = random.Random(args.seed)
    network = list(scenario_table(random.Random(0), 100_000))
    extra = list(EXTRA_SCENARIOS)
    if not read_only_possible():
        extra.remove("read-only data dir")
        print("note: skipping 'read-only data dir': cannot make a read-only folder here "
              "(mode bits ignored and no working 'chattr +i')", file=sys.stderr)
    names = network + extra
    stats = {n: {"runs": 0, "faults": 0, "intact": 0, "clean error": 0, "unexpected error": 0,
                 "corrupt": 0} for n in names}
    start = time.perf_counter()
    for _ in range(args.runs):
        for name in names:
            with tempfile.TemporaryDirectory() as tmp:
                if name in EXTRA_SCENARIOS:
                    outcome, faults = run_extra(name, rng, Path(tmp))
                else:
                    size = rng.randrange(70_000, 400_000)
                    faults1, faults2, expect_ok = scenario_table(rng, size)[name]
                    outcome, faults = run_one(name, faults1, faults2, expect_ok, size,
                                              rng.randrange(1 << 30), Path(tmp))
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
