"""Which spec a datamodule is being built for.

``load_datamodule`` sets it around the constructor call, so the base class can
attach the exact spec (and version) without every subclass taking an argument.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .spec import DataModuleSpec

_current: ContextVar[DataModuleSpec | None] = ContextVar("dmzoo_current_spec", default=None)


def current_spec() -> DataModuleSpec | None:
    """The spec being instantiated right now, or None outside ``load_datamodule``."""
    return _current.get()


@contextmanager
def building(spec: DataModuleSpec) -> Iterator[None]:
    token = _current.set(spec)
    try:
        yield
    finally:
        _current.reset(token)
