"""One isolated dmzoo environment for tests: no user settings, a private cache, a fresh registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from dmzoo.registry import reset_registry

DMZOO_ENV = ("DMZOO_HOME", "DMZOO_OFFLINE", "DMZOO_MIRROR", "DMZOO_CHECKSUMS", "DMZOO_STRICT",
             "DMZOO_PREFER", "DMZOO_TIMEOUT", "DMZOO_QUIET", "DMZOO_PLUGIN_TIMEOUT",
             "DMZOO_PLUGIN_MAX_SPECS")


def isolate_dmzoo(mp: pytest.MonkeyPatch, home: Path) -> None:
    """Clear every dmzoo setting of the calling shell, cache under ``home``, rebuild the registry."""
    for name in DMZOO_ENV:
        mp.delenv(name, raising=False)
    mp.setenv("DMZOO_HOME", str(home))
    reset_registry()
