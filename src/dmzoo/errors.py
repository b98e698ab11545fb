"""``dmzoo.errors``: every error dmzoo raises on purpose (defined in :mod:`dmzoo.core.errors`).

``from dmzoo.errors import ChecksumError`` and ``except dmzoo.errors.DmzooError`` both work;
this module re-exports the exception classes, so it never falls behind the core module.
"""

from __future__ import annotations

from .core import errors as _core

__all__ = sorted(name for name, value in vars(_core).items()
                 if isinstance(value, type) and issubclass(value, BaseException)
                 and value.__module__ == _core.__name__)
globals().update({name: getattr(_core, name) for name in __all__})
