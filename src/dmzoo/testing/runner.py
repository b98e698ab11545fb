"""Turn a target (plugin, package or datamodule name) into checks, run them, report."""

from __future__ import annotations

import sys
import tempfile
import time
import traceback
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..core.errors import DataModuleNotFoundError, DmzooError, PluginError
from ..core.spec import DataModuleSpec, normalize_name
from ..registry import Registry, get_registry, parse_ref
from .checks import CHECKS, Skip, run_in_context
from .errors import ConformanceError

Status = Literal["passed", "failed", "skipped"]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one spec."""

    ref: str
    check: str
    status: Status
    message: str = ""
    seconds: float = 0.0
    detail: str = ""


@dataclass(frozen=True)
class Check:
    """One check bound to one spec; ``run()`` reports, calling it raises on failure."""

    spec: DataModuleSpec
    name: str

    @property
    def id(self) -> str:
        return f"{self.spec.ref}::{self.name}"

    def run(self, folder: str | Path | None = None) -> CheckResult:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="dmzoo-check-") as tmp:
            try:
                run_in_context(self.spec, self.name, Path(folder or tmp))
            except Skip as skip:
                return self._result("skipped", str(skip), start)
            except Exception as exc:  # any exception is a failed check, reported with its cause
                message = str(exc) if isinstance(exc, DmzooError) else f"{type(exc).__name__}: {exc}"
                return self._result("failed", message, start, traceback.format_exc())
        return self._result("passed", "", start)

    def _result(self, status: Status, message: str, start: float, detail: str = "") -> CheckResult:
        return CheckResult(self.spec.ref, self.name, status, message,
                           time.perf_counter() - start, detail)

    def __call__(self) -> CheckResult:
        """Run; raise :class:`ConformanceError` on failure (and ``pytest.skip`` under pytest)."""
        result = self.run()
        if result.status == "failed":
            raise ConformanceError(f"{self.id} failed: {result.message}")
        if result.status == "skipped" and "pytest" in sys.modules:
            # deferred: pytest is heavy; used only when the process has loaded it
            import pytest

            pytest.skip(f"{self.id}: {result.message}")
        return result


def specs_for(target: str | DataModuleSpec | Iterable[DataModuleSpec]) -> list[DataModuleSpec]:
    """The specs a target means.

    A spec (or several) as is; else a plugin by entry-point name, distribution
    or package name (every spec its hook returns, invalid ones included so the
    spec check reports them); else a namespace; else a datamodule reference
    (every registered version unless one is pinned).
    """
    if isinstance(target, DataModuleSpec):
        return [target]
    if not isinstance(target, str):
        return list(target)

    registry = get_registry()
    plugin = _find_plugin(registry, target)
    if plugin is not None:
        return _plugin_specs(registry, plugin)
    wanted = normalize_name(target)
    keys = registry.datamodule_keys()
    in_namespace = [s for ns, name in keys if ns == wanted for s in registry.versions(ns, name)]
    if in_namespace:
        return in_namespace
    try:
        ref = parse_ref(target)
        spec = registry.resolve(target)
    except DmzooError as exc:
        names = ", ".join(p.name for p in registry.plugins) or "none"
        raise DataModuleNotFoundError(f"no plugin, package, namespace or datamodule named "
                                      f"{target!r} (installed plugins: {names}): {exc}") from None
    if ref.specifier is not None:
        return [spec]
    return registry.versions(spec.namespace, spec.name)


def _find_plugin(registry: Registry, target: str) -> str | None:
    """The pluggy name of the plugin ``target`` names, if any."""
    pm = registry.plugin_manager
    if pm.get_plugin(target) is not None:
        return target
    norm = normalize_name(target)
    for info in registry.plugins:
        package = info.module.split(":")[0]
        if norm in (normalize_name(info.distribution), normalize_name(info.name),
                    normalize_name(package), normalize_name(package.split(".")[0])):
            return info.name
    return None


def _plugin_specs(registry: Registry, plugin_name: str) -> list[DataModuleSpec]:
    impls = [i for i in registry.plugin_manager.hook.dmzoo_datamodule_specs.get_hookimpls()
             if i.plugin_name == plugin_name]
    if not impls:
        raise PluginError(f"plugin {plugin_name!r} does not implement dmzoo_datamodule_specs")
    try:
        answer: Any = impls[0].function()
    except Exception as exc:
        raise ConformanceError(f"plugin {plugin_name!r}: dmzoo_datamodule_specs raised "
                               f"{type(exc).__name__}: {exc}") from exc
    specs = list(answer) if isinstance(answer, (list, tuple)) else [answer]
    bad = [s for s in specs if not isinstance(s, DataModuleSpec)]
    if bad:
        raise ConformanceError(f"plugin {plugin_name!r}: dmzoo_datamodule_specs returned "
                               f"{type(bad[0]).__name__}, expected DataModuleSpec objects")
    if not specs:
        raise ConformanceError(f"plugin {plugin_name!r} returns no datamodule spec")
    return specs


def checks_for(
    target: str | DataModuleSpec | Iterable[DataModuleSpec], *, checks: Sequence[str] | None = None
) -> list[Check]:
    """Every (spec, check) pair for ``target``; ``checks`` picks a subset by name."""
    names = list(checks) if checks else list(CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ConformanceError(f"unknown check(s) {', '.join(unknown)}; "
                               f"available: {', '.join(CHECKS)}")
    return [Check(spec, name) for spec in specs_for(target) for name in names]


def run_checks(selected: Iterable[Check], *, raise_on_failure: bool = True) -> list[CheckResult]:
    """Run every check; with ``raise_on_failure`` a failure raises listing all failures."""
    results = [check.run() for check in selected]
    failed = [r for r in results if r.status == "failed"]
    if failed and raise_on_failure:
        lines = "\n".join(f"  - {r.ref} {r.check}: {r.message}" for r in failed)
        raise ConformanceError(f"{len(failed)} of {len(results)} check(s) failed:\n{lines}")
    return results
