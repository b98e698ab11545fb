"""Seeded, optionally stratified train/val/test split indices.

The split depends only on (number of rows, labels, sizes, seed): the rows are ordered by
:func:`dmzoo.core.splits.permutation` (platform-stable), so every process and every run
computes the same indices. Sizes come from :func:`dmzoo.core.splits.split_size`; the
datamodule hashes the result with :func:`dmzoo.core.splits.fingerprint`, which lets a
checkpoint prove it was trained on the same rows.
"""

from __future__ import annotations

import numpy as np

from dmzoo.core.errors import InvalidArgumentError
from dmzoo.core.splits import permutation, split_size


def quotas(counts: np.ndarray, size: int) -> np.ndarray:
    """Split ``size`` rows over classes in proportion to ``counts`` (largest remainder),
    never taking a class's last row."""
    if size == 0 or counts.sum() == 0:
        return np.zeros_like(counts)
    share = counts * (size / counts.sum())
    take = np.floor(share).astype(np.int64)
    short = size - int(take.sum())
    if short > 0:
        order = np.argsort(-(share - take), kind="stable")
        take[order[:short]] += 1
    return np.minimum(take, np.maximum(counts - 1, 0))


def split_indices(
    n: int,
    *,
    val_split: float | int,
    test_split: float | int | None,
    seed: int,
    labels: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Sorted row indices per split. ``test_split=None`` means the test rows come from elsewhere.

    ``test_split`` is a share of all ``n`` rows; ``val_split`` a share of what remains for
    training. One seeded permutation orders the rows; with ``labels`` each class gives its
    first rows (in that order) to test, the next to val, in proportion to its size.
    """
    n_test = split_size(test_split, n, "test_split") if test_split is not None else 0
    n_val = split_size(val_split, n - n_test, "val_split") if n > n_test else 0
    perm = permutation(n, seed)
    if labels is None:
        test, val, train = perm[:n_test], perm[n_test:n_test + n_val], perm[n_test + n_val:]
    else:
        shuffled = labels[perm]
        if len(shuffled) and shuffled.min() >= 0 and shuffled.max() < 2**15:
            shuffled = shuffled.astype(np.int16)  # small codes: a radix sort below
        _, inverse = np.unique(shuffled, return_inverse=True)
        counts = np.bincount(inverse)
        take_test = quotas(counts, n_test)
        take_val = quotas(counts - take_test, n_val)
        # A stable sort groups the classes and keeps the random order inside each one.
        grouped = perm[np.argsort(inverse, kind="stable")]
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
        for start, count, k_test, k_val in zip(starts, counts, take_test, take_val, strict=True):
            rows = grouped[start:start + count]
            parts["test"].append(rows[:k_test])
            parts["val"].append(rows[k_test:k_test + k_val])
            parts["train"].append(rows[k_test + k_val:])
        train, val, test = (np.concatenate(parts[k]) for k in ("train", "val", "test"))
    if len(train) == 0:
        raise InvalidArgumentError(f"val_split={val_split!r} and test_split={test_split!r} leave no "
                                   f"training row out of {n}; use smaller splits")
    return {"train": np.sort(train), "val": np.sort(val), "test": np.sort(test)}
