"""LightningCLI picks a dmzoo datamodule by registry name, YAML or class path; the run's
logs and checkpoints name the data, and the datamodule is rebuilt from a checkpoint."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

import dmzoo
from dmzoo.interop import (
    DmzooDataRecord,
    DmzooLightningCLI,
    datamodule_from_checkpoint,
    resolve_data_args,
)

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "lightning_cli_train.py"
QUIET = ["--trainer.accelerator", "cpu", "--trainer.enable_progress_bar", "false",
         "--trainer.enable_model_summary", "false"]


def csv_logger(folder: Path) -> list[str]:
    return ["--trainer.logger", "lightning.pytorch.loggers.CSVLogger",
            "--trainer.logger.init_args.save_dir", str(folder)]


def only(pattern: str, folder: Path) -> Path:
    found = sorted(folder.rglob(pattern))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.slow
def test_fit_from_the_command_line_by_registry_name(tmp_path):
    cmd = [sys.executable, str(SCRIPT), "fit", "--data", "example/moons@1.0.0",
           "--data.batch_size", "16", "--data.n", "80", "--trainer.max_epochs", "2",
           *QUIET, *csv_logger(tmp_path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    ckpt = torch.load(only("*.ckpt", tmp_path), map_location="cpu", weights_only=False)
    assert ckpt["global_step"] == 8  # 64 training points / 16, two epochs
    record = ckpt["dmzoo"]
    assert record["ref"] == "example/moons@1.0.0"
    assert record["class"] == "dmzoo_example_plugin.moons:MoonsDataModule"
    assert (record["hparams"]["batch_size"], record["hparams"]["n"]) == (16, 80)
    assert record["split_fingerprint"] == record["state"]["split_fingerprint"]
    logged = yaml.safe_load(only("hparams.yaml", tmp_path).read_text())
    assert logged["dmzoo/ref"] == "example/moons@1.0.0"
    assert logged["dmzoo/split_fingerprint"] == record["split_fingerprint"]

    dm = datamodule_from_checkpoint(only("*.ckpt", tmp_path))
    assert dm.spec.ref == "example/moons@1.0.0" and dm.hparams.n == 80
    assert dm.state_dict() == record["state"]


@pytest.fixture
def classifier(monkeypatch):
    monkeypatch.setattr(sys, "argv", [str(SCRIPT)])  # LightningCLI gets args= only
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    from lightning_cli_train import Classifier

    return Classifier


@pytest.mark.parametrize("data", [
    "example/moons",                                          # data: NAME
    {"class_path": "moons@1.0.0", "init_args": {"batch_size": 8}},  # class_path: NAME
    {"class_path": "dmzoo_example_plugin.moons.MoonsDataModule",    # a real class path
     "init_args": {"batch_size": 8}},
])
def test_yaml_config_by_name_or_class_path(tmp_path, classifier, data):
    config = tmp_path / "run.yaml"
    config.write_text(yaml.safe_dump({"data": data, "trainer": {"max_steps": 2}}))
    cli = DmzooLightningCLI(classifier, args=["fit", "--config", str(config), "--data.n", "40",
                                              *QUIET, *csv_logger(tmp_path)])
    dm = cli.datamodule
    assert cli.trainer.global_step == 2 and dm.hparams.n == 40
    assert any(isinstance(c, DmzooDataRecord) for c in cli.trainer.callbacks)
    if data == "example/moons":  # the spec's default_kwargs apply, as with load_datamodule
        assert (dm.spec.ref, dm.predict_grid) == ("example/moons@1.1.0", 20)
    elif "@" in data["class_path"]:
        assert (dm.spec.ref, dm.hparams.batch_size) == ("example/moons@1.0.0", 8)
    else:  # a class path gets the highest registered version naming that class
        assert dm.spec.ref == "example/moons@1.1.0"


def test_registry_names_are_rewritten_and_class_paths_left_alone():
    spec, args = resolve_data_args(["fit", "--data=example/moons", "--data.batch_size", "3"])
    assert spec.ref == "example/moons@1.1.0"
    assert args == ["fit", "--data", "dmzoo_example_plugin.moons.MoonsDataModule",
                    "--data.predict_grid=20", "--data.batch_size", "3"]
    keep = ["fit", "--data", "pkg.mod.Thing", "--data.x", "1"]
    assert resolve_data_args(keep) == (None, keep)
    assert resolve_data_args(["fit", "--data", "SomeClassName"]) == (
        None, ["fit", "--data", "SomeClassName"])
    with pytest.raises(dmzoo.errors.DataModuleNotFoundError, match="did you mean"):
        resolve_data_args(["fit", "--data", "example/moonz"])


def test_checkpoint_without_the_callback_still_names_its_data(tmp_path, classifier):
    from lightning.pytorch import Trainer

    dm = dmzoo.load_datamodule("example/moons@1.0.0", n=40, batch_size=8, seed=3)
    trainer = Trainer(max_steps=1, accelerator="cpu", logger=False, enable_progress_bar=False,
                      enable_model_summary=False, default_root_dir=tmp_path)
    trainer.fit(classifier(), datamodule=dm)
    path = tmp_path / "plain.ckpt"
    trainer.save_checkpoint(path)
    rebuilt = datamodule_from_checkpoint(path)
    assert rebuilt.spec.ref == "example/moons@1.0.0" and rebuilt.hparams.seed == 3
    assert rebuilt.state_dict() == dm.state_dict()
    with pytest.raises(dmzoo.errors.SplitMismatchError, match="same n, val_fraction and seed"):
        datamodule_from_checkpoint(path, seed=4)  # other splits than the run used


def test_a_checkpoint_without_dmzoo_data_gets_a_clear_error(tmp_path):
    path = tmp_path / "other.ckpt"
    torch.save({"state_dict": {}, "epoch": 0}, path)
    with pytest.raises(dmzoo.errors.DataFormatError, match="no dmzoo datamodule state"):
        datamodule_from_checkpoint(path)


def test_lazy_interop_names_are_the_ones_type_checkers_see():
    import ast
    import importlib

    from dmzoo import interop

    tree = ast.parse(Path(interop.__file__).read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If) and ast.unparse(n.test) == "TYPE_CHECKING")
    typed = {a.name: n.module for n in block.body if isinstance(n, ast.ImportFrom) for a in n.names}
    assert typed == interop._EXPORTS and sorted(typed) == interop.__all__
    for name, module in typed.items():
        assert getattr(interop, name) is getattr(importlib.import_module(f"dmzoo.interop.{module}"), name)
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        interop.nothing  # noqa: B018
