"""The registry's answers to what storage asks plugins (``core.plugin_answers``).

Each hook is called through :func:`~dmzoo.registry.discovery.call_each`, so a failing
plugin is reported and skipped like anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from ..core.plugin_answers import PluginAnswers
from ..core.spec import DataModuleSpec, Resource
from .discovery import call_each
from .index import Registry, iter_all


class RegistryAnswers(PluginAnswers):
    """Answers from the process-wide registry, discovered on first question."""

    def __init__(self, registry: Callable[[], Registry]) -> None:
        self._registry = registry

    def data_dir(self, spec: DataModuleSpec) -> Path | None:
        registry = self._registry()
        for _, answer in call_each(registry.plugin_manager, "dmzoo_data_dir", registry.failures,
                                   spec=spec):
            if answer is not None:
                return Path(answer).expanduser()
        return None

    def resource_urls(self, spec: DataModuleSpec, resource: Resource,
                      urls: list[str]) -> list[str]:
        registry = self._registry()
        for _ in call_each(registry.plugin_manager, "dmzoo_resource_urls", registry.failures,
                           spec=spec, resource=resource, urls=urls):
            pass
        return urls

    def specs(self) -> Iterable[DataModuleSpec]:
        return iter_all(self._registry())
