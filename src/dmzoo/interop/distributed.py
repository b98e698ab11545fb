"""The plain-PyTorch (``torchrun``) recipe for a dmzoo datamodule, as two helpers.

Which process calls what::

    dm = dmzoo.load_datamodule(name, **kwargs)    # every rank
    prepare_then_setup(dm, "fit")                 # prepare_data on LOCAL_RANK 0 of each node
                                                  # (prepare_data_per_node=True) or on RANK 0
                                                  # only (False; needs a shared data dir),
                                                  # then dist.barrier(), then setup on every rank
    loader = distributed_loader(dm.train_dataloader())   # DistributedSampler over the
    for epoch in range(epochs):                           # same dataset, collate, workers
        loader.sampler.set_epoch(epoch)                   # a new shuffle each epoch
        for batch in loader: ...

The same split of work is what Lightning's DDP strategy does; these helpers make
no Lightning import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..core.errors import InvalidArgumentError


@dataclass(frozen=True)
class RankInfo:
    """Where this process sits: global rank, rank on its node, node, world size."""

    rank: int
    local_rank: int
    node_rank: int
    world_size: int


def rank_info() -> RankInfo:
    """Read the process group if one is initialised, else the torchrun environment."""
    env = os.environ
    rank = int(env.get("RANK", "0"))
    world = int(env.get("WORLD_SIZE", "1"))
    try:
        # deferred: torch is heavy; importing this module must not load it
        import torch.distributed as dist

        if dist.is_available() and dist.is_initialized():
            rank, world = dist.get_rank(), dist.get_world_size()
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    local = int(env.get("LOCAL_RANK", str(rank)))
    node = int(env.get("NODE_RANK", env.get("GROUP_RANK", "0")))
    return RankInfo(rank=rank, local_rank=local, node_rank=node, world_size=world)


def should_prepare(datamodule: Any, info: RankInfo | None = None) -> bool:
    """True on the one process per node (or per job) that must call ``prepare_data``."""
    info = info or rank_info()
    per_node = bool(getattr(datamodule, "prepare_data_per_node", True))
    return info.local_rank == 0 if per_node else info.rank == 0


def prepare_then_setup(datamodule: Any, stage: str = "fit") -> bool:
    """``prepare_data`` where it belongs, a barrier, then ``setup(stage)`` on every rank.

    Returns whether this process ran ``prepare_data``. Without an initialised
    process group it simply prepares and sets up (one process).
    """
    # deferred: torch is heavy; importing this module must not load it
    import torch.distributed as dist

    ran = should_prepare(datamodule)
    if ran:
        datamodule.prepare_data()
    if dist.is_available() and dist.is_initialized():
        dist.barrier()  # nobody reads the data before its writer has finished
    datamodule.setup(stage)
    return ran


def distributed_loader(loader: Any, *, shuffle: bool | None = None, seed: int | None = None,
                       drop_last: bool = False, num_replicas: int | None = None,
                       rank: int | None = None) -> Any:
    """The same ``DataLoader`` with a ``DistributedSampler``: each rank gets its shard.

    ``shuffle`` defaults to whether ``loader`` shuffled, ``seed`` to its sampler's seed
    or 0. A dmzoo loader keeps its :class:`~dmzoo.core.epochs.EpochSampler` (one global
    order per epoch, strided by rank: its ``state_dict`` resumes at any world size);
    any other gets a ``DistributedSampler``. Every epoch covers every example once across
    ranks (the last shard is padded with repeats unless ``drop_last``); call
    ``loader.sampler.set_epoch(epoch)`` each epoch.
    """
    # deferred: torch and core.fastloader are heavy; importing this module must not load them
    from torch.utils.data import DataLoader, DistributedSampler, IterableDataset, RandomSampler

    if not isinstance(loader, DataLoader) or loader.batch_sampler is None \
            or loader.batch_size is None:
        raise InvalidArgumentError("distributed_loader needs a torch DataLoader built with "
                                   "batch_size= (not a custom batch_sampler)")
    if isinstance(loader.dataset, IterableDataset):
        raise InvalidArgumentError("an IterableDataset cannot be sharded by a sampler; "
                                   "split it by rank inside the dataset instead")
    from dmzoo.core.fastloader import ArrayLoader, EpochSampler

    old = loader.sampler
    if shuffle is None:
        shuffle = isinstance(old, RandomSampler) or (isinstance(old, EpochSampler) and old.shuffle)
    if seed is None:
        seed = int(getattr(old, "seed", 0))
    # dmzoo's own order shards one global permutation by rank: resumable at any world size
    sampler_cls = EpochSampler if isinstance(old, EpochSampler) else DistributedSampler
    sampler: DistributedSampler = sampler_cls(loader.dataset, num_replicas=num_replicas, rank=rank,
                                              shuffle=shuffle, seed=seed, drop_last=drop_last)
    extra: dict[str, Any] = {}
    if loader.num_workers > 0:
        extra = {"prefetch_factor": loader.prefetch_factor,
                 "persistent_workers": loader.persistent_workers,
                 "multiprocessing_context": loader.multiprocessing_context}
    loader_cls = ArrayLoader if isinstance(loader, ArrayLoader) else DataLoader  # keep the fast path
    return loader_cls(loader.dataset, batch_size=loader.batch_size, sampler=sampler,
                      num_workers=loader.num_workers, collate_fn=loader.collate_fn,
                      pin_memory=loader.pin_memory, drop_last=loader.drop_last,
                      timeout=loader.timeout, worker_init_fn=loader.worker_init_fn,
                      generator=loader.generator, **extra)
