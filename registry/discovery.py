"""Find plugins through the ``dmzoo`` entry-point group and collect their specs.

Plugin code is never trusted to behave; whatever it does, dmzoo keeps working:

- each plugin's import, and each call of its ``dmzoo_datamodule_specs`` hook (with the
  iteration of its answer), runs in a worker thread and must finish within
  ``DMZOO_PLUGIN_TIMEOUT`` seconds (default 10); a plugin that hangs is abandoned
  (only a plugin whose package is itself being imported, and so triggered the discovery,
  is imported in the calling thread, without the limit);
- one spec hook may return at most ``DMZOO_PLUGIN_MAX_SPECS`` specs (default 10,000),
  so a generator that never ends is cut off;
- everything plugin code raises is caught, ``SystemExit`` included; only a
  ``KeyboardInterrupt`` in the main thread (a real Ctrl-C) goes through;
- a plugin that marks an unknown hook name or a wrapper is refused (:func:`admit`);
- hook answers are type-checked (``dmzoo_data_dir`` must return a path or None);
- while plugin code runs, ``sys.stdout`` is ``sys.stderr``, so a plugin that prints
  cannot corrupt ``dmzoo list --json``.

Which specs survive: an invalid spec (or a non-spec) skips that spec only; a spec hook
that raises, times out or returns too many specs skips every spec of that plugin.
Each problem is recorded as a :class:`PluginFailure` (``dmzoo doctor`` lists them) and
each broken plugin is reported once with a one-line :class:`DmzooPluginWarning`;
``DMZOO_STRICT=1`` turns the first failure into a :class:`PluginError`.
"""

from __future__ import annotations

import difflib
import functools
import itertools
import math
import os
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterable
from contextlib import redirect_stdout
from dataclasses import dataclass, replace
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pluggy

from ..core import hookspecs
from ..core.errors import InvalidSettingError, PluginError
from ..core.settings import env_flag, env_str
from ..core.spec import DataModuleSpec

ENTRY_POINT_GROUP = "dmzoo"
DEFAULT_TIMEOUT = 10.0  # seconds for one plugin's import, and for one spec hook call
DEFAULT_MAX_SPECS = 10_000  # specs one plugin's spec hook may return
REASON_CHARS = 300  # a warning line quotes at most this much of the cause


class DmzooPluginWarning(UserWarning):
    """A plugin (or one of its specs) was skipped; the message names it and the cause."""


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
    stage: str  # "import", "register", "hook" or "spec"
    cause: str
    detail: str = ""

    def __str__(self) -> str:
        return f"plugin {self.plugin!r} failed at {self.stage}: {self.cause}"


class PluginCodeFailed(Exception):
    """Plugin code raised, exited or ran out of time; the message is the cause.

    ``raised`` tells whether the cause is an exception (``"raised " + cause`` reads well).
    """

    def __init__(self, cause: str, detail: str = "", raised: bool = False) -> None:
        super().__init__(cause)
        self.cause, self.detail, self.raised = cause, detail, raised


# -- limits ---------------------------------------------------------------------------
def _positive_setting(name: str, default: float, example: str) -> float:
    raw = env_str(name)
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise InvalidSettingError(f"{name}={raw[:40]!r} must be a finite number greater than "
                                  f"zero; e.g. {name}={example}, or unset it for the default")
    return value


def plugin_timeout() -> float:
    """Seconds one plugin's import, or one spec hook call, may take (``DMZOO_PLUGIN_TIMEOUT``)."""
    return _positive_setting("DMZOO_PLUGIN_TIMEOUT", DEFAULT_TIMEOUT, "30")


def max_specs() -> int:
    """Specs one spec hook may return (``DMZOO_PLUGIN_MAX_SPECS``, a whole number)."""
    value = _positive_setting("DMZOO_PLUGIN_MAX_SPECS", DEFAULT_MAX_SPECS, "50000")
    if value != int(value):
        raise InvalidSettingError(f"DMZOO_PLUGIN_MAX_SPECS={value:g} must be a whole number; "
                                  "e.g. DMZOO_PLUGIN_MAX_SPECS=50000")
    return int(value)


def check_limits() -> None:
    """Raise :class:`InvalidSettingError` for a bad limit setting now, before any use."""
    plugin_timeout()
    max_specs()


# -- reporting ------------------------------------------------------------------------
def strict() -> bool:
    return env_flag("DMZOO_STRICT")


def provider(plugin: str) -> str:
    """``"distribution version"`` of the entry point named ``plugin``; ``""`` if in-process."""
    for ep in entry_points(group=ENTRY_POINT_GROUP, name=plugin):
        dist = getattr(ep, "dist", None)
        if dist is not None:
            return f"{dist.name} {dist.version}"
    return ""


def warning_line(failure: PluginFailure) -> str:
    """One line naming the plugin, its distribution and the cause."""
    source = provider(failure.plugin)
    reason = " ".join(f"failed at {failure.stage}: {failure.cause}".split())
    if len(reason) > REASON_CHARS:
        reason = reason[: REASON_CHARS - 3] + "..."
    where = f" (from {source})" if source else ""
    return f"plugin {failure.plugin!r}{where} is broken: {reason}; run 'dmzoo doctor'"


