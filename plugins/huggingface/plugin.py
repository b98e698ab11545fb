"""Entry point of the huggingface plugin: its spec only, nothing heavy imported."""

from __future__ import annotations

from dmzoo import hookimpl
from dmzoo.core.spec import DataModuleSpec

from .spec import HUGGINGFACE


@hookimpl
def dmzoo_datamodule_specs() -> list[DataModuleSpec]:
    return [HUGGINGFACE]
