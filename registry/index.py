"""The registry: every known spec, by namespace, name and version."""

from __future__ import annotations

import difflib
import threading
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
from . import discovery, discovery_cache
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
    """Specs from plugins (entry points) plus in-process registrations.

    ``use_cache``: start from the saved discovery when it is still valid
    (:mod:`.discovery_cache`); its plugins are then imported when a hook of theirs is
    called, or when :attr:`plugin_manager` is read.
    """

    def __init__(self, *, discover: bool = True, use_cache: bool = True) -> None:
        self._pm: pluggy.PluginManager = discovery.new_plugin_manager()
        self.failures: list[discovery.PluginFailure] = []
        self.plugins: list[discovery.PluginInfo] = []
        self._not_imported: dict[str, list[str]] = {}  # plugin name -> the hooks it implements
        self._importing = threading.Lock()  # hooks may be called from several threads
        self._specs: dict[Key, dict[str, DataModuleSpec]] = defaultdict(dict)
        self._aliases: dict[str, Key] = {}
        self._local: list[DataModuleSpec] = []
        self._discover = discover
        self._use_cache = discover and use_cache and discovery_cache.enabled()
        self.refresh()

    @property
    def plugin_manager(self) -> pluggy.PluginManager:
        """pluggy's manager, with every plugin imported and registered."""
        self._import_plugins()
        return self._pm

    # -- building ---------------------------------------------------------------------
    def refresh(self) -> None:
        """Re-collect specs from every registered plugin (and the local ones)."""
        self._specs.clear()
        self._aliases.clear()
        self.failures.clear()
        first = self._discover and not self.plugins
        cached = first and self._use_cache
        if cached:
            discovery.check_limits()  # a bad setting is an error even when nothing is imported
        saved = discovery_cache.load() if cached else None
        if saved is not None:
            self.plugins, self._not_imported = saved.plugins, saved.hooks
            for spec in saved.specs:
                self._add(spec, on_conflict=None)
            return  # the first refresh: there are no local specs yet
        self._import_plugins()
        watch = discovery_cache.Watch() if cached else None
        if first:
            self.plugins = discovery.load_entry_point_plugins(self._pm, self.failures)
        labels = {p.name: p.distribution or p.name for p in self.plugins}
        found = list(discovery.collect_specs(self._pm, self.failures, lambda n: labels.get(n, n)))
        for spec in found:
            self._add(spec, on_conflict=self._skip_duplicate)
        if watch and not self.failures:
            hooks = {p.name: discovery.hook_names(self._pm, p.name) for p in self.plugins}
            watch.save(discovery_cache.Discovered(self.plugins, hooks, found))
        for spec in self._local:
            self._add(spec, on_conflict=None)

    def _import_plugins(self, hook_name: str | None = None) -> None:
        """Import the saved discovery's plugins (those implementing ``hook_name``, or all)."""
        if not self._not_imported:
            return
        with self._importing:
            names = [n for n, hooks in self._not_imported.items()
                     if hook_name is None or hook_name in hooks]
            for name in names:
                del self._not_imported[name]
                info = next(p for p in self.plugins if p.name == name)
                if not discovery.load_plugin(self._pm, info, self.failures):
                    discovery_cache.forget()  # it imported when saved: rediscover next time
            if names:
                discovery.register_in_order(self._pm, [p.name for p in self.plugins])

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
            label = name or self._pm.get_canonical_name(plugin)
            raise PluginError(f"plugin {label!r} is not registered: {problem}")
        self.refresh()

    def call_hook(self, hook_name: str, **kwargs: Any) -> Any:
        """Ask every plugin, each isolated, as pluggy would (:func:`discovery.call_hook`)."""
        self._import_plugins(hook_name)
        return discovery.call_hook(self._pm, hook_name, self.failures, **kwargs)

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
