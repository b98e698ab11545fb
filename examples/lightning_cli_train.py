"""Train on any dmzoo classification datamodule with LightningCLI, chosen by registry name
or class path.

    python examples/lightning_cli_train.py fit --data example/moons --data.batch_size 64
    python examples/lightning_cli_train.py fit --data wine --trainer.max_epochs 20
    python examples/lightning_cli_train.py fit --data dmzoo/mnist@1.0.0 --model.hidden 128
    python examples/lightning_cli_train.py fit --data dmzoo_example_plugin.moons.MoonsDataModule
    python examples/lightning_cli_train.py fit --config run.yaml    # data: example/moons

Every dmzoo loader yields ``(inputs, target)``; ``inputs`` is a tensor (images, points) or a
dict of tensors (tables). The model sizes itself from the datamodule's spec: the flattened
input width (``spec.input_size``) and the number of classes of the target feature
(``spec.num_classes``), so no per-dataset code is needed. Logs and checkpoints name the data
(``dmzoo/ref``, ``split_fingerprint``); ``dmzoo.interop.datamodule_from_checkpoint(path)``
rebuilds the same datamodule.
"""

from __future__ import annotations

from typing import Any

import torch
from lightning.pytorch import LightningModule

from dmzoo.batches import flat_inputs
from dmzoo.errors import InvalidArgumentError
from dmzoo.interop import DmzooLightningCLI


class Classifier(LightningModule):
    """A small MLP on the flattened inputs; sizes left as None come from the data's spec."""

    def __init__(self, in_features: int | None = None, num_classes: int | None = None,
                 hidden: int = 32, lr: float = 0.05) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.net: torch.nn.Module | None = None

    def setup(self, stage: str) -> None:
        if self.net is not None:
            return
        spec = self.trainer.datamodule.spec
        sizes = {"in_features": self.hparams.in_features or spec.input_size,
                 "num_classes": self.hparams.num_classes or spec.num_classes}
        missing = [name for name, size in sizes.items() if not size]
        if missing:
            raise InvalidArgumentError(
                f"{spec.ref} does not declare {' and '.join(missing)}; pass "
                + " ".join(f"--model.{name} N" for name in missing))
        self.net = torch.nn.Sequential(torch.nn.Linear(sizes["in_features"], self.hparams.hidden),
                                       torch.nn.ReLU(),
                                       torch.nn.Linear(self.hparams.hidden, sizes["num_classes"]))

    def forward(self, inputs: Any) -> torch.Tensor:
        return self.net(flat_inputs(inputs))

    def _loss(self, batch: Any, stage: str) -> torch.Tensor:
        inputs, target = batch
        loss = torch.nn.functional.cross_entropy(self(inputs), target)
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
    if torch.distributed.is_initialized():  # with --trainer.strategy ddp: gloo's threads must
        torch.distributed.destroy_process_group()  # stop before the interpreter does (SIGABRT)
