"""Helpers every vision family's reader and fixture writer share.

Readers check every length against what the format and the spec announce: a truncated,
padded or wrong file raises :class:`DataFormatError` naming the file and what to do,
never yielding a silently short dataset. Writers make byte-exact upstream-format files
(fixed timestamps, so equal input gives equal, checksummable bytes) for ``dmzoo check``
fixtures, tests and benchmarks.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from dmzoo.core.errors import DataFormatError


def redownload(path: str | Path) -> str:
    """What to do about a bad upstream file, naming it."""
    return f"delete {path} and run prepare again (or fetch it from another mirror)"


def check_labels(labels: np.ndarray, num_classes: int, name: str) -> None:
    """Every label must name a class."""
    if labels.size and int(labels.max()) >= num_classes:
        raise DataFormatError(f"{name}: label {int(labels.max())} is out of range for "
                              f"{num_classes} classes; {redownload(name)}")


def gzip_bytes(data: bytes, level: int = 1) -> bytes:
    """Gzip ``data`` with a fixed timestamp, so equal input gives equal (checksummable) bytes."""
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", compresslevel=level, mtime=0) as f:
        f.write(data)
    return out.getvalue()


def tar_gz_bytes(members: Mapping[str, bytes], level: int = 1) -> bytes:
    """A gzipped tar holding ``members`` (name -> content) as regular files, fixed mtimes."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 0, 0o644
            tar.addfile(info, io.BytesIO(data))
    return gzip_bytes(raw.getvalue(), level)


def random_images(n: int, shape: tuple[int, ...], num_classes: int | tuple[int, ...],
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random uint8 images of ``shape`` and labels (one column per class count)."""
    images = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    counts = (num_classes,) if isinstance(num_classes, int) else num_classes
    labels = np.stack([rng.integers(0, k, size=n, dtype=np.uint8) for k in counts], axis=1)
    return images, (labels[:, 0] if len(counts) == 1 else labels)
