"""A silent CPU ``Trainer`` for the tests that fit a few steps (no logger, checkpoints,
progress bar or model summary, nothing written outside ``root``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def quiet_trainer(root: str | Path, **options: Any) -> Any:
    """``lightning.pytorch.Trainer`` on the CPU with ``options`` (e.g. ``max_steps=3``)."""
    import lightning.pytorch as pl

    return pl.Trainer(**{"accelerator": "cpu", "logger": False, "enable_checkpointing": False,
                         "enable_progress_bar": False, "enable_model_summary": False,
                         "default_root_dir": str(root), **options})
