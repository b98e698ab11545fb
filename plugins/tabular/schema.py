"""Decide what each column is: target, task, numerical or categorical features.

Anything not given explicitly is inferred from the dtypes, and every inference
is logged, so a user can see (and override) what dmzoo decided. Columns are then
normalised to two physical forms only: float64 numbers and string categoricals.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from dmzoo.core.errors import DataFormatError, InvalidArgumentError

log = logging.getLogger("dmzoo.tabular")

TASKS = ("classification", "regression")
MAX_INFERRED_CLASSES = 20  # an integer target with more distinct values is a regression


@dataclass
class Schema:
    """The roles of the columns; JSON-safe so it can live in ``state_dict()``."""

    target: str
    task: str
    numerical: list[str] = field(default_factory=list)
    categorical: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"target": self.target, "task": self.task, "numerical": list(self.numerical),
                "categorical": list(self.categorical)}

    @classmethod
    def from_dict(cls, data: dict) -> Schema:
        return cls(data["target"], data["task"], list(data["numerical"]), list(data["categorical"]))


def resolve_schema(
    frame: pd.DataFrame,
    target: str,
    *,
    task: str | None = None,
    categorical: Sequence[str] | None = None,
    numerical: Sequence[str] | None = None,
) -> Schema:
    """Check the user's choices against ``frame`` and infer the rest."""
    columns = list(frame.columns)
    if target not in frame.columns:
        raise DataFormatError(f"target column {target!r} is not in the data{_close(target, columns)}; "
                              f"columns are: {', '.join(map(str, columns))}")
    y = frame[target]
    if int(y.notna().sum()) == 0:
        raise DataFormatError(f"target column {target!r} has no value in any of the {len(y)} rows; "
                              "check the file, or the na_values markers")
    task = _resolve_task(y, target, task)
    for name, given in (("categorical", categorical), ("numerical", numerical)):
        if isinstance(given, str):
            raise InvalidArgumentError(f"{name} must be a list of column names, not the string {given!r}")
        for col in given or ():
            if col not in frame.columns:
                raise DataFormatError(f"{name} column {col!r} is not in the data{_close(col, columns)}")
            if col == target:
                raise InvalidArgumentError(f"{col!r} is the target; remove it from {name}=")
    both = set(categorical or ()) & set(numerical or ())
    if both:
        raise InvalidArgumentError(f"column(s) {sorted(both)} are listed as both categorical and numerical")
    rest = [c for c in columns if c != target]
    if categorical is not None and numerical is not None:
        cat, num = list(categorical), list(numerical)
        unused = [c for c in rest if c not in cat and c not in num]
        if unused:
            log.info("tabular: columns not listed in categorical/numerical are ignored: %s", unused)
    elif categorical is not None:
        cat = list(categorical)
        num = [c for c in rest if c not in cat]
    elif numerical is not None:
        num = list(numerical)
        cat = [c for c in rest if c not in num]
    else:
        num = [c for c in rest if _is_numeric(frame[c])]
        cat = [c for c in rest if c not in num]
        log.info("tabular: inferred %d numerical column(s) %s and %d categorical column(s) %s "
                 "(pass numerical=/categorical= to override)", len(num), _few(num), len(cat), _few(cat))
    schema = Schema(target, task, num, cat)
    if not (num or cat):
        raise DataFormatError(f"no feature column left besides the target {target!r}")
    return schema


@dataclass
class Columns:
    """A table normalised for numpy: the hot path never touches pandas again.

    ``numbers``: float64 arrays, NaN for missing. ``categories``: ``(codes, labels)``
    with signed integer ``codes`` (-1 for missing) indexing the string ``labels``.
    """

    length: int
    numbers: dict[str, np.ndarray] = field(default_factory=dict)
    categories: dict[str, tuple[np.ndarray, list[str]]] = field(default_factory=dict)

    def __contains__(self, name: str) -> bool:
        return name in self.numbers or name in self.categories

    def isna(self, name: str) -> np.ndarray:
        if name in self.numbers:
            return np.isnan(self.numbers[name])
        return self.categories[name][0] < 0

    def take(self, rows: np.ndarray) -> Columns:
        return Columns(len(rows), {k: v[rows] for k, v in self.numbers.items()},
                       {k: (c[rows], labels) for k, (c, labels) in self.categories.items()})


def normalize_columns(frame: pd.DataFrame, schema: Schema, *, require_target: bool = True) -> Columns:
    """Numerical columns as float64 arrays, categorical ones (and class labels) as codes."""
    out = Columns(len(frame))
    for col in schema.numerical:
        _require(frame, col)
        out.numbers[col] = as_float(frame[col], col)
    for col in schema.categorical:
        _require(frame, col)
        out.categories[col] = as_codes(frame[col])
    if schema.target is not None and (require_target or schema.target in frame.columns):
        _require(frame, schema.target)
        y = frame[schema.target]
        if schema.task == "classification":
            out.categories[schema.target] = as_codes(y)
        else:
            out.numbers[schema.target] = as_float(y, schema.target)
    return out


