"""CIFAR-10 and CIFAR-100: the datamodules, the binary-archive reader, the fixture writer.

The archives hold fixed-size records, so every length is checked: the members must add
up to the expected number of records before data is read, so a small crafted file can
never make the reader allocate gigabytes. Nothing is ever unpickled; members are read
straight from the tar stream, so nothing is extracted either.
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from dmzoo.core import storage
from dmzoo.core.errors import DataFormatError, InvalidArgumentError

from ..base import VisionDataModule
from ..formats import check_labels, random_images, redownload, tar_gz_bytes
from . import spec as cifar_spec

CIFAR_IMAGE_BYTES = 3 * 32 * 32


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


def cifar_records(images: np.ndarray, labels: np.ndarray) -> bytes:
    """CIFAR binary records: label byte(s) then 3072 pixel bytes (R, G, B planes) each.

    ``images``: N x 3 x 32 x 32 uint8; ``labels``: N (CIFAR-10) or N x 2 (coarse, fine).
    """
    labels = np.asarray(labels, dtype=np.uint8).reshape(len(images), -1)
    flat = np.ascontiguousarray(images, dtype=np.uint8).reshape(len(images), -1)
    return np.concatenate([labels, flat], axis=1).tobytes()


class _CIFARDataModule(VisionDataModule):
    """CIFAR binary archives: 32 x 32 RGB.

    ``augment=True`` is the standard recipe: zero padding 4, random 32 x 32 crop and a
    horizontal flip with probability 0.5, done on whole batches.
    """

    DIMS = (3, 32, 32)
    AUGMENT: ClassVar[Mapping[str, Any]] = {"size": 32, "padding": 4, "flip": 0.5}
    ARCHIVE: ClassVar[str] = ""
    FOLDER: ClassVar[str] = ""  # the members' folder inside the archive
    TRAIN_MEMBERS: ClassVar[tuple[str, ...]] = ()
    TEST_MEMBERS: ClassVar[tuple[str, ...]] = ()
    LABEL_BYTES: ClassVar[int] = 1
    # label byte index -> (cache key, number of classes)
    LABELS: ClassVar[tuple[tuple[str, int], ...]] = (("labels", 10),)

    @classmethod
    def read_upstream(cls, files: Mapping[str, Path]) -> dict[str, dict[str, np.ndarray]]:
        members = (*cls.TRAIN_MEMBERS, *cls.TEST_MEMBERS)
        counts = storage.expected_counts(cls.SPEC)
        parsed = read_cifar_archive(files[cls.ARCHIVE], members, label_bytes=cls.LABEL_BYTES,
                                    name=cls.ARCHIVE, records=sum(counts.values()) if counts else None)
        out = {}
        for split, names in (("train", cls.TRAIN_MEMBERS), ("test", cls.TEST_MEMBERS)):
            images = np.concatenate([parsed[m][0] for m in names])
            raw = np.concatenate([parsed[m][1] for m in names])
            out[split] = {"images": images}
            for col, (key, n_classes) in enumerate(cls.LABELS):
                out[split][key] = np.ascontiguousarray(raw[:, col])
                check_labels(out[split][key], n_classes, f"{cls.ARCHIVE} {split} {key}")
        return out

    @classmethod
    def archive_bytes(cls, train: tuple[np.ndarray, np.ndarray], test: tuple[np.ndarray, np.ndarray],
                      level: int = 1) -> bytes:
        """The upstream archive from ``(images N x 3 x 32 x 32, labels)`` per split (labels
        N x 2, coarse then fine, for CIFAR-100); training rows spread over its members."""
        members = {}
        for (images, labels), names in ((train, cls.TRAIN_MEMBERS), (test, cls.TEST_MEMBERS)):
            for name, rows in zip(names, np.array_split(np.arange(len(images)), len(names)),
                                  strict=True):
                members[f"{cls.FOLDER}/{name}"] = cifar_records(images[rows], labels[rows])
        return tar_gz_bytes(members, level)

    @classmethod
    def upstream_files(cls, n_train: int, n_test: int, seed: int = 0,
                       level: int = 1) -> dict[str, bytes]:
        """The archive, holding random images."""
        rng = np.random.default_rng(seed)
        n_classes = tuple(n for _, n in cls.LABELS)
        train, test = (random_images(n, cls.DIMS, n_classes, rng) for n in (n_train, n_test))
        return {cls.ARCHIVE: cls.archive_bytes(train, test, level)}


class CIFAR10DataModule(_CIFARDataModule):
    """CIFAR-10 (``dmzoo.load_datamodule("cifar10")``), from ``cifar-10-binary.tar.gz``."""

    SPEC = cifar_spec.CIFAR10
    CLASSES = cifar_spec.CIFAR10_CLASSES
    ARCHIVE = "cifar-10-binary.tar.gz"
    FOLDER = "cifar-10-batches-bin"
    TRAIN_MEMBERS = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
    TEST_MEMBERS = ("test_batch.bin",)


class CIFAR100DataModule(_CIFARDataModule):
    """CIFAR-100 (``dmzoo.load_datamodule("cifar100")``), from ``cifar-100-binary.tar.gz``.

    ``label_type="fine"`` (default): 100 classes; ``"coarse"``: the 20 superclasses.
    Each record holds the coarse label byte, then the fine one.
    """

    SPEC = cifar_spec.CIFAR100
    CLASSES = cifar_spec.CIFAR100_CLASSES
    ARCHIVE = "cifar-100-binary.tar.gz"
    FOLDER = "cifar-100-binary"
    TRAIN_MEMBERS = ("train.bin",)
    TEST_MEMBERS = ("test.bin",)
    LABEL_BYTES = 2
    LABELS = (("coarse_labels", 20), ("labels", 100))

    def __init__(self, *args: Any, label_type: str = "fine", **options: Any) -> None:
        if label_type not in ("fine", "coarse"):
            raise InvalidArgumentError(f"label_type must be 'fine' or 'coarse', got {label_type!r}")
        super().__init__(*args, **options)
        self.label_type = label_type
        self.classes = list(cifar_spec.CIFAR100_COARSE_CLASSES if label_type == "coarse"
                            else cifar_spec.CIFAR100_CLASSES)

    def _cache_keys(self) -> tuple[str, ...]:
        return ("images", "labels", "coarse_labels")

    @property
    def _labels_key(self) -> str:
        return "coarse_labels" if self.label_type == "coarse" else "labels"
