"""Order-independent digests of what a loader yields, to compare two datamodules.

Each example of each batch is hashed on its own; a loader's digest is the
sorted list of those hashes, so two loaders over the same examples agree even
when they shuffle differently.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any


def leaves(batch: Any) -> list[Any]:
    """The tensors / arrays / lists inside a batch, in a stable order."""
    if isinstance(batch, Mapping):
        return [leaf for key in sorted(batch, key=str) for leaf in leaves(batch[key])]
    if isinstance(batch, (tuple, list)) and batch and not isinstance(batch[0], (str, bytes, int, float)):
        return [leaf for item in batch for leaf in leaves(item)]
    return [batch]


def batch_size(batch: Any) -> int:
    """Number of examples in a batch (length of its first leaf)."""
    first = leaves(batch)[0]
    shape = getattr(first, "shape", None)
    if shape is not None and len(shape) > 0:
        return int(shape[0])
    return len(first)


def _example_bytes(leaf: Any, i: int) -> bytes:
    item = leaf[i]
    if hasattr(item, "detach"):
        item = item.detach().cpu().contiguous().numpy()
    if hasattr(item, "tobytes"):
        return repr((item.dtype.str, item.shape)).encode() + item.tobytes()
    return repr(item).encode()


def example_hashes(batch: Any) -> list[str]:
    """One hash per example of ``batch``."""
    parts = leaves(batch)
    out = []
    for i in range(batch_size(batch)):
        h = hashlib.sha256()
        for leaf in parts:
            h.update(_example_bytes(leaf, i))
        out.append(h.hexdigest())
    return out


def loader_digest(loader: Iterable[Any]) -> list[str]:
    """Sorted example hashes of one full pass over ``loader``."""
    hashes: list[str] = []
    for batch in loader:
        hashes.extend(example_hashes(batch))
    return sorted(hashes)
