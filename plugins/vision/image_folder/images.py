"""The uint8 image cache of user data, and the datamodule base that serves it.

Shared by ``image_folder`` and the image side of ``huggingface``: a subclass says which
images exist (:meth:`CachedImageDataModule.listing`); this module decodes them once into
a dmzoo user cache (:mod:`dmzoo.core.usercache`) and serves them on the vision fast path.

Cache entry (``prepared/``): ``images.npy`` (N x C x H x W uint8, absent when
``image_size=None``), ``labels.npy`` (int64), ``sums.npy`` (per image and channel: pixel
sum, sum of squares, count, so the mean/std of any split is exact and cheap) and
``meta.json`` (classes, the row range of each given part, file names, skipped files).
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dmzoo.core import storage, usercache
from dmzoo.core.datamodule import DataModule
from dmzoo.core.errors import (
    DataFormatError,
    InvalidArgumentError,
    MissingExtraError,
    NotPreparedError,
)
from dmzoo.core.fastloader import ArrayDataset
from dmzoo.core.options import check_loader_options
from dmzoo.core.partition import partition_rows
from dmzoo.core.splits import fingerprint
from dmzoo.core.storage.prepare import auto_quiet

from ..augment import RandomCropFlip
from ..base import VisionDataModule
from ..compat import PerSampleDataset
from ..plotting import sample_grid
from .decode import MODES, RESIZE_RULES, Slices, channel_moments, decode, decode_all

CACHE_FORMAT = 1
PARTS = ("train", "val", "test")
ON_ERROR = ("raise", "skip")
SHOWN_BAD = 20  # bad files named in one message


@dataclass
class Listing:
    """What to decode: one source per image (a path, or encoded bytes), in row order."""

    sources: Slices
    names: list[str]  # how each image is named in messages and in meta.json
    labels: np.ndarray
    parts: dict[str, tuple[int, int]]  # "train" (required), "val", "test" -> row range
    classes: list[str]
    key: str  # content fingerprint of the sources and the options


def image_size_arg(image_size: Any) -> tuple[int, int] | None:
    """``None``, an int or ``(H, W)`` of positive ints."""
    if image_size is None:
        return None
    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    if len(size) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) and s > 0
                                 for s in size):
        raise InvalidArgumentError(f"image_size must be None, an int or (height, width) of "
                                   f"positive ints, got {image_size!r}")
    return size


def bad_files_message(bad: Sequence[str], total: int) -> str:
    shown = "; ".join(bad[:SHOWN_BAD]) + (f"; ... ({len(bad) - SHOWN_BAD} more)"
                                          if len(bad) > SHOWN_BAD else "")
    return f"{len(bad)} of {total} image(s) could not be read: {shown}"


def _compact(path: Path, keep: np.ndarray, tmp: Path, block: int = 4096) -> None:
    """Rewrite the ``.npy`` at ``path`` with only the ``keep`` rows, a block at a time."""
    source = np.load(path, mmap_mode="r")
    rows = np.flatnonzero(keep)
    kept = np.lib.format.open_memmap(tmp, mode="w+", dtype=source.dtype,
                                     shape=(len(rows), *source.shape[1:]))
    for start in range(0, len(rows), block):
        kept[start:start + block] = source[rows[start:start + block]]
    kept.flush()
    del source, kept
    tmp.replace(path)


class FileImageDataset(PerSampleDataset):
    """``(transform(PIL image), label)`` decoded from the file on every access."""

    def __init__(self, paths: Sequence[str], labels: np.ndarray, transform: Callable[[Any], Any],
                 mode: str) -> None:
        self.paths, self.labels, self.transform, self.mode = list(paths), labels, transform, mode

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, position: int) -> tuple[Any, int]:
        # deferred: PIL is optional (vision extra); only per-sample reads need it
        from PIL import Image

        with Image.open(self.paths[position]) as img:
            image = img.convert(self.mode)
        return self.transform(image), int(self.labels[position])


class CachedImageDataModule(VisionDataModule):
    """Vision fast path over a uint8 cache built from the user's images.

    Subclasses implement :meth:`listing` and set ``CACHE_NAME``.
    """

    CACHE_NAME = ""

    def __init__(self, *, image_size: int | tuple[int, int] | None, mode: str = "RGB",
                 resize: str = "crop", on_error: str = "raise", prepare_workers: int | None = None,
                 test_split: int | float = 0.2, **options: Any) -> None:
        check_loader_options(test_split=test_split)
        self.image_size = image_size_arg(image_size)
        for name, value, allowed in (("mode", mode, tuple(MODES)), ("resize", resize, RESIZE_RULES),
                                     ("on_error", on_error, ON_ERROR)):
            if value not in allowed:
                raise InvalidArgumentError(f"{name} must be one of {', '.join(map(repr, allowed))}, "
                                           f"got {value!r}")
        if prepare_workers is not None and (not isinstance(prepare_workers, int)
                                            or prepare_workers < 1):
            raise InvalidArgumentError(f"prepare_workers must be None (all cores) or an int >= 1, "
                                       f"got {prepare_workers!r}")
        super().__init__(**options)
        if self.augment and self.image_size is not None and self.image_size[0] != self.image_size[1]:
            raise InvalidArgumentError(f"augment=True needs a square image_size for now, got "
                                       f"{self.image_size}; use train_transforms instead")
        self.test_split = test_split
        self.mode, self.resize, self.on_error = mode, resize, on_error
        self.prepare_workers = prepare_workers
        # no fixed dims for the per-sample path (image_size=None): the files decide
        self.dims = (MODES[mode], *self.image_size) if self.image_size else None  # type: ignore[assignment]
        self.classes = []
        self._key: str | None = None
        self._splits: dict[str, np.ndarray] | None = None

    def _check_val_split(self, val_split: int | float) -> None:
        """Checked in ``__init__`` (the sizes are known only once the images are listed)."""

    # -- what a subclass provides --------------------------------------------------------
    def listing(self) -> Listing:
        """The images, their labels, classes and parts (scanned on every call)."""
        raise NotImplementedError

    def options(self) -> dict[str, Any]:
        """What shapes the cache besides the sources (part of the content key)."""
        return {"format": CACHE_FORMAT, "image_size": self.image_size, "mode": self.mode,
                "resize": self.resize, "on_error": self.on_error}

    def cache_key(self) -> str:
        """The content key of the cache entry to read (a subclass may compute it cheaper
        than a full :meth:`listing`)."""
        if self._key is None:
            self._key = self.listing().key
        return self._key

    # -- preparing ------------------------------------------------------------------------
    def prepare_data(self) -> None:
        """Decode every image once into the cache (skipped when the content is unchanged)."""
        found = self.listing()  # rescan: the files may have changed since
        self._key = found.key
        usercache.cached(self.CACHE_NAME, found.key, lambda out: self._build(found, out),
                         data_dir=self.data_dir)

    def _build(self, found: Listing, out: Path) -> None:
        quiet = auto_quiet(None)
        images = out / "images.npy" if self.image_size is not None else None
        sums, failures = decode_all(found.sources, images, size=self.image_size, mode=self.mode,
                                    resize=self.resize, workers=self.prepare_workers, quiet=quiet,
                                    desc=f"dmzoo {self.CACHE_NAME}")
        names, labels, parts = list(found.names), found.labels, dict(found.parts)
        skipped = [f"{found.names[row]} ({reason})" for row, reason in failures]
        if skipped:
            message = bad_files_message(skipped, len(names))
            if self.on_error == "raise":
                raise DataFormatError(message + "; fix or delete them, or pass on_error='skip'")
            warnings.warn(f"dmzoo {self.CACHE_NAME}: skipping them: {message}", stacklevel=3)
            keep = np.ones(len(names), dtype=bool)
            keep[[row for row, _ in failures]] = False
            before = np.concatenate([[0], np.cumsum(keep)])
            parts = {p: (int(before[a]), int(before[b])) for p, (a, b) in parts.items()}
            empty = [p for p, (a, b) in parts.items() if a == b]
            if empty:
                raise DataFormatError(f"no readable image left in the {', '.join(empty)} part "
                                      f"after skipping: {message}")
            names = [n for n, k in zip(names, keep, strict=True) if k]
            labels, sums = labels[keep], sums[keep]
            if images is not None:
                _compact(images, keep, out / "kept.npy")
        np.save(out / "labels.npy", np.asarray(labels, dtype=np.int64))
        np.save(out / "sums.npy", sums)
        meta = {"format": CACHE_FORMAT, "classes": found.classes, "parts": parts,
                "dims": list(self.dims) if self.dims else None, "names": names,
                "skipped": skipped}
        (out / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")

    # -- the cache ------------------------------------------------------------------------
    def _load(self) -> dict[str, dict[str, np.ndarray]]:
        if self._cache is None:
            spec = usercache.cache_spec(self.CACHE_NAME, self.cache_key())
            try:
                folder = storage.prepared_dir(spec, self.data_dir)
            except NotPreparedError:
                raise NotPreparedError(
                    f"{self.CACHE_NAME}: these images are not prepared yet (or changed since "
                    "prepare_data() ran); call prepare_data() first (on one process, e.g. "
                    "rank 0)") from None
            try:
                meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
                if meta.get("format") != CACHE_FORMAT:
                    raise ValueError(f"cache format {meta.get('format')!r}")
                arrays = {"labels": np.load(folder / "labels.npy"),
                          "sums": np.load(folder / "sums.npy")}
                if self.image_size is not None:
                    arrays["images"] = np.load(folder / "images.npy", mmap_mode="r")
                    if arrays["images"].shape != (len(arrays["labels"]), *self.dims):
                        raise ValueError(f"images.npy has shape {arrays['images'].shape}")
            except (OSError, ValueError, KeyError) as exc:
                raise DataFormatError(
                    f"the cache in {folder} is damaged ({exc}); remove it with 'dmzoo cache rm "
                    f"{self.CACHE_NAME}' and call prepare_data() again") from None
            self._meta, self._cache = meta, {"all": arrays}
            self.classes = list(meta["classes"])
            train = self.splits()["train"]
            self._meta["mean"], self._meta["std"] = channel_moments(arrays["sums"][train])
        return self._cache

    @property
    def num_train(self) -> int:
        """Images in the training part (before the val/test cuts); needs the prepared cache."""
        start, stop = self._cache_meta()["parts"]["train"]
        return stop - start

    def _cache_meta(self) -> dict[str, Any]:
        """The cache's meta.json (opening the cache first)."""
        self._load()
        assert self._meta is not None  # _load() sets it
        return self._meta

    # -- the split ------------------------------------------------------------------------
    def splits(self) -> dict[str, np.ndarray]:
        """Row indices of train, val and test: given parts as they are, the rest cut from
        the training part (seeded, stratified by class)."""
        if self._splits is None:
            labels = self._load()["all"]["labels"]
            parts = {p: np.arange(*r) for p, r in self._cache_meta()["parts"].items()}
            pool = parts["train"]
            cut = partition_rows(len(pool), seed=self.seed, labels=labels[pool],
                                val_split=0 if "val" in parts else self.val_split,
                                test_split=None if "test" in parts else self.test_split)
            self._splits = {p: parts[p] if p in parts and p != "train" else pool[cut[p]]
                            for p in PARTS}
        return self._splits

    def train_val_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """``(train_rows, val_rows)``, as the vision datamodules return them."""
        return self.splits()["train"], self.splits()["val"]

    @property
    def split_fingerprint(self) -> str:
        return fingerprint(self.splits())

    def _source(self, split: str) -> ArrayDataset:
        if split not in PARTS:
            raise InvalidArgumentError(f"split must be one of {', '.join(PARTS)}, got {split!r}")
        arrays = self._load()["all"]
        if "images" not in arrays:
            raise InvalidArgumentError("with image_size=None there is no pixel cache; pass "
                                       "image_size=(H, W) for the fast path")
        return ArrayDataset((arrays["images"], arrays["labels"])).subset(self.splits()[split])

    def setup(self, stage: str | None = None) -> None:
        """Open the cache (or, with ``image_size=None``, list the files) and build the splits."""
        if self.image_size is not None:
            super().setup(stage)
            return
        names, labels = self._cache_meta()["names"], self._load()["all"]["labels"]
        made = {}
        for split, given in (("train", self.train_transforms), ("val", self.val_transforms),
                             ("test", self.test_transforms)):
            rows = self.splits()[split]
            made[split] = FileImageDataset([self.path_of(names[r]) for r in rows], labels[rows],
                                           given or self.default_transforms(), self.mode)
        self.dataset_train, self.dataset_val, self.dataset_test = (
            made["train"], made["val"], made["test"])
        self._check_split()

    def path_of(self, name: str) -> str:
        """The file of an image named ``name`` in meta.json (per-sample path only)."""
        raise InvalidArgumentError(f"{type(self).__name__} needs image_size=(H, W)")

    def _augmentation(self) -> Callable[[Any], Any]:
        assert self.image_size is not None  # augment needs the fast path (checked in __init__)
        size = self.image_size[0]  # square (checked in __init__)
        return RandomCropFlip(0, size=size, padding=max(1, size // 8), flip=0.5, seed=self.seed)

    def default_transforms(self) -> Any:
        """``ToTensor`` (+ ``Normalize`` with the train mean/std when ``normalize``)."""
        try:
            # deferred: torchvision is optional; only the per-sample API needs it
            from torchvision import transforms as T
        except ImportError:
            raise MissingExtraError("image_size=None needs torchvision: pip install "
                                    "torchvision") from None
        steps = [T.ToTensor()]
        if self.normalize:
            steps.append(T.Normalize(self.mean, self.std))
        return T.Compose(steps)

    # -- checkpoints ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        sizes = {p: len(r) for p, r in self.splits().items()}
        return {**DataModule.state_dict(self), "split_fingerprint": self.split_fingerprint,
                "split": {"seed": self.seed, "val_split": self.val_split,
                          "test_split": self.test_split, **{f"num_{p}": n for p, n in sizes.items()}},
                "content_key": self.cache_key()}

    # -- gallery --------------------------------------------------------------------------
    def class_counts(self, split: str = "train") -> dict[str, int]:
        labels = self._load()["all"]["labels"][self.splits()[split]]
        counts = np.bincount(labels, minlength=self.num_classes)
        return {name: int(c) for name, c in zip(self.classes, counts, strict=True)}

    def plot(self, n: int = 16, split: str = "train", path: str | Path | None = None) -> Any:
        if self.image_size is not None:
            return super().plot(n, split, path)
        if n < 1:
            raise InvalidArgumentError(f"n must be >= 1, got {n}")
        names = self._cache_meta()["names"]
        rows = self.splits()[split][:n]
        images = np.stack([decode(self.path_of(names[r]), (64, 64), self.mode) for r in rows])
        labels = self._load()["all"]["labels"][rows]
        return sample_grid(images, labels, self.classes, title=f"{self.CACHE_NAME} ({split})",
                           path=path)
