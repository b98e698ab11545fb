"""Points from a downloaded CSV: how a plugin uses dmzoo's verified storage.

``prepare_data`` downloads (or imports) ``points.csv``, checks its sha256 and
converts it once into ``.npy`` arrays; ``setup`` only reads them. Under
torch.distributed, Lightning calls ``prepare_data`` on one process per node
(``prepare_data_per_node=True``) or one in total, and ``setup`` everywhere.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

import dmzoo
from dmzoo.core import storage

CLASSES = ("circle", "square", "triangle")


def build(files: Mapping[str, Path], out_dir: Path) -> None:
    """CSV (``x,y,shape``) to ``x.npy`` (float32 [N, 2]) and ``y.npy`` (int64 [N])."""
    with open(files["points.csv"], newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    if not rows or set(rows[0]) != {"x", "y", "shape"}:
        raise dmzoo.errors.DataFormatError(
            f"{files['points.csv']}: expected the columns x,y,shape; the file is not points.csv")
    x = np.array([[float(r["x"]), float(r["y"])] for r in rows], dtype=np.float32)
    y = np.array([CLASSES.index(r["shape"]) for r in rows], dtype=np.int64)
    np.save(out_dir / "x.npy", x)
    np.save(out_dir / "y.npy", y)


class PointsDataModule(dmzoo.DataModule):
    """``(x[B, 2], y[B])`` batches; every 5th row (after a seeded shuffle) is validation."""

    classes = CLASSES

    def __init__(self, data_dir: str | None = None, batch_size: int = 32, seed: int = 0) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.data_dir, self.batch_size, self.seed = data_dir, batch_size, seed

    def prepare_data(self) -> None:
        storage.prepare(self.spec, build, data_dir=self.data_dir)

    def _arrays(self) -> tuple[np.ndarray, np.ndarray]:
        folder = storage.prepared_dir(self.spec, self.data_dir)
        return np.load(folder / "x.npy"), np.load(folder / "y.npy")

    def _split(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        order = np.random.default_rng(self.seed).permutation(n)
        return np.sort(order[n // 5:]), np.sort(order[: n // 5])

    def setup(self, stage: str | None = None) -> None:
        x, y = self._arrays()
        train, val = self._split(len(y))
        self.fingerprint = hashlib.sha256(train.tobytes() + b"|" + val.tobytes()).hexdigest()[:16]
        self.train_set = TensorDataset(torch.from_numpy(x[train]), torch.from_numpy(y[train]))
        self.val_set = TensorDataset(torch.from_numpy(x[val]), torch.from_numpy(y[val]))

    def train_dataloader(self) -> DataLoader:
        g = torch.Generator().manual_seed(self.seed)
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True, generator=g)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.batch_size)

    def state_dict(self) -> dict[str, Any]:
        if not hasattr(self, "fingerprint"):
            self.setup()
        return {**super().state_dict(), "split_fingerprint": self.fingerprint}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        if not hasattr(self, "fingerprint"):
            self.setup()
        if state.get("split_fingerprint") not in (None, self.fingerprint):
            raise dmzoo.errors.SplitMismatchError(
                f"the checkpoint was made with other {self.spec.ref} splits "
                f"({state['split_fingerprint']} vs {self.fingerprint}); use the same seed "
                "and data version")

    # gallery protocol
    def preview(self, n: int = 5) -> list[dict[str, Any]]:
        x, y = self._arrays()
        return [{"x": float(a), "y": float(b), "shape": CLASSES[c]} for (a, b), c in zip(x[:n], y[:n], strict=True)]

    def class_counts(self, split: str = "train") -> dict[str, int]:
        if not hasattr(self, "train_set"):
            self.setup()
        labels = {"train": self.train_set, "val": self.val_set}[split].tensors[1]
        return {c: int((labels == i).sum()) for i, c in enumerate(CLASSES)}
