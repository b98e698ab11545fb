"""Decode images once into a uint8 ``N x C x H x W`` array, on all cores, with progress.

The resize rule (``resize="crop"``, the default): the image is scaled, keeping its aspect
ratio, until it covers ``H x W``, then the centre ``H x W`` is kept (Pillow's
``ImageOps.fit``, bilinear). ``resize="stretch"`` scales to ``H x W`` ignoring the aspect
ratio. Images are converted to ``mode`` first (``"RGB"``, as torchvision's ``ImageFolder``
does, or ``"L"`` for grayscale).

Workers are processes (Pillow's Python-level work holds the GIL); each writes its block
of rows straight into the memory-mapped output and returns only per-image pixel sums
(for exact mean/std of any subset later) and the files it could not read. This module
imports no torch, so worker start-up is cheap under any start method.
"""

from __future__ import annotations

import io
import os
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import Any, Protocol

import numpy as np

MODES = {"RGB": 3, "L": 1}
RESIZE_RULES = ("crop", "stretch")
BLOCK = 256  # images per worker task

Source = Any  # a file path (str) or the encoded bytes of one image


def decode(source: Source, size: tuple[int, int] | None, mode: str = "RGB",
           resize: str = "crop") -> np.ndarray:
    """One image as ``C x H x W`` uint8 (any decoding problem raises)."""
    # deferred: PIL is optional (vision extra); loaded only where images are decoded
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as img:
        img.load()  # a truncated file fails here, not later
        img = img.convert(mode)
    if size is not None and img.size != (size[1], size[0]):
        target = (size[1], size[0])  # Pillow sizes are (width, height)
        img = (ImageOps.fit(img, target, Image.Resampling.BILINEAR) if resize == "crop"
               else img.resize(target, Image.Resampling.BILINEAR))
    array = np.asarray(img, dtype=np.uint8)
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def _block(out: str | None, start: int, sources: Sequence[Source], size: tuple[int, int] | None,
           mode: str, resize: str) -> tuple[int, np.ndarray, list[tuple[int, str]]]:
    """Decode ``sources`` into rows ``start...`` of ``out`` (a ``.npy``); sums and failures."""
    channels = MODES[mode]
    sums = np.zeros((len(sources), channels, 3), dtype=np.float64)  # sum, sum of squares, count
    bad: list[tuple[int, str]] = []
    block = np.zeros((len(sources), channels, *size), dtype=np.uint8) if size else None
    for i, source in enumerate(sources):
        try:
            pixels = decode(source, size, mode, resize)
        except Exception as exc:  # unreadable, truncated, not an image: reported, not fatal here
            unknown = type(exc).__name__ == "UnidentifiedImageError"
            bad.append((start + i, "not an image Pillow can read" if unknown
                        else f"{type(exc).__name__}: {exc}"))
            continue
        if block is not None:
            block[i] = pixels
        else:  # sizes differ: one image at a time
            _moments(pixels[None], sums[i:i + 1])
    if block is not None:  # one vectorised pass and one write for the whole block
        _moments(block, sums)
        for row, _ in bad:
            sums[row - start] = 0
        if out is not None:
            rows = np.load(out, mmap_mode="r+")
            rows[start:start + len(block)] = block
            rows.flush()
    return start, sums, bad


def _moments(images: np.ndarray, sums: np.ndarray) -> None:
    """Per image and channel: sum, sum of squares and count of the pixels, into ``sums``."""
    flat = images.reshape(images.shape[0], images.shape[1], -1)
    sums[:, :, 0] = flat.sum(-1, dtype=np.int64)
    wide = flat.astype(np.int32)
    sums[:, :, 1] = np.einsum("ncp,ncp->nc", wide, wide, dtype=np.int64)
    sums[:, :, 2] = flat.shape[-1]


def default_workers() -> int:
    """Every core this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class Slices(Protocol):
    """Sources cut by row ranges: a list, or huggingface's chain of Arrow columns."""

    def __len__(self) -> int: ...

    def __getitem__(self, rows: slice, /) -> Sequence[Any]: ...


def decode_all(sources: Slices, out: Path | None, *, size: tuple[int, int] | None,
               mode: str, resize: str, workers: int | None = None, quiet: bool = True,
               desc: str = "decoding") -> tuple[np.ndarray, list[tuple[int, str]]]:
    """Decode every source (into ``out``, a ``.npy`` of ``N x C x H x W`` uint8 made here,
    when ``size`` is given); return per-image ``(sum, sum of squares, pixel count)`` per
    channel and the ``(row, reason)`` of each failure."""
    n, channels = len(sources), MODES[mode]
    if out is not None and size is not None:
        np.lib.format.open_memmap(out, mode="w+", dtype=np.uint8,
                                  shape=(n, channels, *size)).flush()
    target = str(out) if out is not None and size is not None else None
    workers = max(1, min(workers or default_workers(), -(-n // BLOCK)))
    sums = np.zeros((n, channels, 3), dtype=np.float64)
    bad: list[tuple[int, str]] = []
    # deferred: tqdm is heavy; decode workers import this module without it
    from tqdm.auto import tqdm

    with tqdm(total=n, unit="img", desc=desc, disable=quiet) as bar:
        tasks = ((target, s, sources[s:s + BLOCK], size, mode, resize) for s in range(0, n, BLOCK))
        for start, block_sums, block_bad in _run(tasks, workers):
            sums[start:start + len(block_sums)] = block_sums
            bad.extend(block_bad)
            bar.update(len(block_sums))
    return sums, bad


def _run(tasks: Iterator[tuple[Any, ...]], workers: int) -> Iterator[Any]:
    """``_block(*task)`` for each task, in order; with workers, at most ``2 * workers`` blocks
    are in flight, so sources read lazily (a dataset column) never sit in memory at once."""
    if workers == 1:
        yield from (_block(*task) for task in tasks)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending: deque[Future] = deque()
        try:
            for task in tasks:
                pending.append(pool.submit(_block, *task))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def channel_moments(sums: np.ndarray) -> tuple[list[float], list[float]]:
    """Exact per-channel mean and population std (pixels / 255) from :func:`decode_all` sums."""
    total = sums.sum(axis=0)  # C x 3
    count = np.maximum(total[:, 2], 1)
    mean = total[:, 0] / count / 255.0
    var = np.maximum(total[:, 1] / count / 255.0**2 - mean**2, 0.0)
    return [round(float(m), 6) for m in mean], [round(float(s), 6) for s in np.sqrt(var)]
