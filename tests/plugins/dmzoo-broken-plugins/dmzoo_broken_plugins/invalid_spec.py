"""Returns one valid spec and one invalid one; only the invalid one is dropped."""

from dmzoo import DataModuleSpec, hookimpl


@hookimpl
def dmzoo_datamodule_specs():
    return [
        DataModuleSpec(name="fine", namespace="broken", version="1.0.0", cls="x.y:Fine"),
        DataModuleSpec(name="9bad", namespace="broken", version="one", cls="not a class path"),
    ]
