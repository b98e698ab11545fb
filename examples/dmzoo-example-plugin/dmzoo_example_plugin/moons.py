"""Two moons, generated in memory: the smallest complete dmzoo datamodule."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

import dmzoo


def make_moons(n: int, noise: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` points on two interleaving half circles, plus Gaussian ``noise``."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    angle = rng.uniform(0, np.pi, n)
    x = np.stack([np.cos(angle) + y, np.sin(angle) * (1 - 2 * y) + 0.5 * y], axis=1)
    x += rng.normal(0, noise, x.shape)
    return x.astype(np.float32), y.astype(np.int64)


class MoonsDataModule(dmzoo.DataModule):
    """``n`` points (``val_fraction`` held out); batches are ``(x[B, 2], y[B])``.

    Version 1.1.0 passes ``predict_grid=20``: a grid of unlabelled points to predict on,
    so its predict batches are inputs only, ``x[B, 2]``.
    """

    classes = ("upper", "lower")

    def __init__(self, n: int = 1000, noise: float = 0.1, val_fraction: float = 0.2,
                 batch_size: int = 64, seed: int = 0, predict_grid: int = 0) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.n, self.noise, self.val_fraction = n, noise, val_fraction
        self.batch_size, self.seed, self.predict_grid = batch_size, seed, predict_grid
        self._expected_fingerprint: str | None = None

    def train_val_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """Train and val row indices: a permutation drawn from ``seed``."""
        order = np.random.default_rng(self.seed + 1).permutation(self.n)
        cut = self.n - int(round(self.n * self.val_fraction))
        return np.sort(order[:cut]), np.sort(order[cut:])

    def split_fingerprint(self) -> str:
        train, val = self.train_val_rows()
        return hashlib.sha256(train.tobytes() + b"|" + val.tobytes()).hexdigest()[:16]

    def setup(self, stage: str | None = None) -> None:
        if self._expected_fingerprint not in (None, self.split_fingerprint()):
            raise dmzoo.errors.SplitMismatchError(
                f"the checkpoint was made with other moons splits (fingerprint "
                f"{self._expected_fingerprint}, now {self.split_fingerprint()}); "
                "use the same n, val_fraction and seed")
        x, y = make_moons(self.n, self.noise, self.seed)
        train, val = self.train_val_rows()
        self.train_set = TensorDataset(torch.from_numpy(x[train]), torch.from_numpy(y[train]))
        self.val_set = TensorDataset(torch.from_numpy(x[val]), torch.from_numpy(y[val]))

    def train_dataloader(self) -> DataLoader:
        g = torch.Generator().manual_seed(self.seed)
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True, generator=g)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.batch_size)

    def predict_dataloader(self) -> DataLoader:
        if not self.predict_grid:
            return super().predict_dataloader()  # raises the "not defined" error
        axis = torch.linspace(-1.5, 2.5, self.predict_grid)
        grid = torch.cartesian_prod(axis, axis)
        return DataLoader(grid, batch_size=self.batch_size)  # unlabelled: inputs only

    def state_dict(self) -> dict[str, Any]:
        return {**super().state_dict(), "split_fingerprint": self.split_fingerprint()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        self._expected_fingerprint = state.get("split_fingerprint")
        if self._expected_fingerprint not in (None, self.split_fingerprint()):
            self.setup()  # raises SplitMismatchError with the explanation

    # gallery protocol
    def preview(self, n: int = 5) -> list[dict[str, Any]]:
        x, y = make_moons(self.n, self.noise, self.seed)
        return [{"x0": float(a), "x1": float(b), "label": self.classes[c]}
                for (a, b), c in zip(x[:n], y[:n], strict=True)]

    def class_counts(self, split: str = "train") -> dict[str, int]:
        _, y = make_moons(self.n, self.noise, self.seed)
        rows = dict(zip(("train", "val"), self.train_val_rows(), strict=True))[split]
        return {c: int((y[rows] == i).sum()) for i, c in enumerate(self.classes)}
