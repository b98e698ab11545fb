"""The seeded train/validation split and its fingerprint.

The permutation is ``argsort(splitmix64(hash(seed) ^ i))``: pure integer arithmetic,
so it is identical on every platform, process, and numpy/torch version (numpy's and
torch's generators promise no such stream stability). The first ``n_val`` permuted
rows are validation, the rest training; both are returned sorted.
"""

from __future__ import annotations

import hashlib
import numbers

import numpy as np

from dmzoo.core.errors import InvalidArgumentError

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    z = x + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def permutation(n: int, seed: int) -> np.ndarray:
    """A permutation of ``range(n)`` determined only by ``(n, seed)``."""
    with np.errstate(over="ignore"):
        key = _splitmix64(np.array([int(seed) % 2**64], dtype=np.uint64))
        keys = _splitmix64(np.arange(n, dtype=np.uint64) ^ key)
    return np.argsort(keys, kind="stable").astype(np.int64)


def val_count(n: int, val_split: int | float) -> int:
    """Validation size: an int is a count in [0, n), a float a fraction in [0, 1) (floored)."""
    if isinstance(val_split, bool) or not isinstance(val_split, numbers.Real):
        raise InvalidArgumentError(f"val_split must be an int count or a float fraction, "
                                   f"got {val_split!r}")
    if isinstance(val_split, numbers.Integral):
        if not 0 <= val_split < n:
            raise InvalidArgumentError(f"val_split={val_split} is out of range: as a count it "
                                       f"must be in [0, {n}) for {n} training examples")
        return int(val_split)
    if not 0.0 <= float(val_split) < 1.0:
        raise InvalidArgumentError(f"val_split={val_split} is out of range: as a fraction it "
                                   f"must be in [0.0, 1.0); use an int for a count")
    return int(float(val_split) * n)


def split_indices(n: int, val_split: int | float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``(train_rows, val_rows)``: disjoint, sorted, together exactly ``range(n)``."""
    n_val = val_count(n, val_split)
    perm = permutation(n, seed)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def fingerprint(train: np.ndarray, val: np.ndarray) -> str:
    """A short hash of the split indices, saved in checkpoints to detect a different split."""
    h = hashlib.sha256()
    for tag, rows in ((b"train", train), (b"val", val)):
        h.update(tag + len(rows).to_bytes(8, "little"))
        h.update(np.ascontiguousarray(rows, dtype="<i8").tobytes())
    return h.hexdigest()[:16]
