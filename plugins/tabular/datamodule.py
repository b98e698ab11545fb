"""The generic tabular datamodule: any table in, ``(inputs, target)`` batches out.

Every loader yields ``({"x_num": float32[B, n], "x_cat": int64[B, m]}, y[B])``: both
input keys are always there (``n`` or ``m`` may be 0), ``y`` is int64 class codes or a
float32 regression target. Rows without a target (``predict_data`` lacking the target
column) yield the ``inputs`` dict only.

``setup()`` reads the table once, splits it (seeded, stratified for
classification), fits the preprocessing on the training rows only, encodes
every row into two arrays and serves splits as index sets over them through
the shared fast loader (a batch is one fancy-indexing call per array). The
built-in tables subclass it and only say where their rows come from.
"""

from __future__ import annotations

import dmzoo.plugins.tabular.extra  # noqa: F401  (first: names the pip extra if missing)

# isort: split

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import torch

from dmzoo.core.datamodule import DataModule
from dmzoo.core.errors import (
    DataFormatError,
    DataNotFoundError,
    InvalidArgumentError,
    NotSetUpError,
    SplitMismatchError,
)
from dmzoo.core.fastloader import ArrayDataset, make_loader
from dmzoo.core.options import check_loader_options, inherit_signature
from dmzoo.core.partition import partition_rows
from dmzoo.core.splits import fingerprint

from . import warm_cache
from .preprocess import MISSING_POLICIES, Preprocessor, natural_sort
from .schema import TASKS, Columns, Schema, normalize_columns, resolve_schema
from .sources import XY_TARGET, check_encoding, is_path_like, is_path_list, to_frame

log = logging.getLogger("dmzoo.tabular")

SPLITS = ("train", "val", "test")
PREVIEW_ROWS = 50
INPUT_KEYS = ("x_num", "x_cat")
TARGET_KEY = "y"


class SupervisedBatch:
    """Batch transform: the encoded arrays ``{"x_num", "x_cat", "y"}`` become
    ``(inputs, target)``, or ``inputs`` alone for unlabelled rows (a class, so it pickles
    into DataLoader workers)."""

    def __call__(self, batch: dict[str, torch.Tensor]) -> Any:
        inputs = {key: batch[key] for key in INPUT_KEYS}
        return (inputs, batch[TARGET_KEY]) if TARGET_KEY in batch else inputs


class Fitted(NamedTuple):
    """The state ``setup()`` builds, typed as present."""

    preprocessor: Preprocessor
    arrays: dict[str, np.ndarray]
    indices: dict[str, np.ndarray]
    head: pd.DataFrame


