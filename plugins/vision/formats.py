"""Parsers for the upstream file formats: IDX (MNIST family) and the CIFAR binary archives.

Both formats are fixed-size, so every length is known in advance and checked: a
truncated, padded or wrong file raises :class:`DataFormatError` naming the file and
what to do, never yielding a silently short dataset. Nothing is ever unpickled; CIFAR
members are read straight from the tar stream, so nothing is extracted either.

Sizes are checked before data is read: an IDX header must announce the expected
item count, and the CIFAR members must add up to the expected number of records,
so a small crafted file can never make the reader allocate gigabytes.
"""

from __future__ import annotations

import math
import struct
import tarfile
import zlib
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from dmzoo.core.errors import DataFormatError
from dmzoo.core.storage import open_maybe_gzip

IDX_UBYTE = 0x08
CIFAR_IMAGE_BYTES = 3 * 32 * 32


def redownload(path: str | Path) -> str:
    """What to do about a bad upstream file, naming it."""
    return f"delete {path} and run prepare again (or fetch it from another mirror)"


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


def check_labels(labels: np.ndarray, num_classes: int, name: str) -> None:
    """Every label must name a class."""
    if labels.size and int(labels.max()) >= num_classes:
        raise DataFormatError(f"{name}: label {int(labels.max())} is out of range for "
                              f"{num_classes} classes; {redownload(name)}")


def read_cifar_archive(path: str | Path, members: Iterable[str], *, label_bytes: int,
                       name: str | None = None, records: int | None = None
                       ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Read CIFAR binary records from the members of a (gzipped) tar archive.

    ``members`` are base names (``data_batch_1.bin``); each holds records of
    ``label_bytes`` label bytes then 3072 pixel bytes (R, G, B planes of 32x32), so its
    size must be a positive whole number of records (checked before reading). With
    ``records`` (the spec's total), the members together must hold exactly that many,
    and a member that would pass it is refused before it is read. Returns
    ``{member: (images N x 3 x 32 x 32, labels N x label_bytes)}``.
    """
    label = name or Path(path).name
    wanted = set(members)
    record = label_bytes + CIFAR_IMAGE_BYTES
    found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    total = 0
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                base = member.name.rsplit("/", 1)[-1]
                if base not in wanted or base in found:
                    continue
                if not member.isfile() or member.size == 0 or member.size % record:
                    raise DataFormatError(
                        f"{label}: member {member.name!r} is {member.size} bytes, not a whole "
                        f"number of {record}-byte records; {redownload(path)}")
                total += member.size // record
                if records is not None and total > records:
                    raise DataFormatError(
                        f"{label}: member {member.name!r} brings the archive to {total} records, "
                        f"the dataset has {records}; this is not the upstream archive: "
                        f"{redownload(path)}")
                fileobj = tar.extractfile(member)
                raw = fileobj.read() if fileobj is not None else b""
                if len(raw) != member.size:
                    raise DataFormatError(f"{label}: member {member.name!r} ended after "
                                          f"{len(raw)} of {member.size} bytes; {redownload(path)}")
                rows = np.frombuffer(raw, dtype=np.uint8).reshape(-1, record)
                found[base] = (rows[:, label_bytes:].reshape(-1, 3, 32, 32),
                               rows[:, :label_bytes])
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataFormatError(f"{label}: cannot read the archive ({exc}); it is corrupt or "
                              f"truncated: {redownload(path)}") from None
    missing = sorted(wanted - set(found))
    if missing:
        raise DataFormatError(f"{label}: archive lacks member(s) {', '.join(missing)}; this is "
                              f"not the upstream binary archive: {redownload(path)}")
    if records is not None and total != records:
        raise DataFormatError(f"{label}: the archive holds {total} records, the dataset has "
                              f"{records}; this is not the upstream archive: {redownload(path)}")
    return found


def channel_stats(images: np.ndarray) -> tuple[list[float], list[float]]:
    """Exact per-channel mean and (population) std of ``N x C x H x W`` uint8 pixels / 255.

    Uses a 256-bin histogram per channel, so it is exact and needs no float copy.
    """
    values = np.arange(256, dtype=np.float64) / 255.0
    means, stds = [], []
    for c in range(images.shape[1]):
        counts = np.bincount(np.ascontiguousarray(images[:, c]).ravel(), minlength=256)
        n = counts.sum()
        mean = float((counts * values).sum() / n)
        var = float((counts * values**2).sum() / n) - mean**2
        means.append(round(mean, 6))
        stds.append(round(math.sqrt(max(var, 0.0)), 6))
    return means, stds
