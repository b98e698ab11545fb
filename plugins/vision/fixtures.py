"""Writers of byte-exact upstream-format files, and the tiny offline fixture of each spec.

``dmzoo check`` (``dmzoo.testing``) builds every datamodule offline from its spec's
``fixture``; tests and benchmarks use the same writers to make full-size stand-ins
for files that cannot be downloaded (the formats are public: IDX and the CIFAR binary
records), served through the real storage path with ``DMZOO_CHECKSUMS``.
"""

from __future__ import annotations

import gzip
import io
import struct
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np


def idx_bytes(array: np.ndarray) -> bytes:
    """An unsigned-byte IDX file: ``00 00 08 <ndim>``, big-endian uint32 dims, the bytes."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes((0, 0, 0x08, array.ndim)) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def gzip_bytes(data: bytes, level: int = 1) -> bytes:
    """Gzip ``data`` with a fixed timestamp, so equal input gives equal (checksummable) bytes."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=level, mtime=0) as f:
        f.write(data)
    return out.getvalue()


def cifar_records(images: np.ndarray, labels: np.ndarray) -> bytes:
    """CIFAR binary records: label byte(s) then 3072 pixel bytes (R, G, B planes) each.

    ``images``: N x 3 x 32 x 32 uint8; ``labels``: N (CIFAR-10) or N x 2 (coarse, fine).
    """
    labels = np.asarray(labels, dtype=np.uint8).reshape(len(images), -1)
    flat = np.ascontiguousarray(images, dtype=np.uint8).reshape(len(images), -1)
    return np.concatenate([labels, flat], axis=1).tobytes()


def tar_gz_bytes(members: Mapping[str, bytes], level: int = 1) -> bytes:
    """A gzipped tar holding ``members`` (name -> content) as regular files, fixed mtimes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    return gzip_bytes(raw.getvalue(), level)


def mnist_files(train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
                level: int = 1) -> dict[str, bytes]:
    """The four ``.gz`` IDX resources of the MNIST family from (images N x 28 x 28, labels)."""
    out = {}
    for prefix, (images, labels) in (("train", train), ("t10k", test)):
        out[f"{prefix}-images-idx3-ubyte.gz"] = gzip_bytes(idx_bytes(images), level)
        out[f"{prefix}-labels-idx1-ubyte.gz"] = gzip_bytes(idx_bytes(labels), level)
    return out


def cifar10_archive(train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
                    level: int = 1) -> bytes:
    """``cifar-10-binary.tar.gz``: the train records split over five ``data_batch_i.bin``."""
    members = {}
    for i, rows in enumerate(np.array_split(np.arange(len(train[0])), 5), start=1):
        members[f"cifar-10-batches-bin/data_batch_{i}.bin"] = cifar_records(train[0][rows],
                                                                            train[1][rows])
    members["cifar-10-batches-bin/test_batch.bin"] = cifar_records(*test)
    members["cifar-10-batches-bin/batches.meta.txt"] = b"\n".join(
        c.encode() for c in _classes("cifar10")) + b"\n"
    return tar_gz_bytes(members, level)


def cifar100_archive(train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
                     level: int = 1) -> bytes:
    """``cifar-100-binary.tar.gz``; labels are N x 2 (coarse, fine)."""
    return tar_gz_bytes({
        "cifar-100-binary/train.bin": cifar_records(*train),
        "cifar-100-binary/test.bin": cifar_records(*test),
    }, level)


def _classes(name: str) -> tuple[str, ...]:
    from . import specs

    return {"cifar10": specs.CIFAR10_CLASSES}[name]


def random_split(n: int, shape: tuple[int, ...], num_classes: int | tuple[int, ...],
                 rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random uint8 images of ``shape`` and labels (one column per class count)."""
    images = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    counts = (num_classes,) if isinstance(num_classes, int) else num_classes
    labels = np.stack([rng.integers(0, k, size=n, dtype=np.uint8) for k in counts], axis=1)
    return images, (labels[:, 0] if len(counts) == 1 else labels)


def upstream_files(name: str, n_train: int, n_test: int, seed: int = 0,
                   level: int = 1) -> dict[str, bytes]:
    """Upstream-format resource files of dataset ``name`` holding random images."""
    rng = np.random.default_rng(seed)
    if name in ("mnist", "fashion_mnist", "kmnist"):
        return mnist_files(random_split(n_train, (28, 28), 10, rng),
                           random_split(n_test, (28, 28), 10, rng), level)
    if name == "cifar10":
        return {"cifar-10-binary.tar.gz": cifar10_archive(
            random_split(n_train, (3, 32, 32), 10, rng),
            random_split(n_test, (3, 32, 32), 10, rng), level)}
    if name == "cifar100":
        return {"cifar-100-binary.tar.gz": cifar100_archive(
            random_split(n_train, (3, 32, 32), (20, 100), rng),
            random_split(n_test, (3, 32, 32), (20, 100), rng), level)}
    raise ValueError(f"no upstream format known for {name!r}")


def fixture(folder: Path, spec: Any) -> dict[str, Any]:
    """``dmzoo check`` fixture: 50 train / 20 test random images, prepared offline."""
    from dmzoo.testing import fixture_from_files

    files = upstream_files(spec.name, n_train=50, n_test=20)
    return fixture_from_files(spec, folder, files, batch_size=8, val_split=0.2)
