"""Static specs of the tabular plugin's generic ``tabular``, and the spec fields its
families share (plain data: no torch, pandas or scikit-learn import).

Each table family is one folder (``bundled/``, ``adult/``, ``california_housing/``) with a
plain-data ``spec.py`` and a ``datamodule.py``, listed by ``plugin.SPECS`` with one line.
"""

from __future__ import annotations

from dmzoo.core.spec import DataModuleSpec, Feature, Split

MODULE = "dmzoo.plugins.tabular"
UCI_LICENSE = "CC BY 4.0 (UCI Machine Learning Repository)"


# Every loader yields ``({"x_num": ..., "x_cat": ...}, y)``: both input keys always
# (a table without categorical columns has ``x_cat`` of width 0).
SUPERVISED_KEYS = (("x_num", "x_cat"), "y")


def features(num: int | None, cat: int | None, classes: tuple[str, ...] = (),
              regression: bool = False, target_dtype: str | None = None) -> tuple[Feature, ...]:
    """The batch structure; ``None`` widths (and dtype) are known only after ``setup()``."""
    return (
        Feature("x_num", shape=(num,), dtype="float32",
                description="numerical columns, train-median imputed and standardised"),
        Feature("x_cat", shape=(cat,), dtype="int64",
                description="ordinal codes: 0 missing, 1 unseen, 2.. categories"),
        Feature("y", dtype=target_dtype or ("float32" if regression else "int64"),
                classes=classes, description="target"),
    )


def splits(train: int, val: int, test: int) -> tuple[Split, ...]:
    return (Split("train", train), Split("val", val), Split("test", test))


TABULAR = DataModuleSpec(
    name="tabular",
    version="1.0.0",
    cls=f"{MODULE}.datamodule:TabularDataModule",
    summary="Any table (CSV, Parquet, DataFrame, numpy) as a datamodule with train-only preprocessing.",
    description=(
        "Generic tabular datamodule: load_datamodule('tabular', data='train.csv', target='label'). "
        "Reads CSV/Parquet with pyarrow; infers the task and column types (logged); splits "
        "with a seed (stratified for classification); fits standardisation, imputation, "
        "ordinal and label encodings on the training split only and keeps them in state_dict(). "
        "Batches are ({'x_num': float32[B, n], 'x_cat': int64[B, m]}, y[B]): y is int64 "
        "class codes for a classification, float32 for a regression."
    ),
    task="other",
    tags=("tabular", "generic", "csv", "parquet"),
    features=features(None, None, target_dtype="int64 or float32"),
    supervised_keys=SUPERVISED_KEYS,
    fixture=f"{MODULE}.datamodule:tabular_fixture",
    license="(your data)",
    release_notes={"1.0.0": "First release."},
)
