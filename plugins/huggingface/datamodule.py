"""``huggingface``: a ``datasets`` dataset as a dmzoo datamodule.

``HuggingFaceDataModule(path=..., ...)`` opens the dataset (``datasets.load_dataset`` or
``load_from_disk``: download, auth and caching are the library's) and, from its features,
returns one of two variants:

- :class:`HuggingFaceImageDataModule` when a column is an ``Image`` (or ``image_key=``):
  decoded once into the same uint8 cache as ``image_folder``, keyed by the datasets'
  own content fingerprints and the options, served on the vision fast path;
- :class:`HuggingFaceTabularDataModule` otherwise: the ``tabular`` preprocessing (fitted on
  train, kept in ``state_dict``) over the columns, which must be plain values or class labels.

Splits: ``train``; ``validation`` (and variants, see :data:`source.SPLIT_NAMES`); ``test``.
A missing validation or test split is cut from train, seeded and stratified.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.compute as pc

from dmzoo.core import usercache
from dmzoo.core.datamodule import DataModule
from dmzoo.core.errors import DataFormatError, InvalidArgumentError
from dmzoo.core.options import LOADER_OPTIONS, check_loader_options
from dmzoo.core.partition import partition_rows
from dmzoo.plugins.tabular.datamodule import TabularBase  # pandas/pyarrow: datasets needs them
from dmzoo.plugins.vision.image_folder.datamodule import write_images
from dmzoo.plugins.vision.image_folder.images import CachedImageDataModule, Listing

from .source import (
    ArrowImages,
    SourceChain,
    check_tabular,
    image_column,
    is_saved_dataset,
    kind_of,
    label_column,
    map_splits,
    open_dataset,
    require_datasets,
)
from .spec import HUGGINGFACE

IMAGE_ONLY = ("image_key", "image_size", "mode", "resize", "on_error", "prepare_workers",
              "augment", "train_transforms", "val_transforms", "test_transforms",
              "device_transforms", "multiprocessing_context", "device")
TABULAR_ONLY = ("task", "categorical", "numerical", "missing", "stratify")
SOURCE = ("path", "name", "data_files", "revision", "cache_dir")


class HuggingFaceDataModule(DataModule):
    """``dmzoo.load_datamodule("huggingface", path="ylecun/mnist", image_size=28)``.

    Args:
        path, name: as ``datasets.load_dataset(path, name)``: a Hub id, a builder
            (``"imagefolder"``, ``"csv"``, ``"parquet"``) with ``data_files``, a local folder,
            or a folder written by ``save_to_disk``.
        data_files, revision, cache_dir: passed to ``load_dataset``.
        image_key, label_key: the image and label (or target) columns; default: the one
            ``Image`` and the one ``ClassLabel`` feature.
        image_size, mode, resize, on_error, prepare_workers, augment, *_transforms,
            device_transforms, multiprocessing_context: image datasets, as ``image_folder``
            (``image_size`` is required).
        task, categorical, numerical, missing, stratify: tables, as ``tabular``.
        val_split, test_split: cut from train when the dataset lacks that split.
        data_dir: root of dmzoo's cache; batch_size, num_workers, seed, shuffle, drop_last;
        normalize and pin_memory default to each variant's own default when None.
    """

    SPEC = HUGGINGFACE  # a directly built one (either variant) is still "huggingface"

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls is not HuggingFaceDataModule:  # a variant (also when unpickling)
            return super().__new__(cls)
        bound = _bind(args, kwargs)
        opened = _open(bound)
        train = opened[map_splits(list(opened))["train"]]
        is_image = image_column(train.features, bound["image_key"]) is not None
        variant = HuggingFaceImageDataModule if is_image else HuggingFaceTabularDataModule
        obj = super().__new__(variant)
        obj._opened = opened
        return obj


    # -- shared by both variants ---------------------------------------------------------
    def _source_args(self, bound: dict[str, Any], refused: Sequence[str], kind: str) -> None:
        given = [k for k in refused if bound[k] != _DEFAULTS[k]]
        if given:
            raise InvalidArgumentError(f"{', '.join(given)} do(es) not apply to this {kind} "
                                       "dataset; leave them out")
        if bound["path"] is None:
            raise InvalidArgumentError("huggingface needs path=: a Hub dataset id, a builder "
                                       "name with data_files=, or a local folder")
        self.source_args = {k: bound[k] for k in SOURCE}
        self.label_key = bound["label_key"]

    def dataset(self) -> Any:
        """The opened ``DatasetDict`` (opened again after unpickling)."""
        if getattr(self, "_opened", None) is None:
            self._opened = _open(self.source_args)
        return self._opened

    def stages(self) -> dict[str, str]:
        """dmzoo stage (train, val, test) -> the dataset's split name. A validation or test
        split without any label (Hub test sets often hold -1) is left out, with a warning,
        and cut from train instead."""
        if getattr(self, "_stages", None) is None:
            stages = map_splits(list(self.dataset()))
            key = label_column(self.dataset()[stages["train"]].features, self.label_key)
            for stage in ("val", "test"):
                if stage in stages and _unlabelled(self.dataset()[stages[stage]], key):
                    warnings.warn(f"huggingface: split {stages[stage]!r} has no labels in "
                                  f"{key!r}; the {stage} split is cut from train instead",
                                  stacklevel=2)
                    del stages[stage]
            self._stages = stages
        return self._stages

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_opened"] = None
        return state


def _unlabelled(data: Any, key: str) -> bool:
    """Whether every value of column ``key`` is missing (null, or a -1 class label)."""
    column = data.data.column(key)
    if column.null_count == len(column):
        return True
    if kind_of(data.features[key]) != "ClassLabel":
        return False
    return pc.max(column).as_py() < 0


def _bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Every argument of the facade's signature, defaults applied (unknown ones refused)."""
    try:
        bound = _SIGNATURE.bind(*args, **kwargs)
    except TypeError as exc:
        raise InvalidArgumentError(f"huggingface: {exc}") from None
    bound.apply_defaults()
    out = dict(bound.arguments)
    options = {k: out[k] for k in LOADER_OPTIONS if k in out}
    if options["pin_memory"] is None:  # None: the variant's own default
        del options["pin_memory"]
    check_loader_options(**options)  # before the dataset is opened
    return out


