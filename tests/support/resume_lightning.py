"""A Lightning run on CPU that records, per training step, a fingerprint of every sample
the model saw (inputs after augmentation, and targets), for the mid-epoch resume tests.

    python resume_lightning.py --data-dir D --out steps.jsonl --ckpt-dir C [--kill-at S]
                               [--resume] [--num-workers N] [--epochs E] [--devices N]

``--kill-at S`` SIGKILLs the process at the start of step ``S + 1``, after the
``ModelCheckpoint(every_n_train_steps=S)`` save of step ``S``; ``--resume`` continues
from ``C/last.ckpt``. Each step appends one JSON line (sample fingerprints, loss); the
last line of a finished run holds the norms of the final weights. Under DDP
(``--devices N``) rank ``r > 0`` writes to ``steps.rank<r>``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
from pathlib import Path
from typing import Any

import torch
from lightning.pytorch import Callback, LightningModule, Trainer
from lightning.pytorch.callbacks import ModelCheckpoint

import dmzoo
from dmzoo.testing.batches import example_hashes as sample_fingerprints


class Recorder(LightningModule):
    def __init__(self, out: Path, features: int) -> None:
        super().__init__()
        self.net = torch.nn.Linear(features, 10)
        self.out = out

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        x, y = batch
        loss = torch.nn.functional.cross_entropy(self.net(x.flatten(1)), y)
        out = self.out if self.global_rank == 0 else self.out.with_suffix(f".rank{self.global_rank}")
        with out.open("a") as f:
            f.write(json.dumps({"epoch": self.current_epoch, "step": self.global_step,
                                "samples": sample_fingerprints(batch),
                                "loss": loss.item()}) + "\n")
        return loss

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self.parameters(), lr=0.1, momentum=0.9)


class KillAt(Callback):
    def __init__(self, step: int) -> None:
        self.step = step

    def on_train_batch_start(self, trainer: Trainer, *args: Any) -> None:
        if trainer.global_step == self.step:  # step ``step`` is done and checkpointed
            os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--ckpt-dir", type=Path, required=True)
    parser.add_argument("--kill-at", type=int, default=0)
    parser.add_argument("--resume", action="store_true")
    parser.add_argument("--num-workers", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--devices", type=int, default=1, help="> 1: DDP on CPU processes")
    parser.add_argument("--reload-every-epoch", action="store_true",
                        help="Trainer(reload_dataloaders_every_n_epochs=1): needed when "
                             "resuming with another world size (epoch lengths change)")
    args = parser.parse_args()

    torch.manual_seed(0)
    dm = dmzoo.load_datamodule("cifar10", data_dir=args.data_dir, batch_size=8, val_split=0.2,
                               augment=True, num_workers=args.num_workers)
    model = Recorder(args.out, 3 * 32 * 32)
    callbacks: list[Callback] = []
    if args.kill_at:
        callbacks.append(ModelCheckpoint(dirpath=args.ckpt_dir, every_n_train_steps=args.kill_at,
                                         save_top_k=0, save_last=True))
        if not args.resume:
            callbacks.append(KillAt(args.kill_at))
    trainer = Trainer(accelerator="cpu", devices=args.devices, max_epochs=args.epochs,
                      strategy="ddp" if args.devices > 1 else "auto", logger=False,
                      enable_checkpointing=bool(args.kill_at), callbacks=callbacks,
                      reload_dataloaders_every_n_epochs=int(args.reload_every_epoch),
                      limit_val_batches=0, num_sanity_val_steps=0, enable_progress_bar=False,
                      enable_model_summary=False)
    ckpt = str(args.ckpt_dir / "last.ckpt") if args.resume else None
    trainer.fit(model, datamodule=dm, ckpt_path=ckpt)
    if torch.distributed.is_initialized():  # gloo's threads must stop before the interpreter
        torch.distributed.destroy_process_group()  # does, or the process can end in SIGABRT
    if trainer.global_rank:
        return
    with args.out.open("a") as f:
        f.write(json.dumps({"weights": [p.detach().double().norm().item()
                                        for p in model.parameters()]}) + "\n")


if __name__ == "__main__":
    main()
