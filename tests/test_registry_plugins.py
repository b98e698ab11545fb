"""Discovery through real installed distributions, and isolation of broken plugins.

The rival and broken plugin packages under ``tests/plugins/`` are installed with
``pip --target`` into a temporary folder (not into the test environment, where
they would disturb every other test) and put on ``sys.path`` / ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dmzoo
from dmzoo.core.errors import AmbiguousNameError, PluginError
from dmzoo.registry import DmzooPluginWarning, get_registry, reset_registry

PLUGINS = Path(__file__).parent / "plugins"


def pip_target(tmp_path_factory, package: str) -> Path:
    target = tmp_path_factory.mktemp(package)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--no-compile", "--target", str(target), str(PLUGINS / package)],
        check=True, capture_output=True,
    )
    return target


@pytest.fixture(scope="session")
def broken_site(tmp_path_factory) -> Path:
    return pip_target(tmp_path_factory, "dmzoo-broken-plugins")


@pytest.fixture(scope="session")
def rival_site(tmp_path_factory) -> Path:
    return pip_target(tmp_path_factory, "dmzoo-rival-plugin")


@pytest.fixture
def on_path(monkeypatch):
    def add(site: Path) -> None:
        monkeypatch.syspath_prepend(str(site))
        reset_registry()

    yield add
    reset_registry()


def run_cli(*args: str, site: Path | None = None, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, **env}
    if site is not None:
        full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(site), full_env.get("PYTHONPATH")]))
    return subprocess.run([sys.executable, "-m", "dmzoo", *args], capture_output=True,
                          text=True, env=full_env, timeout=120)


def test_broken_plugins_are_isolated_and_reported(broken_site, on_path):
    on_path(broken_site)
    with pytest.warns(DmzooPluginWarning) as caught:
        registry = get_registry()
    messages = " | ".join(str(w.message) for w in caught)
    failures = {(f.plugin, f.stage) for f in registry.failures}
    assert failures == {
        ("broken_import", "import"),
        ("missing_module", "import"),
        ("broken_hook", "hook"),
        ("broken_spec", "spec"),
        ("broken_type", "spec"),
    }
    assert "a_dependency_that_is_not_installed" in messages
    assert "the plugin's spec file is corrupt" in messages
    assert "expected DataModuleSpec" in messages
    # every other plugin still works, and the valid spec of a half-broken plugin survives
    assert "acme/toy" in dmzoo.list_datamodules()
    assert dmzoo.get_spec("broken/fine").plugin == "dmzoo-broken-plugins"


def test_strict_mode_turns_a_broken_plugin_into_an_error(broken_site, on_path, monkeypatch):
    on_path(broken_site)
    monkeypatch.setenv("DMZOO_STRICT", "1")
    with pytest.raises(PluginError, match="broken_.*DMZOO_STRICT"):
        get_registry()


def test_doctor_lists_broken_plugins(broken_site):
    result = run_cli("doctor", site=broken_site)
    assert result.returncode == 1
    for name in ("broken_import", "broken_hook", "broken_spec", "broken_type", "missing_module"):
        assert name in result.stdout
    assert "acme" in result.stdout and "5 problem(s)" in result.stdout
    listing = run_cli("list", "--json", site=broken_site)
    assert listing.returncode == 0
    assert "acme/toy" in [row["name"] for row in json.loads(listing.stdout)]
    strict = run_cli("list", site=broken_site, DMZOO_STRICT="1")
    assert strict.returncode == 1 and "Traceback" not in strict.stderr
    assert strict.stderr.startswith("dmzoo: error: plugin 'broken_")


def test_two_providers_make_a_bare_name_ambiguous(rival_site, on_path, monkeypatch):
    on_path(rival_site)
    assert {"acme/toy", "rival/toy"} <= set(dmzoo.list_datamodules("*toy"))
    with pytest.raises(AmbiguousNameError, match="acme/toy, rival/toy.*DMZOO_PREFER"):
        dmzoo.get_spec("toy")
    assert dmzoo.get_spec("rival/toy").version == "0.5.0"
    monkeypatch.setenv("DMZOO_PREFER", "rival")
    assert dmzoo.get_spec("toy").plugin == "dmzoo-rival-plugin"
