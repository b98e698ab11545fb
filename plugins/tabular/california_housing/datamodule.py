"""California housing: the datamodule, the parser of the StatLib archive and the fixture writer."""

from __future__ import annotations

import dmzoo.plugins.tabular.extra  # noqa: F401  (first: names the pip extra if missing)

# isort: split

import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from dmzoo.core import storage
from dmzoo.core.errors import DataFormatError
from dmzoo.plugins.vision.formats import tar_gz_bytes
from dmzoo.testing import fixture_from_files

from ..downloaded import DownloadedTable

HOUSING_MEMBER = "CaliforniaHousing/cal_housing.data"
# Column order inside cal_housing.data (the StatLib file).
HOUSING_RAW = ("longitude", "latitude", "housing_median_age", "total_rooms", "total_bedrooms",
               "population", "households", "median_income", "median_house_value")
HOUSING_FEATURES = ("MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup",
                    "Latitude", "Longitude")
HOUSING_TARGET = "MedHouseVal"


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


# -- fixture -----------------------------------------------------------------------------------
HOUSING_DOMAIN = b"longitude: continuous.\nlatitude: continuous.\n"


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


def fixture(folder: Path, spec: Any) -> dict[str, Any]:
    """A 40-row ``cal_housing.tgz``, prepared offline."""
    return fixture_from_files(spec, folder, {"cal_housing.tgz": housing_archive(housing_rows(40))},
                              batch_size=8)
