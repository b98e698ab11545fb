"""What core asks the installed plugins, answered by the registry.

Storage needs three things only plugins know: a plugin's data folder for a spec
(``dmzoo_data_dir``), its edits to a resource's URLs (``dmzoo_resource_urls``) and the
registered specs (so ``dmzoo cache`` finds the roots those plugins chose). ``core`` never
imports ``registry``: the registry installs its answers here when it is imported
(``dmzoo.registry.hookcalls``); storage used without it sees no plugins.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .spec import DataModuleSpec, Resource


class PluginAnswers:
    """No plugins: the answers storage gets when no registry is installed."""

    def data_dir(self, spec: DataModuleSpec) -> Path | None:
        """The first plugin's ``dmzoo_data_dir`` answer for ``spec``, or None."""
        return None

    def resource_urls(self, spec: DataModuleSpec, resource: Resource,
                      urls: list[str]) -> list[str]:
        """``urls`` after every ``dmzoo_resource_urls`` hook edited it."""
        return urls

    def specs(self) -> Iterable[DataModuleSpec]:
        """Every registered spec, all versions."""
        return ()


_installed = PluginAnswers()


def install(answers: PluginAnswers) -> None:
    """Make ``answers`` the ones storage asks (the registry does this once)."""
    global _installed
    _installed = answers


def plugins() -> PluginAnswers:
    """The installed answers."""
    return _installed