class TabularBase(DataModule):
    """Splitting, preprocessing, loaders and metadata shared by every tabular datamodule.

    Subclasses implement :meth:`load_frames` (where the rows come from); one that adds a
    constructor option forwards the rest (``def __init__(self, data_dir=None, *args,
    **options)``) and still shows every parameter (:func:`~dmzoo.core.options.inherit_signature`).
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        inherit_signature(cls)

    #: what the rows are: set as class attributes by a table's class, or by ``__init__``
    #: from the user's arguments (:class:`TabularDataModule`) before calling this one
    target: str | None = None
    task_arg: str | None = None
    categorical_arg: list[str] | None = None
    numerical_arg: list[str] | None = None
    classes_arg: list[str] | None = None
    #: arguments never saved as hyperparameters (in-memory tables would be pickled)
    unsaved_args: tuple[str, ...] = ()

    def __init__(
        self,
        val_split: float | int = 0.1,
        test_split: float | int = 0.2,
        stratify: bool | None = None,
        seed: int = 0,
        batch_size: int = 64,
        num_workers: int = 0,
        drop_last: bool = False,
        shuffle: bool = True,
        pin_memory: bool = False,
        normalize: bool = True,
        missing: str = "impute",
    ) -> None:
        """Check the cheap arguments now, so a typo fails before any file is read."""
        check_loader_options(val_split=val_split, test_split=test_split, seed=seed,
                             batch_size=batch_size, num_workers=num_workers, drop_last=drop_last,
                             shuffle=shuffle, pin_memory=pin_memory)
        if missing not in MISSING_POLICIES:
            raise InvalidArgumentError(f"missing must be 'impute', 'error' or 'drop', got {missing!r}")
        super().__init__()
        self.save_hyperparameters(ignore=list(self.unsaved_args))
        self.val_split, self.test_split, self.stratify = val_split, test_split, stratify
        self.seed, self.batch_size, self.num_workers = int(seed), int(batch_size), int(num_workers)
        self.drop_last, self.shuffle, self.pin_memory = drop_last, shuffle, pin_memory
        self.normalize, self.missing = normalize, missing
        self.preprocessor: Preprocessor | None = None
        self._fingerprint: str | None = None
        self._expected_fingerprint: str | None = None
        self._arrays: dict[str, np.ndarray] | None = None
        self._indices: dict[str, np.ndarray] = {}
        self._head: pd.DataFrame | None = None
        self._predict: dict[str, np.ndarray] | None = None

    def describe_rows(self, *, target: str | None, task: str | None = None,
                      categorical: Sequence[str] | None = None,
                      numerical: Sequence[str] | None = None,
                      classes: Sequence[str] | None = None) -> None:
        """Set what the user says of the rows (None: inferred at ``setup()``)."""
        if task is not None and task not in TASKS:
            raise InvalidArgumentError(f"task must be one of {TASKS} or None (inferred), got {task!r}")
        self.target, self.task_arg = target, task
        self.categorical_arg = list(categorical) if categorical is not None else None
        self.numerical_arg = list(numerical) if numerical is not None else None
        self.classes_arg = list(classes) if classes is not None else None

    # -- subclass hooks ------------------------------------------------------------------
    def load_frames(self) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        """``(rows to split into train/val[/test], fixed test rows or None)``."""
        raise NotImplementedError

    def load_predict_frame(self) -> pd.DataFrame | None:
        """Rows for ``predict_dataloader``; None means predict on the test split."""
        return None

    # -- Lightning hooks -----------------------------------------------------------------
    def setup(self, stage: str | None = None) -> None:
        """Read, split, fit and encode once; later calls reuse the arrays."""
        if self._arrays is None:
            self._build()
        if stage == "predict" and self._predict is None:
            frame = self.load_predict_frame()
            if frame is not None:
                self._predict = self.transform(frame)

    def train_dataloader(self) -> torch.utils.data.DataLoader:
        return self._loader("train", shuffle=self.shuffle, drop_last=self.drop_last)

    def val_dataloader(self) -> torch.utils.data.DataLoader:
        return self._loader("val")

    def test_dataloader(self) -> torch.utils.data.DataLoader:
        return self._loader("test")

    def predict_dataloader(self) -> torch.utils.data.DataLoader:
        self.setup("predict")
        if self._predict is None:
            return self._loader("test")
        return make_loader(ArrayDataset(self._predict), batch_size=self.batch_size,
                           num_workers=self.num_workers, pin_memory=self.pin_memory,
                           transform=SupervisedBatch())

    def state_dict(self) -> dict[str, Any]:
        """The base state plus the split fingerprint and every fitted encoding."""
        state = dict(super().state_dict())
        if self.preprocessor is not None:
            state["split_fingerprint"] = self.split_fingerprint
            state["preprocessing"] = self.preprocessor.state_dict()
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore the encodings; the split must be the one the state was saved with."""
        super().load_state_dict(state)
        if "preprocessing" not in state:
            return
        self.preprocessor = Preprocessor.from_state_dict(state["preprocessing"])
        self._expected_fingerprint = state.get("split_fingerprint")
        if self._arrays is not None:  # already set up: re-encode with the restored encodings
            self._arrays, self._predict = None, None
            self._build()

    # -- public helpers ------------------------------------------------------------------
    def transform(self, data: Any) -> dict[str, np.ndarray]:
        """Encode new rows (a path, DataFrame...) with the fitted preprocessing, unchanged."""
        fitted = self._fitted().preprocessor
        frame = to_frame(data, what="predict data") if not isinstance(data, pd.DataFrame) else data
        if len(frame) == 0:
            raise DataFormatError("predict data has no rows")
        norm = normalize_columns(frame, fitted.schema, require_target=False)
        return fitted.transform(norm, split="predict")

    @property
    def split_fingerprint(self) -> str | None:
        """A hash of the split's row indices (None before ``setup``), computed on first use."""
        if self._fingerprint is None and self._indices:
            self._fingerprint = fingerprint(self._indices)
        return self._fingerprint

    @property
    def schema(self) -> Schema:
        return self._fitted().preprocessor.schema

    @property
    def task(self) -> str:
        return self.schema.task

    @property
    def numerical(self) -> list[str]:
        return list(self.schema.numerical)

    @property
    def categorical(self) -> list[str]:
        return list(self.schema.categorical)

    @property
    def feature_names(self) -> list[str]:
        """Columns in batch order: ``x_num`` columns, then ``x_cat`` columns."""
        return self.numerical + self.categorical

    @property
    def cardinalities(self) -> list[int]:
        """Embedding table size per ``x_cat`` column (codes 0 and 1 are missing and unseen)."""
        return self._fitted().preprocessor.cardinalities

    @property
    def classes(self) -> list[str] | None:
        classes = self._fitted().preprocessor.classes
        return list(classes) if self.task == "classification" and classes is not None else None

    @property
    def num_classes(self) -> int | None:
        return self._fitted().preprocessor.num_classes

    @property
    def metadata(self) -> dict[str, Any]:
        """Everything a model needs to size its inputs and outputs."""
        return {"task": self.task, "target": self.schema.target, "numerical": self.numerical,
                "categorical": self.categorical, "cardinalities": self.cardinalities,
                "classes": self.classes, "num_classes": self.num_classes,
                "num_numerical": len(self.numerical), "num_categorical": len(self.categorical)}

    def split_sizes(self) -> dict[str, int]:
        return {name: len(idx) for name, idx in self._fitted().indices.items()}

    def split_rows(self, split: str) -> np.ndarray:
        """Row numbers (into the loaded table, fixed test rows last) of ``split``."""
        return self._fitted().indices[self._check_split(split)].copy()

    def arrays(self, split: str) -> dict[str, np.ndarray]:
        """The encoded arrays of a whole split (what the loader slices batches from)."""
        fitted = self._fitted()
        idx = fitted.indices[self._check_split(split)]
        return {k: v[idx] for k, v in fitted.arrays.items()}

    # -- gallery protocol ---------------------------------------------------------------
    def preview(self, n: int = 5) -> list[dict[str, Any]]:
        """The first ``n`` rows as read (before encoding), for the docs gallery."""
        head = self._built().head.head(n).astype(object)
        return head.where(head.notna(), None).to_dict("records")

    def class_counts(self, split: str = "train") -> dict[str, int]:
        """Rows per class in ``split`` (every class listed); ``{}`` for a regression."""
        built, classes = self._built(), self.classes
        if classes is None:  # a regression
            return {}
        y = built.arrays["y"][built.indices[self._check_split(split)]]
        counts = np.bincount(y, minlength=len(classes))
        return {c: int(k) for c, k in zip(classes, counts, strict=False)}

    # -- internals -------------------------------------------------------------------
    def _build(self) -> None:
        pool, fixed_test = self.load_frames()
        if self.preprocessor is None:
            assert self.target is not None, "a tabular datamodule names its target before setup()"
            schema = resolve_schema(pool, self.target, task=self.task_arg,
                                    categorical=self.categorical_arg, numerical=self.numerical_arg)
        else:
            schema = self.preprocessor.schema
        self._head = pool.head(PREVIEW_ROWS).copy()
        parts = [self._clean(normalize_columns(pool, schema), schema, "data")]
        if fixed_test is not None:
            parts.append(self._clean(normalize_columns(fixed_test, schema), schema, "test data"))
        del pool, fixed_test  # the normalised columns are all that is needed from here
        n_pool = parts[0].length
        stratify = schema.task == "classification" if self.stratify is None else bool(self.stratify)
        if stratify and schema.task != "classification":
            raise InvalidArgumentError("stratify=True needs a classification target; "
                                       "this task is a regression")
        labels = _label_codes(*parts[0].categories[schema.target]) if stratify else None
        splits = self.split_pool(n_pool, labels, fixed_test=len(parts) > 1)
        if len(parts) > 1:
            splits["test"] = np.arange(n_pool, n_pool + parts[1].length)
        fp = fingerprint(splits) if self._expected_fingerprint is not None else None
        if fp != self._expected_fingerprint:
            raise SplitMismatchError(
                f"the checkpoint was made with split {self._expected_fingerprint}, but this data and "
                f"settings give split {fp}; use the same data, seed, val_split and test_split"
            )
        if self.preprocessor is None:
            self.preprocessor = Preprocessor(schema, normalize=self.normalize, missing=self.missing,
                                             classes=self.classes_arg).fit(parts[0], splits["train"])
        encoded = [self.preprocessor.transform(part, split=name)
                   for part, name in zip(parts, ("train/val", "test"), strict=False)]
        if len(encoded) == 1:
            arrays = encoded[0]
        else:
            arrays = {k: np.concatenate([e[k] for e in encoded]) for k in encoded[0]}
        self._arrays, self._indices, self._fingerprint = arrays, splits, fp
        log.info("tabular: %d rows -> train %d, val %d, test %d",
                 sum(p.length for p in parts), len(splits["train"]), len(splits["val"]),
                 len(splits["test"]))

    def split_pool(self, n: int, labels: np.ndarray | None, *, fixed_test: bool
                   ) -> dict[str, np.ndarray]:
        """Seeded train/val(/test) rows of the pool; a source with a given validation split
        (huggingface) overrides it."""
        return partition_rows(n, val_split=self.val_split, seed=self.seed, labels=labels,
                             test_split=None if fixed_test else self.test_split)

    def _clean(self, data: Columns, schema: Schema, what: str) -> Columns:
        """Drop rows without a target (and, with ``missing='drop'``, rows with holes)."""
        keep = ~data.isna(schema.target)
        if not keep.all():
            log.warning("tabular: dropped %d row(s) of the %s whose target %r is missing",
                        int((~keep).sum()), what, schema.target)
        if self.missing == "drop":
            holes = np.zeros(data.length, dtype=bool)
            for col in schema.numerical + schema.categorical:
                holes |= data.isna(col)
            if (holes & keep).any():
                log.warning("tabular: dropped %d row(s) of the %s with missing values (missing='drop')",
                            int((holes & keep).sum()), what)
            keep &= ~holes
        if not keep.any():
            raise DataFormatError(f"no row of the {what} is left after dropping missing values")
        return data if keep.all() else data.take(np.flatnonzero(keep))

    def _loader(self, split: str, *, shuffle: bool = False, drop_last: bool = False) -> Any:
        fitted = self._fitted()
        dataset = ArrayDataset(fitted.arrays, indices=fitted.indices[split])
        return make_loader(dataset, batch_size=self.batch_size, shuffle=shuffle, seed=self.seed,
                           drop_last=drop_last, num_workers=self.num_workers,
                           pin_memory=self.pin_memory, transform=SupervisedBatch())

    def _built(self) -> Fitted:
        """What ``setup()`` made, running it first if needed (the gallery protocol)."""
        if self._arrays is None:
            self.setup("fit")
        return self._fitted()

    def _fitted(self) -> Fitted:
        """What ``setup()`` made; :class:`NotSetUpError` before it ran."""
        if self._arrays is None or self.preprocessor is None or self._head is None:
            raise NotSetUpError(f"{type(self).__name__}: call prepare_data() and setup() first")
        return Fitted(self.preprocessor, self._arrays, self._indices, self._head)

    @staticmethod
    def _check_split(split: str) -> str:
        if split not in SPLITS:
            raise InvalidArgumentError(f"split must be one of {SPLITS}, got {split!r}")
        return split


