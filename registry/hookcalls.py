"""The registry's answers to what storage asks plugins (``core.plugin_answers``).

Each hook is called through :meth:`Registry.call_hook` (pluggy's order, ``firstresult``
honoured), so a failing plugin is reported and skipped like anywhere else.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from ..core.plugin_answers import PluginAnswers
from ..core.spec import DataModuleSpec, Resource
from .index import Registry, iter_all


class RegistryAnswers(PluginAnswers):
    """Answers from the process-wide registry, discovered on first question."""

    def __init__(self, registry: Callable[[], Registry]) -> None:
        self._registry = registry

    def data_dir(self, spec: DataModuleSpec) -> Path | None:
        answer = self._registry().call_hook("dmzoo_data_dir", spec=spec)
        return None if answer is None else Path(answer).expanduser()

    def resource_urls(self, spec: DataModuleSpec, resource: Resource,
                      urls: list[str]) -> list[str]:
        self._registry().call_hook("dmzoo_resource_urls", spec=spec, resource=resource, urls=urls)
        return urls

    def specs(self) -> Iterable[DataModuleSpec]:
        return iter_all(self._registry())
