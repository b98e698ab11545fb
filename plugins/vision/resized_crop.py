"""Random resized crop + horizontal flip on a whole uint8 batch (CPU or device).

Same parameters and sampling as torchvision's ``RandomResizedCrop(size, scale, ratio)``
followed by ``RandomHorizontalFlip(flip)``: up to ten tries of an area fraction in
``scale`` and a log-uniform aspect ratio in ``ratio``, then a centre crop as fallback.
Every crop is resampled to ``size`` x ``size`` bilinearly (half-pixel centres, as
``torch.nn.functional.interpolate(align_corners=False)``) by one ``grid_sample`` call for
the batch (sampling clamped to the box, as cropping first would); the flip is a negative
horizontal scale in the same affine map. Draws are counter-based (:class:`~.augment.KeyedRandom`):
a pure function of (seed, epoch, sample position), on the CPU, identical on every device
and after a resume.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from dmzoo.core.fastloader import Key, with_item

from .augment import KeyedRandom


class RandomResizedCropFlip(KeyedRandom):
    """Crop a random area/aspect box, resize it to ``size``, flip left-right with p=``flip``."""

    def __init__(self, key: Key = 0, size: int = 96, scale: tuple[float, float] = (0.08, 1.0),
                 ratio: tuple[float, float] = (3 / 4, 4 / 3), flip: float = 0.5,
                 seed: int = 0, attempts: int = 10) -> None:
        self.key, self.size, self.scale, self.ratio = key, size, tuple(scale), tuple(ratio)
        self.flip, self.seed, self.attempts = flip, seed, attempts

    def boxes(self, n: int, h: int, w: int) -> tuple[torch.Tensor, ...]:
        """``(top, left, height, width, flipped)`` per image, each a length-``n`` tensor."""
        key = self.batch_key()

        def draws(first_stream: int, count: int) -> torch.Tensor:  # n x count uniforms
            return torch.from_numpy(np.stack(
                [self.uniform(key, n, first_stream + i) for i in range(count)], axis=1))

        lo, hi = math.log(self.ratio[0]), math.log(self.ratio[1])
        area = h * w * (self.scale[0] + (self.scale[1] - self.scale[0]) * draws(0, self.attempts))
        aspect = torch.exp(lo + (hi - lo) * draws(self.attempts, self.attempts))
        cw, ch = torch.sqrt(area * aspect).round().long(), torch.sqrt(area / aspect).round().long()
        ok = (cw > 0) & (cw <= w) & (ch > 0) & (ch <= h)
        first = ok.to(torch.int8).argmax(1)
        rows = torch.arange(n)
        fw, fh = self._fallback(h, w)
        found = ok.any(1)
        cw = torch.where(found, cw[rows, first], fw)
        ch = torch.where(found, ch[rows, first], fh)
        u = draws(2 * self.attempts, 2)
        top = torch.where(found, (u[:, 0] * (h - ch + 1)).floor().long(), (h - ch) // 2)
        left = torch.where(found, (u[:, 1] * (w - cw + 1)).floor().long(), (w - cw) // 2)
        flips = draws(2 * self.attempts + 2, 1)[:, 0] < self.flip
        return top, left, ch, cw, flips

    def _fallback(self, h: int, w: int) -> tuple[int, int]:
        """torchvision's fallback: the whole image, clipped to the ratio range."""
        if w / h < min(self.ratio):
            return w, int(round(w / min(self.ratio)))
        if w / h > max(self.ratio):
            return int(round(h * max(self.ratio))), h
        return w, h

    def apply(self, x: torch.Tensor, top: torch.Tensor, left: torch.Tensor, ch: torch.Tensor,
              cw: torch.Tensor, flips: torch.Tensor) -> torch.Tensor:
        """Resample the boxes of ``x`` (N x C x H x W uint8) to ``size`` x ``size`` uint8."""
        n, c, h, w = x.shape
        sx, sy = cw.double() / w, ch.double() / h
        cx, cy = (2 * left + cw).double() / w - 1, (2 * top + ch).double() / h - 1
        theta = torch.zeros(n, 2, 3, dtype=torch.float64)
        theta[:, 0, 0] = torch.where(flips, -sx, sx)
        theta[:, 0, 2], theta[:, 1, 1], theta[:, 1, 2] = cx, sy, cy
        grid = F.affine_grid(theta.float().to(x.device), [n, c, self.size, self.size],
                             align_corners=False)
        # Sample only inside the box, as cropping before resizing does: clamp to the
        # centres of its outer pixels.
        for axis, start, extent, full in ((0, left, cw, w), (1, top, ch, h)):
            lo = ((2 * start + 1).double() / full - 1).float().to(x.device).view(n, 1, 1)
            hi = ((2 * (start + extent) - 1).double() / full - 1).float().to(x.device).view(n, 1, 1)
            grid[..., axis] = torch.minimum(torch.maximum(grid[..., axis], lo), hi)
        out = F.grid_sample(x.float(), grid, mode="bilinear", padding_mode="border",
                            align_corners=False)
        return out.round_().clamp_(0, 255).to(torch.uint8)

    def __call__(self, batch: Any) -> Any:
        x = batch[self.key]
        boxes = self.boxes(x.shape[0], x.shape[-2], x.shape[-1])
        return with_item(batch, self.key, self.apply(x, *boxes))

    def __repr__(self) -> str:
        return (f"RandomResizedCropFlip(key={self.key!r}, size={self.size}, scale={self.scale}, "
                f"ratio={self.ratio}, flip={self.flip})")
