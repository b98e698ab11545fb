"""Errors of the author kit (both subclass :class:`dmzoo.DmzooError`)."""

from __future__ import annotations

from ..core.errors import DmzooError


class ConformanceError(DmzooError, AssertionError):
    """A datamodule or plugin breaks the dmzoo contract; the message says which check and why."""


class ScaffoldError(DmzooError, ValueError):
    """``dmzoo new-plugin`` cannot create the package (bad name, or the folder exists)."""
