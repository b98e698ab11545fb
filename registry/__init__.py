"""The by-name registry: discovery, naming, versions and loading.

The whole API fits on a screen::

    list_datamodules("mnist*", task="image-classification")
    is_datamodule("cifar10")
    get_spec("dmzoo/mnist@>=1,<2")
    load_datamodule("mnist", batch_size=64)
    register_datamodule(spec)       # in-process (notebooks, tests)

Nothing here imports torch or a datamodule class until ``load_datamodule``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ..core import plugin_answers
from ..core.errors import DmzooError
from ..core.spec import DataModuleSpec
from .discovery import DmzooPluginWarning, PluginFailure, PluginInfo
from .hookcalls import RegistryAnswers
from .index import Registry
from .loading import import_class, instantiate
from .names import Ref, parse_ref

if TYPE_CHECKING:  # the class imports torch; a load imports it anyway
    from ..core.datamodule import DataModule

__all__ = [
    "DmzooPluginWarning",
    "PluginFailure",
    "PluginInfo",
    "Ref",
    "Registry",
    "get_registry",
    "get_spec",
    "info",
    "is_datamodule",
    "list_datamodules",
    "load_datamodule",
    "parse_ref",
    "register_datamodule",
    "register_plugin",
    "reset_registry",
    "import_class",
]

_lock = threading.Lock()
_registry: Registry | None = None


def get_registry() -> Registry:
    """The process-wide registry, discovered on first use."""
    global _registry
    with _lock:
        if _registry is None:
            _registry = Registry()
        return _registry


plugin_answers.install(RegistryAnswers(get_registry))


def reset_registry() -> None:
    """Forget everything; the next call re-discovers plugins (after a pip install)."""
    global _registry
    with _lock:
        _registry = None


def list_datamodules(
    pattern: str | None = None, *, task: str | None = None, namespace: str | None = None
) -> list[str]:
    """Qualified names (``namespace/name``) matching an fnmatch ``pattern``."""
    return [s.qualified_name for s in get_registry().default_specs(pattern, task=task, namespace=namespace)]


def get_spec(name: str, *, version: str | None = None) -> DataModuleSpec:
    """The spec ``name`` resolves to (highest stable version unless pinned)."""
    return get_registry().resolve(name, version)


info = get_spec


def is_datamodule(name: str, *, version: str | None = None) -> bool:
    """Whether ``name`` (and ``version``, if given) resolves to a registered datamodule."""
    try:
        get_spec(name, version=version)
    except DmzooError:
        return False
    return True


def load_datamodule(name: str, *, version: str | None = None, **kwargs: Any) -> DataModule:
    """Build the datamodule ``name`` with ``kwargs`` checked against its constructor."""
    registry = get_registry()
    spec = registry.resolve(name, version)
    datamodule = instantiate(spec, kwargs)
    registry.call_hook("dmzoo_datamodule_created", spec=spec, datamodule=datamodule)
    return datamodule


def register_datamodule(spec: DataModuleSpec, *, replace: bool = False) -> DataModuleSpec:
    """Register ``spec`` in this process only."""
    return get_registry().register(spec, replace=replace)


def register_plugin(plugin: object, name: str | None = None) -> None:
    """Register a plugin object (a module or class instance with hookimpls) in-process."""
    get_registry().register_plugin(plugin, name)
