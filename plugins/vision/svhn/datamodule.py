"""SVHN: the datamodule, the reader of the upstream ``.mat`` files and the fixture writer.

Each upstream file is a MATLAB v5 file holding ``X`` (32 x 32 x 3 x N uint8, height,
width, channel, image) and ``y`` (N x 1, digits 1-10 where 10 means 0). It is read with
``scipy.io.loadmat``, which parses the format and never unpickles. The cache holds the
training images followed by the ``extra`` images in one ``train_images.npy`` (written
block by block, see :mod:`..joined`); ``extra=True`` joins them to training.
"""

from __future__ import annotations

import contextlib
import io
import zlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from dmzoo.core.errors import DataFormatError, MissingExtraError
from dmzoo.testing import fixture_from_files

from ..formats import redownload
from ..joined import JoinedTrainDataModule
from ..npy_rows import NpyRows
from . import spec as svhn_spec

BLOCK = 32768  # images transposed and written per step


def _scipy_io() -> Any:
    try:
        # deferred: scipy is heavy and optional; only reading the .mat files needs it
        import scipy.io
    except ImportError:
        raise MissingExtraError("svhn needs scipy to read .mat files: "
                                "pip install 'dmzoo[vision]'") from None
    return scipy.io


@contextlib.contextmanager
def _matlab(label: str) -> Iterator[Any]:
    """``scipy.io``, with its parse errors reported as :class:`DataFormatError`."""
    sio = _scipy_io()
    try:
        yield sio
    except (ValueError, TypeError, OSError, EOFError, zlib.error, sio.matlab.MatReadError) as exc:
        raise DataFormatError(f"{label}: cannot read it as a MATLAB v5 file ({exc}); it is "
                              f"corrupt or truncated: {redownload(label)}") from None


