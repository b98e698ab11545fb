"""The compatibility path: user torchvision transforms run per sample on PIL images.

Existing recipes (``transforms.Compose([RandomCrop(32, 4), ToTensor(), ...])``) get
what torchvision's datasets give them: a PIL image (``L`` for grayscale, ``RGB`` for
colour) and an int label. Slower than the batch path, but unchanged user code works.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from torch.utils.data import Dataset

from dmzoo.core.errors import MissingExtraError
from dmzoo.core.fastloader import ArrayDataset


def to_pil(chw: np.ndarray) -> Any:
    """``C x H x W`` uint8 pixels to a PIL image, as torchvision's datasets build them."""
    try:
        # deferred: PIL is optional; only the per-sample (torchvision-style) API needs it
        from PIL import Image
    except ImportError:  # pragma: no cover - pillow ships with torchvision
        raise MissingExtraError("per-sample transforms need Pillow: pip install 'dmzoo[vision]'") from None
    hwc = np.ascontiguousarray(chw.transpose(1, 2, 0))
    return Image.fromarray(hwc[:, :, 0] if hwc.shape[2] == 1 else hwc)


class PerSampleDataset(Dataset):
    """``(transform(PIL image), int label)`` for each row of an :class:`ArrayDataset`.

    Built on the same memory-mapped source, so workers still share the pixels.
    """

    def __init__(self, source: ArrayDataset, transform: Callable[[Any], Any]) -> None:
        self.source = source
        self.transform = transform

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, position: int) -> tuple[Any, int]:
        image, label = self.source.rows([position])[:2]
        return self.transform(to_pil(image[0])), int(label[0])
