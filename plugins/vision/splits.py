"""The vision train/validation split: the upstream training set, carved in two.

The rows are ordered by :func:`dmzoo.core.splits.permutation` (platform-stable); the
first ``n_val`` permuted rows are validation, the rest training; both are returned
sorted. Sizes and the fingerprint also come from :mod:`dmzoo.core.splits`.
"""

from __future__ import annotations

import numpy as np

from dmzoo.core.errors import InvalidArgumentError
from dmzoo.core.splits import permutation, split_size


def val_count(n: int, val_split: int | float) -> int:
    """Validation size (see :func:`~dmzoo.core.splits.split_size`), leaving at least one
    training example."""
    n_val = split_size(val_split, n, "val_split")
    if n_val and n_val >= n:
        raise InvalidArgumentError(f"val_split={val_split!r} leaves no training example out "
                                   f"of {n}; use a smaller val_split")
    return n_val


def split_indices(n: int, val_split: int | float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train_rows, val_rows)``: disjoint, sorted, together exactly ``range(n)``."""
    n_val = val_count(n, val_split)
    perm = permutation(n, seed)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])
