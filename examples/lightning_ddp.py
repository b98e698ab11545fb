"""Lightning DDP with a dmzoo datamodule: Lightning calls ``prepare_data`` once per node
(``prepare_data_per_node=True``, default) or once in total (False), ``setup`` on every
rank, and shards the training loader with a ``DistributedSampler`` (``set_epoch`` each epoch).

    python examples/lightning_ddp.py --data example/points --devices 2
    python examples/lightning_ddp.py --data wine --devices 2     # any classification
    # two nodes of two processes, launched by a cluster manager setting NODE_RANK,
    # LOCAL_RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT for each process:
    python examples/lightning_ddp.py --data example/points --devices 2 --num-nodes 2

Batches are ``(inputs, target)``, ``inputs`` a tensor or a dict of tensors (tables); the
linear model is sized from the spec (``spec.input_size``, ``spec.num_classes``).
``--report DIR`` writes the examples each rank trained on, per epoch (for dmzoo's tests).
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import LightningModule, Trainer

import dmzoo
from dmzoo.batches import flat_inputs


class Recorder(LightningModule):
    """A linear classifier that also records which examples each epoch trained on."""

    def __init__(self, in_features: int, num_classes: int) -> None:
        super().__init__()
        self.net = torch.nn.Linear(in_features, num_classes)
        self.seen: list[list[str]] = []

    def on_train_epoch_start(self) -> None:
        self.seen.append([])

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        inputs, y = batch
        x = flat_inputs(inputs)
        self.seen[-1] += [hashlib.sha1(r.cpu().numpy().tobytes()).hexdigest()[:16] for r in x]
        return torch.nn.functional.cross_entropy(self.net(x), y)

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="example/points")
    parser.add_argument("--devices", type=int, default=2)
    parser.add_argument("--num-nodes", type=int, default=1)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--prepare-once", action="store_true",
                        help="prepare_data on global rank 0 only (shared data dir)")
    parser.add_argument("--report", type=Path)
    args = parser.parse_args()

    dm = dmzoo.load_datamodule(args.data, batch_size=args.batch_size)
    dm.prepare_data_per_node = not args.prepare_once
    model = Recorder(dm.spec.input_size, dm.spec.num_classes)
    trainer = Trainer(accelerator="cpu", devices=args.devices, num_nodes=args.num_nodes,
                      strategy="ddp", max_epochs=args.epochs, logger=False,
                      enable_checkpointing=False, enable_progress_bar=False,
                      enable_model_summary=False)
    trainer.fit(model, datamodule=dm)
    if torch.distributed.is_initialized():  # gloo's threads must stop before the interpreter
        torch.distributed.destroy_process_group()  # does, or the process can end in SIGABRT
    if args.report:
        args.report.mkdir(parents=True, exist_ok=True)
        (args.report / f"rank{trainer.global_rank}.json").write_text(json.dumps({
            "rank": trainer.global_rank, "local_rank": trainer.local_rank,
            "node_rank": trainer.node_rank, "world_size": trainer.world_size,
            "epochs": model.seen,
        }))


if __name__ == "__main__":
    main()
