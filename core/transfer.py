"""Move a batch (nested lists, tuples, dicts, namedtuples of tensors) to a device.

Used by the plain DataModule base, so a plain PyTorch loop gets the same
``transfer_batch_to_device`` behaviour Lightning gives its DataModules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch


def move_to_device(batch: Any, device: Any) -> Any:
    """Return ``batch`` with every tensor (or object with ``.to``) moved to ``device``.

    Containers keep their type; strings, numbers and other leaves are returned as is.
    """
    device = torch.device(device)
    non_blocking = device.type not in ("cpu", "mps")
    return _move(batch, device, non_blocking)


def _move(obj: Any, device: Any, non_blocking: bool) -> Any:
    if isinstance(obj, torch.Tensor):
        return obj.to(device, non_blocking=non_blocking)
    if isinstance(obj, Mapping):
        items = {k: _move(v, device, non_blocking) for k, v in obj.items()}
        try:
            return type(obj)(items)  # type: ignore[call-arg]
        except TypeError:  # a mapping type whose constructor takes something else
            return items
    if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # namedtuple
        return type(obj)(*(_move(v, device, non_blocking) for v in obj))
    if isinstance(obj, (list, tuple)):
        return type(obj)(_move(v, device, non_blocking) for v in obj)
    if isinstance(obj, (str, bytes)):
        return obj
    to = getattr(obj, "to", None)
    if callable(to):  # e.g. a graph or a custom batch class that knows how to move itself
        return to(device)
    return obj
