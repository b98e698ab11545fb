"""``dmzoo prepare`` and ``dmzoo cache list|verify|rm`` through the real CLI entry point."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import pytest

from dmzoo.cli.main import main
from dmzoo.core import storage
from dmzoo.core.spec import Alternate
from dmzoo.registry import register_datamodule
from support.storage_helpers import child_env, make_spec, payload, resource, sha256

RAW = payload(30_000, seed=21)
GZ = gzip.compress(RAW, mtime=0)


@pytest.fixture
def stowed(file_server):
    """A registered datamodule ``dmzoo/stowed`` (versions 1.0.0 and 2.0.0) served locally."""
    file_server.put("rows.gz", GZ)
    alt = Alternate(filenames=("rows",), sha256=sha256(RAW), size=len(RAW))
    res = resource("rows.gz", GZ, [file_server.url_for("rows.gz")], alternates=(alt,))
    specs = [make_spec(res, name="stowed", version=v) for v in ("1.0.0", "2.0.0")]
    for spec in specs:
        register_datamodule(spec)
    return specs


def cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_prepare_list_verify_rm(capsys, stowed, file_server):
    v1, v2 = stowed
    code, out, _ = cli(capsys, "prepare", "stowed", "--version", "1.0.0", "--quiet")
    assert code == 0 and f"prepared {v1.ref} in {storage.prepared_dir(v1)}" in out
    assert (storage.prepared_dir(v1) / "rows").read_bytes() == RAW
    assert cli(capsys, "prepare", "dmzoo/stowed", "--quiet")[0] == 0  # default = 2.0.0
    assert storage.is_prepared(v2)
    assert file_server.gets("rows.gz") == 2  # one per version folder

    code, out, _ = cli(capsys, "cache", "list", "--json")
    rows = json.loads(out)
    assert code == 0 and [(r["name"], r["version"], r["prepared"]) for r in rows] == [
        ("dmzoo/stowed", "1.0.0", True), ("dmzoo/stowed", "2.0.0", True)]
    code, out, _ = cli(capsys, "cache", "list")
    assert "dmzoo/stowed  1.0.0    prepared" in out

    code, out, _ = cli(capsys, "cache", "verify")
    assert code == 0 and out.count(": ok") == 2

    (storage.dataset_dir(v1) / "downloads" / "rows.gz").write_bytes(b"rot")
    (storage.prepared_dir(v2) / "rows").write_bytes(b"edited")
    code, out, err = cli(capsys, "cache", "verify", "stowed")
    assert code == 1 and "size is 3 bytes" in out and "prepared file rows changed" in out
    assert "dmzoo cache rm" in err

    code, out, _ = cli(capsys, "cache", "rm", "stowed@1.0.0")
    assert code == 0 and "removed dmzoo/stowed@1.0.0" in out
    # only the lock folder stays (a preparer waiting on it carries on)
    assert [p.name for p in storage.dataset_dir(v1).iterdir()] == [".locks"]
    assert storage.is_prepared(v2)
    assert cli(capsys, "cache", "rm", "dmzoo/stowed")[0] == 0
    assert [p.name for p in storage.dataset_dir(v2).iterdir()] == [".locks"]
    code, _, err = cli(capsys, "cache", "rm", "stowed")
    assert code == 1 and "nothing cached for 'stowed'" in err


def test_prepare_from_folder_and_wrong_file(capsys, stowed, file_server, tmp_path):
    src = tmp_path / "air-gapped"
    src.mkdir()
    (src / "rows.gz").write_bytes(gzip.compress(b"something else"))
    code, _, err = cli(capsys, "prepare", "stowed", "--from", str(src), "--quiet")
    assert code == 1 and "different file" in err and "nothing imported" in err
    assert not (storage.dataset_dir(stowed[1]) / "downloads" / "rows.gz").exists()

    (src / "rows.gz").unlink()
    (src / "rows").write_bytes(RAW)  # the decompressed alternate is accepted too
    data_dir = tmp_path / "elsewhere"
    code, out, _ = cli(capsys, "prepare", "stowed", "--from", str(src), "--data-dir",
                       str(data_dir), "--quiet")
    assert code == 0 and str(data_dir) in out
    assert (storage.prepared_dir(stowed[1], data_dir) / "rows").read_bytes() == RAW
    assert sum(file_server.counts().values()) == 0
    code, out, _ = cli(capsys, "cache", "list", "--data-dir", str(data_dir), "--json")
    assert [r["version"] for r in json.loads(out)] == ["2.0.0"]


def test_prepare_offline_error_names_files(capsys, stowed, monkeypatch):
    monkeypatch.setenv("DMZOO_OFFLINE", "1")
    code, _, err = cli(capsys, "prepare", "stowed", "--quiet")
    assert code == 1 and "rows.gz or rows" in err and "DMZOO_OFFLINE" in err


def test_cli_subprocess_and_no_heavy_imports(tmp_path):
    # 'dmzoo cache list' must not import torch or requests
    code = ("import sys; from dmzoo.cli.main import main; rc = main(['cache', 'list']); "
            "print(sorted(m for m in ('torch', 'requests') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], env=child_env(DMZOO_HOME=str(tmp_path)),
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("[]"), proc.stderr
    assert "the cache is empty" in proc.stderr
