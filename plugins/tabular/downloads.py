"""Tables downloaded through the storage layer: UCI ``adult`` and ``california_housing``.

``prepare_data()`` fetches the upstream files (mirrors, checksums, locks: all in
:mod:`dmzoo.core.storage`) and converts them once into Parquet in the prepared
folder; ``setup()`` reads that Parquet into the generic tabular machinery. The
upstream-format writers at the end make each spec's offline fixture (``dmzoo check``)
and the tests' bigger stand-ins, served through the real storage path.
"""

from __future__ import annotations

import dmzoo.plugins.tabular.extra  # noqa: F401  (first: names the pip extra if missing)

# isort: split

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from dmzoo.core import storage
from dmzoo.core.errors import DataFormatError, SpecError
from dmzoo.plugins.vision.formats import tar_gz_bytes

from .datamodule import TabularBase
from .sources import arrow_to_frame

ADULT_COLUMNS = (
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
    "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week",
    "native_country", "income",
)
ADULT_NUMERICAL = ("age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week")
ADULT_CLASSES = ("<=50K", ">50K")
HOUSING_MEMBER = "CaliforniaHousing/cal_housing.data"
# Column order inside cal_housing.data (the StatLib file).
HOUSING_RAW = ("longitude", "latitude", "housing_median_age", "total_rooms", "total_bedrooms",
               "population", "households", "median_income", "median_house_value")
HOUSING_FEATURES = ("MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup",
                    "Latitude", "Longitude")
HOUSING_TARGET = "MedHouseVal"


class DownloadedTable(TabularBase):
    """A table fetched by :func:`dmzoo.core.storage.prepare` and cached as Parquet."""

    has_test_file = False

    def __init__(self, data_dir: str | None = None, *args: Any, **options: Any) -> None:
        self.data_dir = data_dir
        super().__init__(*args, **options)

    @staticmethod
    def build(files: Mapping[str, Path], out_dir: Path) -> None:
        """Convert the verified upstream files into Parquet under ``out_dir``."""
        raise NotImplementedError

    def _require_spec(self) -> Any:
        if self.spec is None:
            raise SpecError(f"{type(self).__name__} has no registered spec; "
                            "load it with dmzoo.load_datamodule(name)")
        return self.spec

    def prepare_data(self) -> None:
        storage.prepare(self._require_spec(), self.build, data_dir=self.data_dir)

    def load_frames(self) -> tuple[pd.DataFrame, pd.DataFrame | None]:
        folder = storage.prepared_dir(self._require_spec(), data_dir=self.data_dir)
        if self.has_test_file:
            return _read_parquet(folder / "train.parquet"), _read_parquet(folder / "test.parquet")
        return _read_parquet(folder / "data.parquet"), None


class AdultDataModule(DownloadedTable):
    """UCI Adult (census income): 32,561 train + 16,281 test rows, 6 numerical and
    8 categorical columns with missing values (``?``), target ``income`` (<=50K / >50K).

    The official test file is the test split; ``val_split`` is taken from the training file
    (``test_split`` is not used).
    """

    target = "income"
    task_arg = "classification"
    classes_arg = list(ADULT_CLASSES)
    numerical_arg = list(ADULT_NUMERICAL)
    has_test_file = True

    @staticmethod
    def build(files: Mapping[str, Path], out_dir: Path) -> None:
        for name, out in (("adult.data", "train.parquet"), ("adult.test", "test.parquet")):
            pq.write_table(parse_adult(files[name]), out_dir / out)


class CaliforniaHousingDataModule(DownloadedTable):
    """California housing (1990 census, StatLib): 20,640 block groups, 8 numerical features,
    target ``MedHouseVal`` (median house value in units of 100,000 USD); a regression.

    Features are derived from the raw archive the way scikit-learn documents them
    (rooms, bedrooms and occupants per household).
    """

    target = HOUSING_TARGET
    task_arg = "regression"
    numerical_arg = list(HOUSING_FEATURES)

    @staticmethod
    def build(files: Mapping[str, Path], out_dir: Path) -> None:
        with tempfile.TemporaryDirectory(dir=out_dir.parent) as tmp:
            storage.extract(files["cal_housing.tgz"], Path(tmp) / "x")
            member = Path(tmp) / "x" / HOUSING_MEMBER
            if not member.is_file():
                raise DataFormatError(f"cal_housing.tgz has no {HOUSING_MEMBER}; "
                                      "is it the StatLib archive?")
            table = parse_housing(member)
        pq.write_table(table, out_dir / "data.parquet")


def parse_adult(path: Path) -> pa.Table:
    """Read ``adult.data`` / ``adult.test`` as published.

    Quirks handled: no header; ``adult.test`` starts with the line ``|1x3 Cross validator``;
    values follow ``", "`` (leading blanks); ``?`` means missing; test labels end in ``.``;
    the files end with blank lines.
    """
    try:
        with storage.open_maybe_gzip(path) as f:
            skip = 1 if f.readline().startswith(b"|") else 0
            f.seek(0)
            table = pcsv.read_csv(
                f,
                read_options=pcsv.ReadOptions(column_names=list(ADULT_COLUMNS), skip_rows=skip),
                convert_options=pcsv.ConvertOptions(
                    null_values=["?", " ?"], strings_can_be_null=True,
                    column_types={c: pa.float64() for c in ADULT_NUMERICAL},
                ),
            )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise DataFormatError(f"{path.name} is not in the UCI adult format: {exc}") from None
    columns = {}
    for name, column in zip(table.column_names, table.columns, strict=False):
        if name not in ADULT_NUMERICAL:
            column = pc.utf8_trim_whitespace(column.cast(pa.string()))
        columns[name] = column
    columns["income"] = pc.replace_substring_regex(columns["income"], pattern=r"\.$", replacement="")
    table = pa.table(columns)
    labels = set(pc.unique(table["income"]).to_pylist())
    if not labels <= set(ADULT_CLASSES):
        raise DataFormatError(f"{path.name}: unexpected income label(s) {sorted(map(str, labels - set(ADULT_CLASSES)))}; "
                              f"expected {ADULT_CLASSES}")
    return table


