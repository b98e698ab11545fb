"""The contract: DataModule base, hookspecs, specs, errors and storage.

Torch (and Lightning, when installed) is imported only when :class:`DataModule` is first
touched, so listing and inspecting specs stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import DmzooError
from .hookspecs import hookimpl, hookspec
from .spec import Alternate, DataModuleSpec, Feature, Resource, Split

if TYPE_CHECKING:  # the real class for type checkers; at run time it is loaded on first use
    from .datamodule import DataModule

__all__ = [
    "Alternate",
    "DataModule",
    "DataModuleSpec",
    "DmzooError",
    "Feature",
    "Resource",
    "Split",
    "hookimpl",
    "hookspec",
]


def __getattr__(name: str) -> Any:
    if name == "DataModule":
        # deferred: core.datamodule imports torch (and Lightning); `import dmzoo.core` must not
        from .datamodule import DataModule

        return DataModule
    raise AttributeError(f"module 'dmzoo.core' has no attribute {name!r}")
