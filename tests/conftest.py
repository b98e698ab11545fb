"""Shared fixtures: every test gets its own dmzoo cache and a fresh registry."""

from __future__ import annotations

import pytest

from dmzoo.registry import reset_registry
from support.environment import isolate_dmzoo
from support.http_server import FileServer


@pytest.fixture(autouse=True)
def dmzoo_home(tmp_path, monkeypatch):
    """An isolated ``DMZOO_HOME`` (never the user's cache) and a registry rebuilt per test.

    Download retries back off for milliseconds, not seconds (``DMZOO_BACKOFF``).
    """
    home = tmp_path / "dmzoo_home"
    isolate_dmzoo(monkeypatch, home)
    monkeypatch.setenv("DMZOO_BACKOFF", "0.01")
    yield home
    reset_registry()


@pytest.fixture
def file_server(tmp_path):
    """A started loopback :class:`FileServer` serving ``tmp_path / "srv"``."""
    with FileServer(tmp_path / "srv") as server:
        yield server
