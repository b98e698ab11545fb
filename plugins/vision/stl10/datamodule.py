"""STL-10: the datamodule, the streaming reader of ``stl10_binary.tar.gz``, the fixture writer.

The archive holds ``stl10_binary/{train,test,unlabeled}_X.bin`` (images of 3 x 96 x 96
bytes, each channel stored column-major) and ``{train,test}_y.bin`` (one label byte per
image, 1-10). It is read in one pass of the tar stream, never extracted: the labelled
members (360 MB) are held, ``unlabeled_X.bin`` (2.8 GB) is converted block by block
straight into ``train_images.npy`` after the training rows, so the archive is never held
in memory. Should the unlabeled member come before the training members, it is read
again after them (one more decompression pass, still block by block).
"""

from __future__ import annotations

import tarfile
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO, Any, ClassVar

import numpy as np

from dmzoo.core.errors import DataFormatError
from dmzoo.testing import fixture_from_files

from ..formats import check_labels, redownload, tar_gz_bytes
from ..joined import JoinedTrainDataModule
from ..npy_rows import NpyRows
from ..resized_crop import RandomResizedCropFlip
from . import spec as stl_spec

IMAGE_BYTES = 3 * 96 * 96
BLOCK = 1024  # images read and converted per step (27 MB)
LABELLED = ("train_X.bin", "train_y.bin", "test_X.bin", "test_y.bin")
UNLABELED = "unlabeled_X.bin"


def upright(raw: bytes | np.ndarray) -> np.ndarray:
    """Upstream image bytes (column-major channels) to N x 3 x 96 x 96 upright (a view)."""
    return np.frombuffer(raw, np.uint8).reshape(-1, 3, 96, 96).transpose(0, 1, 3, 2)


def _bad(label: str, why: str) -> DataFormatError:
    return DataFormatError(f"{label}: {why}; {redownload(label)}")


def _check_size(label: str, member: tarfile.TarInfo) -> None:
    per = IMAGE_BYTES if member.name.endswith("_X.bin") else 1
    if not member.isfile() or member.size == 0 or member.size % per:
        raise _bad(label, f"member {member.name!r} is {member.size} bytes, not a whole number "
                          f"of {per}-byte {'images' if per > 1 else 'labels'}")


def _read(tar: tarfile.TarFile, member: tarfile.TarInfo, label: str) -> bytes:
    fileobj = tar.extractfile(member)
    raw = fileobj.read() if fileobj is not None else b""
    if len(raw) != member.size:
        raise _bad(label, f"member {member.name!r} ended after {len(raw)} of {member.size} bytes")
    return raw


def _labels(raw: bytes, images: bytes, what: str, label: str) -> np.ndarray:
    """Upstream labels 1-10 to int8 0-9, one per image."""
    if len(raw) * IMAGE_BYTES != len(images):
        raise _bad(label, f"{len(raw)} {what} labels for {len(images) // IMAGE_BYTES} images; "
                          "the members do not belong together")
    labels = np.frombuffer(raw, np.uint8)
    if labels.min() < 1:
        raise _bad(label, f"{what} label 0 is out of range 1-10")
    labels = (labels - 1).astype(np.int8)
    check_labels(labels, len(stl_spec.CLASSES), f"{label} {what} labels")
    return labels


def _write_blocks(out: NpyRows, stream: IO[bytes], count: int, label: str) -> None:
    """Append ``count`` images read from ``stream`` block by block, upright."""
    done = 0
    while done < count:
        want = min(BLOCK, count - done)
        raw = stream.read(want * IMAGE_BYTES)
        if len(raw) != want * IMAGE_BYTES:
            raise _bad(label, f"{UNLABELED} ended after {done * IMAGE_BYTES + len(raw)} bytes")
        out.write(upright(raw))
        done += want


def convert_archive(path: str | Path, out_dir: Path, write_meta: Callable[..., None],
                    name: str | None = None) -> None:
    """``stl10_binary.tar.gz`` into ``out_dir``: ``test_*.npy``, ``train_*.npy`` (labelled
    rows, then the unlabeled ones with label -1) and ``meta.json``."""
    label = name or Path(path).name
    found: dict[str, bytes] = {}
    unlabeled: tarfile.TarInfo | None = None
    counts: dict[str, int] = {}

    def write_train(tar: tarfile.TarFile, member: tarfile.TarInfo) -> None:
        images = found["train_X.bin"]
        labels = _labels(found["train_y.bin"], images, "train", label)
        n_unlabeled = member.size // IMAGE_BYTES
        total = len(labels) + n_unlabeled
        with NpyRows(out_dir / "train_images.npy", (total, 3, 96, 96), np.uint8) as out:
            for start in range(0, len(labels), BLOCK):
                out.write(upright(images[start * IMAGE_BYTES:(start + BLOCK) * IMAGE_BYTES]))
            stream = tar.extractfile(member)
            assert stream is not None  # a regular file, checked by _check_size
            _write_blocks(out, stream, n_unlabeled, label)
        np.save(out_dir / "train_labels.npy",
                np.concatenate([labels, np.full(n_unlabeled, -1, np.int8)]))
        counts.update(train=total, unlabeled=n_unlabeled)

    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                base = member.name.rsplit("/", 1)[-1]
                if base not in (*LABELLED, UNLABELED) or base in found:
                    continue
                _check_size(label, member)
                if base != UNLABELED:
                    found[base] = _read(tar, member, label)
                    continue
                unlabeled = member
                if {"train_X.bin", "train_y.bin"} <= found.keys():
                    write_train(tar, member)  # the usual order: straight from the stream
            missing = sorted(set(LABELLED) - found.keys()) + ([UNLABELED] if unlabeled is None else [])
            if missing:
                raise _bad(label, f"archive lacks member(s) {', '.join(missing)}; this is not "
                                  "the upstream STL-10 binary archive")
            if "train" not in counts:
                write_train(tar, unlabeled)  # type: ignore[arg-type] # seeks back: one more pass
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise _bad(label, f"cannot read the archive ({exc}); it is corrupt or truncated") from None
    test = found["test_X.bin"]
    test_labels = _labels(found["test_y.bin"], test, "test", label)
    with NpyRows(out_dir / "test_images.npy", (len(test_labels), 3, 96, 96), np.uint8) as out:
        for start in range(0, len(test_labels), BLOCK):
            out.write(upright(test[start * IMAGE_BYTES:(start + BLOCK) * IMAGE_BYTES]))
    np.save(out_dir / "test_labels.npy", test_labels)
    counts["test"] = len(test_labels)
    write_meta(out_dir, counts, upright(found["train_X.bin"]))


