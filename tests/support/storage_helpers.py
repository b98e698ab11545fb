"""Tiny specs, builders and a child-process runner for the storage tests.

Everything here is real: specs point at the loopback :class:`FileServer`, and
``run_child`` starts a fresh Python process that calls ``storage.prepare``.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import subprocess
import sys
import tarfile
import time
from pathlib import Path

from dmzoo.core import storage
from dmzoo.core.spec import Alternate, DataModuleSpec, Resource

TESTS_DIR = Path(__file__).resolve().parent.parent
PAUSE_ENV = "DMZOO_TEST_PAUSE_FILE"


def payload(size: int, seed: int = 0) -> bytes:
    """Deterministic incompressible bytes."""
    return random.Random(seed).randbytes(size)


def tar_bytes(files: dict[str, bytes]) -> bytes:
    """A gzipped tar archive holding ``files`` (name -> bytes)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def resource(filename: str, data: bytes, urls: list[str], *, md5_only: bool = False,
             alternates: tuple[Alternate, ...] = ()) -> Resource:
    if md5_only:
        return Resource(filename, tuple(urls), md5=hashlib.md5(data).hexdigest(), size=len(data),
                        alternates=alternates)
    return Resource(filename, tuple(urls), sha256=sha256(data), size=len(data),
                    alternates=alternates)


def make_spec(*resources: Resource, name: str = "toy", version: str = "1.0.0") -> DataModuleSpec:
    return DataModuleSpec(name=name, version=version, cls="support.toy_datamodule:ToyDataModule",
                          resources=resources, task="other").validate()


def build_copy(files, out_dir: Path) -> None:
    """Builder used by the tests: extract archives, decompress the rest into ``out_dir``.

    With ``DMZOO_TEST_PAUSE_FILE`` set it touches that file after extracting
    an archive and then blocks, so a test can SIGKILL it mid-build.
    """
    for name, path in sorted(files.items()):
        if name.endswith((".tar", ".tar.gz", ".tgz", ".zip")):
            storage.extract(path, out_dir / f"{name}.d")
            if os.environ.get(PAUSE_ENV):
                Path(os.environ[PAUSE_ENV]).touch()
                time.sleep(60)  # killed by the test long before this ends
        else:
            with storage.open_maybe_gzip(path) as src:
                (out_dir / name.removesuffix(".gz")).write_bytes(src.read())


def tree_digest(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): sha256(p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()}


CHILD = """
import json, sys
from dmzoo.core import storage
from dmzoo.core.spec import DataModuleSpec
from support.storage_helpers import build_copy, tree_digest
spec = DataModuleSpec.from_dict(json.loads(sys.argv[1]))
try:
    out = storage.prepare(spec, build_copy, quiet=True)
    print(json.dumps({"ok": True, "tree": tree_digest(out)}))
except Exception as exc:
    print(json.dumps({"ok": False, "error": type(exc).__name__, "message": str(exc)}))
"""


def child_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS_DIR), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


def start_child(spec: DataModuleSpec, **env: str) -> subprocess.Popen:
    """A process running ``storage.prepare(spec, build_copy)``; prints one JSON line."""
    return subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(spec.to_dict())],
                            env=child_env(**env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def child_result(proc: subprocess.Popen, timeout: float = 60) -> dict:
    out, err = proc.communicate(timeout=timeout)
    lines = out.strip().splitlines()
    assert lines, f"child printed nothing (rc={proc.returncode}): {err}"
    return json.loads(lines[-1])


def wait_until(predicate, timeout: float = 20, what: str = "condition") -> None:
    """Poll ``predicate`` (bounded); for waiting on another process's progress."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
