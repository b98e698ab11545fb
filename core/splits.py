"""Split building blocks shared by the plugins: sizes, a seeded permutation, a fingerprint.

The permutation is ``argsort(splitmix64(splitmix64(seed) ^ i))``: pure integer arithmetic,
so it is identical on every platform, process, and numpy/torch version. numpy's legacy
``RandomState`` would be stable too (its stream is frozen), but it is sequential: row ``i``'s
key needs every draw before it. splitmix64 is counter-based, so any key is one function of
``(seed, i)``: the same keys feed the permutation (sorted by numpy, or by torch's faster
radix sort, with the same result), :func:`mix` and :func:`counter_uniform` (a batch's random
numbers from its epoch and positions, whichever worker or resumed process computes them).
How the permuted rows are carved into splits (two-way, three-way, stratified) is up to each
plugin.

Imports only numpy (no torch), so specs and listings stay light.
"""

from __future__ import annotations

import hashlib
import numbers
import sys
from collections.abc import Mapping

import numpy as np

from .errors import InvalidArgumentError

__all__ = ["counter_uniform", "fingerprint", "mix", "permutation", "split_size"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser of ``x + golden``, computed in place in ``x`` (uint64)."""
    shifted = np.empty_like(x)
    x += _GOLDEN
    x ^= np.right_shift(x, np.uint64(30), out=shifted)
    x *= _M1
    x ^= np.right_shift(x, np.uint64(27), out=shifted)
    x *= _M2
    x ^= np.right_shift(x, np.uint64(31), out=shifted)
    return x


def permutation(n: int, seed: int) -> np.ndarray:
    """A permutation of ``range(n)`` (int64) determined only by ``(n, seed)``."""
    with np.errstate(over="ignore"):
        key = _splitmix64(np.array([int(seed) % 2**64], dtype=np.uint64))
        keys = np.arange(n, dtype=np.uint64)
        keys ^= key
        keys = _splitmix64(keys)
    # splitmix64 is a bijection, so the keys are distinct and any sort gives this order.
    torch = sys.modules.get("torch")
    if torch is None:  # e.g. a listing process: do not import torch just for this
        return np.argsort(keys).astype(np.int64)
    # torch's integer radix sort: 2-3x faster than numpy's argsort for a million rows.
    # Flipping the top bit maps the uint64 order onto the int64 order torch sorts by.
    signed = (keys ^ np.uint64(1 << 63)).view(np.int64)
    return torch.sort(torch.from_numpy(signed), stable=True).indices.numpy()


def mix(*values: int) -> int:
    """One 64-bit key from integers (a seed, an epoch, a stream number...), folded through
    splitmix64: ``mix(seed, epoch)`` and ``mix(seed + 1, epoch - 1)`` are unrelated."""
    key = np.zeros(1, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for value in values:
            key ^= np.uint64(int(value) % 2**64)
            key = _splitmix64(key)
    return int(key[0])


def counter_uniform(key: int, counters: np.ndarray) -> np.ndarray:
    """Uniform float64 draws in ``[0, 1)``, one per uint64 counter: a pure function of
    ``(key, counter)`` (counter-based randomness: any draw is computed without the others)."""
    with np.errstate(over="ignore"):
        bits = np.asarray(counters, dtype=np.uint64) ^ np.uint64(key)
        bits = _splitmix64(_splitmix64(bits))
    return np.right_shift(bits, np.uint64(11)).astype(np.float64) * (1.0 / (1 << 53))


def split_size(value: int | float, n: int, name: str) -> int:
    """``value`` as a number of rows out of ``n``.

    An int is a count in ``[0, n)``; a float is a fraction in ``[0, 1)``, rounded to the
    nearest row (``int(round(value * n))``). Bools and other types are rejected. Every
    error is an :class:`InvalidArgumentError` naming ``name``.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidArgumentError(f"{name} must be an int count or a float fraction, "
                                   f"got {value!r}")
    if isinstance(value, numbers.Integral):
        if not 0 <= value < n:
            raise InvalidArgumentError(f"{name}={value} is out of range: as a count it "
                                       f"must be in [0, {n}) for {n} rows")
        return int(value)
    if not 0.0 <= float(value) < 1.0:
        raise InvalidArgumentError(f"{name}={value} is out of range: as a fraction it "
                                   f"must be in [0.0, 1.0); use an int for a count")
    return int(round(float(value) * n))


def fingerprint(splits: Mapping[str, np.ndarray]) -> str:
    """A short hash of the split indices (by split name, in sorted order); equal
    fingerprints mean identical splits. Saved in checkpoints to detect a different split."""
    digest = hashlib.sha256()
    for name in sorted(splits):
        rows = np.ascontiguousarray(splits[name], dtype="<i8")
        digest.update(name.encode() + len(rows).to_bytes(8, "little"))
        digest.update(rows.tobytes())
    return digest.hexdigest()[:16]
