"""A spec generator that never ends."""

from dmzoo import DataModuleSpec, hookimpl


@hookimpl
def dmzoo_datamodule_specs():
    spec = DataModuleSpec(name="again", namespace="endless", version="1.0.0", cls="x.y:Again")
    while True:
        yield spec
