"""Import a spec's class lazily and build it with checked keyword arguments."""

from __future__ import annotations

import difflib
import importlib
import inspect
from typing import TYPE_CHECKING, Any

from ..core.errors import InvalidArgumentError, MissingExtraError, PluginError
from ..core.options import accepted_parameters
from ..core.spec import DataModuleSpec

if TYPE_CHECKING:
    from ..core.datamodule import DataModule


def import_object(path: str) -> Any:
    """The object named by ``"package.module:qualified.name"`` (import errors propagate)."""
    module_name, _, qualname = path.partition(":")
    obj: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def import_class(spec: DataModuleSpec) -> type:
    """Import ``spec.cls`` (``"package.module:Class"``); errors name the spec and plugin."""
    try:
        obj = import_object(spec.cls)
    except MissingExtraError:
        raise  # already says which extra to install
    except Exception as exc:
        raise PluginError(
            f"cannot import {spec.cls!r} for {spec.ref} (plugin {spec.plugin!r}): "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    if not isinstance(obj, type):
        raise PluginError(f"{spec.cls!r} for {spec.ref} is a {type(obj).__name__}, not a class")
    return obj


def check_kwargs(spec: DataModuleSpec, cls: type, kwargs: dict[str, Any]) -> None:
    """Fail before anything is built when a keyword does not fit the constructor."""
    names, var_kw = accepted_parameters(cls)
    unknown = [k for k in kwargs if k not in names] if not var_kw else []
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(key, names, n=1)
            hints.append(f"{key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        raise InvalidArgumentError(
            f"{spec.qualified_name} got unknown argument(s) {', '.join(hints)}; "
            f"accepted: {', '.join(names) or '(none)'}"
        )
    try:
        inspect.signature(cls).bind(**kwargs)
    except TypeError as exc:
        raise InvalidArgumentError(f"{spec.qualified_name}: {exc}; accepted: {', '.join(names)}") from None


def instantiate(spec: DataModuleSpec, kwargs: dict[str, Any]) -> DataModule:
    """Build the datamodule for ``spec`` and attach ``spec`` to it (``dm.spec``)."""
    cls = import_class(spec)
    merged = {**spec.default_kwargs, **kwargs}
    check_kwargs(spec, cls, merged)
    # Deferred: core.datamodule imports torch (and Lightning when installed).
    from ..core.datamodule import attach_spec

    return attach_spec(cls(**merged), spec)
