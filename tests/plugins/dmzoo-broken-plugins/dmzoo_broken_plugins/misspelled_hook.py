"""Implements ``dmzoo_datamodule_spec`` (no final s): a hook dmzoo never calls."""

from dmzoo import DataModuleSpec, hookimpl


@hookimpl
def dmzoo_datamodule_spec():
    return [DataModuleSpec(name="misspelled", namespace="broken", version="1.0.0",
                           cls="dmzoo_broken_plugins.nowhere:Lost")]
