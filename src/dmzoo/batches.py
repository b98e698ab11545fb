"""Helpers for code that takes any dmzoo batch: ``(inputs, target)``, where ``inputs`` is a
tensor or a dict of tensors (tabular: ``{"x_num", "x_cat"}``), as the spec's
``supervised_keys`` say. Importing this module imports torch.
"""

from __future__ import annotations

from typing import Any

import torch


def flat_inputs(inputs: torch.Tensor | dict[str, torch.Tensor]) -> torch.Tensor:
    """One float32 matrix ``[B, spec.input_size]``: a tensor flattened per example, or a
    dict's tensors flattened and concatenated in key order (categorical codes become plain
    numbers: fine for a linear baseline; embed them for a real tabular model)."""
    if isinstance(inputs, dict):
        return torch.cat([value.flatten(1).float() for value in inputs.values()], dim=1)
    return inputs.flatten(1).float()


def split_batch(batch: Any) -> tuple[Any, torch.Tensor | None]:
    """``(inputs, target)`` of a batch; ``target`` is None for an unlabelled predict batch
    (which holds the inputs only)."""
    if isinstance(batch, (tuple, list)) and len(batch) == 2:
        return batch[0], batch[1]
    return batch, None