class STL10DataModule(JoinedTrainDataModule):
    """STL-10 (``dmzoo.load_datamodule("stl10", unlabeled=True)``).

    Args:
        unlabeled: join the 100,000 unlabeled images (label ``-1``) to the training split,
            for self-supervised learning; validation is always carved from the 5,000
            labelled training images. ``class_counts`` leaves unlabeled images out.

    ``augment=True``: random resized crop to 96 x 96 (area 8-100 %, aspect 3/4-4/3, as
    torchvision's ``RandomResizedCrop(96)``) and a horizontal flip with p=0.5, on whole
    batches. ``mean``/``std`` come from the labelled training images.
    """

    SPEC = stl_spec.STL10
    DIMS = (3, 96, 96)
    CLASSES = stl_spec.CLASSES
    LABEL_DTYPE = np.int8
    JOINED = "unlabeled"
    AUGMENT: ClassVar[Mapping[str, Any]] = {"size": 96, "scale": (0.08, 1.0),
                                            "ratio": (3 / 4, 4 / 3), "flip": 0.5}

    def __init__(self, *args: Any, unlabeled: bool = False, **options: Any) -> None:
        super().__init__(*args, **options)
        self.unlabeled = bool(unlabeled)

    def _join(self) -> bool:
        return self.unlabeled

    def _split_options(self) -> dict[str, Any]:
        return {"unlabeled": self.unlabeled}

    @classmethod
    def build_cache(cls, files: Mapping[str, Path], out_dir: Path) -> None:
        convert_archive(files[stl_spec.ARCHIVE], Path(out_dir), cls.write_meta, stl_spec.ARCHIVE)

    def _augmentation(self) -> Callable[[Any], Any]:
        return RandomResizedCropFlip(0, seed=self.seed, **self.AUGMENT)


# -- fixture -------------------------------------------------------------------------------------
def upright_sample() -> np.ndarray:
    """A 3 x 96 x 96 image whose orientation shows: a red block top left, a blue bar at the bottom."""
    image = np.zeros((3, 96, 96), np.uint8)
    image[0, 8:30, 8:50] = 240
    image[2, 80:90, 10:86] = 200
    return image


def smooth_images(n: int, rng: np.random.Generator) -> np.ndarray:
    """Random N x 3 x 96 x 96 images made of 8 x 8 blocks (they compress, fixtures stay small)."""
    coarse = rng.integers(0, 256, size=(n, 3, 12, 12), dtype=np.uint8)
    return coarse.repeat(8, axis=2).repeat(8, axis=3)


def archive_bytes(n_train: int = 20, n_test: int = 10, n_unlabeled: int = 30, seed: int = 0,
                  unlabeled_first: bool = False, level: int = 1) -> bytes:
    """An upstream-format ``stl10_binary.tar.gz``; the first training image is
    :func:`upright_sample`; images are stored column-major, labels 1-10."""
    rng = np.random.default_rng(seed)

    def stored(images: np.ndarray) -> bytes:
        return np.ascontiguousarray(images.transpose(0, 1, 3, 2)).tobytes()

    train = smooth_images(n_train, rng)
    train[0] = upright_sample()
    parts = {
        "test_X.bin": stored(smooth_images(n_test, rng)),
        "test_y.bin": rng.integers(1, 11, n_test, dtype=np.uint8).tobytes(),
        "train_X.bin": stored(train),
        "train_y.bin": rng.integers(1, 11, n_train, dtype=np.uint8).tobytes(),
        UNLABELED: stored(smooth_images(n_unlabeled, rng)),
        "class_names.txt": "".join(c + "\n" for c in stl_spec.CLASSES).encode(),
        "fold_indices.txt": b" ".join(str(i).encode() for i in range(n_train)) + b"\n",
    }
    order = sorted(parts, key=lambda k: (k != UNLABELED) if unlabeled_first else 0)
    return tar_gz_bytes({f"stl10_binary/{k}": parts[k] for k in order}, level)


def fixture(folder: Path, spec: Any) -> dict[str, Any]:
    """``dmzoo check`` fixture: 20 train / 10 test / 30 unlabeled images, prepared offline."""
    return fixture_from_files(spec, folder, {stl_spec.ARCHIVE: archive_bytes()},
                              batch_size=8, val_split=0.2)