def parse_housing(path: Path) -> pa.Table:
    """Read ``cal_housing.data`` (9 comma-separated numbers per line) and derive the features."""
    try:
        raw = pcsv.read_csv(path, read_options=pcsv.ReadOptions(column_names=list(HOUSING_RAW)),
                            convert_options=pcsv.ConvertOptions(
                                column_types={c: pa.float64() for c in HOUSING_RAW}))
    except pa.ArrowInvalid as exc:
        raise DataFormatError(f"{HOUSING_MEMBER} does not parse as 9 numbers per line: {exc}") from None
    r = {c: raw[c].to_numpy() for c in HOUSING_RAW}
    households = r["households"]
    if raw.num_rows == 0 or np.any(households <= 0):
        raise DataFormatError(f"{HOUSING_MEMBER}: empty, or a row with no households")
    return pa.table({
        "MedInc": r["median_income"],
        "HouseAge": r["housing_median_age"],
        "AveRooms": r["total_rooms"] / households,
        "AveBedrms": r["total_bedrooms"] / households,
        "Population": r["population"],
        "AveOccup": r["population"] / households,
        "Latitude": r["latitude"],
        "Longitude": r["longitude"],
        HOUSING_TARGET: r["median_house_value"] / 100_000.0,
    })


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return arrow_to_frame(pq.read_table(path))
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataFormatError(f"prepared file {path} cannot be read ({exc}); "
                              "run 'dmzoo cache rm' for this dataset and prepare it again") from None


# -- fixtures -------------------------------------------------------------------------------
WORKCLASS = ["Private", "Self-emp-not-inc", "State-gov", "?"]
EDUCATION = ["Bachelors", "HS-grad", "Masters", "Some-college"]
COUNTRY = ["United-States", "Mexico", "India", "?"]
HOUSING_DOMAIN = b"longitude: continuous.\nlatitude: continuous.\n"


def adult_lines(n: int, rng: np.random.Generator, test: bool) -> list[str]:
    """Rows like the UCI files: ', ' separators, '?' for missing, test labels end in '.'."""
    lines = []
    for _ in range(n):
        label = rng.choice(["<=50K", ">50K"], p=[0.75, 0.25])
        fields = [
            str(rng.integers(17, 90)), rng.choice(WORKCLASS), str(rng.integers(10_000, 900_000)),
            rng.choice(EDUCATION), str(rng.integers(1, 17)), "Never-married",
            rng.choice(["Adm-clerical", "Exec-managerial", "?"]), "Not-in-family",
            rng.choice(["White", "Black"]), rng.choice(["Male", "Female"]),
            str(rng.choice([0, 2174, 14084])), "0", str(rng.integers(1, 99)),
            rng.choice(COUNTRY), label + ("." if test else ""),
        ]
        lines.append(", ".join(fields))
    return lines


def adult_files(n_train: int = 240, n_test: int = 120, seed: int = 0) -> dict[str, bytes]:
    """``adult.data`` (ends with a blank line) and ``adult.test`` (starts with ``|1x3 ...``)."""
    rng = np.random.default_rng(seed)
    train = "\n".join(adult_lines(n_train, rng, test=False)) + "\n\n"
    test = "|1x3 Cross validator\n" + "\n".join(adult_lines(n_test, rng, test=True)) + "\n"
    return {"adult.data": train.encode(), "adult.test": test.encode()}


def housing_rows(n: int = 200, seed: int = 1) -> np.ndarray:
    """``n`` rows of the 9 StatLib columns, plausible ranges."""
    rng = np.random.default_rng(seed)
    households = rng.integers(50, 900, n).astype(float)
    return np.column_stack([
        rng.uniform(-124.3, -114.3, n), rng.uniform(32.5, 42.0, n), rng.integers(1, 52, n),
        households * rng.uniform(3, 8, n), households * rng.uniform(0.8, 1.3, n),
        households * rng.uniform(1.5, 4, n), households, rng.uniform(0.5, 15, n),
        rng.integers(15_000, 500_001, n),
    ]).round(6)


def housing_archive(rows: np.ndarray) -> bytes:
    """``cal_housing.tgz`` as on StatLib: ``CaliforniaHousing/cal_housing.{data,domain}``."""
    data = "".join(",".join(f"{v:f}" for v in row) + "\n" for row in rows).encode()
    return tar_gz_bytes({"CaliforniaHousing/cal_housing.data": data,
                         "CaliforniaHousing/cal_housing.domain": HOUSING_DOMAIN})


def adult_fixture(folder: Path, spec: Any) -> dict[str, Any]:
    """40 training and 16 test rows in the UCI format, prepared offline."""
    from dmzoo.testing import fixture_from_files

    return fixture_from_files(spec, folder, adult_files(40, 16), batch_size=8)


def california_housing_fixture(folder: Path, spec: Any) -> dict[str, Any]:
    """A 40-row ``cal_housing.tgz``, prepared offline."""
    from dmzoo.testing import fixture_from_files

    return fixture_from_files(spec, folder, {"cal_housing.tgz": housing_archive(housing_rows(40))},
                              batch_size=8)
