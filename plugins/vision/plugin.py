"""Entry point of the first-party vision plugin: specs only, nothing heavy imported."""

from __future__ import annotations

from dmzoo import hookimpl

from .specs import SPECS


@hookimpl
def dmzoo_datamodule_specs():
    return list(SPECS)
