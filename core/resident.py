"""A split kept whole on one device as uint8, each batch gathered and transformed there.

On an accelerator the fastest input pipeline is no pipeline: CIFAR-10's 50,000 training
images are 150 MiB of uint8, which fits on any GPU many times over. Copied there once,
every batch is an ``index_select`` of the rows, and the float conversion, normalisation
and augmentation run on the device on the whole batch (the batch transforms of
:mod:`dmzoo.core.fastloader` take their torch path for device tensors): a few kernel
launches per batch and no host-to-device copy per batch (the airbench approach).

:func:`resident_loader` serves such a dataset through the ordinary
:class:`~dmzoo.core.fastloader.ArrayLoader` (in-process: no workers, nothing to pin), so
it has everything the CPU loader has: the same epoch order and shards
(:class:`~dmzoo.core.epochs.EpochSampler`), the same per-sample augmentation keys, and
``state_dict`` / ``load_state_dict`` for exact mid-epoch resumption.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import DataLoader

from .errors import InvalidArgumentError
from .fastloader import ArrayDataset, BatchTransform, make_loader

__all__ = ["ResidentDataset", "resident_loader"]


class ResidentDataset(ArrayDataset):
    """Aligned arrays copied once to ``device`` (in their dtype); batches are gathered there."""

    arrays: list[torch.Tensor]  # type: ignore[assignment]  # the base's arrays, as tensors

    def __init__(self, arrays: Sequence[Any], device: str | torch.device) -> None:
        lengths = [len(a) for a in arrays]
        if len(set(lengths)) != 1:
            raise InvalidArgumentError(f"the arrays of one split must have equal lengths, got "
                                       f"{lengths}; pass the rows of one split")
        self.device = torch.device(device)
        tensors: list[Any] = [_on(a, self.device) for a in arrays]
        super().__init__(tensors)

    def rows(self, positions: Sequence[int] | np.ndarray) -> list[torch.Tensor]:  # type: ignore[override]
        index = torch.as_tensor(np.asarray(positions, dtype=np.int64)).to(self.device)
        return [a.index_select(0, index) for a in self.arrays]

    def _tensor(self, rows: Any) -> torch.Tensor:
        return rows  # gathered on the device already

    def __getitem__(self, position: int) -> Any:
        return self._pack([a[position] for a in self.arrays])

    def can_stage(self) -> bool:
        return False  # already resident: nothing to stage


def resident_loader(arrays: Sequence[Any], *, device: str | torch.device, batch_size: int,
                    shuffle: bool = False, seed: int = 0, drop_last: bool = False,
                    transform: BatchTransform | None = None) -> DataLoader:
    """An in-process :class:`~dmzoo.core.fastloader.ArrayLoader` over ``arrays`` resident
    on ``device``, with batch ``transform`` run there."""
    return make_loader(ResidentDataset(arrays, device), batch_size=batch_size, shuffle=shuffle,
                       seed=seed, drop_last=drop_last, transform=transform)


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
