"""The registry: every known spec, by namespace, name and version."""

from __future__ import annotations

import difflib
import warnings
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import replace as replace_spec
from fnmatch import fnmatchcase
from typing import Any

import pluggy

from ..core.errors import (
    AmbiguousNameError,
    DataModuleNotFoundError,
    PluginError,
    SpecError,
    VersionNotFoundError,
    shorten,
)
from ..core.settings import env_str
from ..core.spec import DataModuleSpec, normalize_name
from . import discovery
from .names import Ref, parse_ref

Key = tuple[str, str]  # (namespace, name)


def preferred_namespaces() -> list[str]:
    """``DMZOO_PREFER=acme,dmzoo``: which provider wins for an ambiguous bare name."""
    raw = env_str("DMZOO_PREFER")
    return [normalize_name(p) for p in raw.split(",") if p.strip()]


def highest(specs: list[DataModuleSpec]) -> DataModuleSpec:
    """Highest non-pre-release version (highest pre-release if that is all there is)."""
    return max(specs, key=lambda s: (not s.parsed_version.is_prerelease, s.parsed_version))


class Registry:
    """Specs from plugins (entry points) plus in-process registrations."""

    def __init__(self, *, discover: bool = True) -> None:
        self.plugin_manager: pluggy.PluginManager = discovery.new_plugin_manager()
        self.failures: list[discovery.PluginFailure] = []
        self.plugins: list[discovery.PluginInfo] = []
        self._specs: dict[Key, dict[str, DataModuleSpec]] = defaultdict(dict)
        self._aliases: dict[str, Key] = {}
        self._local: list[DataModuleSpec] = []
        self._discover = discover
        self.refresh()

    # -- building ---------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-collect specs from every registered plugin (and the local ones)."""
        self._specs.clear()
        self._aliases.clear()
        self.failures.clear()
        if self._discover and not self.plugins:
            self.plugins = discovery.load_entry_point_plugins(self.plugin_manager, self.failures)
        labels = {p.name: p.distribution or p.name for p in self.plugins}
        for spec in discovery.collect_specs(self.plugin_manager, self.failures,
                                            lambda n: labels.get(n, n)):
            self._add(spec, on_conflict=self._skip_duplicate)
        for spec in self._local:
            self._add(spec, on_conflict=None)

    def _skip_duplicate(self, spec: DataModuleSpec, reason: str) -> None:
        discovery.report(discovery.PluginFailure(spec.plugin, "spec", reason), self.failures)

    def _add(self, spec: DataModuleSpec,
             on_conflict: Callable[[DataModuleSpec, str], None] | None) -> None:
        key = (spec.namespace, spec.name)
        versions = self._specs[key]
        if spec.version in versions and on_conflict:
            on_conflict(spec, f"{spec.ref} is already registered by {versions[spec.version].plugin!r}")
            return
        versions[spec.version] = spec
        for alias in spec.aliases:
            self._aliases[alias] = key

    def register(self, spec: DataModuleSpec, *, replace: bool = False) -> DataModuleSpec:
        """Register a spec in this process (notebooks, tests)."""
        spec.validate()
        if not spec.plugin:
            spec = replace_spec(spec, plugin="<local>")
        existing = self._specs.get((spec.namespace, spec.name), {}).get(spec.version)
        if existing is not None and not replace:
            raise SpecError(f"{spec.ref} is already registered (by {existing.plugin!r}); "
                            "pass replace=True to override it")
        self._local = [s for s in self._local if s.ref != spec.ref] + [spec]
        self._add(spec, on_conflict=None)
        return spec

    def register_plugin(self, plugin: object, name: str | None = None) -> None:
        """Register a plugin object (module or instance with hookimpls) in-process."""
        problem = discovery.admit(self.plugin_manager, plugin, name)
        if problem:
            label = name or self.plugin_manager.get_canonical_name(plugin)
            raise PluginError(f"plugin {label!r} is not registered: {problem}")
        self.refresh()

    def call_hook(self, hook_name: str, **kwargs: Any) -> Any:
        """Ask every plugin, each isolated, as pluggy would (:func:`discovery.call_hook`)."""
        return discovery.call_hook(self.plugin_manager, hook_name, self.failures, **kwargs)

    # -- lookups ----------------------------------------------------------------------
    def datamodule_keys(self) -> list[Key]:
        """``(namespace, name)`` of every registered datamodule, sorted."""
        return sorted(k for k, v in self._specs.items() if v)

    def versions(self, namespace: str, name: str) -> list[DataModuleSpec]:
        specs = self._specs.get((namespace, name), {}).values()
        return sorted(specs, key=lambda s: s.parsed_version)

    def default_version(self, namespace: str, name: str) -> DataModuleSpec:
        return highest(self.versions(namespace, name))

    def all_names(self) -> list[str]:
        return sorted({n for _, n in self.datamodule_keys()} | {f"{ns}/{n}" for ns, n in self.datamodule_keys()}
                      | set(self._aliases))

    def resolve(self, ref: str, version: str | None = None) -> DataModuleSpec:
        """Turn a user's reference into exactly one spec, or raise a helpful error."""
        parsed = parse_ref(ref, version)
        key = self._find_key(parsed, ref)
        specs = self.versions(*key)
        if parsed.specifier is None:
            return self.default_version(*key)
        matching = [s for s in specs if parsed.specifier.contains(s.parsed_version, prereleases=True)]
        if not matching:
            raise VersionNotFoundError(
                f"{key[0]}/{key[1]} has no version matching {str(parsed.specifier)!r}; "
                f"available: {', '.join(s.version for s in specs)}"
            )
        return highest(matching)

    def _find_key(self, parsed: Ref, original: str) -> Key:
        name = parsed.name
        if name in self._aliases and (parsed.namespace in (None, self._aliases[name][0])):
            new = self._aliases[name]
            if (parsed.namespace or new[0], name) not in self._specs:
                warnings.warn(f"datamodule name {name!r} is deprecated; use '{new[0]}/{new[1]}'",
                              DeprecationWarning, stacklevel=4)
                return new
        if parsed.namespace is not None:
            if self._specs.get((parsed.namespace, name)):
                return (parsed.namespace, name)
            raise self._not_found(f"{parsed.namespace}/{name}", original)
        providers = [ns for ns, n in self.datamodule_keys() if n == name]
        if not providers:
            raise self._not_found(name, original)
        if len(providers) == 1:
            return (providers[0], name)
        for preferred in preferred_namespaces():
            if preferred in providers:
                return (preferred, name)
        qualified = ", ".join(f"{ns}/{name}" for ns in providers)
        raise AmbiguousNameError(
            f"{name!r} is provided by several namespaces: {qualified}. Use a qualified name, "
            f"or set DMZOO_PREFER={providers[0]} to choose a provider"
        )

    def _not_found(self, name: str, original: str) -> DataModuleNotFoundError:
        close = difflib.get_close_matches(name, self.all_names(), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""
        return DataModuleNotFoundError(
            f"no datamodule named {shorten(original)}{hint} ('dmzoo list' shows what is installed)"
        )

    def default_specs(
        self,
        pattern: str | None = None,
        *,
        task: str | None = None,
        namespace: str | None = None,
    ) -> list[DataModuleSpec]:
        """Default version of each datamodule, filtered by fnmatch pattern, task, namespace."""
        pat = normalize_name(pattern) if pattern else None
        out = []
        for ns, name in self.datamodule_keys():
            spec = self.default_version(ns, name)
            if pat and not (fnmatchcase(name, pat) or fnmatchcase(f"{ns}/{name}", pat)):
                continue
            if task and spec.task != task:
                continue
            if namespace and ns != normalize_name(namespace):
                continue
            out.append(spec)
        return out

def iter_all(registry: Registry) -> Iterable[DataModuleSpec]:
    for key in registry.datamodule_keys():
        yield from registry.versions(*key)
