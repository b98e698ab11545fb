"""The toy datamodule: deterministic Gaussian blobs held in memory."""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, TensorDataset

import dmzoo


class ToyDataModule(dmzoo.DataModule):
    """Two Gaussian blobs; ``n`` points of ``dim`` features, 80/20 train/test."""

    def __init__(self, n: int = 80, dim: int = 2, batch_size: int = 16, seed: int = 0) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.n, self.dim, self.batch_size, self.seed = n, dim, batch_size, seed

    def setup(self, stage: str | None = None) -> None:
        g = torch.Generator().manual_seed(self.seed)
        y = torch.arange(self.n) % 2
        x = torch.randn(self.n, self.dim, generator=g) + y[:, None].float() * 3
        cut = int(self.n * 0.8)
        self.train = TensorDataset(x[:cut], y[:cut])
        self.test = TensorDataset(x[cut:], y[cut:])

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train, batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.test, batch_size=self.batch_size)

    def test_dataloader(self) -> DataLoader:
        return DataLoader(self.test, batch_size=self.batch_size)
