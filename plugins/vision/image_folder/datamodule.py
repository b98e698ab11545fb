"""``image_folder``: torchvision's ``ImageFolder`` layout as a fast dmzoo datamodule.

``root/<class>/.../<image>`` (classes: the sorted subfolder names, files in the same
sorted walk order as torchvision), or ``root/train/<class>/...`` with optional
``root/val/`` (``valid/``, ``validation/``) and ``root/test/`` that replace the seeded
cuts. Every non-hidden file inside a class folder is an image candidate: one that Pillow
cannot read is reported, never silently dropped.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from dmzoo.core import usercache
from dmzoo.core.errors import DataFormatError, InvalidArgumentError

from .images import CachedImageDataModule, Listing

SPLIT_FOLDERS = {"train": "train", "val": "val", "valid": "val", "validation": "val",
                 "test": "test"}


def _visible_dirs(folder: Path) -> list[Path]:
    return sorted((d for d in folder.iterdir() if d.is_dir() and not d.name.startswith(".")),
                  key=lambda d: d.name)


def _class_files(class_dir: Path) -> list[str]:
    """Every non-hidden file under ``class_dir``, in torchvision's sorted walk order."""
    def walk() -> Iterator[tuple[str, list[str]]]:
        for dirpath, dirnames, filenames in os.walk(class_dir, followlinks=True):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]  # hidden trees unread
            yield dirpath, filenames

    found: list[str] = []
    for dirpath, filenames in sorted(walk()):
        found.extend(os.path.join(dirpath, f) for f in sorted(filenames) if not f.startswith("."))
    return found


def part_folders(root: Path) -> dict[str, Path]:
    """``{"train": ..., "val": ..., "test": ...}`` (only those present) for ``root``."""
    if not root.is_dir():
        raise DataFormatError(f"image folder {str(root)!r} does not exist or is not a folder; "
                              "pass root= a folder holding one subfolder per class")
    subdirs = {d.name: d for d in _visible_dirs(root)}
    if "train" not in subdirs:
        return {"train": root}
    other = sorted(set(subdirs) - set(SPLIT_FOLDERS))
    if other:
        raise DataFormatError(f"{root} has a train/ folder, so its other folders must be val/ "
                              f"(or valid/, validation/) or test/, but it also holds: "
                              f"{', '.join(other)}; move them into train/ or elsewhere")
    parts: dict[str, Path] = {}
    for name, folder in subdirs.items():
        part = SPLIT_FOLDERS[name]
        if part in parts:
            raise DataFormatError(f"{root} holds both {parts[part].name}/ and {name}/ for the "
                                  "validation split; keep one")
        parts[part] = folder
    return parts


def scan(root: str | Path) -> tuple[list[str], dict[str, list[tuple[str, int]]]]:
    """``(classes, {part: [(file, class index), ...]})`` of an image folder."""
    folders = part_folders(Path(root).expanduser())
    classes = [d.name for d in _visible_dirs(folders["train"])]
    where = folders["train"]
    if len(classes) < 2:
        raise DataFormatError(f"{where} holds {len(classes)} class folder(s) "
                              f"({', '.join(classes) or 'none'}); a classification needs at least "
                              "two: put each class's images in its own subfolder")
    index = {c: i for i, c in enumerate(classes)}
    parts: dict[str, list[tuple[str, int]]] = {}
    for part, folder in folders.items():
        dirs = _visible_dirs(folder)
        unknown = [d.name for d in dirs if d.name not in index]
        if unknown:
            raise DataFormatError(f"{folder} has class folder(s) not in {where}: "
                                  f"{', '.join(unknown)}; every class needs training images")
        rows: list[tuple[str, int]] = []
        empty: list[str] = []
        for d in dirs:
            files = _class_files(d)
            if not files:
                empty.append(str(d))
            rows.extend((f, index[d.name]) for f in files)
        if empty:
            raise DataFormatError(f"empty class folder(s): {', '.join(empty)}; add images or "
                                  "remove the folder")
        parts[part] = rows
    return classes, parts


class ImageFolderDataModule(CachedImageDataModule):
    """``dmzoo.load_datamodule("image_folder", root="photos/", image_size=(64, 64))``.

    Args:
        root: the image folder (torchvision ``ImageFolder`` layout, see the module doc).
        image_size: ``(H, W)`` or an int: decode once into the uint8 cache at this size
            (the fast path). ``None``: images of any size, decoded per sample.
        mode: ``"RGB"`` (default, as torchvision) or ``"L"`` (grayscale).
        resize: ``"crop"`` (scale to cover, centre crop) or ``"stretch"``.
        on_error: ``"raise"`` (default) lists unreadable files in the error; ``"skip"``
            leaves them out with a warning listing them.
        prepare_workers: decoding processes (default: every core).
        val_split, test_split: cut from the training images when ``val/`` / ``test/``
            are absent (count or fraction; seeded, stratified by class).
        The rest as in the vision datamodules (batch_size, num_workers, normalize, seed,
        shuffle, pin_memory, drop_last, augment, *_transforms, device_transforms...).
    """

    CACHE_NAME = "image_folder"

    def __init__(self, root: str | Path | None = None,
                 image_size: int | tuple[int, int] | None = None, **options: Any) -> None:
        super().__init__(image_size=image_size, **options)
        if root is None:
            raise InvalidArgumentError("image_folder needs root=: a folder with one subfolder "
                                       "per class")
        self.root = Path(root).expanduser().resolve()

    def listing(self) -> Listing:
        classes, parts = scan(self.root)
        sources: list[str] = []
        labels: list[int] = []
        ranges: dict[str, tuple[int, int]] = {}
        for part in ("train", "val", "test"):
            if part in parts:
                ranges[part] = (len(sources), len(sources) + len(parts[part]))
                sources.extend(f for f, _ in parts[part])
                labels.extend(c for _, c in parts[part])
        stats = usercache.file_stats(sources, self.root)
        key = usercache.content_key(stats, {**self.options(), "root": str(self.root)})
        return Listing(sources=sources, names=[s[0] for s in stats],
                       labels=np.asarray(labels, dtype=np.int64), parts=ranges,
                       classes=classes, key=key)

    def path_of(self, name: str) -> str:
        return str(self.root / name)


def write_images(folder: Path, per_class: dict[str, int], *, size: int = 12,
                 seed: int = 0) -> list[Path]:
    """Real PNG and JPEG files (alternating) with random pixels: ``folder/<class>/<i>.png``."""
    # deferred: PIL is optional (vision extra); only writing test images needs it
    from PIL import Image

    rng = np.random.default_rng(seed)
    written = []
    for name, count in per_class.items():
        (folder / name).mkdir(parents=True, exist_ok=True)
        for i in range(count):
            pixels = rng.integers(0, 256, size=(size, size + i % 3, 3), dtype=np.uint8)
            path = folder / name / f"{i:03d}.{'png' if i % 2 == 0 else 'jpg'}"
            Image.fromarray(pixels).save(path)
            written.append(path)
    return written


def fixture(folder: Path) -> dict[str, Any]:
    """``dmzoo check`` fixture: 3 classes of small real PNG/JPEG files, 16 x 16 cache."""
    write_images(folder / "images", {"cat": 12, "dog": 12, "owl": 12})
    return {"root": str(folder / "images"), "image_size": (16, 16), "batch_size": 8,
            "prepare_workers": 1, "data_dir": str(folder / "cache")}