def report(failure: PluginFailure, failures: list[PluginFailure]) -> None:
    """Record ``failure``; raise in strict mode, else warn once per plugin."""
    first = all(f.plugin != failure.plugin for f in failures)
    failures.append(failure)
    if strict():
        raise PluginError(f"{failure} (DMZOO_STRICT is set)")
    if first:
        warnings.warn(warning_line(failure), DmzooPluginWarning, stacklevel=3)


def _cause(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"called sys.exit({exc.code!r})"
    return f"{type(exc).__name__}: {exc}"


# -- running plugin code --------------------------------------------------------------
def run_plugin_code(work: Callable[[], Any], timeout: float, *, in_thread: bool = True) -> Any:
    """``work()`` in a daemon thread with stdout on stderr; :class:`PluginCodeFailed` if
    it raises anything or is still running after ``timeout`` seconds (then it is abandoned).

    ``in_thread=False`` runs it in this thread, without the time limit (see
    :func:`being_imported`); a KeyboardInterrupt is then a real Ctrl-C and goes through.
    """
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = work()
        except KeyboardInterrupt:
            if not in_thread:
                raise
            outcome["error"] = sys.exc_info()[1]  # in a worker thread it is the plugin's own
        except BaseException as exc:  # SystemExit included
            outcome["error"] = exc

    thread = threading.Thread(target=target, name="dmzoo-plugin", daemon=True)
    with redirect_stdout(sys.stderr):
        if in_thread:
            thread.start()
            thread.join(timeout)
        else:
            target()
    if in_thread and thread.is_alive():
        raise PluginCodeFailed(f"did not finish within {timeout:g} s (DMZOO_PLUGIN_TIMEOUT)")
    exc = outcome.get("error")
    if isinstance(exc, PluginCodeFailed):
        raise exc
    if exc is not None:
        raise PluginCodeFailed(_cause(exc), "".join(traceback.format_exception(exc)),
                               raised=not isinstance(exc, SystemExit))
    return outcome.get("value")


def being_imported(module: str) -> bool:
    """True when ``module`` or a parent package is half-imported right now, e.g. a plugin
    package whose ``__init__`` lists datamodules: a worker thread importing the plugin
    could wait for that import, which waits for the worker (so it is imported here)."""
    parts = module.split(".")
    for i in range(1, len(parts) + 1):
        spec = getattr(sys.modules.get(".".join(parts[:i])), "__spec__", None)
        if getattr(spec, "_initializing", False):
            return True
    return False


def new_plugin_manager() -> pluggy.PluginManager:
    pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
    pm.add_hookspecs(hookspecs)
    return pm


HOOK_NAMES = sorted(n for n in vars(hookspecs) if n.startswith("dmzoo_"))


def admit(pm: pluggy.PluginManager, plugin: object, name: str | None) -> str:
    """Register ``plugin``, or leave ``pm`` as it was and return why dmzoo cannot run it.

    Beyond pluggy's own checks: pluggy's ``check_pending()``, per plugin (a hook name that
    no hookspec declares, e.g. a misspelling, is never called), and no wrapper (it would
    run around the other plugins' implementations, where dmzoo cannot isolate it).
    """
    try:
        with redirect_stdout(sys.stderr):
            pm.register(plugin, name=name)
    except (Exception, SystemExit) as exc:  # e.g. a hook with arguments its hookspec lacks
        return " ".join(_cause(exc).split())
    for caller in pm.get_hookcallers(plugin) or []:
        for impl in (i for i in caller.get_hookimpls() if i.plugin is plugin):
            problem = ""
            if caller.spec is None and not impl.optionalhook:
                close = difflib.get_close_matches(caller.name, HOOK_NAMES, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(HOOK_NAMES)}"
                problem = f"{caller.name!r} is not a dmzoo hook ({hint})"
            elif impl.wrapper or impl.hookwrapper:
                problem = (f"{caller.name} is a wrapper (wrapper=True or hookwrapper=True), "
                           "which dmzoo does not run; use a plain @dmzoo.hookimpl")
            if problem:
                pm.unregister(plugin)
                return problem
    return ""


def load_entry_point_plugins(
    pm: pluggy.PluginManager, failures: list[PluginFailure]
) -> list[PluginInfo]:
    """Import and register every ``dmzoo`` entry point; isolate failures."""
    loaded = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if pm.has_plugin(ep.name):
            continue  # the same distribution seen twice on sys.path
        dist = getattr(ep, "dist", None)
        metadata = dist.metadata if dist else None  # parsed once for both fields
        info = PluginInfo(name=ep.name, module=ep.value,
                          distribution=metadata["Name"] if metadata else "",
                          version=metadata["Version"] if metadata else "")
        if load_plugin(pm, info, failures):
            loaded.append(info)
    return loaded


def load_plugin(pm: pluggy.PluginManager, info: PluginInfo, failures: list[PluginFailure]) -> bool:
    """Import the entry point ``info`` names and register it; report a failure (False)."""
    ep = EntryPoint(info.name, info.module, ENTRY_POINT_GROUP)
    try:
        module = run_plugin_code(ep.load, plugin_timeout(),
                                 in_thread=not being_imported(ep.module))
    except PluginCodeFailed as exc:
        report(PluginFailure(info.name, "import", exc.cause, exc.detail), failures)
        return False
    problem = admit(pm, module, info.name)
    if problem:
        report(PluginFailure(info.name, "register", problem), failures)
        return False
    return True


def hook_names(pm: pluggy.PluginManager, plugin_name: str) -> list[str]:
    """The hooks plugin ``plugin_name`` implements."""
    return sorted(c.name for c in pm.get_hookcallers(pm.get_plugin(plugin_name)) or [])


def register_in_order(pm: pluggy.PluginManager, order: list[str]) -> None:
    """Re-register the plugins named in ``order`` in that order: pluggy calls the most
    recently registered first, so plugins imported late keep a full discovery's order."""
    plugins = [(name, pm.unregister(name=name)) for name in order if pm.has_plugin(name)]
    for name, plugin in plugins:
        pm.register(plugin, name=name)


# -- calling hooks --------------------------------------------------------------------
def _data_dir_problem(answer: Any) -> str:
    if answer is None:
        return ""
    if isinstance(answer, (str, os.PathLike)):
        try:
            path = os.fspath(answer)
        except Exception:
            path = ""
        if isinstance(path, str) and path.strip():
            return ""
    return f"returned {type(answer).__name__} {answer!r:.60}, expected a non-empty path or None"


ANSWER_PROBLEMS: dict[str, Callable[[Any], str]] = {"dmzoo_data_dir": _data_dir_problem}


def _implementations(pm: pluggy.PluginManager, hook_name: str) -> list[pluggy.HookImpl]:
    """Hook implementations, most recently registered first (pluggy's calling order)."""
    return list(reversed(getattr(pm.hook, hook_name).get_hookimpls()))


def call_hook(
    pm: pluggy.PluginManager, hook_name: str, failures: list[PluginFailure], **kwargs: Any
) -> Any:
    """``pm.hook.<hook_name>(**kwargs)`` (pluggy's order, None answers dropped, a list, or
    the first answer for a ``firstresult`` hookspec), but each implementation called alone:
    one that fails, or answers with the wrong type, is reported and spares the rest."""
    first = getattr(pm.hook, hook_name).spec.opts["firstresult"]
    check = ANSWER_PROBLEMS.get(hook_name)
    answers = []
    for impl in _implementations(pm, hook_name):
        try:
            with redirect_stdout(sys.stderr):
                answer = impl.function(**{a: kwargs[a] for a in impl.argnames})
        except KeyboardInterrupt:
            raise  # a real Ctrl-C: hooks are called in the caller's thread
        except BaseException as exc:
            verb = "" if isinstance(exc, SystemExit) else "raised "
            report(PluginFailure(impl.plugin_name, "hook", f"{hook_name} {verb}{_cause(exc)}",
                                 traceback.format_exc()), failures)
            continue
        problem = check(answer) if check else ""
        if problem:
            report(PluginFailure(impl.plugin_name, "hook", f"{hook_name} {problem}"), failures)
        elif answer is not None:
            if first:
                return answer
            answers.append(answer)
    return None if first else answers


def _bounded_answer(function: Callable[[], Any], limit: int) -> list[Any]:
    """The hook's answer as a list of at most ``limit`` items (runs in the worker thread)."""
    answer = function()
    if answer is None or isinstance(answer, (str, bytes, DataModuleSpec)):
        return [answer]
    try:
        items = iter(answer)
    except TypeError:
        return [answer]
    taken = list(itertools.islice(items, limit + 1))
    if len(taken) > limit:
        raise PluginCodeFailed(f"returned more than {limit} specs (DMZOO_PLUGIN_MAX_SPECS)")
    return taken


def collect_specs(
    pm: pluggy.PluginManager,
    failures: list[PluginFailure],
    plugin_label: Callable[[str], str] = str,
) -> Iterable[DataModuleSpec]:
    """Yield every valid spec from every plugin, tagged with its provider."""
    hook_name = "dmzoo_datamodule_specs"
    timeout, limit = plugin_timeout(), max_specs()
    for impl in _implementations(pm, hook_name):
        try:
            module = getattr(impl.function, "__module__", None) or ""
            specs = run_plugin_code(functools.partial(_bounded_answer, impl.function, limit),
                                    timeout, in_thread=not being_imported(module))
        except PluginCodeFailed as exc:
            cause = f"{hook_name} {'raised ' if exc.raised else ''}{exc.cause}"
            report(PluginFailure(impl.plugin_name, "hook", cause, exc.detail), failures)
            continue
        for spec in specs:
            if not isinstance(spec, DataModuleSpec):
                report(PluginFailure(impl.plugin_name, "spec",
                                     f"returned {type(spec).__name__}, expected DataModuleSpec"),
                       failures)
                continue
            try:
                spec.validate()
            except Exception as exc:
                report(PluginFailure(impl.plugin_name, "spec", _cause(exc)), failures)
                continue
            yield spec if spec.plugin else replace(spec, plugin=plugin_label(impl.plugin_name))
