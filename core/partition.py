"""Carve rows into seeded, optionally stratified train/val/test parts (every plugin's split).

The parts depend only on (number of rows, labels, sizes, seed): the rows are ordered by
:func:`dmzoo.core.splits.permutation` (platform-stable), so every process and every run
computes the same rows. Sizes come from :func:`dmzoo.core.splits.split_size`; the
datamodules hash the result with :func:`dmzoo.core.splits.fingerprint`, which lets a
checkpoint prove it was trained on the same rows. Without labels and test part, the
validation rows are the first ``n_val`` permuted rows (the vision split).
"""

from __future__ import annotations

import numpy as np

from .errors import InvalidArgumentError
from .splits import permutation, split_size


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


TRAIN, VAL, TEST = 0, 1, 2


def partition_rows(
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
    Past the permutation every step is linear (a radix sort at most): the rows of each
    split are marked in one array, then read out in order.
    """
    n_test = split_size(test_split, n, "test_split") if test_split is not None else 0
    n_val = split_size(val_split, n - n_test, "val_split") if n > n_test else 0
    perm = permutation(n, seed)
    assign = np.full(n, TRAIN, dtype=np.int8)
    if labels is None:
        assign[perm[:n_test]] = TEST
        assign[perm[n_test:n_test + n_val]] = VAL
    else:
        classes = _class_numbers(labels)[perm]
        counts = np.bincount(classes)
        take_test = quotas(counts, n_test)
        take_val = quotas(counts - take_test, n_val)
        # A stable sort groups the classes and keeps the random order inside each one.
        grouped = perm[np.argsort(classes, kind="stable")]
        start = 0
        for count, k_test, k_val in zip(counts, take_test, take_val, strict=True):
            assign[grouped[start:start + k_test]] = TEST
            assign[grouped[start + k_test:start + k_test + k_val]] = VAL
            start += count
    splits = {name: np.flatnonzero(assign == code)
              for name, code in (("train", TRAIN), ("val", VAL), ("test", TEST))}
    if len(splits["train"]) == 0:
        raise InvalidArgumentError(f"val_split={val_split!r} and test_split={test_split!r} leave no "
                                   f"training row out of {n}; use smaller splits")
    return splits


def _class_numbers(labels: np.ndarray) -> np.ndarray:
    """One small non-negative number per class, in label order: the labels themselves when
    they are such ints (gaps are fine), else their rank. int16 where it fits, so that the
    stable sort above is numpy's linear radix sort."""
    labels = np.asarray(labels)
    if not (labels.dtype.kind in "iu" and len(labels) and labels.min() >= 0):
        labels = np.unique(labels, return_inverse=True)[1].reshape(-1)
    return labels.astype(np.int16) if len(labels) and labels.max() < 2**15 else labels
