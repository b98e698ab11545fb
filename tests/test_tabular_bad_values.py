"""Tables that used to become NaN features or ``b'...'`` class names: real files in tmp_path.

Non-finite numbers are rejected with a :class:`DataFormatError` (never imputed silently),
huge finite values are standardised without overflow, and text that is not UTF-8 is an
error suggesting ``encoding=``, which reads it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import dmzoo
from dmzoo.core.errors import DataFormatError, InvalidArgumentError

# numpy's overflow / invalid-value warnings were the only sign of trouble before
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def table(n: int = 60, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"a": rng.normal(size=n), "b": rng.normal(size=n),
                         "label": rng.choice(["oui", "non", "café"], n),
                         "price": rng.normal(100, 10, n)})


def setup(data, **kw):
    dm = dmzoo.load_datamodule("tabular", data=data, **kw)
    dm.prepare_data()
    dm.setup("fit")
    return dm


def write_csv(path, frame: pd.DataFrame, encoding: str = "utf-8"):
    path.write_bytes(frame.to_csv(index=False).encode(encoding))
    return path


@pytest.mark.parametrize("value", ["inf", "-inf", "Infinity"])
def test_infinite_feature_in_a_csv_is_rejected_naming_the_column(tmp_path, value):
    frame = table().astype({"a": object})
    frame.loc[[3, 30, 50], "a"] = value
    path = write_csv(tmp_path / "t.csv", frame)
    with pytest.raises(DataFormatError, match=r"^column 'a' of the \S+ data has \d infinite "
                                              r"value\(s\) \(e\.g\. -?inf\).*na_values="):
        setup(path, target="label")
    # the suggested way out: read them as missing, then they are imputed like any hole
    dm = setup(path, target="label", na_values=["inf", "-inf", "Infinity"])
    assert np.isfinite(dm.transform(table())["x_num"]).all()


def test_infinite_regression_target_in_parquet_is_rejected(tmp_path):
    frame = table()
    frame.loc[7, "price"] = np.inf
    path = tmp_path / "t.parquet"
    frame.to_parquet(path)
    with pytest.raises(DataFormatError, match=r"^target 'price' of the \S+ data has 1 infinite"):
        setup(path, target="price", task="regression")


def test_regression_target_beyond_float32_is_rejected(tmp_path):
    frame = table()
    frame.loc[4, "price"] = 1e300
    path = write_csv(tmp_path / "t.csv", frame)
    with pytest.raises(DataFormatError, match=r"target 'price' .* 1 value\(s\) too large for "
                                              r"float32 .*e\.g\. 1e\+300"):
        setup(path, target="price", task="regression")


def test_huge_finite_features_are_standardised_without_overflow(tmp_path):
    frame = table()
    frame["a"] = frame["a"] * 1e307  # the sum of the column overflows float64
    frame.loc[0, "b"] = 1e308
    path = tmp_path / "t.parquet"
    frame.to_parquet(path)
    dm = setup(path, target="label")
    encoded = dm.transform(frame)["x_num"]
    assert np.isfinite(encoded).all()
    a = encoded[:, dm.numerical.index("a")]
    assert abs(float(a.mean())) < 1 and 0.5 < float(a.std()) < 2
    # without standardisation the same values cannot be float32 features
    with pytest.raises(DataFormatError, match=r"column 'a' .* too large for float32 .*normalize=True"):
        setup(path, target="label", normalize=False)


def test_latin1_csv_asks_for_an_encoding_and_reads_with_it(tmp_path):
    path = write_csv(tmp_path / "t.csv", table(), encoding="latin-1")
    with pytest.raises(DataFormatError, match=r"column 'label' is not UTF-8 text "
                                              r"\(e\.g\. b'caf\\xe9'\); .*encoding='latin-1'"):
        setup(path, target="label")
    dm = setup(path, target="label", encoding="latin-1")
    assert dm.classes == ["café", "non", "oui"]


def test_latin1_header_and_tsv_with_cp1252(tmp_path):
    frame = table().rename(columns={"a": "été"})
    path = write_csv(tmp_path / "t.csv", frame, encoding="latin-1")
    with pytest.raises(DataFormatError, match=r"header is not UTF-8 text.*encoding='latin-1'"):
        setup(path, target="label")
    tsv = tmp_path / "t.tsv"
    tsv.write_bytes(frame.to_csv(index=False, sep="\t").encode("cp1252"))
    dm = setup(tsv, target="label", encoding="cp1252")
    assert "été" in dm.numerical and dm.classes == ["café", "non", "oui"]


def test_bytes_column_in_parquet_is_refused(tmp_path):
    labels = [s.encode("latin-1") for s in table()["label"]]
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"a": table()["a"], "label": pa.array(labels, pa.binary())}), path)
    with pytest.raises(DataFormatError, match="column 'label' holds bytes, not text"):
        setup(path, target="label")


@pytest.mark.parametrize("encoding", ["no-such-codec", "", 8])
def test_unknown_encoding_is_an_argument_error(tmp_path, encoding):
    path = write_csv(tmp_path / "t.csv", table())
    with pytest.raises(InvalidArgumentError, match=r"is not a text encoding Python knows"):
        dmzoo.load_datamodule("tabular", data=path, target="label", encoding=encoding)
