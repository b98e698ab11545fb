"""Upstream-format writers for the downloaded tables, and each tabular spec's fixture.

``dmzoo check tabular`` builds every datamodule offline from its spec's ``fixture``
(see :mod:`dmzoo.testing.fixture`); the tests use the same writers for bigger
stand-ins of files that cannot be downloaded here, served through the real storage path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from dmzoo.plugins.vision.fixtures import tar_gz_bytes

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


def tabular_fixture(folder: Path) -> dict[str, Any]:
    """A 48-row CSV with numerical and categorical columns, for the generic ``tabular``."""
    rows = ["size,colour,weight,label"] + [
        f"{i % 7 + 0.5},{('red', 'green', 'blue')[i % 3]},{(i * 37) % 11 * 1.5},"
        f"{('cat', 'dog')[(i // 2) % 2]}" for i in range(48)]
    path = Path(folder) / "table.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return {"data": str(path), "target": "label", "batch_size": 8}
