"""Returns something that is not a spec."""

from dmzoo import hookimpl


@hookimpl
def dmzoo_datamodule_specs():
    return [{"name": "dict_is_not_a_spec"}]
