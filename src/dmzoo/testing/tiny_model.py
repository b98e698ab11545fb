"""A one-parameter LightningModule that trains on any ``(inputs, target)`` batch (for
fast_dev_run checks); predict batches may also be ``inputs`` alone."""

from __future__ import annotations

from typing import Any


def tiny_module(pl: Any) -> Any:
    """A module of the given Lightning package (``lightning.pytorch`` or ``pytorch_lightning``)."""
    # deferred: torch is heavy; importing this module must not load it
    import torch

    # deferred: import cycle with .checks, which imports this module
    from .checks import first_tensor

    class TinyModule(pl.LightningModule):
        def __init__(self) -> None:
            super().__init__()
            self.w = torch.nn.Parameter(torch.zeros(()))
            self.seen_batches = 0

        def _loss(self, batch: Any) -> torch.Tensor:
            inputs, _target = batch
            x = first_tensor(inputs).float()
            return (self.w * x.mean() - 1.0) ** 2

        def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            self.seen_batches += 1
            return self._loss(batch)

        def validation_step(self, batch: Any, batch_idx: int) -> None:
            self._loss(batch)

        def test_step(self, batch: Any, batch_idx: int) -> None:
            self._loss(batch)

        def predict_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
            return self.w * first_tensor(batch).float().mean()

        def configure_optimizers(self) -> torch.optim.Optimizer:
            return torch.optim.SGD(self.parameters(), lr=0.01)

    return TinyModule()
