"""Train on any dmzoo datamodule with LightningCLI, chosen by registry name or class path.

    python examples/lightning_cli_train.py fit --data example/moons --data.batch_size 64
    python examples/lightning_cli_train.py fit --data dmzoo/mnist@1.0.0 --model.in_features 784 \
        --model.num_classes 10
    python examples/lightning_cli_train.py fit --data dmzoo_example_plugin.moons.MoonsDataModule
    python examples/lightning_cli_train.py fit --config run.yaml    # data: example/moons

Logs and checkpoints name the data (``dmzoo/ref``, ``split_fingerprint``);
``dmzoo.interop.datamodule_from_checkpoint(path)`` rebuilds the same datamodule.
"""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch import LightningModule

from dmzoo.interop import DmzooLightningCLI


def features_and_labels(batch: Any) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x, y)`` from a tuple batch or the first two entries of a dict batch."""
    if isinstance(batch, dict):
        batch = list(batch.values())
    return batch[0], batch[1]


class Classifier(LightningModule):
    """A small MLP on flattened features."""

    def __init__(self, in_features: int = 2, num_classes: int = 2, hidden: int = 32,
                 lr: float = 0.05) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(in_features, hidden), torch.nn.ReLU(),
                                       torch.nn.Linear(hidden, num_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x.flatten(1).float())

    def _loss(self, batch: Any, stage: str) -> torch.Tensor:
        x, y = features_and_labels(batch)
        loss = torch.nn.functional.cross_entropy(self(x), y)
        self.log(f"{stage}_loss", loss, prog_bar=True)
        return loss

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._loss(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._loss(batch, "val")

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


if __name__ == "__main__":
    DmzooLightningCLI(Classifier)
