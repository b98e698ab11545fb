"""Interop with the training tools users already run: LightningCLI, Hydra, checkpoints, DDP.

- :class:`DmzooLightningCLI`: ``--data mnist --data.batch_size 64`` (a registry name,
  pinned or not) as well as ``--data pkg.module.Class``; also in YAML (``data: mnist``).
- Hydra needs nothing extra: ``{_target_: dmzoo.load_datamodule, name: mnist, batch_size: 64}``.
- :class:`DmzooDataRecord` (a Lightning callback) logs the datamodule's spec, hparams and
  split fingerprint with the run and writes them into every checkpoint;
  :func:`datamodule_from_checkpoint` rebuilds the same datamodule from one.
- :func:`prepare_then_setup` and :func:`distributed_loader`: the plain ``torchrun`` recipe.
- :func:`save_training_state` / :func:`load_training_state`: a plain loop's mid-epoch
  checkpoint (loader position, data identity, model, optimizer), see
  ``docs/fault_tolerance.rst``.

Each name is imported on first use, so ``import dmzoo.interop`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers see; at run time each name is imported on first use
    from .callback import DmzooDataRecord
    from .checkpoint import data_record, datamodule_from_checkpoint
    from .distributed import RankInfo, distributed_loader, prepare_then_setup, rank_info
    from .lightning_cli import DmzooLightningCLI, resolve_data_args
    from .resume import (
        load_training_state,
        restore_training_state,
        save_training_state,
        training_state,
    )

_EXPORTS = {  # name -> module, for the run time; a test checks it matches the imports above
    "DmzooLightningCLI": "lightning_cli",
    "resolve_data_args": "lightning_cli",
    "DmzooDataRecord": "callback",
    "data_record": "checkpoint",
    "datamodule_from_checkpoint": "checkpoint",
    "RankInfo": "distributed",
    "rank_info": "distributed",
    "prepare_then_setup": "distributed",
    "distributed_loader": "distributed",
    "training_state": "resume",
    "restore_training_state": "resume",
    "save_training_state": "resume",
    "load_training_state": "resume",
}

__all__ = sorted(_EXPORTS)

if not TYPE_CHECKING:
    def __getattr__(name: str) -> Any:
        if name in _EXPORTS:
            return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        raise AttributeError(f"module 'dmzoo.interop' has no attribute {name!r}")
