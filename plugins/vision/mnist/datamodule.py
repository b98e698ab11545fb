"""The MNIST family: the datamodules, the IDX reader and the fixture writer.

Each dataset is four gzipped IDX files (``spec.IDX_FILES``): a fixed-size format, so every
length is known in advance and checked before data is read (a header must announce the
expected item count, so a small crafted file can never make the reader allocate gigabytes).
EMNIST ships the same format and reuses :func:`read_idx` / :func:`idx_bytes`.
"""

from __future__ import annotations

import math
import struct
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from dmzoo.core import storage
from dmzoo.core.errors import DataFormatError
from dmzoo.core.storage import open_maybe_gzip

from ..base import VisionDataModule
from ..formats import check_labels, gzip_bytes, random_images, redownload
from . import spec as mnist_spec

IDX_UBYTE = 0x08


def read_idx(path: str | Path, *, item_shape: tuple[int, ...], count: int | None = None,
             name: str | None = None) -> np.ndarray:
    """Read an unsigned-byte IDX file (gzip or not) of items of ``item_shape``.

    Validates the magic number (``00 00 08 <ndim>``), the item dimensions, the number of
    items when ``count`` is given, and that the payload is exactly what the header says.
    """
    label = name or Path(path).name
    ndim = 1 + len(item_shape)
    header = 4 + 4 * ndim
    want_magic = bytes((0, 0, IDX_UBYTE, ndim))
    try:
        with open_maybe_gzip(path) as f:
            head = f.read(header)
            if len(head) < header or head[:4] != want_magic:
                raise DataFormatError(
                    f"{label}: not an IDX unsigned-byte file with {ndim} dimensions (magic "
                    f"{head[:4].hex() or 'missing'}, expected {want_magic.hex()}); {redownload(path)}")
            dims = struct.unpack(f">{ndim}I", head[4:header])
            if dims[1:] != tuple(item_shape) or (count is not None and dims[0] != count):
                expected = ("N" if count is None else count, *item_shape)
                raise DataFormatError(f"{label}: header says shape {dims}, expected "
                                      f"({', '.join(map(str, expected))}); this is not the "
                                      f"upstream file: {redownload(path)}")
            needed = math.prod(dims)
            data = f.read(needed)
            extra = f.read(1)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataFormatError(f"{label}: cannot read or decompress ({exc}); the file is corrupt "
                              f"or truncated: {redownload(path)}") from None
    if len(data) != needed or extra:
        kind = "truncated" if len(data) < needed else "has trailing bytes"
        shown = len(data) if len(data) < needed else f"more than {needed}"
        raise DataFormatError(f"{label}: {kind}: {shown} data bytes, the header needs "
                              f"{needed}; {redownload(path)}")
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)


def idx_bytes(array: np.ndarray) -> bytes:
    """An unsigned-byte IDX file: ``00 00 08 <ndim>``, big-endian uint32 dims, the bytes."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes((0, 0, 0x08, array.ndim)) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


class _IDXDataModule(VisionDataModule):
    """MNIST-format datasets: four IDX files, 28 x 28 grayscale, 10 classes.

    ``augment=True`` shifts each training image by up to 2 pixels in each direction
    (zero padding 2 + random 28 x 28 crop); no flips, which would change digits/characters.
    """

    DIMS = (1, 28, 28)
    AUGMENT: ClassVar[Mapping[str, Any]] = {"size": 28, "padding": 2, "flip": 0.0}

    @classmethod
    def read_upstream(cls, files: Mapping[str, Path]) -> dict[str, dict[str, np.ndarray]]:
        out: dict[str, dict[str, np.ndarray]] = {"train": {}, "test": {}}
        counts = storage.expected_counts(cls.SPEC) or {}
        for stem, split, kind in mnist_spec.IDX_FILES:
            shape = (28, 28) if kind == "images" else ()
            out[split][kind] = read_idx(files[f"{stem}.gz"], item_shape=shape, name=stem,
                                        count=counts.get(split))
        for split, arrays in out.items():
            if len(arrays["images"]) != len(arrays["labels"]):
                raise DataFormatError(
                    f"{split}: {len(arrays['images'])} images but {len(arrays['labels'])} labels; "
                    "the IDX files do not belong together: delete them and prepare again")
            arrays["images"] = arrays["images"][:, None]  # N x 1 x 28 x 28
            check_labels(arrays["labels"], len(cls.CLASSES), f"{split} labels")
        return out

    @classmethod
    def upstream_files(cls, n_train: int, n_test: int, seed: int = 0,
                       level: int = 1) -> dict[str, bytes]:
        """The four ``.gz`` IDX resources, holding random images."""
        rng = np.random.default_rng(seed)
        out = {}
        for prefix, n in (("train", n_train), ("t10k", n_test)):
            images, labels = random_images(n, (28, 28), len(cls.CLASSES), rng)
            out[f"{prefix}-images-idx3-ubyte.gz"] = gzip_bytes(idx_bytes(images), level)
            out[f"{prefix}-labels-idx1-ubyte.gz"] = gzip_bytes(idx_bytes(labels), level)
        return out


class MNISTDataModule(_IDXDataModule):
    """MNIST handwritten digits (``dmzoo.load_datamodule("mnist")``)."""

    SPEC = mnist_spec.MNIST
    CLASSES = mnist_spec.MNIST_CLASSES


class FashionMNISTDataModule(_IDXDataModule):
    """Fashion-MNIST clothing images (``dmzoo.load_datamodule("fashion_mnist")``)."""

    SPEC = mnist_spec.FASHION_MNIST
    CLASSES = mnist_spec.FASHION_MNIST_CLASSES


class KMNISTDataModule(_IDXDataModule):
    """Kuzushiji-MNIST characters (``dmzoo.load_datamodule("kmnist")``)."""

    SPEC = mnist_spec.KMNIST
    CLASSES = mnist_spec.KMNIST_CLASSES
