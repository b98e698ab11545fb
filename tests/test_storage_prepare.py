"""prepare(): idempotent, marker written last, offline and --from import, clear errors."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import pytest

import dmzoo
from dmzoo.core import storage
from dmzoo.core.errors import ChecksumError, NotPreparedError, OfflineError, StorageError
from dmzoo.core.spec import Alternate
from dmzoo.registry import get_registry
from support.storage_helpers import (
    build_copy,
    make_spec,
    payload,
    resource,
    sha256,
    tree_digest,
)

RAW = payload(50_000, seed=3)
GZ = gzip.compress(RAW, mtime=0)
OTHER = payload(20_000, seed=4)


@pytest.fixture
def spec(file_server):
    file_server.put("images.gz", GZ)
    file_server.put("labels.bin", OTHER)
    alt = Alternate(filenames=("images", "images-idx3-ubyte"), sha256=sha256(RAW), size=len(RAW))
    return make_spec(resource("images.gz", GZ, [file_server.url_for("images.gz")], alternates=(alt,)),
                     resource("labels.bin", OTHER, [file_server.url_for("labels.bin")]))


def test_prepare_builds_once_and_marks_complete(spec, file_server):
    assert not storage.is_prepared(spec)
    with pytest.raises(NotPreparedError, match="prepare_data"):
        storage.prepared_dir(spec)
    calls = []

    def build(files, out):
        calls.append(sorted(files))
        build_copy(files, out)

    out = storage.prepare(spec, build)
    assert out == storage.prepared_dir(spec) == storage.dataset_dir(spec) / "prepared"
    assert (out / "images").read_bytes() == RAW and (out / "labels.bin").read_bytes() == OTHER
    marker = json.loads((storage.dataset_dir(spec) / "COMPLETE.json").read_text())
    assert marker["ref"] == spec.ref
    assert marker["files"]["images"] == [len(RAW), sha256(RAW)]
    assert storage.prepare(spec, build) == out  # idempotent: no build, no request
    assert calls == [["images.gz", "labels.bin"]]
    assert file_server.gets("images.gz") == 1 and file_server.gets("labels.bin") == 1


def test_versions_live_side_by_side(spec, file_server):
    from dataclasses import replace

    v2 = replace(spec, version="2.0.0")
    a, b = storage.prepare(spec, build_copy), storage.prepare(v2, build_copy)
    assert a != b and a.parent.parent == b.parent.parent
    assert storage.is_prepared(spec) and storage.is_prepared(v2)


def test_failing_build_leaves_nothing_prepared(spec):
    def build(files, out):
        (out / "half.bin").write_bytes(b"half")
        raise RuntimeError("builder crashed")

    with pytest.raises(RuntimeError, match="builder crashed"):
        storage.prepare(spec, build)
    folder = storage.dataset_dir(spec)
    assert not storage.is_prepared(spec)
    assert not (folder / "prepared").exists() and not list(folder.glob("prepared.tmp-*"))
    assert (folder / "downloads" / "images.gz").is_file()  # verified downloads are kept
    assert storage.prepare(spec, build_copy).is_dir()


def test_prepared_dir_without_marker_is_rebuilt(spec):
    out = storage.prepare(spec, build_copy)
    (storage.dataset_dir(spec) / "COMPLETE.json").unlink()  # as if killed before the marker
    (out / "images").write_bytes(b"half-written")
    assert not storage.is_prepared(spec)
    assert (storage.prepare(spec, build_copy) / "images").read_bytes() == RAW


def test_data_root_precedence(spec, tmp_path, monkeypatch):
    explicit = tmp_path / "explicit"
    assert storage.data_root(spec, explicit) == explicit
    assert storage.data_root(spec) == Path(os.environ["DMZOO_HOME"])

    class Chooser:
        @dmzoo.hookimpl
        def dmzoo_data_dir(self, spec):
            return str(tmp_path / "from-hook")

    get_registry().register_plugin(Chooser(), "chooser")
    assert storage.data_root(spec) == Path(os.environ["DMZOO_HOME"])
    monkeypatch.delenv("DMZOO_HOME")
    assert storage.data_root(spec) == tmp_path / "from-hook"
    assert storage.data_root(None).name == "dmzoo"  # platform cache dir, hook needs a spec
    assert storage.dataset_dir(spec, explicit) == explicit / "dmzoo" / "toy" / "1.0.0"


def test_offline_names_every_missing_file(spec, file_server, monkeypatch):
    monkeypatch.setenv("DMZOO_OFFLINE", "1")
    with pytest.raises(OfflineError) as info:
        storage.prepare(spec, build_copy)
    message = str(info.value)
    for name in ("images.gz", "images-idx3-ubyte", "labels.bin", "--from",
                 str(storage.dataset_dir(spec) / "downloads")):
        assert name in message
    assert sum(file_server.counts().values()) == 0  # no network at all
    monkeypatch.delenv("DMZOO_OFFLINE")
    storage.prepare(spec, build_copy)
    monkeypatch.setenv("DMZOO_OFFLINE", "1")
    assert storage.prepare(spec, build_copy).is_dir()  # prepared data works offline


def test_offline_uses_files_put_in_downloads(spec, file_server, monkeypatch):
    monkeypatch.setenv("DMZOO_OFFLINE", "1")
    downloads = storage.dataset_dir(spec) / "downloads"
    downloads.mkdir(parents=True)
    (downloads / "images-idx3-ubyte").write_bytes(RAW)  # the decompressed alternate
    (downloads / "labels.bin").write_bytes(OTHER)
    assert (storage.prepare(spec, build_copy) / "images").read_bytes() == RAW
    assert sum(file_server.counts().values()) == 0


def test_import_from_published_and_alternate_forms(spec, file_server, tmp_path):
    src = tmp_path / "MNIST" / "raw"
    src.mkdir(parents=True)
    (src / "images-idx3-ubyte").write_bytes(RAW)  # decompressed, as torchvision leaves it
    (tmp_path / "MNIST" / "labels.bin").write_bytes(OTHER)  # found in a subfolder
    with storage.import_from(tmp_path / "MNIST"):
        out = storage.prepare(spec, build_copy)
    assert (out / "images").read_bytes() == RAW and (out / "labels.bin").read_bytes() == OTHER
    assert sum(file_server.counts().values()) == 0
    assert (src / "images-idx3-ubyte").read_bytes() == RAW  # source untouched


def test_import_from_wrong_file_imports_nothing(spec, file_server, tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "images.gz").write_bytes(gzip.compress(b"not mnist"))
    (src / "labels.bin").write_bytes(OTHER)
    with pytest.raises(ChecksumError, match="images.gz") as info, storage.import_from(src):
        storage.prepare(spec, build_copy)
    assert "nothing imported" in str(info.value)
    folder = storage.dataset_dir(spec)
    assert not storage.is_prepared(spec)
    assert not (folder / "downloads" / "images.gz").exists()
    assert not [p for p in (folder / "downloads").iterdir() if ".import-" in p.name]
    assert sum(file_server.counts().values()) == 0


def test_import_from_missing_file_and_bad_folder(spec, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(OfflineError, match="images-idx3-ubyte"), storage.import_from(tmp_path / "empty"):
        storage.prepare(spec, build_copy)
    with pytest.raises(StorageError, match="no such folder"), storage.import_from(tmp_path / "nope"):
        pass


def _writable(folder: Path) -> bool:
    try:
        (folder / "probe").touch()
    except OSError:
        return False
    (folder / "probe").unlink()
    return True


@contextmanager
def read_only(folder: Path):
    """A really read-only folder: mode 0555, plus the immutable flag when we are root."""
    folder.mkdir()
    folder.chmod(0o555)
    immutable = False
    if _writable(folder) and shutil.which("chattr"):  # root ignores permission bits
        immutable = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
    try:
        if _writable(folder):
            pytest.skip("cannot make a read-only folder here (root without chattr)")
        yield folder
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def test_read_only_data_dir_is_a_clear_error(spec, tmp_path, file_server):
    with read_only(tmp_path / "ro") as ro:
        with pytest.raises(StorageError, match="cannot write to the data directory") as info:
            storage.prepare(spec, build_copy, data_dir=ro)
        assert "writable" in str(info.value)
        assert list(ro.iterdir()) == []
    assert sum(file_server.counts().values()) == 0


def test_prepared_read_only_cache_needs_no_write(spec, tmp_path):
    out = storage.prepare(spec, build_copy, data_dir=tmp_path / "shared")
    before = tree_digest(tmp_path / "shared")
    # a second user reading the shared cache takes no lock and writes nothing
    assert storage.prepare(spec, build_copy, data_dir=tmp_path / "shared") == out
    assert storage.fetch(spec, spec.resources[1], data_dir=tmp_path / "shared").is_file()
    assert tree_digest(tmp_path / "shared") == before
