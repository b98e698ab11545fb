"""Safe extraction: malicious archives are rejected before anything is written."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile

import pytest

from dmzoo.core import storage
from dmzoo.core.errors import StorageError, UnsafeArchiveError


def make_tar(path, members, mode="w:gz"):
    """``members``: list of (TarInfo kwargs, bytes or None)."""
    with tarfile.open(path, mode) as tar:
        for info_kw, data in members:
            info = tarfile.TarInfo(info_kw.pop("name"))
            for key, value in info_kw.items():
                setattr(info, key, value)
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def file_member(name, data=b"hello"):
    return ({"name": name}, data)


def link_member(name, target, kind=tarfile.SYMTYPE):
    return ({"name": name, "type": kind, "linkname": target}, None)


@pytest.fixture
def sandbox(tmp_path):
    """``tmp_path/box/dest`` is the target; anything new in ``tmp_path`` outside it is a leak."""
    box = tmp_path / "box"
    box.mkdir()
    return box


def listing(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def test_good_tar_extracts_with_links_inside(sandbox):
    arc = make_tar(sandbox / "ok.tar.gz", [
        file_member("data/a.txt", b"a"), file_member("data/b.txt", b"b"),
        link_member("data/alias.txt", "a.txt"), link_member("data/hard.txt", "data/b.txt",
                                                            tarfile.LNKTYPE),
    ])
    out = storage.extract(arc, sandbox / "dest")
    assert (out / "data/a.txt").read_bytes() == b"a"
    assert (out / "data/alias.txt").read_bytes() == b"a"
    assert (out / "data/hard.txt").read_bytes() == b"b"
    assert not [p for p in sandbox.iterdir() if p.name.startswith(".dest.extract-")]


@pytest.mark.parametrize("members, why", [
    ([file_member("ok.txt"), file_member("../evil.txt")], "'..'"),
    ([file_member("ok.txt"), file_member("a/../../evil.txt")], "'..'"),
    ([file_member("/tmp/dmzoo-abs-evil.txt")], "absolute"),
    ([link_member("esc", "../../"), file_member("esc/evil.txt")], "symlink pointing outside"),
    ([link_member("esc", "/etc")], "symlink pointing outside"),
    ([link_member("d/l1", ".."), link_member("d/l1/l2", "../.."), file_member("d/l1/l2/evil.txt")],
     "reached through a link"),
    ([file_member("late/x.txt"), link_member("late", "inside")], "reached through a link"),
    ([link_member("hard", "../outside.txt", tarfile.LNKTYPE)], "hard link"),
    ([({"name": "dev", "type": tarfile.CHRTYPE, "devmajor": 1, "devminor": 3}, None)], "device"),
    ([({"name": "fifo", "type": tarfile.FIFOTYPE}, None)], "device"),
])
def test_malicious_tar_rejected_nothing_written(sandbox, tmp_path, members, why):
    arc = make_tar(sandbox / "bad.tar.gz", members)
    before = listing(tmp_path)
    with pytest.raises(UnsafeArchiveError, match=why) as info:
        storage.extract(arc, sandbox / "dest")
    assert "nothing was extracted" in str(info.value)
    assert listing(tmp_path) == before  # nothing created anywhere, not even dest
    assert not (tmp_path.parent / "evil.txt").exists()


def test_malicious_zip_rejected(sandbox, tmp_path):
    arc = sandbox / "bad.zip"
    with zipfile.ZipFile(arc, "w") as zf:
        zf.writestr("fine.txt", b"ok")
        zf.writestr("../../evil.txt", b"x")
    before = listing(tmp_path)
    with pytest.raises(UnsafeArchiveError, match="'..'"):
        storage.extract(arc, sandbox / "dest")
    assert listing(tmp_path) == before


def test_zip_and_gzip_extract(sandbox):
    arc = sandbox / "ok.zip"
    with zipfile.ZipFile(arc, "w") as zf:
        zf.writestr("x/y.txt", b"zip!")
    assert (storage.extract(arc, sandbox / "z") / "x/y.txt").read_bytes() == b"zip!"
    gz = sandbox / "table.csv.gz"
    gz.write_bytes(gzip.compress(b"a,b\n1,2\n"))
    assert (storage.extract(gz, sandbox / "g") / "table.csv").read_bytes() == b"a,b\n1,2\n"


def test_extract_into_existing_folder_never_overwrites(sandbox):
    arc = make_tar(sandbox / "ok.tar", [file_member("a.txt", b"new")], mode="w")
    dest = sandbox / "dest"
    dest.mkdir()
    (dest / "keep.txt").write_bytes(b"keep")
    storage.extract(arc, dest)
    assert (dest / "a.txt").read_bytes() == b"new"
    (dest / "a.txt").write_bytes(b"mine")
    with pytest.raises(StorageError, match="overwrite"):
        storage.extract(arc, dest)
    assert (dest / "a.txt").read_bytes() == b"mine" and (dest / "keep.txt").read_bytes() == b"keep"


def test_damaged_or_unknown_archive(sandbox):
    good = make_tar(sandbox / "ok.tar.gz", [file_member("a.txt", b"x" * 10000)])
    truncated = sandbox / "cut.tar.gz"
    truncated.write_bytes(good.read_bytes()[:40])
    with pytest.raises(StorageError, match="damaged|not a tar"):
        storage.extract(truncated, sandbox / "d1")
    plain = sandbox / "plain.bin"
    plain.write_bytes(b"just bytes")
    with pytest.raises(StorageError, match="not a tar, zip or gzip"):
        storage.extract(plain, sandbox / "d2")
    assert not (sandbox / "d1").exists() and not (sandbox / "d2").exists()


def test_open_maybe_gzip_reads_both_forms(tmp_path):
    raw = b"\x00\x00\x08\x01" + bytes(range(200))
    (tmp_path / "x").write_bytes(raw)
    (tmp_path / "x.gz").write_bytes(gzip.compress(raw))
    (tmp_path / "renamed").write_bytes(gzip.compress(raw))  # detection by content, not name
    for name in ("x", "x.gz", "renamed"):
        with storage.open_maybe_gzip(tmp_path / name) as f:
            assert f.read() == raw
