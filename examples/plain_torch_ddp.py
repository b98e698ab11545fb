"""Train on a dmzoo datamodule with plain torch.distributed (no Lightning), e.g. with torchrun.

    torchrun --nproc-per-node 2 examples/plain_torch_ddp.py --data example/points
    torchrun --nproc-per-node 2 examples/plain_torch_ddp.py --data wine    # any classification
    # two nodes: on each, with NODE_RANK=0 / 1 and a shared MASTER_ADDR:
    torchrun --nnodes 2 --node-rank $NODE_RANK --nproc-per-node 2 \
        --master-addr $MASTER_ADDR --master-port 29500 examples/plain_torch_ddp.py --data example/points

The recipe (what Lightning's DDP strategy does for you):

1. every rank builds the datamodule: ``dm = dmzoo.load_datamodule(name, ...)``;
2. ``prepare_data()`` runs on LOCAL_RANK 0 of each node when ``dm.prepare_data_per_node``
   is True (the default; each node has its own data dir), or on RANK 0 only when it is
   False (``--prepare-once``; the data dir must be shared by all nodes);
3. ``dist.barrier()``: no rank reads the data before it is written;
4. ``setup("fit")`` on every rank;
5. the train loader gets a ``DistributedSampler`` and ``sampler.set_epoch(epoch)`` each
   epoch: every example once per epoch across ranks, a new shuffle every epoch.

Steps 2-4 are ``dmzoo.interop.prepare_then_setup``; step 5 is ``distributed_loader``.
Batches are ``(inputs, target)``, ``inputs`` a tensor or a dict of tensors (tables); the
linear model is sized from the spec (``spec.input_size``, ``spec.num_classes``).
``--report DIR`` writes what each rank did (for dmzoo's tests).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
from pathlib import Path

import torch
import torch.distributed as dist

import dmzoo
from dmzoo.batches import flat_inputs
from dmzoo.interop import distributed_loader, prepare_then_setup, rank_info


def row_ids(x: torch.Tensor) -> list[str]:
    """A short content hash per example (to check shard coverage)."""
    return [hashlib.sha1(row.numpy().tobytes()).hexdigest()[:16] for row in x]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default="example/points")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--classes", type=int, help="default: from the spec's target feature")
    parser.add_argument("--prepare-once", action="store_true",
                        help="prepare_data on global rank 0 only (shared data dir)")
    parser.add_argument("--backend", default="gloo")
    parser.add_argument("--report", type=Path)
    args = parser.parse_args()

    dist.init_process_group(args.backend)  # reads MASTER_ADDR/PORT, RANK, WORLD_SIZE
    info = rank_info()
    dm = dmzoo.load_datamodule(args.data, batch_size=args.batch_size)
    dm.prepare_data_per_node = not args.prepare_once
    prepared = prepare_then_setup(dm, "fit")
    loader = distributed_loader(dm.train_dataloader())

    model = torch.nn.parallel.DistributedDataParallel(
        torch.nn.Linear(dm.spec.input_size, args.classes or dm.spec.num_classes))
    optim = torch.optim.SGD(model.parameters(), lr=0.1)
    seen: list[list[str]] = []
    for epoch in range(args.epochs):
        loader.sampler.set_epoch(epoch)  # without it every epoch repeats the same order
        seen.append([])
        for inputs, y in loader:
            x = flat_inputs(inputs)
            seen[-1] += row_ids(x)
            loss = torch.nn.functional.cross_entropy(model(x), y)
            optim.zero_grad()
            loss.backward()  # DDP averages gradients across ranks here
            optim.step()
    weights = torch.cat([p.detach().flatten() for p in model.parameters()])
    if args.report:
        args.report.mkdir(parents=True, exist_ok=True)
        (args.report / f"rank{info.rank}.json").write_text(json.dumps({
            **info.__dict__, "prepared": prepared, "epochs": seen,
            "data_home": os.environ.get("DMZOO_HOME"), "weights": weights.tolist(),
        }))
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
