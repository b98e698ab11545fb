"""Find plugins through the ``dmzoo`` entry-point group and collect their specs.

A broken plugin (import error, exception in a hook, invalid spec) is recorded
as a :class:`PluginFailure` and reported with a warning; the others still load.
``DMZOO_STRICT=1`` turns the first failure into a :class:`PluginError`.
"""

from __future__ import annotations

import traceback
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from importlib.metadata import entry_points
from typing import Any

import pluggy

from ..core import hookspecs
from ..core.errors import PluginError
from ..core.settings import env_flag
from ..core.spec import DataModuleSpec

ENTRY_POINT_GROUP = "dmzoo"


class DmzooPluginWarning(UserWarning):
    """A plugin was skipped; the message names it and the cause."""


@dataclass(frozen=True)
class PluginInfo:
    """A loaded plugin and the distribution that provides it."""

    name: str
    module: str
    distribution: str = ""
    version: str = ""


@dataclass(frozen=True)
class PluginFailure:
    """Why a plugin (or one of its specs) was skipped."""

    plugin: str
    stage: str  # "import", "hook" or "spec"
    cause: str
    detail: str = ""

    def __str__(self) -> str:
        return f"plugin {self.plugin!r} failed at {self.stage}: {self.cause}"


def strict() -> bool:
    return env_flag("DMZOO_STRICT")


def report(failure: PluginFailure, failures: list[PluginFailure]) -> None:
    """Record ``failure``; raise in strict mode, warn otherwise."""
    failures.append(failure)
    if strict():
        raise PluginError(f"{failure} (DMZOO_STRICT is set)")
    warnings.warn(
        f"dmzoo: skipped {failure}; run 'dmzoo doctor' for details, "
        "or set DMZOO_STRICT=1 to make this an error",
        DmzooPluginWarning,
        stacklevel=3,
    )


def _cause(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    return pm


def load_entry_point_plugins(
    pm: pluggy.PluginManager, failures: list[PluginFailure]
) -> list[PluginInfo]:
    """Import and register every ``dmzoo`` entry point; isolate failures."""
    loaded = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if pm.has_plugin(ep.name):
            continue  # the same distribution seen twice on sys.path
        dist = getattr(ep, "dist", None)
        info = PluginInfo(
            name=ep.name,
            module=ep.value,
            distribution=dist.name if dist else "",
            version=dist.version if dist else "",
        )
        try:
            pm.register(ep.load(), name=ep.name)
        except Exception as exc:  # a broken plugin must never break dmzoo
            report(PluginFailure(ep.name, "import", _cause(exc), traceback.format_exc()), failures)
            continue
        loaded.append(info)
    return loaded


def call_each(
    pm: pluggy.PluginManager, hook_name: str, failures: list[PluginFailure], **kwargs: Any
) -> Iterator[tuple[str, Any]]:
    """Call every implementation of ``hook_name`` alone, so one raising spares the rest."""
    for impl in reversed(getattr(pm.hook, hook_name).get_hookimpls()):
        try:
            yield impl.plugin_name, impl.function(**{a: kwargs[a] for a in impl.argnames})
        except Exception as exc:
            report(PluginFailure(impl.plugin_name, "hook", f"{hook_name} raised {_cause(exc)}",
                                 traceback.format_exc()), failures)


def collect_specs(
    pm: pluggy.PluginManager,
    failures: list[PluginFailure],
    plugin_label: Callable[[str], str] = str,
) -> Iterable[DataModuleSpec]:
    """Yield every valid spec from every plugin, tagged with its provider."""
    for plugin_name, specs in call_each(pm, "dmzoo_datamodule_specs", failures):
        if specs is None or isinstance(specs, (str, bytes, DataModuleSpec)):
            specs = [specs]
        try:
            specs = list(specs)
        except TypeError:
            specs = [specs]
        for spec in specs:
            if not isinstance(spec, DataModuleSpec):
                report(PluginFailure(plugin_name, "spec",
                                     f"returned {type(spec).__name__}, expected DataModuleSpec"),
                       failures)
                continue
            try:
                spec.validate()
            except Exception as exc:
                report(PluginFailure(plugin_name, "spec", _cause(exc)), failures)
                continue
            yield spec if spec.plugin else replace(spec, plugin=plugin_label(plugin_name))
