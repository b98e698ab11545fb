"""A Lightning callback recording which data a run used (logged, and in every checkpoint)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lightning.pytorch import Callback
else:
    try:
        from lightning.pytorch import Callback
    except ImportError:  # pragma: no cover - the standalone package
        from pytorch_lightning import Callback

from .checkpoint import data_record


class DmzooDataRecord(Callback):
    """Log ``dmzoo/ref``, ``dmzoo/split_fingerprint``... to the run's loggers at fit start,
    and store the full record (spec, class, hparams, state) as ``checkpoint["dmzoo"]``.
    """

    def _record(self, trainer: Any) -> dict[str, Any] | None:
        datamodule = getattr(trainer, "datamodule", None)
        if getattr(datamodule, "spec", None) is None:
            return None
        return data_record(datamodule)

    def on_fit_start(self, trainer: Any, pl_module: Any) -> None:
        record = self._record(trainer)
        if record is None:
            return
        flat = {f"dmzoo/{k}": record[k] for k in
                ("ref", "namespace", "name", "version", "class", "split_fingerprint")}
        for logger in trainer.loggers:
            logger.log_hyperparams(flat)

    def on_save_checkpoint(self, trainer: Any, pl_module: Any, checkpoint: dict[str, Any]) -> None:
        record = self._record(trainer)
        if record is not None:
            checkpoint["dmzoo"] = record
