"""A dmzoo DataModule with a real Lightning Trainer on CPU: fit/validate/test/predict,
checkpoints holding its state and hparams, and both Lightning flavours."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import lightning.pytorch as pl
import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

import dmzoo
from dmzoo.core.datamodule import DataModule
from dmzoo.core.errors import SpecMismatchError

REPO = Path(__file__).resolve().parents[1]


def test_with_lightning_installed_the_base_is_lightnings():
    assert DataModule.__bases__ == (pl.LightningDataModule,)


def data(n, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=g)
    return TensorDataset(x, x.sum(1, keepdim=True))


class Tiny(DataModule):
    """All four loaders; records hooks, and carries a cursor in its state."""

    def __init__(self, batch_size: int = 4, n: int = 16):
        super().__init__()
        self.save_hyperparameters()
        self.calls: list = []
        self.cursor = 0

    def setup(self, stage):
        self.calls.append(("setup", stage))
        self.ds = data(self.hparams.n)

    def teardown(self, stage):
        self.calls.append(("teardown", stage))

    def train_dataloader(self):
        return DataLoader(self.ds, batch_size=self.hparams.batch_size)

    def val_dataloader(self):
        return DataLoader(self.ds, batch_size=self.hparams.batch_size)

    def test_dataloader(self):
        return DataLoader(self.ds, batch_size=self.hparams.batch_size)

    def predict_dataloader(self):
        return DataLoader(self.ds, batch_size=self.hparams.batch_size)

    def on_before_batch_transfer(self, batch, dataloader_idx):
        self.cursor += bool(self.trainer and self.trainer.training)  # counts training batches
        return {"x": batch[0], "y": batch[1], "tagged": True}

    def state_dict(self):
        return {**super().state_dict(), "cursor": self.cursor}

    def load_state_dict(self, state):
        self.calls.append(("load_state_dict", state))
        super().load_state_dict(state)
        self.cursor = state["cursor"]


class TrainOnly(DataModule):
    """No val/test loaders: Lightning must skip those loops, not call the defaults."""

    def setup(self, stage):
        self.ds = data(8)

    def train_dataloader(self):
        return DataLoader(self.ds, batch_size=4)


class Model(pl.LightningModule):
    def __init__(self):
        super().__init__()
        self.layer = torch.nn.Linear(3, 1)
        self.seen = {"train": 0, "val": 0, "test": 0}

    def _step(self, batch, kind):
        if isinstance(batch, dict):
            assert batch["tagged"] is True
            x, y = batch["x"], batch["y"]
        else:
            x, y = batch
        self.seen[kind] += 1
        return torch.nn.functional.mse_loss(self.layer(x), y)

    def training_step(self, batch, idx):
        return self._step(batch, "train")

    def validation_step(self, batch, idx):
        self._step(batch, "val")

    def test_step(self, batch, idx):
        self._step(batch, "test")

    def predict_step(self, batch, idx):
        return self.layer(batch["x"] if isinstance(batch, dict) else batch[0])

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.01)


def trainer(**kw):
    kw.setdefault("max_epochs", 1)
    kw.setdefault("num_sanity_val_steps", 0)
    return pl.Trainer(accelerator="cpu", logger=False, enable_progress_bar=False,
                      enable_model_summary=False, enable_checkpointing=False, **kw)


def register(cls, version="1.0.0", name="ltiny"):
    spec = dmzoo.DataModuleSpec(name=name, version=version, namespace="lab",
                                cls=f"{cls.__module__}:{cls.__qualname__}")
    return dmzoo.register_datamodule(spec)


def test_fit_validate_test_predict():
    register(Tiny)
    dm = dmzoo.load_datamodule("lab/ltiny", batch_size=4, n=16)
    model = Model()
    trainer().fit(model, datamodule=dm)
    assert model.seen["train"] == 4 and model.seen["val"] == 4
    trainer().validate(model, datamodule=dm)
    trainer().test(model, datamodule=dm)
    assert model.seen["test"] == 4
    predictions = trainer().predict(model, datamodule=dm)
    assert len(predictions) == 4 and predictions[0].shape == (4, 1)
    stages = [stage for hook, stage in dm.calls if hook == "setup"]
    assert stages == ["fit", "validate", "test", "predict"]
    assert ("teardown", "fit") in dm.calls
    assert dm.cursor == 4  # Lightning called the datamodule's batch transfer hook


def test_missing_loaders_skip_loops_and_from_datasets_fits():
    model = Model()
    with pytest.warns(UserWarning, match="no `val_dataloader`. Skipping val loop"):
        trainer().fit(model, datamodule=TrainOnly())  # our default does not count as defined
    assert model.seen == {"train": 2, "val": 0, "test": 0}
    dm = DataModule.from_datasets(data(12), val_dataset=data(4), batch_size=4)
    trainer().fit(model, dm)  # positional datamodule, as Lightning allows
    assert model.seen["train"] == 5 and model.seen["val"] == 1


def test_checkpoint_holds_state_and_hparams_and_restores(tmp_path):
    register(Tiny)
    dm = dmzoo.load_datamodule("lab/ltiny", batch_size=8, n=16)
    first = trainer()
    first.fit(Model(), datamodule=dm)
    path = tmp_path / "last.ckpt"
    first.save_checkpoint(path)
    ckpt = torch.load(path, weights_only=False)
    assert ckpt["Tiny"] == {"spec": {"namespace": "lab", "name": "ltiny", "version": "1.0.0"},
                            "cursor": 2}
    assert ckpt["datamodule_hyper_parameters"] == {"batch_size": 8, "n": 16}
    assert ckpt["datamodule_hparams_name"] == "kwargs"

    again = dmzoo.load_datamodule("lab/ltiny", batch_size=8, n=16)
    trainer(max_epochs=2).fit(Model(), datamodule=again, ckpt_path=path)
    restored = [state for hook, state in again.calls if hook == "load_state_dict"]
    assert restored == [ckpt["Tiny"]]
    assert again.cursor == 4  # 2 restored + 2 batches of the second epoch

    loaded = Tiny.load_from_checkpoint(path, weights_only=False)  # Lightning's own loader
    assert (dict(loaded.hparams), loaded.cursor) == ({"batch_size": 8, "n": 16}, 2)


def test_resuming_on_another_major_version_fails(tmp_path):
    register(Tiny, "1.0.0")
    register(Tiny, "2.0.0")
    first = trainer()
    first.fit(Model(), datamodule=dmzoo.load_datamodule("lab/ltiny@1.0.0"))
    first.save_checkpoint(tmp_path / "v1.ckpt")
    with pytest.raises(SpecMismatchError, match="lab/ltiny@1.0.0.*lab/ltiny@2.0.0"):
        trainer(max_epochs=2).fit(Model(), datamodule=dmzoo.load_datamodule("lab/ltiny@2.0.0"),
                                  ckpt_path=tmp_path / "v1.ckpt")


IMPORT_ORDER = textwrap.dedent("""
    import json, sys
    {prelude}
    import torch
    from torch.utils.data import TensorDataset
    from dmzoo import DataModule

    class Made(DataModule):
        def setup(self, stage):
            self.ds = TensorDataset(torch.randn(8, 3), torch.randn(8, 1))

        def train_dataloader(self):
            return torch.utils.data.DataLoader(self.ds, batch_size=4)

    before = Made()  # built before the script imports Lightning itself
    import {flavour} as pl

    class Model(pl.LightningModule):
        def __init__(self):
            super().__init__()
            self.layer = torch.nn.Linear(3, 1)
            self.steps = 0

        def training_step(self, batch, idx):
            self.steps += 1
            return torch.nn.functional.mse_loss(self.layer(batch[0]), batch[1])

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.01)

    steps = []
    for dm in (before, Made()):
        model = Model()
        pl.Trainer(accelerator="cpu", max_epochs=1, logger=False, enable_progress_bar=False,
                   enable_checkpointing=False, enable_model_summary=False).fit(model, dm)
        steps.append(model.steps)
    print(json.dumps({{"steps": steps, "base": DataModule.__bases__[0].__module__}}))
""")


@pytest.mark.slow
@pytest.mark.parametrize("flavour, prelude", [
    ("lightning.pytorch", ""),  # dmzoo first: lightning.pytorch is preferred
    ("pytorch_lightning", "import pytorch_lightning"),  # that flavour already in use
])
def test_a_trainer_of_the_chosen_flavour_fits(flavour, prelude):
    code = IMPORT_ORDER.format(flavour=flavour, prelude=prelude)
    proc = subprocess.run([sys.executable, "-c", code],
                          capture_output=True, text=True, cwd=REPO, timeout=300,
                          env={**os.environ, "DMZOO_LIGHTNING": "auto"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["steps"] == [2, 2] and out["base"] == f"{flavour}.core.datamodule"
