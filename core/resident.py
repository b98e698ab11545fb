"""A split kept whole on one device as uint8, each batch gathered and transformed there.

On an accelerator the fastest input pipeline is no pipeline: CIFAR-10's 50,000 training
images are 150 MiB of uint8, which fits on any GPU many times over. Copied there once,
every batch is an ``index_select`` of the rows, and the float conversion, normalisation
and augmentation run on the device on the whole batch (the batch transforms of
:mod:`dmzoo.core.fastloader` take their torch path for device tensors): a few kernel
launches per batch and no host-to-device copy per batch (the airbench approach).

The order of a shuffled epoch is the one :class:`~dmzoo.core.fastloader.SeededRandomSampler`
draws for the same ``seed`` and epoch, so switching a datamodule to ``device=`` keeps
the batches (their samples and order) of the CPU loader. Under ``torch.distributed``
each rank takes every ``world_size``-th position of that order (the last ones wrapped
around to equal lengths, as ``DistributedSampler`` does).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from .errors import InvalidArgumentError
from .fastloader import SeededRandomSampler

__all__ = ["ResidentLoader"]


class ResidentLoader:
    """Batches ``transform((images[rows], labels[rows]))`` from tensors resident on ``device``.

    ``images``/``labels``: the split's rows (numpy or torch, any dtype; images stay in
    their dtype, uint8 for the vision cache, until ``transform`` converts them).
    ``set_epoch`` is honoured like a sampler's; each ``iter()`` starts the next epoch.
    """

    def __init__(self, images: Any, labels: Any, *, device: str | torch.device,
                 batch_size: int, shuffle: bool = False, seed: int = 0,
                 drop_last: bool = False,
                 transform: Callable[[Any], Any] | None = None,
                 num_replicas: int | None = None, rank: int | None = None) -> None:
        self.device = torch.device(device)
        self.images = _on(images, self.device)
        self.labels = _on(labels, self.device)
        if len(self.images) != len(self.labels):
            raise InvalidArgumentError(f"ResidentLoader got {len(self.images)} images but "
                                       f"{len(self.labels)} labels; pass the rows of one split")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise InvalidArgumentError(f"batch_size must be an int >= 1, got {batch_size!r}")
        self.batch_size, self.shuffle, self.drop_last = batch_size, shuffle, drop_last
        self.transform = transform
        self.num_replicas, self.rank = _replicas(num_replicas, rank)
        self._sampler = SeededRandomSampler(range(len(self.labels)), seed=seed)

    @property
    def epoch(self) -> int:
        return self._sampler.epoch

    def set_epoch(self, epoch: int) -> None:
        self._sampler.set_epoch(epoch)

    def _positions(self) -> int:
        """Rows this rank reads per epoch."""
        return -(-len(self.labels) // self.num_replicas)

    def __len__(self) -> int:
        rows = self._positions()
        return rows // self.batch_size if self.drop_last else -(-rows // self.batch_size)

    def order(self) -> torch.Tensor:
        """This rank's rows of the next epoch, on the device (advances the epoch)."""
        n = len(self.labels)
        if self.shuffle:
            order = self._sampler.permutation()
        else:
            order = torch.arange(n)
            self._sampler.epoch += 1
        if self.num_replicas > 1:
            total = self._positions() * self.num_replicas
            order = torch.cat([order, order[: total - n]])[self.rank::self.num_replicas]
        return order.to(self.device)

    def __iter__(self) -> Iterator[Any]:
        order, size = self.order(), self.batch_size
        stop = len(order) - len(order) % size if self.drop_last else len(order)
        for start in range(0, stop, size):
            rows = order[start:start + size]
            batch = (self.images.index_select(0, rows), self.labels.index_select(0, rows))
            yield self.transform(batch) if self.transform is not None else batch


def _on(array: Any, device: torch.device) -> torch.Tensor:
    tensor = array if isinstance(array, torch.Tensor) else torch.from_numpy(
        np.ascontiguousarray(array))
    try:
        return tensor.to(device)
    except (RuntimeError, AssertionError) as exc:  # no such device, or torch built without it
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InvalidArgumentError(
            f"cannot keep the data on device {str(device)!r} ({reason}); pass a device this "
            "machine has, or device=None for the CPU loader") from None


def _replicas(num_replicas: int | None, rank: int | None) -> tuple[int, int]:
    dist = torch.distributed
    ready = dist.is_available() and dist.is_initialized()
    world = num_replicas if num_replicas is not None else (dist.get_world_size() if ready else 1)
    me = rank if rank is not None else (dist.get_rank() if ready else 0)
    if world < 1 or not 0 <= me < world:
        raise InvalidArgumentError(f"rank must lie in [0, num_replicas={world}), got {me}")
    return world, me
