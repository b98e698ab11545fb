"""Crafted archives: link chains, bombs, oversized record files (issue 13 items 1, 3, 15)."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile

import numpy as np
import pytest

import dmzoo
from dmzoo.core import storage
from dmzoo.core.errors import DataFormatError, UnsafeArchiveError
from dmzoo.core.storage.extract import EXPANSION_LIMIT
from dmzoo.plugins.vision import formats
from dmzoo.plugins.vision.cifar.datamodule import CIFAR10DataModule, read_cifar_archive
from dmzoo.plugins.vision.mnist.datamodule import idx_bytes, read_idx


def tar_of(path, members):
    """``members``: (name, bytes) for files, (name, "->target") for symlinks."""
    with tarfile.open(path, "w:gz") as tar:
        for name, body in members:
            info = tarfile.TarInfo(name)
            if isinstance(body, str):
                info.type, info.linkname = tarfile.SYMTYPE, body.removeprefix("->")
                tar.addfile(info)
            else:
                info.size = len(body)
                tar.addfile(info, io.BytesIO(body))
    return path


def everything(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# the chain: each link looks harmless as text and when it is written, but together
# 'evil' reaches the folder above the extraction folder
CHAIN = [("evil", "->L/s2/victim.txt"), ("L/s2", "->s1/.."), ("L/s1", "->..")]


@pytest.mark.parametrize("data_filter", [True, False], ids=["with-data-filter", "no-data-filter"])
@pytest.mark.parametrize("tail", [[], [("evil", b"overwritten")]], ids=["read", "write"])
def test_symlink_chain_cannot_escape(tmp_path, monkeypatch, data_filter, tail):
    if not data_filter:  # behave like Python 3.11.2, which requires-python allows
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    elif not hasattr(tarfile, "data_filter"):
        pytest.skip("this Python has no tarfile.data_filter")
    box = tmp_path / "box"
    box.mkdir()
    (box / "victim.txt").write_bytes(b"user data")
    arc = tar_of(tmp_path / "chain.tar.gz", CHAIN + tail)
    before = everything(box)
    with pytest.raises(UnsafeArchiveError, match="pointing outside|appears twice") as info:
        storage.extract(arc, box / "dest")
    assert "damaged" not in str(info.value)
    assert everything(box) == before and (box / "victim.txt").read_bytes() == b"user data"


def test_links_inside_still_work(tmp_path):
    arc = tar_of(tmp_path / "ok.tar.gz", [("d/a.txt", b"a"), ("d/l", "->a.txt"),
                                         ("e/up", "->../d/a.txt"), ("e/loop", "->../e/up")])
    out = storage.extract(arc, tmp_path / "dest")
    assert (out / "e/loop").read_bytes() == b"a"


def test_link_loop_is_refused(tmp_path):
    arc = tar_of(tmp_path / "loop.tar.gz", [("a", "->b"), ("b", "->a"), ("c", "->a/x")])
    with pytest.raises(UnsafeArchiveError, match="pointing outside"):
        storage.extract(arc, tmp_path / "dest")


def zeros_tar(path, size):
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        info = tarfile.TarInfo("zeros.bin")
        info.size = size
        tar.addfile(info, io.BytesIO(bytes(size)))
    return path


@pytest.mark.parametrize("kind", ["tar", "zip", "gzip"])
def test_archive_bomb_is_refused_and_leaves_nothing(tmp_path, kind):
    size = 40 << 20  # 40 MiB of zeros: a ~40 KiB archive, far past 100x its size
    arc = tmp_path / f"bomb.{kind}"
    if kind == "tar":
        zeros_tar(arc, size)
    elif kind == "zip":
        with zipfile.ZipFile(arc, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("zeros.bin", bytes(size))
    else:
        arc.write_bytes(gzip.compress(b"x" * size, compresslevel=1))  # zeros would read as a tar
    assert arc.stat().st_size * EXPANSION_LIMIT < size
    with pytest.raises(UnsafeArchiveError, match="archive bomb"):
        storage.extract(arc, tmp_path / "dest")
    assert everything(tmp_path) == [arc.name]
    # an explicit, larger cap lets a builder accept what it knows to be right
    assert (storage.extract(arc, tmp_path / "ok", max_bytes=size) / (
        "bomb.gzip.out" if kind == "gzip" else "zeros.bin")).stat().st_size == size


def test_cifar_record_count_checked_before_reading(tmp_path):
    rng = np.random.default_rng(0)
    train, test = formats.random_images(12, (3, 32, 32), 10, rng), \
        formats.random_images(4, (3, 32, 32), 10, rng)
    path = tmp_path / "c.tar.gz"
    path.write_bytes(CIFAR10DataModule.archive_bytes(train, test))
    members = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
    total = sum(len(a) for a, _ in read_cifar_archive(path, members, label_bytes=1).values())
    assert total == 16
    assert read_cifar_archive(path, members, label_bytes=1, records=16)
    with pytest.raises(DataFormatError, match="brings the archive to .* records, the dataset "
                                              "has 10") as info:
        read_cifar_archive(path, members, label_bytes=1, records=10)
    assert str(path) in str(info.value)
    with pytest.raises(DataFormatError, match="holds 16 records, the dataset has 17"):
        read_cifar_archive(path, members, label_bytes=1, records=17)


def test_idx_count_checked_from_the_header(tmp_path):
    images = np.zeros((5, 28, 28), np.uint8)
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(formats.gzip_bytes(idx_bytes(images)))
    assert read_idx(path, item_shape=(28, 28), count=5).shape == (5, 28, 28)
    with pytest.raises(DataFormatError, match=r"expected \(60000, 28, 28\)") as info:
        read_idx(path, item_shape=(28, 28), count=60000)
    assert f"delete {path}" in str(info.value)  # parse errors name the file's path
    path.write_bytes(formats.gzip_bytes(idx_bytes(images) + bytes(10)))
    with pytest.raises(DataFormatError, match="trailing bytes"):
        read_idx(path, item_shape=(28, 28), count=5)


def test_counts_apply_to_published_files_only(tmp_path, monkeypatch):
    spec = dmzoo.get_spec("cifar10")
    assert storage.expected_counts(spec) == {"train": 50000, "test": 10000}
    table = tmp_path / "t.tsv"
    table.write_text(f"cifar-10-binary.tar.gz\t3\t{'0' * 64}\n")
    monkeypatch.setenv("DMZOO_CHECKSUMS", str(table))
    assert storage.expected_counts(spec) is None  # other files declared: they say their size