def as_float(series: pd.Series, name: str) -> np.ndarray:
    """Numbers as float64 (missing → NaN); text in a numerical column is an error, shown."""
    if pd.api.types.is_bool_dtype(series.dtype) or pd.api.types.is_numeric_dtype(series.dtype):
        return series.to_numpy(dtype="float64", na_value=np.nan)
    values = series.astype("object")
    numbers = pd.to_numeric(values, errors="coerce")
    bad = numbers.isna() & values.notna()
    if bad.any():
        rows = np.flatnonzero(bad.to_numpy())
        examples = ", ".join(repr(values.iloc[i]) for i in rows[:3])
        raise DataFormatError(
            f"numerical column {name!r} has {len(rows)} text value(s) such as {examples} "
            f"(first at row {int(rows[0])}); fix the data, add the marker to na_values=[...], "
            "or list the column in categorical=[...]"
        )
    return numbers.to_numpy(dtype="float64", na_value=np.nan)


def as_codes(series: pd.Series) -> tuple[np.ndarray, list[str]]:
    """``(codes, labels)``: labels are strings (``1`` and ``1.0`` both become ``"1"``)."""
    if isinstance(series.dtype, pd.CategoricalDtype):
        codes = series.cat.codes.to_numpy()
        labels = [_label(c) for c in series.cat.categories]
    else:
        values = series
        if pd.api.types.is_float_dtype(values.dtype):
            finite = values.dropna()
            if np.all(np.mod(finite, 1) == 0):
                values = values.astype("Int64")
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        labels = [_label(u) for u in uniques]
    return codes, labels  # the narrowest ints pandas gives: no widening copy


def _label(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _resolve_task(y: pd.Series, target: str, task: str | None) -> str:
    if task is not None:
        if task not in TASKS:
            raise InvalidArgumentError(f"task must be one of {TASKS}, got {task!r}")
        return task
    if not pd.api.types.is_numeric_dtype(y.dtype) or pd.api.types.is_bool_dtype(y.dtype):
        task, why = "classification", f"target {target!r} holds labels ({y.dtype})"
    else:
        values = y.dropna()
        n = int(values.nunique())
        integral = bool(np.all(np.mod(values.to_numpy(dtype="float64"), 1) == 0))
        if integral and n <= MAX_INFERRED_CLASSES:
            task, why = "classification", f"target {target!r} has {n} distinct integer values"
        else:
            kind = "integer" if integral else "non-integer"
            task, why = "regression", f"target {target!r} has {n} distinct {kind} values"
    other = "regression" if task == "classification" else "classification"
    log.info("tabular: task inferred as %s: %s (pass task=%r to override)", task, why, other)
    return task


def _is_numeric(series: pd.Series) -> bool:
    """Numeric dtype; a text column that is mostly numbers is reported, not guessed."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return False
    if pd.api.types.is_numeric_dtype(series.dtype):
        return True
    if isinstance(series.dtype, pd.CategoricalDtype):  # text read from a file
        labels = pd.Series(series.cat.categories.astype("object"))
        if not pd.to_numeric(labels, errors="coerce").notna().any():
            return False  # no label is a number: text, without counting a single row
    counts = series.value_counts(dropna=True)
    if counts.empty:
        return False
    numeric = pd.to_numeric(pd.Series(counts.index.astype("object")), errors="coerce").notna().to_numpy()
    share = counts.to_numpy()[numeric].sum() / counts.sum()
    if 0.5 <= share < 1:
        bad = [v for v, ok in zip(counts.index, numeric, strict=False) if not ok][:3]
        raise DataFormatError(
            f"column {series.name!r} looks numerical ({np.floor(share * 1000) / 10:g}% of its values are numbers) "
            f"but also holds text such as {', '.join(map(repr, bad))}; fix the data, add the "
            "marker to na_values=[...], or list the column in categorical=[...] or numerical=[...]"
        )
    return bool(share == 1)


def _few(names: list, limit: int = 8) -> str:
    shown = ", ".join(map(str, names[:limit]))
    return f"[{shown}{', ...' if len(names) > limit else ''}]"


def _require(frame: pd.DataFrame, col: str) -> None:
    if col not in frame.columns:
        raise DataFormatError(f"column {col!r} is missing from the data; columns are: "
                              f"{', '.join(map(str, frame.columns))}")


def _close(name: str, columns: list) -> str:
    close = difflib.get_close_matches(str(name), [str(c) for c in columns], n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
