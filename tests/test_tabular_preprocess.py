"""Column roles, train-only preprocessing and split indices, on real pandas/numpy data."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from dmzoo.core.errors import DataFormatError, InvalidArgumentError
from dmzoo.core.partition import partition_rows, quotas
from dmzoo.core.splits import fingerprint, permutation, split_size
from dmzoo.plugins.tabular.preprocess import (
    FIRST_CODE,
    MISSING_CODE,
    UNSEEN_CODE,
    Preprocessor,
    UnseenCategoryWarning,
    exact_median,
    natural_sort,
)
from dmzoo.plugins.tabular.schema import Columns, normalize_columns, resolve_schema


def frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "num": rng.normal(10, 3, n),
        "count": rng.integers(0, 50, n),
        "color": rng.choice(["red", "green", "blue"], n),
        "label": rng.choice(["cat", "dog"], n),
    })


# -- schema ----------------------------------------------------------------------------------
def test_task_and_columns_are_inferred_and_logged(caplog):
    caplog.set_level(logging.INFO, logger="dmzoo.tabular")
    schema = resolve_schema(frame(), "label")
    assert schema.task == "classification"
    assert schema.numerical == ["num", "count"] and schema.categorical == ["color"]
    assert "task inferred as classification" in caplog.text
    assert "inferred 2 numerical column(s)" in caplog.text


def test_integer_target_with_many_values_is_a_regression(caplog):
    caplog.set_level(logging.INFO, logger="dmzoo.tabular")
    df = frame()
    assert resolve_schema(df, "count").task == "regression"
    assert "task inferred as regression" in caplog.text
    df["small"] = df["count"] % 3
    assert resolve_schema(df, "small").task == "classification"
    assert resolve_schema(df, "small", task="regression").task == "regression"


def test_explicit_roles_win():
    schema = resolve_schema(frame(), "label", categorical=["count"])
    assert schema.categorical == ["count"] and schema.numerical == ["num", "color"]


def test_missing_target_column_says_which_columns_exist():
    with pytest.raises(DataFormatError, match=r"'lable' is not in the data \(did you mean 'label'\?\)"):
        resolve_schema(frame(), "lable")


def test_target_all_missing():
    df = frame()
    df["label"] = None
    with pytest.raises(DataFormatError, match="has no value in any of the 200 rows"):
        resolve_schema(df, "label")


def test_numeric_column_with_text_is_reported_with_examples():
    df = frame(50)
    df["num"] = df["num"].astype(object)
    df.loc[7, "num"] = "n/a?"
    with pytest.raises(DataFormatError, match=r"column 'num' looks numerical .*'n/a\?'"):
        resolve_schema(df, "label")
    schema = resolve_schema(df, "label", numerical=["num", "count"])
    with pytest.raises(DataFormatError, match=r"numerical column 'num' has 1 text value.*row 7"):
        normalize_columns(df, schema)


def test_bad_role_arguments():
    with pytest.raises(InvalidArgumentError, match="both categorical and numerical"):
        resolve_schema(frame(), "label", categorical=["num"], numerical=["num"])
    with pytest.raises(InvalidArgumentError, match="list of column names"):
        resolve_schema(frame(), "label", categorical="color")
    with pytest.raises(DataFormatError, match="'colour' is not in the data"):
        resolve_schema(frame(), "label", categorical=["colour"])
    with pytest.raises(InvalidArgumentError, match="task must be one of"):
        resolve_schema(frame(), "label", task="clustering")


# -- preprocessing ------------------------------------------------------------------------
def fitted(df: pd.DataFrame, rows, **kw) -> tuple[Preprocessor, Columns]:
    schema = resolve_schema(df, "label")
    norm = normalize_columns(df, schema)
    return Preprocessor(schema, **kw).fit(norm, np.asarray(rows)), norm


def test_statistics_come_from_the_training_rows_only():
    df = frame(100)
    df.loc[50:, "num"] += 1000.0  # the "test" half has a very different distribution
    df.loc[50:, "color"] = "purple"  # and a category never seen in training
    pre, norm = fitted(df, np.arange(50))
    train_only = df["num"].iloc[:50]
    assert pre.mean[0] == pytest.approx(train_only.mean())
    assert pre.std[0] == pytest.approx(train_only.std(ddof=0))
    assert pre.categories["color"] == ["blue", "green", "red"]
    out = pre.transform(norm.take(np.arange(50)), split="train")
    assert out["x_num"][:, 0].mean() == pytest.approx(0.0, abs=1e-5)
    test = pre.transform(norm.take(np.arange(50, 100)), split="test")
    assert test["x_num"][:, 0].mean() > 100  # not re-centred on the test rows
    assert (test["x_cat"][:, 0] == UNSEEN_CODE).all()


def test_missing_values_are_imputed_with_train_median_and_reserved_code():
    df = frame(40)
    df.loc[[3, 5], "num"] = np.nan
    df.loc[[4], "color"] = None
    pre, norm = fitted(df, np.arange(40), normalize=False)
    out = pre.transform(norm)
    assert out["x_num"][3, 0] == pytest.approx(np.nanmedian(df["num"]), rel=1e-6)
    assert out["x_cat"][4, 0] == MISSING_CODE
    assert out["x_cat"][~df["color"].isna().to_numpy(), 0].min() >= FIRST_CODE
    assert pre.cardinalities == [3 + FIRST_CODE]


def test_missing_error_policy_names_the_columns():
    df = frame(40)
    df.loc[[3, 5], "num"] = np.nan
    pre, norm = fitted(df, np.arange(40), missing="error")
    with pytest.raises(DataFormatError, match=r"'num': 2"):
        pre.transform(norm, split="train")


def test_unseen_category_at_predict_time_is_counted_in_a_warning():
    df = frame(60)
    pre, _ = fitted(df, np.arange(60))
    new = df.head(5).copy()
    new["color"] = ["red", "purple", "purple", "teal", None]
    norm = normalize_columns(new.drop(columns=["label"]), pre.schema, require_target=False)
    with pytest.warns(UnseenCategoryWarning, match=r"3 value\(s\) of column 'color'.*'purple', 'teal'"):
        out = pre.transform(norm)
    assert out["x_cat"][:, 0].tolist() == [2 + 2, UNSEEN_CODE, UNSEEN_CODE, UNSEEN_CODE, MISSING_CODE]
    assert "y" not in out


def test_label_unseen_in_training_is_an_error():
    df = frame(60)
    pre, _ = fitted(df[df["label"] == "cat"].reset_index(drop=True), np.arange(10))
    norm = normalize_columns(df, pre.schema)
    with pytest.raises(DataFormatError, match=r"label\(s\) \['dog'\].*never occur in the training split"):
        pre.transform(norm, split="test")


def test_state_dict_round_trip_gives_identical_encodings():
    df = frame(120)
    df.loc[[1, 2], "num"] = np.nan
    pre, norm = fitted(df, np.arange(80))
    import json

    state = json.loads(json.dumps(pre.state_dict()))  # JSON-safe, as in a checkpoint
    again = Preprocessor.from_state_dict(state)
    a, b = pre.transform(norm), again.transform(norm)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_natural_sort_orders_numbers_numerically():
    assert natural_sort(["10", "2", "1"]) == ["1", "2", "10"]
    assert natural_sort(["b", "a", "10"]) == ["10", "a", "b"]


# -- splits ---------------------------------------------------------------------------------
def test_splits_are_disjoint_complete_reproducible_and_stratified():
    labels = np.array([0] * 900 + [1] * 100)
    a = partition_rows(1000, val_split=0.1, test_split=0.2, seed=3, labels=labels)
    b = partition_rows(1000, val_split=0.1, test_split=0.2, seed=3, labels=labels)
    c = partition_rows(1000, val_split=0.1, test_split=0.2, seed=4, labels=labels)
    assert fingerprint(a) == fingerprint(b) != fingerprint(c)
    every = np.concatenate(list(a.values()))
    assert len(every) == len(np.unique(every)) == 1000
    assert [len(a[s]) for s in ("train", "val", "test")] == [720, 80, 200]
    for name in ("train", "val", "test"):
        assert labels[a[name]].mean() == pytest.approx(0.1, abs=0.01)


def test_counts_and_bad_split_sizes():
    s = partition_rows(100, val_split=5, test_split=10, seed=0)
    assert [len(s[k]) for k in ("train", "val", "test")] == [85, 5, 10]
    for bad in (1.5, -1, 100, "0.1", True):
        with pytest.raises(InvalidArgumentError, match="test_split"):
            partition_rows(100, val_split=0.1, test_split=bad, seed=0)
    with pytest.raises(InvalidArgumentError, match="no training row"):
        partition_rows(3, val_split=0.5, test_split=0.9, seed=0)


def test_a_class_keeps_its_last_row_in_training():
    labels = np.array([0] * 50 + [1])
    s = partition_rows(51, val_split=0.5, test_split=0.5, seed=0, labels=labels)
    assert 50 in s["train"]


def reference_split(n, val_split, test_split, seed, labels):
    """The split by its definition, written the slow, obvious way: order the rows by the
    seeded permutation, group them by class keeping that order, and deal each class's
    first rows to test, the next to val, the rest to train."""
    n_test = split_size(test_split, n, "test_split")
    n_val = split_size(val_split, n - n_test, "val_split")
    perm = permutation(n, seed)
    classes = sorted(set(labels.tolist()))
    members = {c: [int(r) for r in perm if labels[r] == c] for c in classes}
    counts = np.array([len(members[c]) for c in classes])
    k_test = quotas(counts, n_test)
    k_val = quotas(counts - k_test, n_val)
    out = {"train": [], "val": [], "test": []}
    for c, t, v in zip(classes, k_test, k_val, strict=True):
        out["test"] += members[c][:t]
        out["val"] += members[c][t:t + v]
        out["train"] += members[c][t + v:]
    return {k: sorted(v) for k, v in out.items()}


def test_the_linear_time_split_is_the_defined_split():
    rng = np.random.default_rng(5)
    for case in range(60):
        n = int(rng.integers(5, 400))
        labels = rng.integers(0, int(rng.integers(1, 9)), n)
        if case % 3 == 1:
            labels = labels * 7 - 3  # gaps and negative labels
        elif case % 3 == 2:
            labels = np.array([f"class-{v}" for v in labels])  # text labels
        got = partition_rows(n, val_split=0.15, test_split=0.2, seed=case, labels=labels)
        want = reference_split(n, 0.15, 0.2, case, labels)
        assert {k: v.tolist() for k, v in got.items()} == want
        assert all(v.dtype == np.int64 for v in got.values())


def test_permutation_is_the_same_whichever_library_sorts(monkeypatch):
    import sys

    import torch  # noqa: F401  (the fast path sorts with torch when it is imported)

    with_torch = [permutation(n, seed) for n in (1, 2, 1000, 65537) for seed in (0, 3, 2**64 - 1)]
    monkeypatch.setitem(sys.modules, "torch", None)  # as in a process that never imported torch
    with_numpy = [permutation(n, seed) for n in (1, 2, 1000, 65537) for seed in (0, 3, 2**64 - 1)]
    for a, b in zip(with_torch, with_numpy, strict=True):
        assert a.dtype == b.dtype == np.int64 and np.array_equal(a, b)
    assert sorted(permutation(1000, 3).tolist()) == list(range(1000))


def test_permutation_values_never_change():
    """Published splits rest on these exact orders: any change to the key function or
    its arithmetic is a new split (a MAJOR version of every datamodule)."""
    assert permutation(10, 0).tolist() == [1, 4, 5, 7, 6, 9, 0, 3, 2, 8]
    assert permutation(10, 2**64 - 1).tolist() == [4, 3, 7, 5, 8, 2, 0, 1, 9, 6]


def test_exact_median_is_numpys_median():
    rng = np.random.default_rng(2)
    for n in list(range(1, 40)) + [1000, 1001, 99_999]:
        for values in (rng.normal(size=n), rng.integers(0, 4, n).astype(float)):
            assert exact_median(values.copy()) == np.median(values)


def test_threaded_fit_and_transform_equal_the_serial_ones(monkeypatch):
    import os

    from dmzoo.core import parallel

    df = frame(200_000, seed=3)
    df.loc[df.index % 97 == 0, "num"] = np.nan
    df.loc[df.index % 89 == 0, "color"] = None
    schema = resolve_schema(df, "label")
    data = normalize_columns(df, schema)
    rows = np.arange(0, 200_000, 3)

    def run():
        pre = Preprocessor(schema).fit(data, rows)
        return pre.state_dict(), pre.transform(data, split="train")

    assert len(parallel.row_blocks(200_000)) > 1 or (os.cpu_count() or 1) == 1
    threaded = run()
    monkeypatch.setattr(parallel, "PARALLEL_ROWS", 10**12)
    assert len(parallel.row_blocks(200_000)) == 1
    serial = run()
    assert threaded[0] == serial[0]
    for key in serial[1]:
        assert np.array_equal(threaded[1][key], serial[1][key])
