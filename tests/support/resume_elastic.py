"""One rank of an elastic resume test (gloo, CPU): the loader shards itself from the
initialised process group.

    RANK=.. WORLD_SIZE=.. MASTER_ADDR=.. MASTER_PORT=.. python resume_elastic.py save|resume STATE OUT_DIR --k K

``save`` takes ``K`` batches of epoch 0 and rank 0 writes the loader's state; ``resume``
loads it and takes the rest of the epoch, then epoch 1. Each rank writes the sample ids
it saw, per pass, to ``OUT_DIR/rank<R>.json``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist

from dmzoo.core.fastloader import ArrayDataset, make_loader

N, BATCH, SEED = 53, 4, 5  # 53 samples: uneven for 2 ranks and for batches of 4


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["save", "resume"])
    parser.add_argument("state", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--k", type=int, default=0)
    args = parser.parse_args()

    dist.init_process_group("gloo")
    ids = np.arange(N, dtype=np.int64)
    loader = make_loader(ArrayDataset({"id": ids, "x": ids.astype(np.float32)}),
                         batch_size=BATCH, shuffle=True, seed=SEED)
    passes: list[list[int]] = []
    if args.mode == "save":
        batches = iter(loader)
        passes.append([int(i) for _ in range(args.k) for i in next(batches)["id"]])
        if dist.get_rank() == 0:
            torch.save(loader.state_dict(), args.state)
    else:
        loader.load_state_dict(torch.load(args.state))
        for _ in range(2):
            passes.append([int(i) for batch in loader for i in batch["id"]])
    dist.barrier()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"rank{dist.get_rank()}.json").write_text(json.dumps(
        {"world": dist.get_world_size(), "sampler_world": loader.sampler.num_replicas,
         "passes": passes}))
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
