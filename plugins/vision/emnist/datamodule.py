"""EMNIST: the datamodule, the reader of the upstream ``gzip.zip`` and the fixture writer.

``gzip.zip`` holds, for each split, four gzipped IDX files
(``gzip/emnist-<split>-<train|test>-<images-idx3|labels-idx1>-ubyte.gz``) and a mapping
file. ``prepare_data()`` extracts it (``dmzoo.core.storage.extract``, safe extraction)
into the build folder, converts every split into ``prepared/<split>/`` (the usual vision
cache: ``{train,test}_{images,labels}.npy`` + ``meta.json``) and deletes the extracted
files. Upstream images are stored transposed (column-major); the cache holds them
upright.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from dmzoo.core import storage
from dmzoo.core.errors import DataFormatError, InvalidArgumentError
from dmzoo.testing import fixture_from_files

from ..base import VisionDataModule
from ..formats import check_labels, gzip_bytes, redownload
from ..mnist.datamodule import idx_bytes, read_idx
from ..npy_rows import NpyRows
from . import spec as emnist_spec

BLOCK = 65536  # images transposed and written per step


def member(split: str, part: str, kind: str) -> str:
    """``emnist-balanced-train-images-idx3-ubyte.gz`` (``kind``: images or labels)."""
    return f"emnist-{split}-{part}-{'images-idx3' if kind == 'images' else 'labels-idx1'}-ubyte.gz"


def _find(folder: Path, name: str, archive: str) -> Path:
    found = sorted(folder.rglob(name))
    if not found:
        raise DataFormatError(f"{archive}: archive lacks member {name}; this is not the upstream "
                              f"EMNIST gzip.zip: {redownload(archive)}")
    return found[0]


def read_part(folder: Path, split: str, part: str) -> tuple[np.ndarray, np.ndarray]:
    """``(images N x 28 x 28 as stored (transposed), labels 0-based)`` of one split part."""
    archive = emnist_spec.ARCHIVE
    labels_name, images_name = member(split, part, "labels"), member(split, part, "images")
    labels = read_idx(_find(folder, labels_name, archive), item_shape=(), name=labels_name)
    images = read_idx(_find(folder, images_name, archive), item_shape=(28, 28),
                      count=len(labels), name=images_name)
    classes = emnist_spec.SPLITS[split][2]
    if split == "letters":  # upstream labels 1..26
        if labels.size and int(labels.min()) < 1:
            raise DataFormatError(f"{labels_name}: label {int(labels.min())} is out of range "
                                  f"1-26 for EMNIST letters; {redownload(archive)}")
        labels = labels - 1
    check_labels(labels, len(classes), labels_name)
    return images, labels


def convert_split(folder: Path, split: str, out_dir: Path, write_meta: Callable[..., None]) -> None:
    """One split into ``out_dir``: upright images (transposed block by block), labels, meta."""
    out_dir.mkdir()
    counts = {}
    for part in ("test", "train"):  # train last: its pixels, still in hand, give the statistics
        images, labels = read_part(folder, split, part)
        with NpyRows(out_dir / f"{part}_images.npy", (len(images), 1, 28, 28), np.uint8) as out:
            for start in range(0, len(images), BLOCK):
                out.write(images[start:start + BLOCK].transpose(0, 2, 1)[:, None])
        np.save(out_dir / f"{part}_labels.npy", np.ascontiguousarray(labels, dtype=np.uint8))
        counts[part] = len(images)
    write_meta(out_dir, counts, images[:, None])  # statistics do not depend on the orientation


class EMNISTDataModule(VisionDataModule):
    """EMNIST handwritten characters (``dmzoo.load_datamodule("emnist", split="letters")``).

    Args:
        split: ``"byclass"`` (62 classes), ``"bymerge"`` (47), ``"balanced"`` (47, the
            default), ``"letters"`` (26, a-z, upper and lower case together), ``"digits"``
            (10) or ``"mnist"`` (10). Class names are the characters.

    ``augment=True`` shifts each training image by up to 2 pixels (zero padding 2 + random
    28 x 28 crop); no flips, which would change characters. ``mean``/``std`` are those of
    the chosen split's training images.
    """

    ROWS_FOLLOW_SPEC = False  # options change the cached row counts

    SPEC = emnist_spec.EMNIST
    DIMS = (1, 28, 28)
    CLASSES = emnist_spec.SPLITS[emnist_spec.DEFAULT_SPLIT][2]
    AUGMENT: ClassVar[Mapping[str, Any]] = {"size": 28, "padding": 2, "flip": 0.0}

    def __init__(self, *args: Any, split: str = emnist_spec.DEFAULT_SPLIT, **options: Any) -> None:
        if split not in emnist_spec.SPLITS:
            raise InvalidArgumentError(f"split must be one of {', '.join(emnist_spec.SPLITS)}, "
                                       f"got {split!r}")
        self.split = split  # read by num_train during the base constructor's val_split check
        super().__init__(*args, **options)
        self.classes = list(emnist_spec.SPLITS[split][2])

    @property
    def num_train(self) -> int:
        if self._cache is not None:
            return len(self._cache["train"]["labels"])
        return emnist_spec.SPLITS[self.split][0]

    def _cache_dir(self) -> Path:
        return super()._cache_dir() / self.split

    def _split_options(self) -> dict[str, Any]:
        return {"split": self.split}

    @classmethod
    def build_cache(cls, files: Mapping[str, Path], out_dir: Path) -> None:
        """Every split of ``gzip.zip`` into ``out_dir/<split>/``."""
        out_dir, archive = Path(out_dir), files[emnist_spec.ARCHIVE]
        if not zipfile.is_zipfile(archive):  # a cut zip loses its directory, at the end
            raise DataFormatError(f"{emnist_spec.ARCHIVE}: not a zip archive (truncated or "
                                  f"corrupt); {redownload(archive)}")
        upstream = out_dir / ".upstream"
        try:
            storage.extract(archive, upstream)
            for split in emnist_spec.SPLITS:
                convert_split(upstream, split, out_dir / split, cls.write_meta)
        finally:
            shutil.rmtree(upstream, ignore_errors=True)


# -- fixture -------------------------------------------------------------------------------------
def upright_sample() -> np.ndarray:
    """A 28 x 28 "F": asymmetric under transposition and flips, so orientation shows."""
    glyph = np.zeros((28, 28), np.uint8)
    glyph[4:24, 6:9] = 255    # the stem, on the left
    glyph[4:7, 6:21] = 255    # the top bar
    glyph[12:15, 6:17] = 200  # the middle bar
    return glyph


def archive_bytes(n_train: int = 30, n_test: int = 10, seed: int = 0) -> bytes:
    """An upstream-format ``gzip.zip``: every split, random images, and
    :func:`upright_sample` stored (transposed, as upstream) as the first training image."""
    rng = np.random.default_rng(seed)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as zf:
        for split, (_, _, classes) in emnist_spec.SPLITS.items():
            low = 1 if split == "letters" else 0
            for part, n in (("train", n_train), ("test", n_test)):
                upright = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
                if part == "train":
                    upright[0] = upright_sample()
                labels = rng.integers(low, low + len(classes), size=n, dtype=np.uint8)
                for kind, array in (("images", upright.transpose(0, 2, 1)), ("labels", labels)):
                    info = zipfile.ZipInfo(f"gzip/{member(split, part, kind)}", (1980, 1, 1, 0, 0, 0))
                    zf.writestr(info, gzip_bytes(idx_bytes(array)))
            mapping = "".join(f"{i + low} {ord(c.upper())} {ord(c)}\n" if split == "letters"
                              else f"{i} {ord(c)}\n" for i, c in enumerate(classes))
            zf.writestr(zipfile.ZipInfo(f"gzip/emnist-{split}-mapping.txt", (1980, 1, 1, 0, 0, 0)),
                        mapping)
    return out.getvalue()


def fixture(folder: Path, spec: Any) -> dict[str, Any]:
    """``dmzoo check`` fixture: every split with 30 train / 10 test images, prepared offline."""
    return fixture_from_files(spec, folder, {emnist_spec.ARCHIVE: archive_bytes()},
                              batch_size=8, val_split=0.2)
