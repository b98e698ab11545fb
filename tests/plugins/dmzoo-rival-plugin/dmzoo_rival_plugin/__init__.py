"""A second provider of ``toy`` (namespace ``rival``)."""

from dmzoo import DataModuleSpec, hookimpl


@hookimpl
def dmzoo_datamodule_specs():
    return [DataModuleSpec(name="toy", namespace="rival", version="0.5.0",
                           cls="dmzoo_test_plugin.toy:ToyDataModule",
                           summary="The rival's toy.", task="tabular-classification")]
