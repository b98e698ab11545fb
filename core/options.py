"""Constructor options shared by the first-party datamodules.

- :func:`check_loader_options` is the one check of the loader options (``batch_size``,
  ``num_workers``, ``shuffle``, ``drop_last``, ``pin_memory``, ``seed``, ``val_split``,
  ``test_split``): every datamodule and :func:`~dmzoo.core.fastloader.make_loader` raise the
  same one-line :class:`InvalidArgumentError` for the same bad value.
- :func:`inherit_signature`: a subclass that adds an option writes only that option
  (``def __init__(self, *args, label_type="fine", **options)``) and its family base sets
  the class's ``__signature__`` to those parameters plus its base's, so
  ``inspect.signature(cls)`` (``load_datamodule``'s keyword check, the gallery) shows every
  parameter. LightningCLI (jsonargparse) follows ``**options`` into ``super().__init__`` itself.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable
from typing import Any

from .errors import InvalidArgumentError


def _int(value: Any) -> bool:
    """A Python int (torch's loaders take no other), not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


def _integral(value: Any) -> bool:
    """Any integer (numpy's too), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _split(value: Any) -> bool:
    """A row count >= 0, or a fraction in [0, 1)."""
    if _integral(value):
        return value >= 0
    return isinstance(value, float) and 0 <= value < 1


_RULES: dict[str, tuple[Callable[[Any], bool], str]] = {
    "batch_size": (lambda v: _int(v) and v >= 1, "an int >= 1"),
    "num_workers": (lambda v: _int(v) and v >= 0, "an int >= 0"),
    "seed": (_integral, "an int"),
    "shuffle": (lambda v: isinstance(v, bool), "True or False"),
    "drop_last": (lambda v: isinstance(v, bool), "True or False"),
    "pin_memory": (lambda v: isinstance(v, bool), "True or False"),
    "val_split": (_split, "an int row count >= 0 or a float fraction in [0, 1)"),
    "test_split": (_split, "an int row count >= 0 or a float fraction in [0, 1)"),
}
LOADER_OPTIONS = tuple(_RULES)


def check_loader_options(**options: Any) -> None:
    """Raise :class:`InvalidArgumentError` for the first option that breaks its rule."""
    for name, value in options.items():
        valid, wanted = _RULES[name]
        if not valid(value):
            raise InvalidArgumentError(f"{name} must be {wanted}, got {value!r}")


def inherit_signature(cls: type) -> None:
    """Set ``cls.__signature__`` when ``cls`` defines ``__init__``: its own parameters and,
    if it forwards ``**options`` (and ``*args``), those of the next class in its MRO."""
    init = cls.__dict__.get("__init__")
    if init is None:
        return  # inherits its base's signature
    own = list(inspect.signature(init).parameters.values())[1:]  # drop self
    kinds = {p.kind for p in own}
    params = own
    if inspect.Parameter.VAR_KEYWORD in kinds:
        named = {p.name for p in own}
        base = [p for p in inspect.signature(cls.__mro__[1]).parameters.values()
                if p.name not in named]
        positional = [p for p in own if p.kind is p.POSITIONAL_OR_KEYWORD]
        if inspect.Parameter.VAR_POSITIONAL in kinds:  # *args go on to the base's positionals
            positional += [p for p in base if p.kind is p.POSITIONAL_OR_KEYWORD]
        params = positional + [p for p in own if p.kind is p.KEYWORD_ONLY] + [
            p.replace(kind=p.KEYWORD_ONLY) for p in base
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p not in positional
        ] + [p for p in base if p.kind is p.VAR_KEYWORD]
    cls.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]


def accepted_parameters(cls: type) -> tuple[list[str], bool]:
    """Names ``cls(...)`` takes by keyword, and whether it also takes ``**kwargs``."""
    params = list(inspect.signature(cls).parameters.values())
    names = [p.name for p in params
             if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    return names, any(p.kind is p.VAR_KEYWORD for p in params)
