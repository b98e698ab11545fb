"""Standard image augmentations applied to a whole uint8 batch at once (CPU or device).

Same semantics as torchvision's ``RandomCrop(size, padding, fill=0)`` followed by
``RandomHorizontalFlip(flip)``, but one gather for the batch instead of PIL work per
image. On the CPU the gather is numpy (a sliding-window view indexed by the random
offsets, so whole rows are copied; single-threaded, see ``dmzoo.core.fastloader``); on a
device it is one torch advanced-indexing gather.

Random parameters are counter-based: each sample's offsets and flip are a hash of
``(seed, epoch, global position in the epoch)`` (the batch key a dmzoo loader makes
current, see :mod:`dmzoo.core.epochs`), never a stream shared with workers. So a sample
gets the same augmentation whichever worker, device, rank count or resumed run made its
batch. Called outside a loader, a transform numbers its own calls as epochs.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from dmzoo.core.epochs import BatchKey, current_batch_key
from dmzoo.core.fastloader import Key, with_item
from dmzoo.core.splits import counter_uniform, mix


class KeyedRandom:
    """Base of the batch augmentations: every draw is a pure function of (``seed``, epoch,
    the sample's global position, stream), read from the loader's batch key, so a sample
    is augmented the same whichever worker, rank count or resume produced its batch."""

    uses_batch_key = True  # loaders key their batches for transforms that say so
    seed: int = 0

    def batch_key(self) -> BatchKey:
        """The key of the batch being transformed (a direct call: each call is a new
        "epoch" of positions 0..n-1, so repeated calls still differ)."""
        key = current_batch_key()
        if key is None:
            calls = self.__dict__.get("_calls", 0)
            self._calls = calls + 1
            key = BatchKey(calls, 0)
        return key

    def uniform(self, key: BatchKey, n: int, stream: int) -> np.ndarray:
        """``n`` float64 draws in [0, 1) of ``stream`` for the batch named by ``key``."""
        return counter_uniform(mix(self.seed, key.epoch, stream), key.positions(n))


class RandomCropFlip(KeyedRandom):
    """Zero-pad by ``padding``, crop ``size`` at a random offset, flip left-right with p=``flip``."""

    def __init__(self, key: Key = 0, size: int = 32, padding: int = 4, flip: float = 0.5,
                 seed: int = 0) -> None:
        self.key, self.size, self.padding, self.flip, self.seed = key, size, padding, flip, seed

    def _draw(self, n: int, h: int, w: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        key = self.batch_key()
        p, s = self.padding, self.size
        draws = []
        for stream, span in enumerate((h + 2 * p - s + 1, w + 2 * p - s + 1)):
            draws.append(torch.from_numpy((self.uniform(key, n, stream) * span).astype(np.int64)))
        return draws[0], draws[1], torch.from_numpy(self.uniform(key, n, 2) < self.flip)

    def _cpu(self, x: torch.Tensor, oy: torch.Tensor, ox: torch.Tensor,
             flips: torch.Tensor) -> torch.Tensor:
        p, s = self.padding, self.size
        a = x.numpy()
        if p:
            a = np.pad(a, ((0, 0), (0, 0), (p, p), (p, p)))
        windows = np.lib.stride_tricks.sliding_window_view(a, (s, s), axis=(2, 3))
        out = windows[np.arange(len(a)), :, oy.numpy(), ox.numpy()]  # N x C x s x s copy
        f = flips.numpy()
        if f.any():
            out[f] = out[f][..., ::-1]
        return torch.from_numpy(out)

    def _device(self, x: torch.Tensor, oy: torch.Tensor, ox: torch.Tensor,
                flips: torch.Tensor) -> torch.Tensor:
        p, s, n = self.padding, self.size, x.shape[0]
        padded = F.pad(x, (p, p, p, p)) if p else x
        ar = torch.arange(s, device=x.device)
        rows = oy.to(x.device).view(n, 1, 1, 1) + ar.view(1, 1, s, 1)
        cols = ox.to(x.device).view(n, 1, 1, 1) + ar.view(1, 1, 1, s)
        bi = torch.arange(n, device=x.device).view(n, 1, 1, 1)
        ci = torch.arange(x.shape[1], device=x.device).view(1, -1, 1, 1)
        out = padded[bi, ci, rows, cols]
        return torch.where(flips.to(x.device).view(n, 1, 1, 1), out.flip(-1), out)

    def __call__(self, batch: Any) -> Any:
        x = batch[self.key]
        oy, ox, flips = self._draw(x.shape[0], x.shape[-2], x.shape[-1])
        x = (self._cpu if x.device.type == "cpu" else self._device)(x, oy, ox, flips)
        return with_item(batch, self.key, x)

    def __repr__(self) -> str:
        return (f"RandomCropFlip(key={self.key!r}, size={self.size}, padding={self.padding}, "
                f"flip={self.flip})")
