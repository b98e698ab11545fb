"""``load_datamodule("tabular", data=..., target=...)`` on real files, frames and arrays."""

from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd
import pytest
import torch

import dmzoo
from dmzoo.core.errors import (
    DataFormatError,
    DataNotFoundError,
    InvalidArgumentError,
    NotSetUpError,
    SplitMismatchError,
)
from dmzoo.plugins.tabular import sources
from dmzoo.plugins.tabular.preprocess import MISSING_CODE, UNSEEN_CODE, UnseenCategoryWarning


def people(n: int = 300, seed: int = 0) -> pd.DataFrame:
    """A small census-like table: numbers, categories, holes, a label that depends on them."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n).astype(float)
    city = rng.choice(["Paris", "Lyon", "Nice"], n)
    income = rng.normal(30, 8, n) + (city == "Paris") * 10
    df = pd.DataFrame({"age": age, "city": city, "income": income.round(2),
                       "rich": np.where(income > 35, "yes", "no")})
    df.loc[rng.choice(n, 10, replace=False), "income"] = np.nan
    df.loc[rng.choice(n, 10, replace=False), "city"] = None
    return df


def snapshot(folder) -> set[str]:
    return {os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs}


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "people.csv"
    people().to_csv(path, index=False)
    return path


def load(data, **kw):
    dm = dmzoo.load_datamodule("tabular", data=data, **{"target": "rich", **kw})
    dm.prepare_data()
    dm.setup("fit")
    return dm


def test_csv_gives_typed_batches_and_metadata(csv, caplog):
    caplog.set_level(logging.INFO, logger="dmzoo.tabular")
    dm = load(csv, batch_size=16)
    assert "task inferred as classification" in caplog.text
    assert dm.numerical == ["age", "income"] and dm.categorical == ["city"]
    assert dm.cardinalities == [3 + 2] and dm.classes == ["no", "yes"] and dm.num_classes == 2
    assert dm.metadata["num_numerical"] == 2 and dm.metadata["num_categorical"] == 1
    batch, y = next(iter(dm.train_dataloader()))
    assert set(batch) == {"x_num", "x_cat"}
    assert batch["x_num"].dtype == torch.float32 and batch["x_num"].shape == (16, 2)
    assert batch["x_cat"].dtype == torch.int64 and batch["x_cat"].shape == (16, 1)
    assert y.dtype == torch.int64 and y.shape == (16,)
    assert not torch.isnan(batch["x_num"]).any()
    assert sum(dm.split_sizes().values()) == 300
    assert sum(len(y) for _, y in dm.train_dataloader()) == dm.split_sizes()["train"]
    cats = np.concatenate([dm.arrays(s)["x_cat"][:, 0] for s in ("train", "val", "test")])
    assert (cats == MISSING_CODE).sum() == 10


def test_parquet_paths_frames_and_arrays_agree(tmp_path, csv):
    df = people()
    parquet = tmp_path / "people.parquet"
    df.to_parquet(parquet)
    half = [tmp_path / "a.csv", tmp_path / "b.csv"]
    df.iloc[:150].to_csv(half[0], index=False)
    df.iloc[150:].to_csv(half[1], index=False)
    gz, tsv = tmp_path / "people.CSV.gz", tmp_path / "people.tsv"
    df.to_csv(gz, index=False, compression="gzip")  # streamed, not memory-mapped
    df.to_csv(tsv, index=False, sep="\t")
    ref = load(csv)
    for data in (parquet, str(parquet), half, df, gz, tsv):
        dm = load(data)
        assert dm.split_fingerprint == ref.split_fingerprint
        for split in ("train", "test"):
            for key in ("x_num", "x_cat", "y"):
                np.testing.assert_allclose(dm.arrays(split)[key], ref.arrays(split)[key], rtol=1e-6)
    x = np.random.default_rng(0).normal(size=(120, 3))
    y = (x[:, 0] > 0).astype(int)
    arrays = dmzoo.load_datamodule("tabular", data=(x, y))
    arrays.setup("fit")
    assert arrays.numerical == ["x0", "x1", "x2"] and arrays.task == "classification"


def test_regression_target_is_inferred(csv):
    dm = load(csv, target="income", categorical=["city", "rich"])
    assert dm.task == "regression" and dm.num_classes is None and dm.class_counts() == {}
    assert dm.arrays("train")["y"].dtype == np.float32
    with pytest.raises(InvalidArgumentError, match="stratify=True needs a classification"):
        load(csv, target="income", stratify=True)


def test_preprocessing_is_fitted_on_train_only(tmp_path):
    train = people(400, seed=1)
    test = people(200, seed=2)
    test["age"] += 100.0  # the test rows live somewhere else entirely
    test.loc[:9, "city"] = "Brest"  # and hold a city never seen in training
    dm = load(train, test_data=test)
    train_rows = train.iloc[dm.split_rows("train")]
    assert dm.preprocessor.mean[0] == pytest.approx(train_rows["age"].mean())
    assert dm.arrays("train")["x_num"][:, 0].mean() == pytest.approx(0, abs=1e-5)
    assert dm.arrays("test")["x_num"][:, 0].mean() > 4  # shifted by ~100 years / train std
    assert "Brest" not in dm.preprocessor.categories["city"]
    assert (dm.arrays("test")["x_cat"][:10, 0] == UNSEEN_CODE).all()
    assert dm.split_sizes()["test"] == 200


def test_state_dict_restores_identical_encodings(csv, tmp_path):
    dm = load(csv)
    state = dm.state_dict()
    assert state["split_fingerprint"] == dm.split_fingerprint
    # Same rows and labels, but the training numbers changed: a refit would differ,
    # the restored encodings must not.
    changed = people()
    changed["age"] = changed["age"] * 3
    other = tmp_path / "changed.csv"
    changed.to_csv(other, index=False)
    fresh = dmzoo.load_datamodule("tabular", data=other, target="rich")
    fresh.load_state_dict(state)
    fresh.setup("fit")
    assert fresh.preprocessor.state_dict() == dm.preprocessor.state_dict()
    np.testing.assert_array_equal(fresh.arrays("val")["x_cat"], dm.arrays("val")["x_cat"])
    refit = load(other)
    assert refit.preprocessor.mean[0] != pytest.approx(dm.preprocessor.mean[0])
    # loading after setup re-encodes too
    late = load(other)
    late.load_state_dict(state)
    np.testing.assert_array_equal(late.arrays("train")["x_num"][:, 1], dm.arrays("train")["x_num"][:, 1])


def test_a_different_split_is_refused(csv):
    state = load(csv).state_dict()
    other = dmzoo.load_datamodule("tabular", data=csv, target="rich", seed=1)
    other.load_state_dict(state)
    with pytest.raises(SplitMismatchError, match="same data, seed"):
        other.setup("fit")


def test_predict_data_uses_the_fitted_encodings_and_counts_unseen_values(csv, tmp_path):
    new = people(20, seed=5).drop(columns=["rich"])
    new.loc[:3, "city"] = "Atlantis"
    path = tmp_path / "new.csv"
    new.to_csv(path, index=False)
    dm = dmzoo.load_datamodule("tabular", data=csv, target="rich", predict_data=path, batch_size=8)
    dm.setup("fit")
    with pytest.warns(UnseenCategoryWarning, match=r"4 value\(s\) of column 'city'.*'Atlantis'"):
        batches = list(dm.predict_dataloader())
    assert all(isinstance(b, dict) and set(b) == {"x_num", "x_cat"} for b in batches)  # no target
    x_cat = torch.cat([b["x_cat"] for b in batches])
    assert len(x_cat) == 20 and (x_cat[:4, 0] == UNSEEN_CODE).all()
    x_num = torch.cat([b["x_num"] for b in batches]).numpy()
    expected = (new["age"].to_numpy() - dm.preprocessor.mean[0]) / dm.preprocessor.std[0]
    np.testing.assert_allclose(x_num[:, 0], expected, rtol=1e-5)


def test_missing_policies(csv):
    dropped = load(csv, missing="drop")
    assert sum(dropped.split_sizes().values()) < 300
    assert (dropped.arrays("train")["x_cat"] != MISSING_CODE).all()
    with pytest.raises(DataFormatError, match=r"missing values \('income': \d+, 'city': \d+\)"):
        load(csv, missing="error")
    with pytest.raises(InvalidArgumentError, match="missing must be"):
        dmzoo.load_datamodule("tabular", data=csv, target="rich", missing="fill")


def test_rows_without_target_are_dropped(tmp_path, caplog):
    df = people()
    df.loc[:4, "rich"] = None
    dm = load(df)
    assert sum(dm.split_sizes().values()) == 295
    assert "dropped 5 row(s)" in caplog.text


def test_workers_and_drop_last(csv):
    dm = load(csv, batch_size=50, num_workers=2, drop_last=True)
    sizes = [len(y) for _, y in dm.train_dataloader()]
    assert sizes and set(sizes) == {50}
    assert sum(len(y) for _, y in dm.val_dataloader()) == dm.split_sizes()["val"]


# -- bad input: a clear error, and nothing written ------------------------------------
BAD_FILES = {
    "empty.csv": (b"", r"is empty \(0 bytes\)"),
    "header_only.csv": (b"age,city,rich\n", "has no rows"),
    "ragged.csv": (b"age,city,rich\n1,Paris,yes\n2,Lyon,no,extra,cols\n", "does not parse as csv"),
    "binary.csv": (bytes(range(256)) * 4, "does not parse|not UTF-8"),
    "notes.xlsx": (b"PK\x03\x04", "unknown file type '.xlsx'"),
    "bad.parquet": (b"PAR1 this is not parquet", "does not parse as parquet"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_fail_clearly_and_write_nothing(tmp_path, name, dmzoo_home):
    content, message = BAD_FILES[name]
    path = tmp_path / name
    path.write_bytes(content)
    before = snapshot(tmp_path)
    dm = dmzoo.load_datamodule("tabular", data=path, target="rich")
    with pytest.raises(DataFormatError, match=message):
        dm.prepare_data()
        dm.setup("fit")
    assert snapshot(tmp_path) == before
    assert path.read_bytes() == content


@pytest.mark.parametrize("change, message", [
    (lambda df: df.drop(columns=["rich"]), r"target column 'rich' is not in the data"),
    (lambda df: df.assign(rich=None), r"target column 'rich' has no value in any of the 300 rows"),
    (lambda df: df.assign(income=df["income"].astype(str).where(df.index != 5, "lots")),
     r"column 'income' looks numerical .*'lots'"),
])
def test_bad_tables_fail_clearly_and_write_nothing(tmp_path, change, message):
    path = tmp_path / "t.csv"
    change(people()).to_csv(path, index=False)
    before = snapshot(tmp_path)
    with pytest.raises(DataFormatError, match=message):
        load(path)
    assert snapshot(tmp_path) == before


def test_text_far_down_a_numeric_column(tmp_path):
    n = 250_000  # several of pyarrow's 1 MiB blocks: the one bad value is in the last
    lines = ["x,label"] + [f"{i},{i % 2}" for i in range(n)] + ["oops,1"]
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match=r"'x' looks numerical \(99.9% .*'oops'.*na_values"):
        load(path, target="label")
    dm = load(path, target="label", na_values=["oops"])
    assert sum(dm.split_sizes().values()) == n + 1


def test_read_blocks_grow_with_the_file_within_bounds():
    assert sources.block_size(0) == sources.MIN_BLOCK == 1 << 20
    assert sources.block_size(10 << 30) == sources.MAX_BLOCK == 4 << 20
    assert sources.block_size(1 << 20) <= sources.block_size(100 << 20)


def test_missing_markers_in_text_columns_across_blocks(tmp_path, monkeypatch):
    """Markers ('NA', '', 'NULL', quoted or not, and na_values=) in a text column are
    missing values wherever they are, here spread over 20 read blocks."""
    monkeypatch.setattr(sources, "MIN_BLOCK", 1 << 16)
    monkeypatch.setattr(sources, "MAX_BLOCK", 1 << 16)
    n = 120_000
    colors = np.array(["red", "NA", "", "blue", '"NULL"', "?", '"green"'])
    picks = np.arange(n) % len(colors)
    lines = ["color,size,label"] + [f"{colors[k]},{i % 7},{i % 2}" for i, k in enumerate(picks)]
    path = tmp_path / "marked.csv"
    path.write_text("\n".join(lines) + "\n")
    dm = load(path, target="label", na_values=["?"], val_split=0, test_split=0, stratify=False)
    assert dm.categorical == ["color"] and dm.cardinalities == [2 + 3]  # blue, green, red
    x_cat = dm.arrays("train")["x_cat"][:, 0]
    rows = dm.split_rows("train")
    want_missing = np.isin(picks[rows], [1, 2, 4, 5])
    assert np.array_equal(x_cat == MISSING_CODE, want_missing)


def test_bad_arguments_fail_before_reading(tmp_path, csv):
    cases = [
        ({"target": None}, "needs target="),
        ({"val_split": 1.5}, "val_split must be"),
        ({"test_split": -2}, "test_split must be"),
        ({"batch_size": 0}, "batch_size must be"),
        ({"task": "ranking"}, "task must be one of"),
    ]
    for kwargs, message in cases:
        with pytest.raises(InvalidArgumentError, match=message):
            dmzoo.load_datamodule("tabular", data=csv, **{"target": "rich", **kwargs})
    with pytest.raises(InvalidArgumentError, match="needs data="):
        dmzoo.load_datamodule("tabular", target="rich")
    missing = tmp_path / "nope.csv"
    with pytest.raises(DataNotFoundError, match=f"{missing}.*does not exist"):
        dmzoo.load_datamodule("tabular", data=missing, target="rich").prepare_data()
    with pytest.raises(DataNotFoundError, match="does not exist"):  # setup() without prepare_data()
        dmzoo.load_datamodule("tabular", data=missing, target="rich").setup("fit")
    with pytest.raises(DataFormatError, match="not supported"):
        load(42)
    unset = dmzoo.load_datamodule("tabular", data=csv, target="rich")
    for before_setup in (lambda: unset.metadata, unset.train_dataloader, unset.val_dataloader,
                         unset.test_dataloader, lambda: unset.arrays("train")):
        with pytest.raises(NotSetUpError, match="call prepare_data"):
            before_setup()


def test_hparams_keep_paths_but_not_in_memory_tables(csv):
    dm = dmzoo.load_datamodule("tabular", data=str(csv), target="rich", batch_size=8)
    assert dm.hparams["data"] == str(csv) and dm.hparams["batch_size"] == 8
    frame_dm = dmzoo.load_datamodule("tabular", data=people(), target="rich")
    assert "data" not in frame_dm.hparams and frame_dm.hparams["target"] == "rich"
