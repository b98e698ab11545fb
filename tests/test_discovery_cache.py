"""The saved discovery: used only while nothing it depended on changed; plugins import lazily."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

import dmzoo
from dmzoo.cli.main import main
from dmzoo.core.errors import InvalidSettingError
from dmzoo.registry import discovery_cache, get_registry, reset_registry

PLUGIN = '''
import dmzoo
from dmzoo.core.spec import DataModuleSpec

@dmzoo.hookimpl
def dmzoo_datamodule_specs():
    return [DataModuleSpec(name="{name}", namespace="{module}", version="{version}",
                           cls="dmzoo.plugins.tabular.datamodule:TabularDataModule")]
'''
DATA_DIR_HOOK = '''
@dmzoo.hookimpl
def dmzoo_data_dir(spec):
    return "/answer/from/{module}"
'''
CREATED_HOOK = '''
@dmzoo.hookimpl
def dmzoo_datamodule_created(spec, datamodule):
    pass
'''
AN_HOUR_AGO = time.time_ns() - 3600 * 10**9


def install(site: Path, module: str, source: str, version: str = "1.0.0") -> None:
    """A stand-in for pip install: the module plus its entry-point metadata, aged an hour
    (as if installed earlier), so later changes show in their times."""
    site.mkdir(exist_ok=True)
    (site / f"{module}.py").write_text(source)
    info = site / f"{module}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {module}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[dmzoo]\n{module} = {module}\n")
    for path in (site / f"{module}.py", info, site):
        os.utime(path, ns=(AN_HOUR_AGO, AN_HOUR_AGO))
    importlib.invalidate_caches()


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A folder on sys.path for the plugins of one test; they are forgotten afterwards.

    Saved whatever the age of the other watched paths (this checkout may have changed a
    second ago); the rule itself is tested below."""
    monkeypatch.setattr(discovery_cache, "RACY_SECONDS", 0.0)
    discovery_cache.cache_file().parent.parent.mkdir(parents=True)  # as data stored earlier
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    before = set(sys.modules)
    reset_registry()
    yield folder
    for name in set(sys.modules) - before:
        if name.startswith("fake_"):
            del sys.modules[name]
    reset_registry()


def fresh_registry():
    reset_registry()
    return get_registry()


def test_a_second_registry_reads_the_saved_specs_and_imports_plugins_only_for_their_hooks(site):
    install(site, "fake_aaa", PLUGIN.format(name="one", module="fake_aaa", version="1.0.0"))
    install(site, "fake_bbb", PLUGIN.format(name="two", module="fake_bbb", version="2.0.0")
            + CREATED_HOOK)
    first = fresh_registry()
    assert discovery_cache.cache_file().is_file()
    assert not first._not_imported
    del sys.modules["fake_aaa"], sys.modules["fake_bbb"]

    second = fresh_registry()
    assert second.default_specs() == first.default_specs()
    assert second.plugins == first.plugins
    assert "fake_aaa" not in sys.modules and "fake_bbb" not in sys.modules
    table = pd.DataFrame({"x": [1.0, 2.0], "y": [0, 1]})
    dm = dmzoo.load_datamodule("fake_aaa/one", data=table, target="y")
    assert dm.spec.ref == "fake_aaa/one@1.0.0"
    # only the plugin with a dmzoo_datamodule_created hook was imported for that call
    assert "fake_bbb" in sys.modules and "fake_aaa" not in sys.modules
    assert second.plugin_manager.has_plugin("fake_aaa")  # reading it imports the rest
    assert "fake_aaa" in sys.modules


def test_a_new_process_lists_from_the_saved_discovery_without_importing_a_plugin(site, tmp_path):
    install(site, "fake_ccc", PLUGIN.format(name="three", module="fake_ccc", version="1.0.0"))
    expected = dmzoo.list_datamodules()
    assert discovery_cache.cache_file().is_file()
    child = textwrap.dedent("""
        import json, os, sys
        sys.path[:] = json.loads(os.environ["PARENT_SYS_PATH"])
        import dmzoo
        names = dmzoo.list_datamodules()
        print(json.dumps({"names": names, "imported": sorted(
            m for m in sys.modules if m == "fake_ccc" or m.startswith("dmzoo.plugins."))}))
    """)
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True,
                         env={**os.environ, "PARENT_SYS_PATH": json.dumps(sys.path)}, cwd=os.getcwd())
    answer = json.loads(out.stdout)
    assert answer["names"] == expected and "fake_ccc/three" in expected
    assert answer["imported"] == []


