"""dmzoo: a plugin registry of prebuilt, fast, reproducible PyTorch DataModules.

    >>> import dmzoo
    >>> dm = dmzoo.load_datamodule("mnist", batch_size=128)

Importing dmzoo does not import torch; :class:`DataModule` does (with Lightning when it
is installed), on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import errors
from .core.errors import DmzooError
from .core.hookspecs import hookimpl
from .core.spec import Alternate, DataModuleSpec, Feature, Resource, Split
from .registry import (
    get_spec,
    info,
    is_datamodule,
    list_datamodules,
    load_datamodule,
    register_datamodule,
    register_plugin,
)

if TYPE_CHECKING:  # the real class for type checkers; at run time it is loaded on first use
    from .core.datamodule import DataModule

__version__ = "0.1.0"

__all__ = [
    "Alternate",
    "DataModule",
    "DataModuleSpec",
    "DmzooError",
    "Feature",
    "Resource",
    "Split",
    "__version__",
    "errors",
    "get_spec",
    "hookimpl",
    "info",
    "is_datamodule",
    "list_datamodules",
    "load_datamodule",
    "register_datamodule",
    "register_plugin",
]


def __getattr__(name: str) -> Any:
    if name == "DataModule":
        # deferred: core.datamodule imports torch (and Lightning); `import dmzoo` must not
        from .core.datamodule import DataModule

        return DataModule
    raise AttributeError(f"module 'dmzoo' has no attribute {name!r}")
