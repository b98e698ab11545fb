"""dmzoo.testing: the conformance checks catch each kind of broken datamodule, the pytest
and CLI entries run them, ``dmzoo new-plugin`` scaffolds a package that passes them, and
the example plugin (installed into the environment) is discovered, loaded and versioned."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import threading
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import dmzoo
from dmzoo import DataModuleSpec, Feature, Resource, Split
from dmzoo.cli.main import main
from dmzoo.registry import reset_registry
from dmzoo.testing import (
    CHECKS,
    ConformanceError,
    ScaffoldError,
    check_datamodule,
    check_plugin,
    checks_for,
    fixture_kwargs,
    specs_for,
)

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "dmzoo-example-plugin"
FAST = [c for c in CHECKS if c not in ("lightning_fast_dev_run", "listing_is_lazy")]


# -- datamodules with one defect each (imported by the checks as "test_testing_kit:...") ------
class Good(dmzoo.DataModule):
    def __init__(self, n: int = 24, batch_size: int = 8, seed: int = 0) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.n, self.batch_size, self.seed = n, batch_size, seed

    def rows(self) -> torch.Tensor:
        return torch.randperm(self.n, generator=torch.Generator().manual_seed(self.seed))

    def setup(self, stage: str | None = None) -> None:
        x = torch.arange(self.n * 2, dtype=torch.float32).view(self.n, 2)
        order = self.rows()
        self.train = TensorDataset(x[order[6:]], order[6:] % 2)
        self.val = TensorDataset(x[order[:6]], order[:6] % 2)

    def train_dataloader(self) -> DataLoader:
        return DataLoader(self.train, batch_size=self.batch_size, shuffle=True)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val, batch_size=self.batch_size)

    def state_dict(self) -> dict:
        return {**super().state_dict(), "split_fingerprint": str(self.rows()[:6].tolist())}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        if state.get("split_fingerprint") != str(self.rows()[:6].tolist()):
            raise dmzoo.errors.SplitMismatchError("other splits")


class NoTrain(Good):
    train_dataloader = dmzoo.DataModule.train_dataloader


class EmptyVal(Good):
    def val_dataloader(self) -> DataLoader:
        return DataLoader(TensorDataset(torch.zeros(0, 2)), batch_size=4)


class GrowsOnSetup(Good):
    def setup(self, stage: str | None = None) -> None:
        if not hasattr(self, "train"):
            return super().setup(stage)
        self.train = torch.utils.data.ConcatDataset([self.train, self.train])


class ForgetsSpec(Good):
    def state_dict(self) -> dict:
        return {"split_fingerprint": "x"}


class UnsafeState(Good):
    def state_dict(self) -> dict:
        return {**super().state_dict(), "rng": np.random.default_rng(0)}


class IgnoresFingerprint(Good):
    def load_state_dict(self, state: dict) -> None:
        dmzoo.DataModule.load_state_dict(self, state)


class Unpicklable(Good):
    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.lock = threading.Lock()


class Unseeded(Good):
    def rows(self) -> torch.Tensor:
        return torch.from_numpy(np.random.permutation(self.n))


class FlatDict(Good):
    """Yields ``{"x": ..., "y": ...}`` batches: ``for x, y in loader`` would unpack the keys."""

    def train_dataloader(self) -> DataLoader:
        return DataLoader([{"x": x, "y": y} for x, y in self.train], batch_size=self.batch_size)


class InputsNotAsDeclared(Good):
    """The spec says a dict of inputs (``supervised_keys=(("a", "b"), "y")``); yields a tensor."""


class NotADataModule:
    def __init__(self, n: int = 1) -> None:
        self.n = n


def make_spec(cls: str, **kw) -> DataModuleSpec:
    return DataModuleSpec(name=kw.pop("name", "thing"), version=kw.pop("version", "1.0.0"),
                          namespace="kit", cls=f"test_testing_kit:{cls}",
                          splits=(Split("train", 18), Split("val", 6)), **kw)


def failures(spec: DataModuleSpec, checks=FAST) -> dict[str, str]:
    results = check_datamodule(spec, checks=checks, raise_on_failure=False)
    return {r.check: r.message for r in results if r.status == "failed"}


def tiny_fixture(folder: Path) -> dict:
    return {"n": 12}


def list_fixture(folder: Path) -> list:
    return [1]


# -- the checks ---------------------------------------------------------------------------------
def test_a_conforming_datamodule_passes_every_fast_check():
    results = check_datamodule(make_spec("Good"), checks=FAST)
    assert [r.status for r in results] == ["passed"] * len(FAST)


@pytest.mark.parametrize(("cls", "check", "words"), [
    ("NoTrain", "loaders_yield_batches", "train_dataloader"),
    ("EmptyVal", "loaders_yield_batches", "val loader yields no batch"),
    ("GrowsOnSetup", "setup_idempotent", "setup() called twice"),
    ("ForgetsSpec", "state_dict_round_trip", "super().state_dict()"),
    ("UnsafeState", "state_dict_round_trip", "weights_only"),
    ("IgnoresFingerprint", "state_dict_round_trip", "another split_fingerprint"),
    ("Unpicklable", "pickling", "lock"),
    ("Unseeded", "split_reproducible", "two instances"),
    ("NotADataModule", "spec", "must subclass dmzoo.DataModule"),
    ("FlatDict", "batches_are_inputs_target", "not an (inputs, target) pair"),
])
def test_each_defect_fails_its_check_with_a_reason(cls, check, words):
    found = failures(make_spec(cls), checks=[check])
    assert check in found and words in found[check], found


def test_inputs_must_have_the_structure_and_shapes_the_spec_declares():
    declared = make_spec("InputsNotAsDeclared", supervised_keys=(("a", "b"), "y"),
                         features=(Feature("a", (1,)), Feature("b", (1,)), Feature("y")))
    found = failures(declared, checks=["batches_are_inputs_target"])
    assert "a dict with keys ['a', 'b']" in found["batches_are_inputs_target"]
    shaped = make_spec("Good", supervised_keys=("x", "y"), features=(Feature("x", (3,)), Feature("y")))
    found = failures(shaped, checks=["batches_are_inputs_target"])
    assert "example shape (2,); the spec's feature says (3,)" in found["batches_are_inputs_target"]
    unknown = make_spec("Good", supervised_keys=("x", "y"), features=(Feature("x", (None,)),
                                                                      Feature("y")))
    assert failures(unknown, checks=["batches_are_inputs_target"]) == {}


def test_invalid_spec_fields_are_reported_by_the_spec_check():
    spec = make_spec("Good", version="one", default_kwargs={"batchsize": 4})
    found = failures(spec, checks=["spec"])
    assert "not a PEP 440" in found["spec"]
    found = failures(make_spec("Good", default_kwargs={"batchsize": 4}), checks=["spec"])
    assert "batchsize" in found["spec"] and "did you mean 'batch_size'" in found["spec"]


def test_a_failing_run_raises_one_error_listing_every_failure():
    with pytest.raises(ConformanceError) as err:
        check_datamodule([make_spec("NoTrain"), make_spec("Unpicklable", name="other")],
                         checks=["loaders_yield_batches", "pickling"])
    text = str(err.value)
    assert "2 of 4 check(s) failed" in text and "kit/thing@1.0.0" in text
    assert "kit/other@1.0.0 pickling" in text


def test_fixture_kwargs_are_used_and_must_be_a_dict(tmp_path):
    spec = make_spec("Good", fixture="test_testing_kit:tiny_fixture")
    assert fixture_kwargs(spec, tmp_path) == {"n": 12}
    assert check_datamodule(spec, checks=["loaders_yield_batches"])[0].status == "passed"
    found = failures(make_spec("Good", fixture="test_testing_kit:list_fixture"),
                     checks=["loaders_yield_batches"])
    assert "must return a dict" in found["loaders_yield_batches"]
    found = failures(make_spec("Good", fixture="test_testing_kit:no_such_fixture"), checks=["spec"])
    assert "cannot import fixture" in found["spec"]


def test_a_downloading_spec_without_fixture_is_told_to_declare_one():
    res = Resource("d.csv", urls=("http://127.0.0.1:9/d.csv",), sha256="0" * 64)
    found = failures(make_spec("Good", resources=(res,)), checks=["spec", "pickling"])
    assert "declares no fixture" in found["spec"] and "fixture=" in found["pickling"]


def test_checks_run_offline_with_a_private_home(monkeypatch, dmzoo_home):
    # The points fixture imports its tiny CSV; without the fixture, prepare must not reach out.
    spec = dmzoo.get_spec("example/points")
    bare = dataclasses.replace(spec, fixture="test_testing_kit:tiny_points")
    found = failures(bare, checks=["loaders_yield_batches"])
    assert "DMZOO_OFFLINE" in found["loaders_yield_batches"]
    assert not dmzoo_home.exists()  # the user's (here: the test's) cache was never touched


def tiny_points(folder: Path) -> dict:
    return {"data_dir": str(folder)}


def test_listing_check_runs_in_a_fresh_process_and_catches_eager_imports(tmp_path, monkeypatch):
    site = tmp_path / "site"
    (site / "eager_plugin-0.1.dist-info").mkdir(parents=True)
    (site / "eager_plugin-0.1.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: eager-plugin\nVersion: 0.1\n")
    (site / "eager_plugin-0.1.dist-info" / "entry_points.txt").write_text(
        "[dmzoo]\neager = eager_plugin\n")
    (site / "eager_impl.py").write_text("class Eager:\n    pass\n")
    (site / "eager_plugin.py").write_text(
        "import dmzoo, eager_impl\n"
        "@dmzoo.hookimpl\ndef dmzoo_datamodule_specs():\n"
        "    return [dmzoo.DataModuleSpec(name='eager', version='1.0.0', namespace='eager',\n"
        "            cls='eager_impl:Eager')]\n")
    monkeypatch.setenv("PYTHONPATH", str(site))
    monkeypatch.syspath_prepend(str(site))
    reset_registry()
    found = failures(specs_for("eager-plugin"), checks=["listing_is_lazy"])
    assert "listing imported 'eager_impl'" in found["listing_is_lazy"]
    # registered in-process only: the fresh process cannot see it, so the check says so
    result = check_datamodule(make_spec("Good"), checks=["listing_is_lazy"])[0]
    assert result.status == "skipped" and "pip install" in result.message


# -- targets ---------------------------------------------------------------------------------
def test_example_plugin_is_installed_discovered_and_versioned():
    try:
        dist = distribution("dmzoo-example-plugin")
    except PackageNotFoundError:
        pytest.fail("install the example plugin first: "
                    "pip install --no-deps ./examples/dmzoo-example-plugin")
    assert [ep.value for ep in dist.entry_points if ep.group == "dmzoo"] == [
        "dmzoo_example_plugin.plugin"]
    assert set(dmzoo.list_datamodules("example/*")) == {"example/moons", "example/points"}
    assert dmzoo.get_spec("example/moons").version == "1.1.0"
    old = dmzoo.load_datamodule("example/moons@1.0.0")
    new = dmzoo.load_datamodule("example/moons")
    assert (old.spec.version, old.predict_grid) == ("1.0.0", 0)
    assert (new.spec.version, new.predict_grid) == ("1.1.0", 20)
    assert "predict split" in new.spec.release_notes["1.1.0"]


@pytest.mark.parametrize("target", ["example", "dmzoo-example-plugin", "dmzoo_example_plugin"])
def test_a_plugin_is_found_by_entry_point_distribution_or_package(target):
    refs = sorted(s.ref for s in specs_for(target))
    assert refs == ["example/moons@1.0.0", "example/moons@1.1.0", "example/points@1.0.0"]


def test_a_datamodule_name_means_every_version_unless_pinned():
    assert [s.version for s in specs_for("example/moons")] == ["1.0.0", "1.1.0"]
    assert [s.version for s in specs_for("moons@1.0.0")] == ["1.0.0"]


def test_unknown_targets_and_checks_get_clear_errors():
    with pytest.raises(dmzoo.errors.DataModuleNotFoundError, match="installed plugins: .*example"):
        specs_for("no_such_plugin")
    with pytest.raises(ConformanceError, match="unknown check.*available: spec"):
        checks_for("example/moons", checks=["speck"])


def test_check_plugin_passes_on_the_example_plugin():
    results = check_plugin("example", checks=FAST)
    assert len(results) == 3 * len(FAST) and {r.status for r in results} == {"passed"}


@pytest.mark.slow
def test_lightning_fast_dev_run_and_listing_checks_on_the_example_plugin():
    results = check_datamodule("example/moons@1.1.0",
                               checks=["listing_is_lazy", "lightning_fast_dev_run"])
    assert [r.status for r in results] == ["passed", "passed"], results


# -- CLI and pytest entries -------------------------------------------------------------------
def test_dmzoo_check_cli_reports_and_sets_the_exit_code(capsys):
    assert main(["check", "example/moons@1.0.0", "--check", "spec", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["ref"], r["check"], r["status"]) for r in rows] == [
        ("example/moons@1.0.0", "spec", "passed")]
    dmzoo.register_datamodule(make_spec("NoTrain"))
    assert main(["check", "kit/thing", "--check", "loaders_yield_batches"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "0 passed, 1 failed" in out
    assert main(["check", "nope_nothing"]) == 1
    assert "no plugin, package, namespace or datamodule named" in capsys.readouterr().err


def _pytest(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "dmzoo.testing.pytest_plugin",
                           "-q", "-p", "no:cacheprovider", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


def test_pytest_option_turns_each_check_into_a_test(tmp_path):
    (tmp_path / "test_nothing.py").write_text("def test_one():\n    pass\n")
    proc = _pytest("--dmzoo-plugin", "example/moons@1.0.0", "-k", "spec or pickling or one",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed" in proc.stdout
    proc = _pytest("--dmzoo-plugin", "nope_nothing", cwd=tmp_path)
    assert proc.returncode == 4 and "--dmzoo-plugin nope_nothing" in proc.stderr


@pytest.mark.slow
def test_the_example_plugins_own_test_suite_passes():
    proc = _pytest("-m", "not slow", "tests", cwd=EXAMPLE)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout


# -- scaffold ---------------------------------------------------------------------------------
def test_new_plugin_scaffolds_a_package_that_passes_the_checks(tmp_path, monkeypatch, capsys):
    assert main(["new-plugin", "acme-fun", "--dir", str(tmp_path)]) == 0
    root = tmp_path / "dmzoo-acme-fun"
    assert f"created {root}" in capsys.readouterr().out
    text = (root / "pyproject.toml").read_text()
    assert '[project.entry-points.dmzoo]\nacme_fun = "dmzoo_acme_fun.plugin"' in text
    # a stand-in for pip install: the package on sys.path plus its entry-point metadata
    info = root / "dmzoo_acme_fun-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dmzoo-acme-fun\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[dmzoo]\nacme_fun = dmzoo_acme_fun.plugin\n")
    monkeypatch.syspath_prepend(str(root))
    reset_registry()
    results = check_plugin("dmzoo-acme-fun", checks=FAST)
    assert {r.status for r in results} == {"passed"}
    assert dmzoo.load_datamodule("acme_fun/blobs").spec.ref == "acme_fun/blobs@0.1.0"


def test_new_plugin_refuses_bad_names_and_never_touches_an_existing_folder(tmp_path, capsys):
    existing = tmp_path / "dmzoo-taken"
    existing.mkdir()
    (existing / "keep.txt").write_text("mine")
    with pytest.raises(ScaffoldError, match="already exists"):
        from dmzoo.testing.scaffold import new_plugin
        new_plugin("taken", tmp_path)
    assert [p.name for p in existing.iterdir()] == ["keep.txt"]
    assert main(["new-plugin", "9lives", "--dir", str(tmp_path)]) == 1
    assert "not usable" in capsys.readouterr().err
    assert main(["new-plugin", "ok", "--dir", str(tmp_path / "missing")]) == 1
    assert "not a folder" in capsys.readouterr().err


@pytest.mark.slow
def test_scaffold_installs_with_pip_and_its_own_tests_pass(tmp_path):
    from dmzoo.testing.scaffold import new_plugin

    root = new_plugin("pipcheck", tmp_path)
    target = tmp_path / "site"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation",
                          "--quiet", "--target", str(target), str(root)],
                         capture_output=True, text=True, timeout=300)
    assert pip.returncode == 0, pip.stderr
    env_path = f"{target}"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "dmzoo.testing.pytest_plugin", "tests"], cwd=root,
                          capture_output=True, text=True, timeout=300,
                          env={**__import__("os").environ, "PYTHONPATH": env_path})
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert f"{len(CHECKS)} passed" in proc.stdout  # one test per check