class TabularDataModule(TabularBase):
    """Any table: ``load_datamodule("tabular", data="train.csv", target="label")``.

    ``data``: a CSV/TSV/Parquet path or list of paths, a pandas DataFrame, a dict of
    columns, or ``(X, y)`` numpy arrays (columns ``x0..``, target ``y``).
    ``test_data``: fixed test rows (then ``test_split`` is not used).
    ``predict_data``: rows for ``predict_dataloader`` (default: the test split).
    ``task``, ``categorical``, ``numerical`` are inferred when None (and logged).
    ``classes``: the label order for a classification (default: sorted).
    ``val_split`` / ``test_split``: a fraction or a row count; ``test_split`` of all rows,
    ``val_split`` of the rows left for training. ``stratify``: default on for classification.
    ``normalize``: standardise numerical columns with training statistics.
    ``missing``: ``"impute"`` (train median / reserved code), ``"drop"`` the rows (not at
    predict time), or ``"error"``. ``na_values``: extra markers read as missing in files.
    ``encoding``: the text encoding of CSV/TSV files (default UTF-8; e.g. ``"latin-1"``).
    Infinite numbers (and values too large for float32 once encoded) are rejected with a
    :class:`~dmzoo.core.errors.DataFormatError`, not imputed: mark them missing instead.
    """

    def __init__(
        self,
        data: Any = None,
        target: str | None = None,
        *,
        task: str | None = None,
        categorical: Sequence[str] | None = None,
        numerical: Sequence[str] | None = None,
        classes: Sequence[str] | None = None,
        test_data: Any = None,
        predict_data: Any = None,
        na_values: Sequence[str] = (),
        encoding: str | None = None,
        **options: Any,
    ) -> None:
        self.data, self.test_data, self.predict_data = data, test_data, predict_data
        self.unsaved_args = tuple(k for k, v in (("data", data), ("test_data", test_data),
                                                 ("predict_data", predict_data))
                                  if v is not None and not _is_paths(v))
        super().__init__(**options)
        if data is None:
            raise InvalidArgumentError("tabular needs data=: a CSV/Parquet path, a DataFrame or (X, y)")
        if target is None:
            if isinstance(data, tuple) and len(data) == 2 and not _is_paths(data):
                target = XY_TARGET
            else:
                raise InvalidArgumentError("tabular needs target=: the name of the column to predict")
        self.describe_rows(target=target, task=task, categorical=categorical,
                           numerical=numerical, classes=classes)
        self.na_values = [str(v) for v in na_values]
        self.encoding = check_encoding(encoding)

    def prepare_data(self) -> None:
        """Nothing to download; fail early if a named file does not exist."""
        for source in (self.data, self.test_data, self.predict_data):
            for path in _paths(source):
                if not Path(path).is_file():
                    raise DataNotFoundError(f"data file {str(path)!r} does not exist; "
                                            "pass the path of an existing CSV/Parquet file")

    def _build(self) -> None:
        """Reuse a warm cache of files already read with these options (see warm_cache)."""
        key = warm_cache.cache_key(self)
        if key is None or not warm_cache.restore(self, key):
            super()._build()
            if key is not None:
                warm_cache.store(self, key)

    def load_frames(self) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        pool = to_frame(self.data, na_values=self.na_values, encoding=self.encoding)
        test = to_frame(self.test_data, na_values=self.na_values, encoding=self.encoding,
                        what="test_data") \
            if self.test_data is not None else None
        return pool, test

    def load_predict_frame(self) -> pd.DataFrame | None:
        if self.predict_data is None:
            return None
        return to_frame(self.predict_data, na_values=self.na_values, encoding=self.encoding,
                        what="predict_data")


def _label_codes(codes: np.ndarray, labels: list[str]) -> np.ndarray:
    """Codes in sorted-label order, so the split depends on the labels, not on how they were read."""
    rank = {label: i for i, label in enumerate(natural_sort(sorted(set(labels))))}
    # -1 (missing) sits last and is picked by wrap-around: no shifted copy of the codes
    lookup = np.array([rank[label] for label in labels] + [-1], dtype="int64")
    return np.take(lookup, codes, mode="wrap")


def _is_paths(value: Any) -> bool:
    return is_path_like(value) or is_path_list(value)


def _paths(value: Any) -> list:
    if is_path_like(value):
        return [value]
    return list(value) if is_path_list(value) else []


def tabular_fixture(folder: Path) -> dict[str, Any]:
    """A 48-row CSV with numerical and categorical columns, for the generic ``tabular``."""
    rows = ["size,colour,weight,label"] + [
        f"{i % 7 + 0.5},{('red', 'green', 'blue')[i % 3]},{(i * 37) % 11 * 1.5},"
        f"{('cat', 'dog')[(i // 2) % 2]}" for i in range(48)]
    path = Path(folder) / "table.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return {"data": str(path), "target": "label", "batch_size": 8}
