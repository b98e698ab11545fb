"""A spec generator that yields one spec, then blocks for ever."""

import threading

from dmzoo import DataModuleSpec, hookimpl


@hookimpl
def dmzoo_datamodule_specs():
    yield DataModuleSpec(name="stalled", namespace="endless", version="1.0.0", cls="x.y:Stalled")
    threading.Event().wait()
