"""Type-checked, not run: with Lightning installed, a type checker sees that dmzoo
datamodules are Lightning ``LightningDataModule``s (``tests/test_typecheck.py`` runs mypy
on this file; so does CI)."""

from __future__ import annotations

import lightning.pytorch as pl
import torch
from torch.utils.data import DataLoader, TensorDataset

import dmzoo


class MyDM(dmzoo.DataModule):
    def __init__(self, batch_size: int = 4) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.batch_size = batch_size

    def setup(self, stage: str | None = None) -> None:
        self.data = TensorDataset(torch.zeros(8, 3), torch.zeros(8))

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.data, batch_size=self.batch_size)


def train(model: pl.LightningModule) -> None:
    trainer = pl.Trainer(max_epochs=1)
    trainer.fit(model, datamodule=MyDM())
    trainer.fit(model, datamodule=dmzoo.load_datamodule("mnist", batch_size=64))
    base: pl.LightningDataModule = dmzoo.DataModule()
    trainer.validate(model, datamodule=base)
