"""Prints at import and in its hook; valid otherwise (its spec must be listed)."""

from dmzoo import DataModuleSpec, hookimpl

print("hello from a chatty plugin at import")


@hookimpl
def dmzoo_datamodule_specs():
    print("hello from a chatty plugin's spec hook")
    return [DataModuleSpec(name="chatty", namespace="broken", version="1.0.0", cls="x.y:Chatty")]
