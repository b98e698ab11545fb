"""Preprocessing fitted on the training split only, then applied unchanged everywhere.

- numerical: missing values imputed with the train median, then (``normalize``)
  standardised with the train mean and standard deviation;
- categorical: ordinal codes, with ``0`` reserved for missing and ``1`` for a
  value never seen in training; known categories start at ``2``;
- classification target: label codes in a fixed class order.

Everything fitted is plain JSON-safe data (:meth:`Preprocessor.state_dict`), so
a checkpoint restores identical encodings. All transforms are column-wise numpy
or pandas code-remaps: no Python loop over rows.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from dmzoo.core.errors import DataFormatError, InvalidArgumentError

from .schema import Columns, Schema

log = logging.getLogger("dmzoo.tabular")

MISSING_CODE = 0
UNSEEN_CODE = 1
FIRST_CODE = 2
MISSING_POLICIES = ("impute", "error", "drop")


class UnseenCategoryWarning(UserWarning):
    """Values absent from the training split were mapped to the reserved unseen code."""


class Preprocessor:
    """The fitted encodings of one tabular datamodule."""

    def __init__(self, schema: Schema, *, normalize: bool = True, missing: str = "impute",
                 classes: Sequence[str] | None = None) -> None:
        if missing not in MISSING_POLICIES:
            raise InvalidArgumentError(f"missing must be one of {MISSING_POLICIES}, got {missing!r}")
        self.schema = schema
        self.normalize = bool(normalize)
        self.missing = missing
        self.classes: list[str] | None = [str(c) for c in classes] if classes is not None else None
        self.fill = np.zeros(len(schema.numerical))
        self.mean = np.zeros(len(schema.numerical))
        self.std = np.ones(len(schema.numerical))
        self.categories: dict[str, list[str]] = {}
        self.fitted = False

    # -- fitting ----------------------------------------------------------------------
    def fit(self, data: Columns, rows: np.ndarray | None = None) -> Preprocessor:
        """Learn every statistic and vocabulary from the training ``rows`` of ``data``."""
        rows = np.arange(data.length) if rows is None else rows
        for j, col in enumerate(self.schema.numerical):
            values = data.numbers[col][rows]
            values = values[~np.isnan(values)]  # a private copy from here on
            if len(values):
                self.mean[j] = values.mean()
                std = values.std()
                self.std[j] = std if np.isfinite(std) and std > 0 else 1.0
                self.fill[j] = np.median(values, overwrite_input=True)  # reorders: last
            else:
                log.warning("tabular: numerical column %r has no value in the training split; "
                            "it is filled with 0", col)
        for col in self.schema.categorical:
            self.categories[col] = natural_sort(_present(*data.categories[col], rows))
        if self.schema.task == "classification":
            seen = natural_sort(_present(*data.categories[self.schema.target], rows))
            if self.classes is None:
                self.classes = seen
            else:
                extra = sorted(set(seen) - set(self.classes))
                if extra:
                    raise DataFormatError(
                        f"target {self.schema.target!r} has label(s) {extra[:5]} that are not in "
                        f"classes={self.classes}; add them to classes= or fix the data"
                    )
        self.fitted = True
        return self

    # -- applying ---------------------------------------------------------------------
    def transform(self, data: Columns, split: str = "predict") -> dict[str, np.ndarray]:
        """Arrays ``x_num`` float32[n, k], ``x_cat`` int64[n, m] and, if labelled, ``y``."""
        if not self.fitted:
            raise RuntimeError("Preprocessor.transform called before fit()")
        if self.missing == "error":
            self.check_no_missing(data, split)
        n = data.length
        x_num = np.empty((n, len(self.schema.numerical)), dtype="float32")
        for j, col in enumerate(self.schema.numerical):
            values = data.numbers[col]
            fill = self.fill[j]
            if self.normalize:
                # float64 math in one scratch column (contiguous), then one cast into x_num
                values = np.subtract(values, self.mean[j])
                np.divide(values, self.std[j], out=values)
                fill = (fill - self.mean[j]) / self.std[j]
            holes = np.isnan(values)
            if holes.any():
                values = values.copy() if values is data.numbers[col] else values
                values[holes] = fill
            x_num[:, j] = values
        x_cat = np.empty((n, len(self.schema.categorical)), dtype="int64")
        for j, col in enumerate(self.schema.categorical):
            self._encode(*data.categories[col], self.categories[col], col, split, out=x_cat[:, j])
        out = {"x_num": x_num, "x_cat": x_cat}
        target = self.schema.target
        if target is not None and target in data and not data.isna(target).any():
            out["y"] = self._encode_target(data, split)
        return out

    def _encode(self, codes: np.ndarray, labels: list[str], cats: list[str], col: str,
                split: str, out: np.ndarray | None = None) -> np.ndarray:
        """Remap the data's codes to training codes through a small lookup table."""
        known = {label: i + FIRST_CODE for i, label in enumerate(cats)}
        # The missing code sits last, so code -1 (missing) picks it by wrap-around.
        lookup = np.array([known.get(lab, UNSEEN_CODE) for lab in labels] + [MISSING_CODE],
                          dtype="int64")
        out = np.take(lookup, codes, out=out, mode="wrap")
        if not (lookup == UNSEEN_CODE).any():  # every label was seen in training
            return out
        unseen = out == UNSEEN_CODE
        count = int(unseen.sum())
        if count:
            examples = sorted({labels[c] for c in np.unique(codes[unseen])})[:3]
            msg = (f"{count} value(s) of column {col!r} in the {split} data were not seen in training "
                   f"(e.g. {', '.join(map(repr, examples))}); mapped to the reserved unseen code {UNSEEN_CODE}")
            if split == "predict":
                warnings.warn(msg, UnseenCategoryWarning, stacklevel=4)
            else:
                log.info("tabular: %s", msg)
        return out

    def _encode_target(self, data: Columns, split: str) -> np.ndarray:
        target = self.schema.target
        if self.schema.task == "regression":
            return data.numbers[target].astype("float32")
        codes, labels = data.categories[target]
        index = {label: i for i, label in enumerate(self.classes)}
        lookup = np.array([index.get(lab, -1) for lab in labels] or [-1], dtype="int64")
        y = np.take(lookup, codes, mode="wrap")
        if (lookup < 0).any() and (y < 0).any():
            unknown = sorted({labels[c] for c in np.unique(codes[y < 0])})
            raise DataFormatError(
                f"the {split} data has label(s) {unknown[:5]} of target {target!r} that "
                f"never occur in the training split (classes: {self.classes}); keep stratify=True, "
                "use more data, or drop those rows"
            )
        return y

    def check_no_missing(self, data: Columns, split: str) -> None:
        """For ``missing='error'``: name every feature column with holes."""
        counts = {c: int(data.isna(c).sum()) for c in self.schema.numerical + self.schema.categorical}
        bad = {c: k for c, k in counts.items() if k}
        if bad:
            detail = ", ".join(f"{c!r}: {k}" for c, k in bad.items())
            raise DataFormatError(f"the {split} data has missing values ({detail}) and missing='error'; "
                                  "use missing='impute' or missing='drop', or clean the data")

    # -- metadata ---------------------------------------------------------------------
    @property
    def cardinalities(self) -> list[int]:
        """Embedding sizes: known categories plus the two reserved codes."""
        return [len(self.categories[c]) + FIRST_CODE for c in self.schema.categorical]

    @property
    def num_classes(self) -> int | None:
        return len(self.classes) if self.schema.task == "classification" and self.classes else None

    def state_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema.to_dict(),
            "normalize": self.normalize,
            "missing": self.missing,
            "numeric": {"fill": self.fill.tolist(), "mean": self.mean.tolist(), "std": self.std.tolist()},
            "categories": {k: list(v) for k, v in self.categories.items()},
            "classes": list(self.classes) if self.classes is not None else None,
        }

    @classmethod
    def from_state_dict(cls, state: dict[str, Any]) -> Preprocessor:
        self = cls(Schema.from_dict(state["schema"]), normalize=state["normalize"],
                   missing=state["missing"], classes=state["classes"])
        self.fill = np.asarray(state["numeric"]["fill"], dtype="float64")
        self.mean = np.asarray(state["numeric"]["mean"], dtype="float64")
        self.std = np.asarray(state["numeric"]["std"], dtype="float64")
        self.categories = {k: list(v) for k, v in state["categories"].items()}
        self.fitted = True
        return self


def natural_sort(labels: Sequence[str]) -> list[str]:
    """Numeric-looking labels in numeric order ("2" before "10"), others alphabetically."""
    labels = [str(v) for v in labels]
    try:
        return sorted(labels, key=float)
    except ValueError:
        return sorted(labels)


def _present(codes: np.ndarray, labels: list[str], rows: np.ndarray) -> list[str]:
    """Labels that occur at least once among ``rows``."""
    sub = codes[rows]
    counts = np.bincount(sub[sub >= 0], minlength=len(labels))
    return sorted({labels[i] for i in np.flatnonzero(counts)})