def test_an_edited_plugin_module_is_discovered_again(site):
    install(site, "fake_ddd", PLUGIN.format(name="four", module="fake_ddd", version="1.0.0"))
    assert dmzoo.get_spec("fake_ddd/four").version == "1.0.0"
    module = site / "fake_ddd.py"
    module.write_text(PLUGIN.format(name="four", module="fake_ddd", version="1.1.0") + "\n# edit\n")
    later = AN_HOUR_AGO + 10**9
    os.utime(module, ns=(later, later))
    del sys.modules["fake_ddd"]
    importlib.invalidate_caches()
    reset_registry()
    assert dmzoo.get_spec("fake_ddd/four").version == "1.1.0"


def test_an_installed_or_removed_plugin_is_seen(site):
    install(site, "fake_eee", PLUGIN.format(name="five", module="fake_eee", version="1.0.0"))
    assert dmzoo.is_datamodule("fake_eee/five") and not dmzoo.is_datamodule("fake_fff/six")
    install(site, "fake_fff", PLUGIN.format(name="six", module="fake_fff", version="1.0.0"))
    later = AN_HOUR_AGO + 10**9  # the folder changed after the save, as pip's install does
    os.utime(site, ns=(later, later))
    reset_registry()
    assert dmzoo.is_datamodule("fake_fff/six")
    for path in sorted(site.glob("fake_fff*"), reverse=True):
        (path / "METADATA").unlink() if path.is_dir() else path.unlink()
    (site / "fake_fff-1.0.0.dist-info" / "entry_points.txt").unlink()
    (site / "fake_fff-1.0.0.dist-info").rmdir()
    del sys.modules["fake_fff"]
    importlib.invalidate_caches()
    reset_registry()
    assert not dmzoo.is_datamodule("fake_fff/six") and dmzoo.is_datamodule("fake_eee/five")


def test_late_imports_keep_the_calling_order_of_a_full_discovery(site):
    """pluggy calls the last registered plugin first; a plugin imported late for a hook
    call must not jump ahead of one imported earlier for another hook."""
    install(site, "fake_aa_dir", PLUGIN.format(name="a", module="fake_aa_dir", version="1.0.0")
            + DATA_DIR_HOOK.format(module="fake_aa_dir"))
    install(site, "fake_zz_dir", PLUGIN.format(name="z", module="fake_zz_dir", version="1.0.0")
            + DATA_DIR_HOOK.format(module="fake_zz_dir") + CREATED_HOOK)
    spec = dmzoo.get_spec("fake_aa_dir/a")
    full = get_registry().call_hook("dmzoo_data_dir", spec=spec)
    assert full == "/answer/from/fake_zz_dir"
    del sys.modules["fake_aa_dir"], sys.modules["fake_zz_dir"]
    lazy = fresh_registry()
    lazy.call_hook("dmzoo_datamodule_created", spec=spec, datamodule=None)  # imports zz only
    assert "fake_aa_dir" not in sys.modules
    assert lazy.call_hook("dmzoo_data_dir", spec=spec) == full


def test_a_discovery_with_a_failure_is_not_saved_so_the_warning_comes_every_time(site):
    install(site, "fake_broken", "raise RuntimeError('cannot import me')\n")
    with pytest.warns(dmzoo.registry.DmzooPluginWarning, match="cannot import me"):
        fresh_registry()
    assert not discovery_cache.cache_file().exists()


def test_a_plugin_that_fails_later_is_reported_and_the_saved_discovery_dropped(site):
    install(site, "fake_ggg", PLUGIN.format(name="seven", module="fake_ggg", version="1.0.0")
            + CREATED_HOOK)
    fresh_registry()
    del sys.modules["fake_ggg"]
    # broken after the save in a way the stat check cannot see (same size, same mtime)
    module = site / "fake_ggg.py"
    text = module.read_text()
    module.write_text(text.replace("import dmzoo\n", "import dmzoX\n", 1))
    os.utime(module, ns=(AN_HOUR_AGO, AN_HOUR_AGO))
    registry = fresh_registry()
    assert registry._not_imported
    spec = dmzoo.get_spec("fake_ggg/seven")
    with pytest.warns(dmzoo.registry.DmzooPluginWarning, match="dmzoX"):
        registry.call_hook("dmzoo_datamodule_created", spec=spec, datamodule=None)
    assert [f.plugin for f in registry.failures] == ["fake_ggg"]
    assert not discovery_cache.cache_file().exists()


