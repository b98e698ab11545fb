"""UCI ``adult``: the datamodule, the parser of the published files and the fixture writer."""

from __future__ import annotations

import dmzoo.plugins.tabular.extra  # noqa: F401  (first: names the pip extra if missing)

# isort: split

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from dmzoo.core import storage
from dmzoo.core.errors import DataFormatError
from dmzoo.testing import fixture_from_files

from ..downloaded import DownloadedTable

ADULT_COLUMNS = (
    "age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
    "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week",
    "native_country", "income",
)
ADULT_NUMERICAL = ("age", "fnlwgt", "education_num", "capital_gain", "capital_loss", "hours_per_week")
ADULT_CLASSES = ("<=50K", ">50K")


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


# -- fixture -----------------------------------------------------------------------------------
WORKCLASS = ["Private", "Self-emp-not-inc", "State-gov", "?"]
EDUCATION = ["Bachelors", "HS-grad", "Masters", "Some-college"]
COUNTRY = ["United-States", "Mexico", "India", "?"]


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


def fixture(folder: Path, spec: Any) -> dict[str, Any]:
    """40 training and 16 test rows in the UCI format, prepared offline."""
    return fixture_from_files(spec, folder, adult_files(40, 16), batch_size=8)
