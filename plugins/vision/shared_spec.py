"""Spec fields the MNIST family and CIFAR share (plain data: no torch, no datamodule import)."""

from __future__ import annotations

from typing import Any

from dmzoo.core.spec import DataModuleSpec, Feature

VERSION = "1.0.0"

COMMON_VISION_KWARGS_DOC = (
    "Bolts-style constructor: data_dir, val_split (default 0.1 of train), batch_size (32), "
    "num_workers, normalize, seed (42), shuffle, pin_memory, drop_last, augment, "
    "train_transforms/val_transforms/test_transforms (torchvision, per sample)."
)


def image_features(shape: tuple[int, int, int], classes: tuple[str, ...]) -> tuple[Feature, ...]:
    return (
        Feature("image", shape=shape, dtype="uint8", description="pixels 0-255, channels first"),
        Feature("label", shape=(), dtype="int64", classes=classes),
    )


def vision_spec(name: str, cls: str, tags: tuple[str, ...], **fields: Any) -> DataModuleSpec:
    """A vision spec whose class (``"module:Class"``) writes its own fixture (``Class.fixture``)."""
    return DataModuleSpec(
        name=name, version=VERSION, cls=cls, task="image-classification", fixture=f"{cls}.fixture",
        tags=("vision", "image-classification", *tags), supervised_keys=("image", "label"),
        **fields)
