import pytest

from dmzoo.registry import reset_registry


@pytest.fixture(autouse=True)
def private_cache(tmp_path, monkeypatch):
    """Never touch the user's dmzoo cache; rediscover plugins per test."""
    monkeypatch.setenv("DMZOO_HOME", str(tmp_path / "dmzoo_home"))
    monkeypatch.delenv("DMZOO_MIRROR", raising=False)
    monkeypatch.delenv("DMZOO_OFFLINE", raising=False)
    reset_registry()
    yield
    reset_registry()