def _open(args: dict[str, Any]) -> Any:
    if args["path"] is None:
        raise InvalidArgumentError("huggingface needs path=: a Hub dataset id (e.g. "
                                   "'ylecun/mnist'), a builder name with data_files=, or a folder")
    return open_dataset(str(args["path"]), args["name"], data_files=args["data_files"],
                        revision=args["revision"], cache_dir=args["cache_dir"])


def _facade_signature() -> inspect.Signature:
    """The dataset source, then every image option (``image_folder``'s) and every table
    option (``tabular``'s) not already named; ``normalize`` and ``pin_memory`` default to
    None (each variant's own default), ``image_size`` to None (required for images)."""
    P = inspect.Parameter
    source = [P("path", P.POSITIONAL_OR_KEYWORD, default=None, annotation="str | None"),
              P("name", P.POSITIONAL_OR_KEYWORD, default=None, annotation="str | None")]
    source += [P(k, P.KEYWORD_ONLY, default=None, annotation=a) for k, a in (
        ("data_files", "Any"), ("revision", "str | None"), ("cache_dir", "str | None"),
        ("image_key", "str | None"), ("label_key", "str | None"))]
    described = list(inspect.signature(TabularBase.describe_rows).parameters.values())[2:]
    options: dict[str, inspect.Parameter] = {}
    for p in [*inspect.signature(CachedImageDataModule).parameters.values(),  # images first:
              *(p for p in described if p.name != "classes"),  # their defaults win
              *inspect.signature(TabularBase).parameters.values()]:
        options.setdefault(p.name, p.replace(kind=P.KEYWORD_ONLY))
    for name in ("normalize", "pin_memory"):
        options[name] = options[name].replace(default=None, annotation="bool | None")
    options["image_size"] = options["image_size"].replace(default=None)
    return inspect.Signature([*source, *options.values()])


_SIGNATURE = _facade_signature()
_DEFAULTS = {k: p.default for k, p in _SIGNATURE.parameters.items()}
HuggingFaceDataModule.__signature__ = _SIGNATURE  # type: ignore[attr-defined]


class HuggingFaceImageDataModule(HuggingFaceDataModule, CachedImageDataModule):
    """An image classification dataset on the vision fast path (see the module doc)."""

    CACHE_NAME = "huggingface"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        bound = _bind(args, kwargs)
        self._source_args(bound, TABULAR_ONLY, "image")
        self.image_key = bound["image_key"]
        if bound["image_size"] is None:
            raise InvalidArgumentError("huggingface image datasets need image_size=(H, W) "
                                       "(decoded once at that size into dmzoo's cache)")
        vision = {k: bound[k] for k in inspect.signature(CachedImageDataModule).parameters
                  if k in bound}
        CachedImageDataModule.__init__(self, **{
            **vision, "normalize": bool(bound["normalize"]),
            "pin_memory": True if bound["pin_memory"] is None else bound["pin_memory"]})

    def _columns(self) -> tuple[str, str]:
        features = self.dataset()[self.stages()["train"]].features
        image = image_column(features, self.image_key)
        assert image is not None  # this variant was chosen because there is one
        return image, label_column(features, self.label_key)

    def cache_key(self) -> str:
        """From the datasets' own fingerprints: no image is read to find the entry."""
        parts = [(f"{stage}:{split}", len(self.dataset()[split]),
                  self.dataset()[split]._fingerprint) for stage, split in self.stages().items()]
        options = {**self.options(), "columns": self._columns(),
                   **{k: str(v) for k, v in self.source_args.items()}}
        return usercache.content_key(parts, options)

    def listing(self) -> Listing:
        image_key, label_key = self._columns()
        train = self.dataset()[self.stages()["train"]]
        feature = train.features[label_key]
        images: list[ArrowImages] = []
        names: list[str] = []
        labels: list[np.ndarray] = []
        parts: dict[str, tuple[int, int]] = {}
        for stage, split in self.stages().items():
            data = self.dataset()[split]
            column = ArrowImages(data, image_key)
            values = np.asarray(data[label_key])
            if values.dtype.kind not in "iu":
                raise DataFormatError(f"label column {label_key!r} of split {split!r} holds "
                                      f"{values.dtype} values; it must hold class numbers")
            if len(values) and values.min() < 0:
                raise DataFormatError(f"split {split!r} has {int((values < 0).sum())} unlabelled "
                                      f"row(s) (label -1); dmzoo needs every example labelled")
            parts[stage] = (len(names), len(names) + len(column))
            images.append(column)
            names.extend(column.names(split))
            labels.append(values)
        all_labels = np.concatenate(labels).astype(np.int64)
        if kind_of(feature) == "ClassLabel":
            classes = list(feature.names)
        else:
            classes = [str(i) for i in range(int(all_labels.max()) + 1)]
        if all_labels.max() >= len(classes):
            raise DataFormatError(f"label {int(all_labels.max())} is out of range for the "
                                  f"{len(classes)} classes of {label_key!r}")
        return Listing(sources=SourceChain(images), names=names, labels=all_labels, parts=parts,
                       classes=classes, key=self.cache_key())


