"""A minimal real DataModule whose prepare_data goes through ``dmzoo.core.storage``."""

from __future__ import annotations

from dmzoo import DataModule
from dmzoo.core import storage

from .storage_helpers import build_copy


class ToyDataModule(DataModule):
    """Downloads and builds with :func:`build_copy`; ``setup`` finds the prepared folder."""

    def __init__(self, data_dir: str | None = None) -> None:
        super().__init__()
        self.data_dir = data_dir
        self.root = None

    def prepare_data(self) -> None:
        storage.prepare(self.spec, build_copy, data_dir=self.data_dir)

    def setup(self, stage: str | None = None) -> None:
        self.root = storage.prepared_dir(self.spec, self.data_dir)
