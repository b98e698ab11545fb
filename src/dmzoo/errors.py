"""``dmzoo.errors``: every error dmzoo raises on purpose (defined in :mod:`dmzoo.core.errors`).

``from dmzoo.errors import ChecksumError`` and ``except dmzoo.errors.DmzooError`` both work;
this module re-exports the exception classes, so it never falls behind the core module.
"""

from __future__ import annotations

from .core import errors as _core
from .core.errors import *  # noqa: F403  (static: type checkers see every class by name)

__all__ = sorted(name for name, value in vars(_core).items()
                 if isinstance(value, type) and issubclass(value, BaseException)
                 and value.__module__ == _core.__name__)
