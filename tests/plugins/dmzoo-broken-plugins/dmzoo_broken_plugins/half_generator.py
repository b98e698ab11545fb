"""A spec generator that yields one valid spec, then raises: the whole answer is dropped."""

from dmzoo import DataModuleSpec, hookimpl


@hookimpl
def dmzoo_datamodule_specs():
    yield DataModuleSpec(name="half", namespace="broken", version="1.0.0", cls="x.y:Half")
    raise RuntimeError("the generator broke after one spec")
