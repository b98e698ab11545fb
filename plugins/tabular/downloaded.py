"""The base of the tables downloaded through the storage layer (``adult/``,
``california_housing/``).

``prepare_data()`` fetches the upstream files (mirrors, checksums, locks: all in
:mod:`dmzoo.core.storage`) and converts them once into Parquet in the prepared
folder (the subclass's ``build``); ``setup()`` reads that Parquet into the generic
tabular machinery.
"""

from __future__ import annotations

import dmzoo.plugins.tabular.extra  # noqa: F401  (first: names the pip extra if missing)

# isort: split

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from dmzoo.core import storage
from dmzoo.core.errors import DataFormatError, SpecError

from .datamodule import TabularBase
from .sources import arrow_to_frame


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
            return read_parquet(folder / "train.parquet"), read_parquet(folder / "test.parquet")
        return read_parquet(folder / "data.parquet"), None


def read_parquet(path: Path) -> pd.DataFrame:
    try:
        return arrow_to_frame(pq.read_table(path))
    except (OSError, pa.ArrowInvalid) as exc:
        raise DataFormatError(f"prepared file {path} cannot be read ({exc}); "
                              "run 'dmzoo cache rm' for this dataset and prepare it again") from None
