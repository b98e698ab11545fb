"""``save_hyperparameters`` for the plain (Lightning-free) DataModule base.

It records the ``__init__`` arguments the way Lightning does, and stores them
under the attribute names Lightning reads (``_hparams``, ``_hparams_initial``,
``_hparams_name``, ``_log_hyperparams``), so a datamodule built on the plain
base stays valid when its class is later moved onto Lightning's base.
"""

from __future__ import annotations

import copy
import inspect
import types
from argparse import Namespace
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import InvalidArgumentError


class AttributeDict(dict):
    """A dict whose keys also read as attributes: ``dm.hparams.batch_size``."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"no hyperparameter {key!r}; saved: {sorted(self)}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value

    def __delattr__(self, key: str) -> None:
        try:
            del self[key]
        except KeyError:
            raise AttributeError(key) from None


def save_hyperparameters(
    obj: Any,
    *args: Any,
    ignore: str | Iterable[str] | None = None,
    frame: types.FrameType | None = None,
    logger: bool = True,
) -> None:
    """Store ``__init__`` arguments of ``obj`` (or the ones named in ``args``) in ``obj.hparams``.

    ``frame`` is the ``__init__`` frame that called; every enclosing ``__init__``
    of the same object (a subclass calling ``super().__init__``) is included, and
    the most derived class wins when two define the same name.
    """
    ignored = {ignore} if isinstance(ignore, str) else set(ignore or ())
    init_args = {k: v for k, v in init_arguments(obj, frame).items() if k not in ignored}
    if not args:
        hp, name = init_args, ("kwargs" if init_args else None)
    elif len(args) == 1 and isinstance(args[0], (Mapping, Namespace)):
        given = args[0]
        hp = dict(vars(given) if isinstance(given, Namespace) else given)
        name = next((k for k, v in init_args.items() if v is given), None)
    elif all(isinstance(a, str) for a in args):
        unknown = [a for a in args if a not in init_args]
        if unknown:
            raise InvalidArgumentError(
                f"save_hyperparameters({', '.join(map(repr, args))}): {', '.join(unknown)} "
                f"{'is' if len(unknown) == 1 else 'are'} not an __init__ argument of "
                f"{type(obj).__name__}; available: {', '.join(init_args) or '(none)'}"
            )
        hp, name = {a: init_args[a] for a in args}, "kwargs"
    else:
        raise InvalidArgumentError(
            "save_hyperparameters() takes argument names (str), or one dict/Namespace; "
            f"got {', '.join(type(a).__name__ for a in args)}"
        )
    stored = obj.__dict__.setdefault("_hparams", AttributeDict())
    stored.update(hp)
    for key in ignored:
        stored.pop(key, None)
    obj._hparams_name = name
    obj._hparams_initial = copy.deepcopy(stored)
    obj._log_hyperparams = logger


def init_arguments(obj: Any, frame: types.FrameType | None) -> dict[str, Any]:
    """Arguments of each ``__init__`` of ``obj`` running on the stack, starting at ``frame``."""
    found: list[dict[str, Any]] = []
    while frame is not None and frame.f_code.co_name == "__init__":
        init = _init_running(obj, frame)
        if init is None:
            break
        found.append(_arguments(init, frame.f_locals))
        frame = frame.f_back
    merged: dict[str, Any] = {}
    for args in found:  # innermost (base) first, so the most derived class wins
        merged.update(args)
    return merged


def _init_running(obj: Any, frame: types.FrameType) -> Any:
    """The ``__init__`` of a class of ``obj`` that ``frame`` executes, for ``obj`` itself."""
    for klass in type(obj).__mro__:
        init = klass.__dict__.get("__init__")
        init = inspect.unwrap(init) if init is not None else None
        code = getattr(init, "__code__", None)
        if code is frame.f_code:
            first = code.co_varnames[0] if code.co_argcount else None
            return init if first and frame.f_locals.get(first) is obj else None
    return None


def _arguments(init: Any, local_vars: Mapping[str, Any]) -> dict[str, Any]:
    params = list(inspect.signature(init).parameters.values())[1:]  # drop self
    out: dict[str, Any] = {}
    for p in params:
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name in local_vars:
            out[p.name] = local_vars[p.name]
        elif p.kind is p.VAR_KEYWORD:
            out.update(local_vars.get(p.name, {}))
    return out
