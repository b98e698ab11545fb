"""Imports fine, raises inside its hook."""

from dmzoo import hookimpl


@hookimpl
def dmzoo_datamodule_specs():
    raise RuntimeError("the plugin's spec file is corrupt")
