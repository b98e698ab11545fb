"""Reading ``DMZOO_*`` environment settings (stdlib only, cheap to import).

Read at the moment of use, never cached, so tests and ``dmzoo`` commands can change
a setting for the rest of the process. Every reader validates: a value dmzoo does not
understand is an :class:`InvalidSettingError` naming the variable, the value and an
example, never a traceback from deep inside a library and never silently ignored.
"""

from __future__ import annotations

import math
import os

from .errors import InvalidSettingError, shorten

__all__ = ["FALSE_SPELLINGS", "TRUE_SPELLINGS", "env_flag", "env_numbers", "env_str"]

TRUE_SPELLINGS = ("1", "true", "yes", "on")
FALSE_SPELLINGS = ("0", "false", "no", "off")


def env_str(name: str) -> str:
    """The variable's value with surrounding whitespace removed; ``""`` when unset."""
    return os.environ.get(name, "").strip()


def env_flag(name: str) -> bool:
    """True for ``1``, ``true``, ``yes``, ``on``; False for ``0``, ``false``, ``no``, ``off``
    or unset (any case); anything else is an :class:`InvalidSettingError`."""
    raw = env_str(name).lower()
    if raw in TRUE_SPELLINGS:
        return True
    if raw in FALSE_SPELLINGS or not raw:
        return False
    raise InvalidSettingError(f"{name}={shorten(env_str(name), 40)} is not understood; "
                              f"use {name}=1 (on) or {name}=0 (off)")


def env_numbers(name: str, default: tuple[float, ...], *, example: str,
                allow_zero: bool = False) -> tuple[float, ...]:
    """``len(default)`` finite positive numbers, comma-separated; one value fills every slot.

    ``allow_zero`` also accepts 0. Any other count of values, a non-number, NaN, an
    infinity or a negative value is an :class:`InvalidSettingError`.
    """
    raw = env_str(name)
    if not raw:
        return default
    problem = ""
    try:
        values = tuple(float(v) for v in raw.split(","))
    except ValueError:
        values, problem = (), "is not a number"
    if not problem and len(values) not in {1, len(default)}:
        problem = f"has {len(values)} values, expected 1" + (
            f" or {len(default)}" if len(default) > 1 else "")
    if not problem and not all(math.isfinite(v) and (v > 0 or (allow_zero and v == 0))
                               for v in values):
        problem = "must be " + ("zero or more" if allow_zero else "greater than zero") + \
                  " and finite"
    if problem:
        raise InvalidSettingError(f"{name}={shorten(raw, 40)} {problem}; e.g. {example}, "
                                  f"or unset it for the default")
    return values if len(values) == len(default) else values * len(default)
