"""Real processes: concurrent prepares share one download; SIGKILL never leaves 'ready' junk."""

from __future__ import annotations

import signal

import pytest

from dmzoo.core import storage
from support.http_server import Slow
from support.storage_helpers import (
    PAUSE_ENV,
    child_result,
    make_spec,
    payload,
    resource,
    sha256,
    start_child,
    tar_bytes,
    wait_until,
)

BIG = payload(1_000_000, seed=11)
SMALL = payload(40_000, seed=12)


ARCHIVE = tar_bytes({"set/a.bin": SMALL, "set/b.bin": SMALL[::-1]})
EXPECTED = {"big.bin": sha256(BIG), "set.tar.gz.d/set/a.bin": sha256(SMALL),
            "set.tar.gz.d/set/b.bin": sha256(SMALL[::-1])}


def toy_spec(server):
    server.put("big.bin", BIG)
    server.put("set.tar.gz", ARCHIVE)
    return make_spec(resource("big.bin", BIG, [server.url_for("big.bin")]),
                     resource("set.tar.gz", ARCHIVE, [server.url_for("set.tar.gz")]))


@pytest.mark.slow
def test_eight_processes_prepare_at_once(file_server):
    spec = toy_spec(file_server)
    # hold the first download open briefly so every process is racing for it
    file_server.fault("big.bin", Slow(delay=0.5, after=200_000))
    procs = [start_child(spec) for _ in range(8)]
    results = [child_result(p) for p in procs]
    assert all(r["ok"] for r in results), results
    assert all(r["tree"] == EXPECTED for r in results)
    assert file_server.gets("big.bin") == 1
    assert file_server.gets("set.tar.gz") == 1
    assert storage.is_prepared(spec)


def test_sigkill_during_download_then_resume(file_server):
    spec = toy_spec(file_server)
    file_server.fault("big.bin", Slow(delay=30, after=600_000))
    part = storage.dataset_dir(spec) / "downloads" / "big.bin.part"
    proc = start_child(spec)
    wait_until(lambda: part.exists() and part.stat().st_size >= 200_000, what="partial download")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert not storage.is_prepared(spec)
    assert not (storage.dataset_dir(spec) / "downloads" / "big.bin").exists()
    kept = part.stat().st_size
    assert 0 < kept < len(BIG)

    result = child_result(start_child(spec))  # the lock of the dead process does not block
    assert result["ok"] and result["tree"] == EXPECTED
    assert file_server.range_gets("big.bin") == 1
    assert ("GET", "big.bin", f"bytes={kept}-", 206) in file_server.log


MANY = {f"many/{i:05d}.bin": SMALL[i % 97:i % 97 + 64] for i in range(1000)}
MANY_TAR = tar_bytes(MANY)


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", ["extracting", "extracted"])
def test_sigkill_during_extraction_is_never_ready(file_server, tmp_path, kill_at):
    file_server.put("many.tar.gz", MANY_TAR)
    spec = make_spec(resource("many.tar.gz", MANY_TAR, [file_server.url_for("many.tar.gz")]))
    folder = storage.dataset_dir(spec)
    flag = tmp_path / "extracted"  # the builder pauses there, so the kill is always mid-build
    proc = start_child(spec, **{PAUSE_ENV: str(flag)})
    if kill_at == "extracting":
        wait_until(lambda: flag.exists() or any(folder.glob("prepared.tmp-*/.many.tar.gz.d.extract-*")),
                   what="extraction to start")
    else:
        wait_until(flag.exists, what="extraction to finish")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert list(folder.glob("prepared.tmp-*"))  # the half-built folder is there...
    assert not storage.is_prepared(spec)  # ...and never counts as ready
    assert not (folder / "prepared").exists()

    result = child_result(start_child(spec))
    assert result["ok"]
    assert result["tree"] == {f"many.tar.gz.d/{k}": sha256(v) for k, v in MANY.items()}
    assert not list(folder.glob("prepared.tmp-*"))
    assert file_server.gets("many.tar.gz") == 1
