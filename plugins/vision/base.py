"""The base of the vision datamodules; each family (``mnist/``, ``cifar/``...) subclasses it.

``prepare_data()`` downloads and verifies the upstream files (``dmzoo.core.storage``) and
converts them once into a uint8 cache: ``{train,test}_images.npy`` (N x C x H x W),
``{train,test}_labels.npy`` (and CIFAR-100's ``*_coarse_labels.npy``) and ``meta.json``
(per-channel mean/std). ``setup()`` memory-maps that cache, so it starts in milliseconds
and loader workers share the pages instead of copying them.

Batches come from the fast path (``dmzoo.core.fastloader``): a whole batch is cut by
index, then converted to float, normalised and augmented as one tensor, on the CPU in
the loader (workers included) or, with a Trainer on an accelerator, on the device in
``on_after_batch_transfer``. Passing ``train_transforms`` / ``val_transforms`` /
``test_transforms`` switches that split to the per-sample torchvision path.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch.utils.data import default_collate

from dmzoo.core import storage
from dmzoo.core.datamodule import DataModule
from dmzoo.core.epochs import using_batch_key
from dmzoo.core.errors import (
    DataFormatError,
    InvalidArgumentError,
    MissingExtraError,
    PluginError,
    SplitMismatchError,
)
from dmzoo.core.fastloader import ArrayDataset, Cast, Compose, Normalize, ToFloat, make_loader
from dmzoo.core.options import check_loader_options, inherit_signature
from dmzoo.core.partition import partition_rows
from dmzoo.core.resident import resident_loader
from dmzoo.core.splits import fingerprint, split_size
from dmzoo.testing import fixture_from_files

from .augment import RandomCropFlip
from .compat import PerSampleDataset
from .plotting import sample_grid

CACHE_FORMAT = 1
SPLITS = ("train", "val", "test")


class VisionDataModule(DataModule):
    """Image classification datamodule with the Lightning Bolts constructor.

    Args:
        data_dir: root of the dmzoo cache (default: ``DMZOO_HOME`` or the user cache dir).
        val_split: validation part of the upstream training set: an int is a count, a
            float a fraction (default ``0.1``). A seeded permutation (see ``seed``),
            identical on every process and run; never overlaps train or test.
        batch_size: examples per batch (default 32, as in Bolts).
        num_workers: worker processes for the per-sample path (``*_transforms``; persistent,
            fork or spawn). The fast batch path makes its batches in this process whatever
            the value (workers would only add a copy of every batch); the batches are the same.
        normalize: subtract ``mean`` and divide by ``std`` (per channel).
        seed: seeds the validation split, the shuffling (``seed + epoch``, also under
            DDP) and the augmentation (a hash of seed, epoch and sample position). Every
            loader resumes mid-epoch from its ``state_dict()`` (see "Fault-tolerant
            training" in the docs).
        shuffle: shuffle the training split each epoch.
        pin_memory: pin batches in page-locked memory (only when CUDA is available).
        drop_last: drop the last incomplete training batch (val/test keep every example).
        augment: standard augmentation of the training split, on whole batches (see
            the subclass: CIFAR crop 32 pad 4 + horizontal flip; MNIST family and EMNIST
            random translation by up to 2 pixels, no flip; SVHN up to 4 pixels, no flip;
            STL-10 random resized crop to 96 + horizontal flip).
        train_transforms, val_transforms, test_transforms: torchvision-style callables
            run per sample on PIL images (the compatibility path); a split with one
            ignores ``normalize`` and ``augment``, exactly like torchvision datasets.
        device_transforms: where batch float conversion/normalisation/augmentation
            run: ``None`` (default) = on the device in ``on_after_batch_transfer`` when
            attached to a Trainer on an accelerator, else in the loader; ``True`` /
            ``False`` force it.
        device: keep each split resident on this device (``"cuda"``, ``"cuda:1"``,
            ``"cpu"``...) as uint8 and gather, convert, normalise and augment every batch
            there (:class:`~dmzoo.core.resident.ResidentLoader`): no loader workers and no
            per-batch host-to-device copy. Same samples in the same order as the default
            loader. ``None`` (default): the CPU loader.
        multiprocessing_context: ``"fork"``, ``"spawn"``, ``"forkserver"`` or None (torch default).

    Batches are ``(images, labels)``: float32 ``N x C x H x W`` in [0, 1] (or normalised)
    and int64 labels. ``mean`` / ``std`` are the per-channel mean and population
    standard deviation of the pixels (scaled to [0, 1]) of the whole upstream training
    set, computed exactly once at prepare time and stored in the cache.
    """

    #: per-dataset configuration, set by subclasses
    SPEC: ClassVar[Any] = None
    DIMS: ClassVar[tuple[int, int, int]] = (1, 28, 28)
    CLASSES: ClassVar[tuple[str, ...]] = ()
    AUGMENT: ClassVar[Mapping[str, Any]] = {}
    #: whether the cached splits hold exactly the spec's split counts (False where an
    #: option such as joined extra rows or another upstream split changes them)
    ROWS_FOLLOW_SPEC: ClassVar[bool] = True
    #: dtype of the cached label arrays (signed where unlabeled rows carry -1)
    LABEL_DTYPE: ClassVar[Any] = np.uint8

    def __init__(
        self,
        data_dir: str | Path | None = None,
        val_split: int | float = 0.1,
        batch_size: int = 32,
        num_workers: int = 0,
        normalize: bool = False,
        seed: int = 42,
        shuffle: bool = True,
        pin_memory: bool = True,
        drop_last: bool = False,
        augment: bool = False,
        train_transforms: Callable[[Any], Any] | None = None,
        val_transforms: Callable[[Any], Any] | None = None,
        test_transforms: Callable[[Any], Any] | None = None,
        device_transforms: bool | None = None,
        multiprocessing_context: str | None = None,
        device: str | None = None,
    ) -> None:
        check_loader_options(batch_size=batch_size, num_workers=num_workers, shuffle=shuffle,
                             drop_last=drop_last, pin_memory=pin_memory, seed=seed,
                             val_split=val_split)
        super().__init__()
        self.save_hyperparameters(ignore=["train_transforms", "val_transforms", "test_transforms"])
        self._cache: dict[str, dict[str, np.ndarray]] | None = None
        self._check_val_split(val_split)  # fail now, not at setup()
        self.data_dir = data_dir
        self.val_split = val_split
        self.batch_size = int(batch_size)
        self.num_workers = int(num_workers)
        self.normalize = normalize
        self.seed = int(seed)
        self.shuffle = shuffle
        self.pin_memory = pin_memory
        self.drop_last = drop_last
        self.augment = augment
        self.train_transforms = train_transforms
        self.val_transforms = val_transforms
        self.test_transforms = test_transforms
        self.device_transforms = device_transforms
        self.multiprocessing_context = multiprocessing_context
        self.device = _checked_device(device)
        self.dims = self.DIMS
        self.classes = list(self.CLASSES)
        self.dataset_train: Any = None
        self.dataset_val: Any = None
        self.dataset_test: Any = None
        self._meta: dict[str, Any] | None = None
        self._split: tuple[np.ndarray, np.ndarray] | None = None
        self._on_device: dict[str, Callable[[Any], Any] | None] = {}
        self._loaders: dict[str, Any] = {}  # split -> its last loader (batch keys on device)
        self._expected_split: tuple[str, dict[str, Any]] | None = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        inherit_signature(cls)  # a subclass adding an option still shows every parameter

    def _check_val_split(self, val_split: int | float) -> None:
        n = self.num_train
        if split_size(val_split, n, "val_split") >= n:
            raise InvalidArgumentError(f"val_split={val_split!r} leaves no training example out "
                                       f"of {n}; use a smaller val_split")

    # -- static facts ---------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        return len(self.classes)

    @property
    def num_train(self) -> int:
        """Examples in the upstream training split (before the validation cut).

        From the prepared cache once loaded, else from the spec.
        """
        if self._cache is not None:
            return len(self._cache["train"]["labels"])
        return next(s.num_examples for s in self._require_spec().splits if s.name == "train")

    def _require_spec(self) -> Any:
        spec = getattr(self, "spec", None) or self.SPEC
        if spec is None:
            raise PluginError(f"{type(self).__name__} has no dmzoo spec; build it with "
                              "dmzoo.load_datamodule(name)")
        return spec

    # -- preparing ------------------------------------------------------------------------
    def prepare_data(self) -> None:
        """Download, verify and convert the upstream files once (safe across processes)."""
        storage.prepare(self._require_spec(), self.build_cache, data_dir=self.data_dir)

    @classmethod
    def read_upstream(cls, files: Mapping[str, Path]) -> dict[str, dict[str, np.ndarray]]:
        """``{"train"|"test": {"images": ..., "labels": ...}}`` parsed from verified files."""
        raise NotImplementedError

    @classmethod
    def upstream_files(cls, n_train: int, n_test: int, seed: int = 0,
                       level: int = 1) -> dict[str, bytes]:
        """Upstream-format resource files holding random images (fixtures, tests, benchmarks)."""
        raise NotImplementedError

    @classmethod
    def fixture(cls, folder: Path, spec: Any) -> dict[str, Any]:
        """``dmzoo check`` fixture: 50 train / 20 test random images, prepared offline."""
        return fixture_from_files(spec, folder, cls.upstream_files(50, 20), batch_size=8,
                                  val_split=0.2)

    @classmethod
    def build_cache(cls, files: Mapping[str, Path], out_dir: Path) -> None:
        """Convert the upstream files into the uint8 ``.npy`` cache plus ``meta.json``."""
        cls.save_cache(cls.read_upstream(files), Path(out_dir))

    @classmethod
    def save_cache(cls, parsed: Mapping[str, Mapping[str, np.ndarray]], out_dir: Path) -> None:
        """Write parsed ``{split: {key: array}}`` as ``{split}_{key}.npy`` plus ``meta.json``."""
        counts = {}
        for split, arrays in parsed.items():
            for key, array in arrays.items():
                np.save(out_dir / f"{split}_{key}.npy", np.ascontiguousarray(array))
            counts[split] = len(arrays["images"])
        cls.write_meta(out_dir, counts, parsed["train"]["images"])

    @classmethod
    def write_meta(cls, out_dir: Path, counts: Mapping[str, int], train_images: np.ndarray) -> None:
        """``meta.json``: cache format, dims, row counts and the training pixels' mean/std."""
        mean, std = channel_stats(train_images)
        meta = {"format": CACHE_FORMAT, "dims": list(cls.DIMS), "counts": dict(counts),
                "mean": mean, "std": std,
                "stats": "per-channel mean and population std of train pixels / 255"}
        (out_dir / "meta.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")

    # -- the cache ------------------------------------------------------------------------
    def _load(self) -> dict[str, dict[str, np.ndarray]]:
        if self._cache is None:
            folder = self._cache_dir()
            try:
                meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
                if meta.get("format") != CACHE_FORMAT:
                    raise ValueError(f"cache format {meta.get('format')!r}, expected {CACHE_FORMAT}")
                cache = {split: {key: np.load(folder / f"{split}_{key}.npy", mmap_mode="r")
                                 for key in self._cache_keys()}
                         for split in ("train", "test")}
            except (OSError, ValueError) as exc:
                raise DataFormatError(
                    f"the prepared cache in {folder} is damaged ({exc}); remove it with "
                    f"'dmzoo cache rm {self._require_spec().qualified_name}' and prepare again") from None
            for split, arrays in cache.items():
                n = meta["counts"][split]
                for key, array in arrays.items():
                    want = (n, *self.DIMS) if key == "images" else (n,)
                    dtype = np.dtype(np.uint8 if key == "images" else self.LABEL_DTYPE)
                    if array.shape != want or array.dtype != dtype:
                        raise DataFormatError(
                            f"{folder / f'{split}_{key}.npy'} has shape {array.shape} "
                            f"{array.dtype}, expected {want} {dtype}; remove the cache and prepare again")
            storage.check_arrays(self._require_spec(), cache, labels=self._labels_key,
                                 num_classes=self.num_classes, data_dir=self.data_dir,
                                 rows_follow_spec=self.ROWS_FOLLOW_SPEC)
            self._meta, self._cache = meta, cache
        return self._cache

    def _cache_dir(self) -> Path:
        """The folder holding this datamodule's ``.npy`` files and ``meta.json``."""
        return storage.prepared_dir(self._require_spec(), self.data_dir)

    def _cache_keys(self) -> tuple[str, ...]:
        return ("images", "labels")

    def __getstate__(self) -> dict[str, Any]:
        # Memory maps would pickle as their whole contents; they are re-opened on demand
        # (the datasets themselves pickle their maps by path).
        state = super().__getstate__()
        state["_cache"] = state["_meta"] = None
        state["_loaders"] = {}  # live loaders (and their workers) are never copied
        return state

    @property
    def _labels_key(self) -> str:
        return "labels"

    @property
    def mean(self) -> tuple[float, ...]:
        """Per-channel mean of the training pixels in [0, 1] (from the prepared cache)."""
        self._load()
        return tuple(self._meta["mean"])  # type: ignore[index]

    @property
    def std(self) -> tuple[float, ...]:
        """Per-channel population std of the training pixels in [0, 1]."""
        self._load()
        return tuple(self._meta["std"])  # type: ignore[index]

    # -- the split ------------------------------------------------------------------------
    def train_val_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """``(train_rows, val_rows)`` of the upstream training set (needs the prepared cache)."""
        if self._split is None:
            self._load()
            rows = partition_rows(self.num_train, val_split=self.val_split, test_split=None,
                                  seed=self.seed)
            self._split = (rows["train"], rows["val"])
        return self._split

    @property
    def split_fingerprint(self) -> str:
        """Hash of the split's rows; same (version, seed, val_split) gives the same value."""
        train, val = self.train_val_rows()
        return fingerprint({"train": train, "val": val})

    def _source(self, split: str) -> ArrayDataset:
        if split not in SPLITS:
            raise InvalidArgumentError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
        cache = self._load()
        part = cache["test" if split == "test" else "train"]
        source = ArrayDataset((part["images"], part[self._labels_key]))
        if split == "test":
            return source
        train, val = self.train_val_rows()
        return source.subset(train if split == "train" else val)

    def setup(self, stage: str | None = None) -> None:
        """Memory-map the prepared cache and build the train/val/test datasets."""
        transforms = {"train": self.train_transforms, "val": self.val_transforms,
                      "test": self.test_transforms}
        made: dict[str, Any] = {}
        for split in SPLITS:
            source, given = self._source(split), transforms[split]
            made[split] = source if given is None else PerSampleDataset(source, given)
        self.dataset_train, self.dataset_val, self.dataset_test = (
            made["train"], made["val"], made["test"])
        self._check_split()

    # -- loaders --------------------------------------------------------------------------
    def _augmentation(self) -> Callable[[Any], Any]:
        return RandomCropFlip(0, seed=self.seed, **self.AUGMENT)

    def batch_transform(self, split: str) -> Compose:
        """The whole-batch pixel transform of ``split`` on the fast path."""
        steps: list[Callable[[Any], Any]] = []
        if split == "train" and self.augment:
            steps.append(self._augmentation())
        # normalising converts too (one float buffer per batch, bit-identical to ToFloat first)
        steps.append(Normalize(0, self.mean, self.std, scale=255) if self.normalize else ToFloat(0))
        return Compose(steps)

    def _transforms_on_device(self) -> bool:
        if self.device_transforms is not None:
            return bool(self.device_transforms)
        trainer = getattr(self, "trainer", None)
        try:
            return trainer is not None and trainer.strategy.root_device.type != "cpu"
        except Exception:  # a trainer without a strategy yet: decide on the CPU
            return False

    def _loader(self, split: str, dataset: Any, *, shuffle: bool, drop_last: bool) -> Any:
        if dataset is None:
            self.setup()
            dataset = {"train": self.dataset_train, "val": self.dataset_val,
                       "test": self.dataset_test}[split if split != "predict" else "test"]
        common: dict[str, Any] = dict(batch_size=self.batch_size, shuffle=shuffle, seed=self.seed,
                      drop_last=drop_last, num_workers=self.num_workers,
                      pin_memory=self.pin_memory, persistent_workers=self.num_workers > 0,
                      multiprocessing_context=self.multiprocessing_context)
        if isinstance(dataset, PerSampleDataset):
            self._on_device[split] = None
            return make_loader(dataset, collate_fn=default_collate, **common)
        pixels = self.batch_transform(split)
        if self.device is not None:
            self._on_device[split] = None
            return self._resident_loader(dataset, pixels, shuffle=shuffle, drop_last=drop_last)
        on_device = self._transforms_on_device()
        self._on_device[split] = pixels if on_device else None
        steps = [Cast(1)] + ([] if on_device else [pixels])
        loader = make_loader(dataset, transform=Compose(steps), **common)
        self._loaders[split] = loader
        return loader

    def _resident_loader(self, dataset: ArrayDataset, pixels: Compose, *, shuffle: bool,
                         drop_last: bool) -> Any:
        rows = dataset.indices
        assert self.device is not None  # only called with a device
        return resident_loader([a.take(rows, axis=0) for a in dataset.arrays],
                               device=self.device, batch_size=self.batch_size, shuffle=shuffle,
                               seed=self.seed, drop_last=drop_last,
                               transform=Compose([Cast(1), pixels]))

    def train_dataloader(self) -> Any:
        return self._loader("train", self.dataset_train, shuffle=self.shuffle,
                            drop_last=self.drop_last)

    def val_dataloader(self) -> Any:
        return self._loader("val", self.dataset_val, shuffle=False, drop_last=False)

    def test_dataloader(self) -> Any:
        return self._loader("test", self.dataset_test, shuffle=False, drop_last=False)

    def predict_dataloader(self) -> Any:
        return self._loader("predict", self.dataset_test, shuffle=False, drop_last=False)

    def _running_split(self) -> str | None:
        trainer = getattr(self, "trainer", None)
        if trainer is None:
            return None
        if trainer.training:
            return "train"
        if trainer.sanity_checking or trainer.validating:
            return "val"
        if trainer.testing:
            return "test"
        return "predict" if trainer.predicting else None

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        """Run the batch pixel transform on the device when ``device_transforms`` put it there."""
        split = self._running_split()
        transform = self._on_device.get(split) if split is not None else None
        if split is None or transform is None:
            return batch
        # the batch the loader handed out last: augmentation keyed by its samples' positions
        with using_batch_key(getattr(self._loaders.get(split), "last_batch_key", None)):
            return transform(batch)

    def default_transforms(self) -> Any:
        """torchvision per-sample equivalent of the fast path's val/test batches (Bolts API)."""
        try:
            # deferred: torchvision is optional; only the per-sample (Bolts) API needs it
            from torchvision import transforms as T
        except ImportError:
            raise MissingExtraError("default_transforms() needs torchvision") from None
        steps = [T.ToTensor()]
        if self.normalize:
            steps.append(T.Normalize(self.mean, self.std))
        return T.Compose(steps)

    # -- checkpoints ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        train, val = self.train_val_rows()
        return {**super().state_dict(), "split_fingerprint": self.split_fingerprint,
                "split": {"seed": self.seed, "val_split": self.val_split, **self._split_options(),
                          "num_train": len(train), "num_val": len(val)}}

    def _split_options(self) -> dict[str, Any]:
        """Constructor options besides seed and val_split that change the split (e.g.
        EMNIST's ``split``); recorded in ``state_dict`` and named in mismatch errors."""
        return {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore, refusing a checkpoint made on another split (checked now if the data is
        prepared, else at ``setup()``)."""
        super().load_state_dict(state_dict)
        saved = state_dict.get("split_fingerprint")
        self._expected_split = (saved, dict(state_dict.get("split", {}))) if saved else None
        if self._cache is not None or storage.is_prepared(self._require_spec(), self.data_dir):
            self._check_split()

    def _check_split(self) -> None:
        if not self._expected_split:
            return
        saved, was = self._expected_split
        options = self._split_options()  # equal row counts can hide another option's rows
        if saved != self.split_fingerprint or any(was.get(k, v) != v for k, v in options.items()):
            now = {"seed": self.seed, "val_split": self.val_split, **options}
            then = ", ".join(f"{k}={was.get(k)!r}" for k in now)
            raise SplitMismatchError(
                f"the checkpoint was trained on another train/validation split (fingerprint "
                f"{saved}, {then}) than this datamodule (fingerprint {self.split_fingerprint}, "
                f"{', '.join(f'{k}={v!r}' for k, v in now.items())}); build the datamodule with "
                f"the checkpoint's {', '.join(now)}, or start a new run without ckpt_path")

    # -- gallery --------------------------------------------------------------------------
    def class_counts(self, split: str = "train") -> dict[str, int]:
        """Examples per class name in ``split`` (train, val or test)."""
        source = self._source(split)
        labels = np.asarray(source.arrays[1][source.indices])
        counts = np.bincount(labels[labels >= 0], minlength=self.num_classes)  # -1: unlabeled
        return {name: int(c) for name, c in zip(self.classes, counts, strict=True)}

    def plot(self, n: int = 16, split: str = "train", path: str | Path | None = None) -> Any:
        """A matplotlib figure of the first ``n`` real images of ``split`` with class names."""
        source = self._source(split)
        if n < 1:
            raise InvalidArgumentError(f"n must be >= 1, got {n}")
        images, labels = source.rows(np.arange(min(n, len(source))))
        title = f"{self._require_spec().name} ({split})"
        return sample_grid(images, labels, self.classes, title=title, path=path)


def _checked_device(device: Any) -> str | None:
    """``device`` as a string torch accepts, or None; a bad name fails at construction."""
    if device is None:
        return None

    try:
        return str(torch.device(device))
    except (RuntimeError, TypeError):
        raise InvalidArgumentError(
            f"device must name a torch device such as 'cuda', 'cuda:0' or 'cpu', got {device!r}"
        ) from None


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