@pytest.mark.parametrize("damage", [b"", b"{not json", b'{"environment": 1}', b"\xff\xfe"])
def test_a_damaged_or_foreign_file_is_ignored_and_rewritten(site, damage):
    install(site, "fake_hhh", PLUGIN.format(name="eight", module="fake_hhh", version="1.0.0"))
    names = fresh_registry().all_names()
    path = discovery_cache.cache_file()
    path.write_bytes(damage)
    assert fresh_registry().all_names() == names
    assert json.loads(path.read_text())["environment"]["format"] == discovery_cache.FORMAT


def test_a_tampered_spec_is_not_trusted(site):
    install(site, "fake_iii", PLUGIN.format(name="nine", module="fake_iii", version="1.0.0"))
    fresh_registry()
    path = discovery_cache.cache_file()
    data = json.loads(path.read_text())
    for spec in data["specs"]:
        spec["version"] = "not a version"
    path.write_text(json.dumps(data))
    assert dmzoo.get_spec("fake_iii/nine").version == "1.0.0"


def test_fresh_paths_are_not_trusted_and_the_setting_turns_it_off(site, monkeypatch):
    monkeypatch.setattr(discovery_cache, "RACY_SECONDS", 2.0)
    (site / "fake_jjj.py").write_text(PLUGIN.format(name="ten", module="fake_jjj", version="1.0.0"))
    info = site / "fake_jjj-1.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake_jjj\nVersion: 1.0.0\n")
    (info / "entry_points.txt").write_text("[dmzoo]\nfake_jjj = fake_jjj\n")
    importlib.invalidate_caches()
    assert dmzoo.is_datamodule("fake_jjj/ten")  # written just now: the clock may not show
    assert not discovery_cache.cache_file().exists()  # a change in the same tick
    monkeypatch.setattr(discovery_cache, "RACY_SECONDS", 0.0)
    monkeypatch.setenv("DMZOO_DISCOVERY_CACHE", "0")
    fresh_registry()
    assert not discovery_cache.cache_file().exists()
    monkeypatch.delenv("DMZOO_DISCOVERY_CACHE")
    fresh_registry()
    assert discovery_cache.cache_file().exists()


def test_doctor_always_discovers_afresh(site, capsys):
    install(site, "fake_kkk", PLUGIN.format(name="eleven", module="fake_kkk", version="1.0.0"))
    fresh_registry()
    del sys.modules["fake_kkk"]
    assert main(["doctor"]) == 0
    assert "fake_kkk" in sys.modules and "fake_kkk" in capsys.readouterr().out


def test_listing_never_creates_the_cache_root(tmp_path, monkeypatch):
    home = tmp_path / "not-yet"
    monkeypatch.setenv("DMZOO_HOME", str(home))
    monkeypatch.setattr(discovery_cache, "RACY_SECONDS", 0.0)
    assert dmzoo.list_datamodules()
    assert not home.exists()


@pytest.mark.parametrize("kwarg", ["(28, 28)", "__import__('pathlib').Path('x')"])
def test_a_spec_json_cannot_carry_exactly_is_never_saved(site, kwarg):
    source = PLUGIN.format(name="twelve", module="fake_lll", version="1.0.0").replace(
        'version="1.0.0",', f'version="1.0.0", default_kwargs={{"size": {kwarg}}},')
    install(site, "fake_lll", source)
    assert dmzoo.get_spec("fake_lll/twelve").default_kwargs["size"] == eval(kwarg)
    assert not discovery_cache.cache_file().exists()


@pytest.mark.parametrize("name, value", [("DMZOO_PLUGIN_TIMEOUT", "0"),
                                         ("DMZOO_PLUGIN_MAX_SPECS", "1.5"),
                                         ("DMZOO_DISCOVERY_CACHE", "maybe")])
def test_bad_settings_are_errors_even_when_the_saved_discovery_is_used(site, monkeypatch,
                                                                        name, value):
    install(site, "fake_mmm", PLUGIN.format(name="thirteen", module="fake_mmm", version="1.0.0"))
    fresh_registry()
    assert discovery_cache.cache_file().is_file()
    monkeypatch.setenv(name, value)
    with pytest.raises(InvalidSettingError, match=f"^{name}="):
        fresh_registry()