def read_mat(path: str | Path, name: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(X as stored: 32 x 32 x 3 x N uint8, labels 0-9 uint8)`` of one upstream file."""
    label = name or Path(path).name
    with _matlab(label) as sio:
        mat = sio.loadmat(path, variable_names=("X", "y"))
    images, y = mat.get("X"), mat.get("y")
    if images is None or y is None:
        raise DataFormatError(f"{label}: lacks the variables X and y of the SVHN cropped-digit "
                              f"files; {redownload(path)}")
    if images.dtype != np.uint8 or images.ndim != 4 or images.shape[:3] != (32, 32, 3):
        raise DataFormatError(f"{label}: X is {images.shape} {images.dtype}, expected "
                              f"32 x 32 x 3 x N uint8; {redownload(path)}")
    n = images.shape[3]
    if y.shape != (n, 1):
        raise DataFormatError(f"{label}: y has shape {y.shape} for {n} images, expected "
                              f"({n}, 1); {redownload(path)}")
    digits = y[:, 0]
    if n and (not np.array_equal(digits, np.round(digits)) or digits.min() < 1 or digits.max() > 10):
        raise DataFormatError(f"{label}: labels must be whole numbers 1-10, found "
                              f"{digits.min()}..{digits.max()}; {redownload(path)}")
    return images, (digits.astype(np.int64) % 10).astype(np.uint8)  # upstream 10 means digit 0


def image_count(path: str | Path, name: str) -> int:
    """The number of images in an upstream file, from its header (nothing loaded)."""
    with _matlab(name) as sio:
        shapes = {var: shape for var, shape, _ in sio.whosmat(path)}
    shape = shapes.get("X", ())
    if len(shape) != 4 or tuple(shape[:3]) != (32, 32, 3):
        raise DataFormatError(f"{name}: X has shape {shape or 'missing'}, expected 32 x 32 x 3 x N; "
                              f"{redownload(path)}")
    return int(shape[3])


def write_images(out: NpyRows, images: np.ndarray) -> None:
    """Append ``X`` (32 x 32 x 3 x N) as N x 3 x 32 x 32 rows, one block at a time."""
    for start in range(0, images.shape[3], BLOCK):
        out.write(images[..., start:start + BLOCK].transpose(3, 2, 0, 1))


class SVHNDataModule(JoinedTrainDataModule):
    """SVHN cropped digits (``dmzoo.load_datamodule("svhn", extra=True)``).

    Args:
        extra: join the 531,131 ``extra`` images to the training split (validation is
            always carved from the 73,257 upstream training images only).

    Labels are the digits 0-9 (upstream stores 0 as 10). ``augment=True`` translates each
    training image by up to 4 pixels (zero padding 4 + random 32 x 32 crop); no flip.
    """

    SPEC = svhn_spec.SVHN
    DIMS = (3, 32, 32)
    CLASSES = svhn_spec.CLASSES
    AUGMENT: ClassVar[Mapping[str, Any]] = {"size": 32, "padding": 4, "flip": 0.0}
    JOINED = "extra"

    def __init__(self, *args: Any, extra: bool = False, **options: Any) -> None:
        super().__init__(*args, **options)
        self.extra = bool(extra)

    def _join(self) -> bool:
        return self.extra

    def _split_options(self) -> dict[str, Any]:
        return {"extra": self.extra}

    @classmethod
    def build_cache(cls, files: Mapping[str, Path], out_dir: Path) -> None:
        """``train`` then ``extra`` rows into ``train_*.npy``; ``test`` into ``test_*.npy``.

        One upstream file is in memory at a time; images are written block by block.
        """
        out_dir = Path(out_dir)
        names = {part: entry[0] for part, entry in svhn_spec.FILES.items()}
        n_extra = image_count(files[names["extra"]], names["extra"])
        test_images, test_labels = read_mat(files[names["test"]], names["test"])
        with NpyRows(out_dir / "test_images.npy", (len(test_labels), *cls.DIMS), np.uint8) as out:
            write_images(out, test_images)
        np.save(out_dir / "test_labels.npy", test_labels)
        del test_images
        train_images, train_labels = read_mat(files[names["train"]], names["train"])
        n_train = len(train_labels)
        cls.write_meta(out_dir, {"train": n_train + n_extra, "test": len(test_labels),
                                 "extra": n_extra}, train_images.transpose(3, 2, 0, 1))
        with NpyRows(out_dir / "train_images.npy", (n_train + n_extra, *cls.DIMS), np.uint8) as out:
            write_images(out, train_images)
            del train_images
            extra_images, extra_labels = read_mat(files[names["extra"]], names["extra"])
            if len(extra_labels) != n_extra:
                raise DataFormatError(f"{names['extra']}: X holds {len(extra_labels)} images, its "
                                      f"header said {n_extra}; {redownload(files[names['extra']])}")
            write_images(out, extra_images)
        np.save(out_dir / "train_labels.npy", np.concatenate([train_labels, extra_labels]))


# -- fixture -------------------------------------------------------------------------------------
def mat_bytes(images: np.ndarray, labels: np.ndarray) -> bytes:
    """An upstream-format ``.mat`` (MATLAB v5): ``X`` 32 x 32 x 3 x N uint8 from N x 3 x 32 x 32
    ``images``, ``y`` N x 1 double from ``labels`` 0-9 (0 stored as 10)."""
    out = io.BytesIO()
    y = np.where(labels == 0, 10, labels).astype(np.float64).reshape(-1, 1)
    _scipy_io().savemat(out, {"X": np.asarray(images, np.uint8).transpose(2, 3, 1, 0), "y": y},
                        format="5")
    return out.getvalue()


def upright_sample() -> np.ndarray:
    """A 3 x 32 x 32 image whose orientation shows: a red top-left block, a green bottom bar."""
    image = np.zeros((3, 32, 32), np.uint8)
    image[0, 2:10, 2:14] = 250   # red, top left, wider than tall
    image[1, 26:30, 4:28] = 180  # green, along the bottom
    return image


def upstream_files(n_train: int = 30, n_test: int = 10, n_extra: int = 20,
                   seed: int = 0) -> dict[str, bytes]:
    """The three ``.mat`` files with random images; the first training image is
    :func:`upright_sample` and every part holds the digit 0 (stored upstream as 10)."""
    rng = np.random.default_rng(seed)
    out = {}
    for part, n in (("train", n_train), ("test", n_test), ("extra", n_extra)):
        images = rng.integers(0, 256, size=(n, 3, 32, 32), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n)
        labels[-1] = 0
        if part == "train":
            images[0] = upright_sample()
        out[svhn_spec.FILES[part][0]] = mat_bytes(images, labels)
    return out


def fixture(folder: Path, spec: Any) -> dict[str, Any]:
    """``dmzoo check`` fixture: 30 train / 10 test / 20 extra images, prepared offline."""
    return fixture_from_files(spec, folder, upstream_files(), batch_size=8, val_split=0.2)
