"""Sample grids for the docs gallery: real images with their class names.

Uses ``matplotlib.figure.Figure`` directly (Agg canvas), so it never touches pyplot's
global backend or opens a window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dmzoo.core.errors import MissingExtraError


def sample_grid(images: np.ndarray, labels: Sequence[int] | np.ndarray, classes: Sequence[str], *,
                title: str = "", path: str | Path | None = None) -> Any:
    """A grid of ``N x C x H x W`` uint8 ``images`` titled by class name; PNG at ``path``."""
    try:
        # deferred: matplotlib is heavy and optional; only plotting needs it
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise MissingExtraError("plot() needs matplotlib: pip install 'dmzoo[vision]'") from None
    n = len(images)
    cols = max(1, min(8, math.ceil(math.sqrt(n))))
    rows = max(1, math.ceil(n / cols))
    fig = Figure(figsize=(1.4 * cols, 1.6 * rows + (0.4 if title else 0)))
    FigureCanvasAgg(fig)
    for i in range(rows * cols):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.set_axis_off()
        if i >= n:
            continue
        hwc = images[i].transpose(1, 2, 0)
        if hwc.shape[2] == 1:
            ax.imshow(hwc[:, :, 0], cmap="gray", vmin=0, vmax=255)
        else:
            ax.imshow(hwc)
        label = int(labels[i])
        ax.set_title(str(classes[label]) if label >= 0 else "unlabeled", fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, format="png", dpi=80)
    return fig