class HuggingFaceTabularDataModule(HuggingFaceDataModule, TabularBase):
    """A table of plain values (see the module doc); batches as the ``tabular`` datamodule."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        bound = _bind(args, kwargs)
        self._source_args(bound, IMAGE_ONLY, "tabular")
        tabular = {k: bound[k] for k in inspect.signature(TabularBase).parameters if k in bound}
        TabularBase.__init__(self, **{
            **tabular, "pin_memory": bool(bound["pin_memory"]),
            "normalize": True if bound["normalize"] is None else bound["normalize"]})
        self.describe_rows(target=bound["label_key"], task=bound["task"],
                           categorical=bound["categorical"], numerical=bound["numerical"])
        self._given_val: tuple[int, int] | None = None

    def _frame(self, split: str) -> Any:
        """One split as a DataFrame; class labels as their names."""
        data = self.dataset()[split]
        check_tabular(data.features)
        frame = data.to_pandas()
        for column, feature in data.features.items():
            if kind_of(feature) == "ClassLabel":
                names = np.asarray(list(feature.names) + [None], dtype=object)
                codes = frame[column].to_numpy()
                frame[column] = names[np.where(codes < 0, len(feature.names), codes)]
        return frame

    def load_frames(self) -> tuple[Any, Any]:
        stages = self.stages()
        train = self.dataset()[stages["train"]]
        check_tabular(train.features)
        self.target = label_column(train.features, self.label_key)
        if self.classes_arg is None and kind_of(train.features[self.target]) == "ClassLabel":
            self.classes_arg = list(train.features[self.target].names)
        pool = self._frame(stages["train"])
        self._given_val = None
        if "val" in stages:
            val = self._frame(stages["val"])
            self._given_val = (len(pool), len(pool) + len(val))
            pool = pd.concat([pool, val], ignore_index=True)
        test = self._frame(stages["test"]) if "test" in stages else None
        return pool, test

    def split_pool(self, n: int, labels: np.ndarray | None, *, fixed_test: bool
                   ) -> dict[str, np.ndarray]:
        """The dataset's validation split as val; test (if not given) cut from train."""
        if self._given_val is None:
            return super().split_pool(n, labels, fixed_test=fixed_test)
        n_train, total = self._given_val
        if n != total:
            raise DataFormatError(f"{total - n} row(s) were dropped (missing target or, with "
                                  "missing='drop', holes) from a dataset with a validation split; "
                                  "use missing='impute' or clean the dataset")
        cut = partition_rows(n_train, val_split=0, seed=self.seed,
                            labels=None if labels is None else labels[:n_train],
                            test_split=None if fixed_test else self.test_split)
        return {"train": cut["train"], "val": np.arange(n_train, total), "test": cut["test"]}


def fixture(folder: Path) -> dict[str, Any]:
    """``dmzoo check`` fixture: a real ``save_to_disk`` image dataset (train + test)."""
    require_datasets()
    # deferred: datasets is heavy and optional (hf extra); only the fixture needs it
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Image

    features = Features({"image": Image(), "label": ClassLabel(names=["cat", "dog", "owl"])})
    splits = {}
    for split, count, seed in (("train", 12, 0), ("test", 4, 1)):
        files = write_images(folder / "images" / split, {"cat": count, "dog": count,
                                                         "owl": count}, seed=seed)
        splits[split] = Dataset.from_dict(
            {"image": [str(f) for f in files],
             "label": [["cat", "dog", "owl"].index(f.parent.name) for f in files]},
            features=features)
    DatasetDict(splits).save_to_disk(str(folder / "saved"))
    assert is_saved_dataset(str(folder / "saved"))
    return {"path": str(folder / "saved"), "image_size": 16, "batch_size": 8,
            "prepare_workers": 1, "data_dir": str(folder / "cache")}
