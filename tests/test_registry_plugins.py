"""Discovery through real installed distributions, and isolation of broken plugins.

The rival and broken plugin packages under ``tests/plugins/`` are installed with
``pip --target`` into a temporary folder (not into the test environment, where
they would disturb every other test) and put on ``sys.path`` / ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

import dmzoo
from dmzoo.core import storage
from dmzoo.core.errors import AmbiguousNameError, InvalidSettingError, PluginError
from dmzoo.core.storage.paths import default_root
from dmzoo.registry import DmzooPluginWarning, get_registry, reset_registry
from dmzoo.testing.scaffold import new_plugin

PLUGINS = Path(__file__).parent / "plugins"


def pip_target(tmp_path_factory, package: str | Path) -> Path:
    """Install a plugin (a folder under tests/plugins/, or any project path) into a new folder."""
    source = PLUGINS / package if isinstance(package, str) else package
    target = tmp_path_factory.mktemp(source.name)
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation",
         "--no-compile", "--target", str(target), str(source)],
        check=True, capture_output=True,
    )
    return target


@pytest.fixture(scope="session")
def broken_site(tmp_path_factory) -> Path:
    return pip_target(tmp_path_factory, "dmzoo-broken-plugins")


@pytest.fixture(scope="session")
def hanging_site(tmp_path_factory) -> Path:
    return pip_target(tmp_path_factory, "dmzoo-hanging-plugins")


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


BROKEN_AT_DISCOVERY = {
    ("broken_import", "import"),
    ("missing_module", "import"),
    ("exits_at_import", "import"),
    ("broken_hook", "hook"),
    ("broken_generator", "hook"),
    ("broken_spec", "spec"),
    ("broken_type", "spec"),
    ("misspelled_hook", "register"),
    ("wrapper_hook", "register"),
}


def test_broken_plugins_are_isolated_and_reported(broken_site, on_path):
    on_path(broken_site)
    with pytest.warns(DmzooPluginWarning) as caught:
        registry = get_registry()
    messages = [str(w.message) for w in caught if w.category is DmzooPluginWarning]
    assert {(f.plugin, f.stage) for f in registry.failures} == BROKEN_AT_DISCOVERY
    # one line per broken plugin, naming its distribution
    assert sorted(m.split("'")[1] for m in messages) == sorted(p for p, _ in BROKEN_AT_DISCOVERY)
    assert all("(from dmzoo-broken-plugins 0.0.1) is broken" in m and "\n" not in m
               for m in messages)
    joined = " | ".join(messages)
    assert "a_dependency_that_is_not_installed" in joined
    assert "the plugin's spec file is corrupt" in joined
    assert "expected DataModuleSpec" in joined
    assert "failed at register: 'dmzoo_datamodule_spec' is not a dmzoo hook (did you mean " \
           "'dmzoo_datamodule_specs'?)" in joined
    assert "failed at register: dmzoo_data_dir is a wrapper (wrapper=True or hookwrapper=True)" \
           ", which dmzoo does not run" in joined
    assert "'exits_at_import' (from dmzoo-broken-plugins 0.0.1) is broken: failed at import: " \
           "called sys.exit(3)" in joined
    # every other plugin still works; an invalid spec skips only itself, a hook that
    # raises midway (after yielding broken/half) skips its whole answer
    assert "acme/toy" in dmzoo.list_datamodules()
    assert dmzoo.get_spec("broken/fine").plugin == "dmzoo-broken-plugins"
    assert dmzoo.get_spec("broken/chatty").plugin == "dmzoo-broken-plugins"
    assert not dmzoo.is_datamodule("broken/half")
    assert not dmzoo.is_datamodule("broken/wrapped")  # a refused plugin registers nothing
    assert not any(registry.plugin_manager.has_plugin(n) for n in ("misspelled_hook", "wrapper_hook"))
    assert dmzoo.get_spec("digits").namespace == "dmzoo"


def test_data_dir_hook_answer_is_type_checked(broken_site, on_path, monkeypatch, tmp_path):
    on_path(broken_site)
    monkeypatch.delenv("DMZOO_HOME")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the platform default root
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DmzooPluginWarning)
        spec = dmzoo.get_spec("broken/fine")
    with pytest.warns(DmzooPluginWarning, match="'int_data_dir'.*dmzoo_data_dir returned int 42, "
                                                "expected a non-empty path or None"):
        root = storage.data_root(spec)
    assert root == default_root() and root.is_relative_to(tmp_path)
    assert ("int_data_dir", "hook") in {(f.plugin, f.stage) for f in get_registry().failures}


def test_a_real_ctrl_c_in_a_hook_goes_through_but_a_plugins_exit_does_not():
    class Exits:
        @dmzoo.hookimpl
        def dmzoo_datamodule_created(self, spec, datamodule):
            raise SystemExit(3)

    class Interrupted:
        @dmzoo.hookimpl
        def dmzoo_datamodule_created(self, spec, datamodule):
            raise KeyboardInterrupt

    dmzoo.register_plugin(Exits(), name="exits")
    with pytest.warns(DmzooPluginWarning, match="'exits' is broken.*called sys.exit\\(3\\)"):
        assert dmzoo.load_datamodule("acme/toy").n == 80
    dmzoo.register_plugin(Interrupted(), name="interrupted")
    with pytest.raises(KeyboardInterrupt):
        dmzoo.load_datamodule("acme/toy")


class Misspelled:
    @dmzoo.hookimpl
    def dmzoo_data_dirs(self, spec):
        return "/never/asked"


class Wrapper:
    @dmzoo.hookimpl(wrapper=True)
    def dmzoo_datamodule_created(self, spec, datamodule):
        return (yield)


class OldWrapper:
    @dmzoo.hookimpl(hookwrapper=True)
    def dmzoo_resource_urls(self, spec, resource, urls):
        yield


class ExtraArgument:
    @dmzoo.hookimpl
    def dmzoo_data_dir(self, spec, user):
        return "/never/asked"


@pytest.mark.parametrize("plugin, problem", [
    (Misspelled(), "'dmzoo_data_dirs' is not a dmzoo hook (did you mean 'dmzoo_data_dir'?)"),
    (Wrapper(), "dmzoo_datamodule_created is a wrapper (wrapper=True or hookwrapper=True), "
                "which dmzoo does not run; use a plain @dmzoo.hookimpl"),
    (OldWrapper(), "dmzoo_resource_urls is a wrapper"),
    (ExtraArgument(), "PluginValidationError: Plugin 'odd' for hook 'dmzoo_data_dir' hookimpl "
                      "definition: dmzoo_data_dir(spec, user) Argument(s) {'user'} are declared"),
])
def test_a_plugin_dmzoo_cannot_run_as_written_is_refused_at_registration(plugin, problem):
    registry = get_registry()
    with pytest.raises(PluginError, match=re.escape(f"plugin 'odd' is not registered: {problem}")):
        dmzoo.register_plugin(plugin, name="odd")
    assert not registry.plugin_manager.has_plugin("odd") and registry.failures == []
    assert dmzoo.load_datamodule("acme/toy").n == 80  # every hook still called without it


def test_data_dir_answers_as_pluggy_would_each_plugin_alone(monkeypatch, tmp_path):
    asked = []

    def plugin(label, answer, **opts):
        class Plugin:
            @dmzoo.hookimpl(**opts)
            def dmzoo_data_dir(self, spec):
                asked.append(label)
                if answer == "raise":
                    raise OSError("share not mounted")
                return answer
        return Plugin()

    monkeypatch.delenv("DMZOO_HOME")
    # pluggy's order: tryfirst, then the most recently registered first
    for label, answer, opts in [("early", None, {"tryfirst": True}), ("last", tmp_path / "late", {}),
                                ("answers", tmp_path / "a", {}), ("raises", "raise", {}),
                                ("declines", None, {})]:
        dmzoo.register_plugin(plugin(label, answer, **opts), name=label)
    spec = dmzoo.get_spec("acme/toy")
    with pytest.warns(DmzooPluginWarning, match="'raises' is broken.*share not mounted"):
        assert storage.data_root(spec) == tmp_path / "a"
    assert asked == ["early", "declines", "raises", "answers"]  # firstresult: "last" never asked
    pm = get_registry().plugin_manager
    pm.unregister(name="raises")  # pluggy's own call, which isolates nothing, agrees
    asked.clear()
    assert pm.hook.dmzoo_data_dir(spec=spec) == tmp_path / "a"
    assert asked == ["early", "declines", "answers"]


def test_spec_hooks_are_bounded_in_time_and_count(monkeypatch):
    class Endless:
        @dmzoo.hookimpl
        def dmzoo_datamodule_specs(self):
            while True:
                yield dmzoo.DataModuleSpec(name="again", namespace="lab", version="1.0.0",
                                           cls="x.y:Again")

    class Slow:
        @dmzoo.hookimpl
        def dmzoo_datamodule_specs(self):
            time.sleep(3)  # left running in a daemon thread once abandoned
            return []

    class OwnInterrupt:
        @dmzoo.hookimpl
        def dmzoo_datamodule_specs(self):
            raise KeyboardInterrupt  # not a real Ctrl-C: raised by plugin code in discovery

    monkeypatch.setenv("DMZOO_PLUGIN_MAX_SPECS", "20")
    monkeypatch.setenv("DMZOO_PLUGIN_TIMEOUT", "0.2")
    with pytest.warns(DmzooPluginWarning):
        for name, plugin in [("endless", Endless()), ("slow", Slow()), ("own", OwnInterrupt())]:
            dmzoo.register_plugin(plugin, name=name)
    causes = {f.plugin: f.cause for f in get_registry().failures}
    assert causes == {
        "endless": "dmzoo_datamodule_specs returned more than 20 specs (DMZOO_PLUGIN_MAX_SPECS)",
        "slow": "dmzoo_datamodule_specs did not finish within 0.2 s (DMZOO_PLUGIN_TIMEOUT)",
        "own": "dmzoo_datamodule_specs raised KeyboardInterrupt: ",
    }
    assert not dmzoo.is_datamodule("lab/again") and dmzoo.is_datamodule("acme/toy")


@pytest.mark.parametrize("name, value", [
    ("DMZOO_PLUGIN_TIMEOUT", "0"), ("DMZOO_PLUGIN_TIMEOUT", "-1"), ("DMZOO_PLUGIN_TIMEOUT", "nan"),
    ("DMZOO_PLUGIN_TIMEOUT", "inf"), ("DMZOO_PLUGIN_TIMEOUT", "1,2"),
    ("DMZOO_PLUGIN_MAX_SPECS", "0"), ("DMZOO_PLUGIN_MAX_SPECS", "1.5"),
    ("DMZOO_PLUGIN_MAX_SPECS", "many"),
])
def test_limit_settings_are_validated(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(InvalidSettingError, match=f"^{name}=.*; e.g. {name}="):
        get_registry()


def test_strict_mode_turns_a_broken_plugin_into_an_error(broken_site, on_path, monkeypatch):
    on_path(broken_site)
    monkeypatch.setenv("DMZOO_STRICT", "1")
    with pytest.raises(PluginError, match="broken_.*DMZOO_STRICT"):
        get_registry()


def test_doctor_lists_broken_plugins(broken_site):
    result = run_cli("doctor", site=broken_site)
    assert result.returncode == 1
    for name, _ in BROKEN_AT_DISCOVERY:
        assert name in result.stdout
    assert "acme" in result.stdout and f"{len(BROKEN_AT_DISCOVERY)} problem(s)" in result.stdout
    listing = run_cli("list", "--json", site=broken_site)
    assert listing.returncode == 0
    assert "acme/toy" in [row["name"] for row in json.loads(listing.stdout)]
    strict = run_cli("list", site=broken_site, DMZOO_STRICT="1")
    assert strict.returncode == 1 and "Traceback" not in strict.stderr
    assert strict.stderr.startswith("dmzoo: error: plugin 'broken_")


def test_every_command_warns_one_clean_line_per_broken_plugin(broken_site, tmp_path):
    listing = run_cli("list", site=broken_site)
    assert listing.returncode == 0
    warned = [line for line in listing.stderr.splitlines() if line.startswith("dmzoo: warning: ")]
    assert sorted(line.split("'")[1] for line in warned) == sorted(
        p for p, _ in BROKEN_AT_DISCOVERY)
    assert all(line.endswith("; run 'dmzoo doctor'") for line in warned)
    assert "DmzooPluginWarning" not in listing.stderr and "registry" not in listing.stderr
    # a hook failing at use is one line too (the cache listing asks every data-dir hook)
    env = {k: v for k, v in os.environ.items() if k != "DMZOO_HOME"}
    cache = subprocess.run([sys.executable, "-m", "dmzoo", "cache", "list", "--json"],
                           capture_output=True, text=True, timeout=120,
                           env={**env, "PYTHONPATH": str(broken_site),
                                "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert cache.returncode == 0 and json.loads(cache.stdout) == []
    assert "dmzoo: warning: plugin 'int_data_dir' (from dmzoo-broken-plugins 0.0.1) is broken: " \
           "failed at hook: dmzoo_data_dir returned int 42" in cache.stderr


@pytest.mark.slow
def test_hanging_and_chatty_plugins_never_take_the_cli_down(broken_site, hanging_site):
    site = os.pathsep.join([str(broken_site), str(hanging_site)])
    # run_cli's timeout bounds the run: a plugin that hangs must not hang dmzoo
    listing = run_cli("list", "--json", site=Path(site), DMZOO_PLUGIN_TIMEOUT="1",
                      DMZOO_PLUGIN_MAX_SPECS="50")
    assert listing.returncode == 0, listing.stderr
    names = [row["name"] for row in json.loads(listing.stdout)]  # print() went to stderr
    assert {"acme/toy", "broken/chatty", "broken/fine", "dmzoo/digits"} <= set(names)
    assert not {"endless/again", "endless/stalled", "broken/half"} & set(names)
    assert "hello from a chatty plugin at import" in listing.stderr
    assert "hello from a chatty plugin's spec hook" in listing.stderr
    for line in [
        "plugin 'spin_at_import' (from dmzoo-hanging-plugins 0.0.1) is broken: failed at "
        "import: did not finish within 1 s (DMZOO_PLUGIN_TIMEOUT)",
        "plugin 'stalled_specs' (from dmzoo-hanging-plugins 0.0.1) is broken: failed at hook: "
        "dmzoo_datamodule_specs did not finish within 1 s (DMZOO_PLUGIN_TIMEOUT)",
        "plugin 'endless_specs' (from dmzoo-hanging-plugins 0.0.1) is broken: failed at hook: "
        "dmzoo_datamodule_specs returned more than 50 specs (DMZOO_PLUGIN_MAX_SPECS)",
    ]:
        assert f"dmzoo: warning: {line}; run 'dmzoo doctor'" in listing.stderr
    bad = run_cli("list", "--json", site=Path(site), DMZOO_PLUGIN_TIMEOUT="soon")
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.startswith("dmzoo: error: DMZOO_PLUGIN_TIMEOUT='soon' must be a finite")


def test_two_providers_make_a_bare_name_ambiguous(rival_site, on_path, monkeypatch):
    on_path(rival_site)
    assert {"acme/toy", "rival/toy"} <= set(dmzoo.list_datamodules("*toy"))
    with pytest.raises(AmbiguousNameError, match="acme/toy, rival/toy.*DMZOO_PREFER"):
        dmzoo.get_spec("toy")
    assert dmzoo.get_spec("rival/toy").version == "0.5.0"
    monkeypatch.setenv("DMZOO_PREFER", "rival")
    assert dmzoo.get_spec("toy").plugin == "dmzoo-rival-plugin"


@pytest.mark.slow
def test_registry_and_catalog_tests_hold_with_an_extra_plugin_installed(tmp_path_factory, tmp_path):
    # a user's environment has other plugins: a `dmzoo new-plugin` scaffold provides blobs
    site = pip_target(tmp_path_factory, new_plugin("extra-zoo", tmp_path))
    listing = run_cli("list", "--json", site=site)
    assert "extra_zoo/blobs" in [row["name"] for row in json.loads(listing.stdout)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [
        str(site), os.environ.get("PYTHONPATH")]))}
    tests = Path(__file__).parent
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m", "not slow",
         str(tests / "test_registry.py"), str(tests / "test_cli_catalog.py")],
        capture_output=True, text=True, env=env, cwd=tests.parent, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:]


def test_a_plugin_package_that_lists_datamodules_while_imported_is_not_deadlocked(
        tmp_path_factory, tmp_path):
    # its __init__ triggers discovery, which imports its plugin module, which imports the
    # half-imported package: done in a worker thread, that would wait for ever
    project = tmp_path / "selfish"
    (project / "selfish_plugin").mkdir(parents=True)
    (project / "pyproject.toml").write_text(
        '[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n'
        '[project]\nname = "selfish-plugin"\nversion = "1.0"\n'
        '[project.entry-points.dmzoo]\nselfish = "selfish_plugin.plugin"\n')
    (project / "selfish_plugin" / "__init__.py").write_text(
        "import dmzoo\nNAMESPACE = 'selfish'\nLISTED = dmzoo.list_datamodules('selfish/*')\n")
    (project / "selfish_plugin" / "plugin.py").write_text(
        "import selfish_plugin\nfrom dmzoo import DataModuleSpec, hookimpl\n\n"
        "@hookimpl\ndef dmzoo_datamodule_specs():\n"
        "    import selfish_plugin\n"
        "    return [DataModuleSpec(name='one', namespace=selfish_plugin.NAMESPACE, "
        "version='1.0.0', cls='x.y:One')]\n")
    site = pip_target(tmp_path_factory, project)
    env = {**os.environ, "PYTHONPATH": str(site), "DMZOO_PLUGIN_TIMEOUT": "60"}
    result = subprocess.run([sys.executable, "-c", "import selfish_plugin as p; print(p.LISTED)"],
                            capture_output=True, text=True, env=env, timeout=30)
    assert result.returncode == 0 and result.stdout == "['selfish/one']\n", result.stderr
