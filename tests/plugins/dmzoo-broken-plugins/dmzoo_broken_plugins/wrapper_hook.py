"""Valid specs, plus a wrapper hook (``wrapper=True``), which dmzoo does not run."""

from dmzoo import DataModuleSpec, hookimpl


@hookimpl
def dmzoo_datamodule_specs():
    return [DataModuleSpec(name="wrapped", namespace="broken", version="1.0.0",
                           cls="dmzoo_broken_plugins.nowhere:Wrapped")]


@hookimpl(wrapper=True)
def dmzoo_data_dir(spec):
    answer = yield
    return answer or "/tmp/wrapped"
