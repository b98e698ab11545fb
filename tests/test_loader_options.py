"""One definition of the loader options: the same error for the same bad value everywhere,
and subclasses that add one option still show (and forward) every parameter."""

from __future__ import annotations

import inspect
import sys
from pathlib import Path

import numpy as np
import pytest

import dmzoo
from dmzoo.core.errors import InvalidArgumentError
from dmzoo.core.fastloader import ArrayDataset, make_loader
from dmzoo.core.resident import resident_loader
from dmzoo.plugins.tabular.adult.datamodule import AdultDataModule
from dmzoo.plugins.tabular.datamodule import TabularBase
from dmzoo.plugins.vision.base import VisionDataModule
from dmzoo.plugins.vision.cifar.datamodule import CIFAR100DataModule

FIRST_PARTY = sorted(name for name in dmzoo.list_datamodules()
                     if dmzoo.get_spec(name).cls.startswith("dmzoo.plugins."))
BAD = [("batch_size", True, "batch_size must be an int >= 1, got True"),
       ("batch_size", 0, "batch_size must be an int >= 1, got 0"),
       ("batch_size", None, "batch_size must be an int >= 1, got None"),
       ("num_workers", -1, "num_workers must be an int >= 0, got -1"),
       ("seed", "7", "seed must be an int, got '7'"),
       ("shuffle", "yes", "shuffle must be True or False, got 'yes'"),
       ("val_split", 1.5, "val_split must be an int row count >= 0 or a float fraction in "
                          "[0, 1), got 1.5")]


def test_every_first_party_datamodule_is_covered():
    assert len(FIRST_PARTY) >= 18 and {"mnist", "cifar100", "wine", "tabular", "huggingface",
                                       "image_folder", "adult"} <= {n.split("/")[-1]
                                                                    for n in FIRST_PARTY}


@pytest.mark.parametrize("name", FIRST_PARTY)
@pytest.mark.parametrize(("option", "value", "message"), BAD, ids=[f"{o}={v!r}" for o, v, _ in BAD])
def test_a_bad_loader_option_fails_construction_the_same_way(name, option, value, message,
                                                              tmp_path, monkeypatch):
    """Construction alone fails, before any data is read, written or downloaded (no root,
    data or path is given: the option check comes first)."""
    monkeypatch.setenv("DMZOO_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DMZOO_OFFLINE", "1")
    with pytest.raises(InvalidArgumentError) as info:
        dmzoo.load_datamodule(name, **{option: value})
    assert str(info.value) == message
    assert not (tmp_path / "home").exists()


def test_the_loaders_check_the_same_way():
    data = ArrayDataset((np.zeros((4, 2), np.float32), np.zeros(4, np.int64)))
    for build in (lambda **kw: make_loader(data, **kw),
                  lambda **kw: resident_loader(data.arrays, device="cpu", **kw)):
        with pytest.raises(InvalidArgumentError, match=r"^batch_size must be an int >= 1, got True$"):
            build(batch_size=True)
        with pytest.raises(InvalidArgumentError, match=r"^seed must be an int, got 1.5$"):
            build(batch_size=2, seed=1.5)
    with pytest.raises(InvalidArgumentError, match=r"got np.int64\(2\)"):  # torch takes Python ints
        make_loader(data, batch_size=np.int64(2))
    assert len(make_loader(data, batch_size=2, seed=np.int64(3))) == 2


def test_a_subclass_adding_an_option_shows_and_forwards_every_parameter():
    base = inspect.signature(VisionDataModule).parameters
    sub = inspect.signature(CIFAR100DataModule).parameters
    assert list(sub) == [*base, "label_type"]
    assert all(sub[k].default == p.default and sub[k].kind is p.kind for k, p in base.items())
    assert sub["label_type"].default == "fine"
    assert "label_type" not in inspect.getsource(VisionDataModule.__init__)  # not restated
    dm = CIFAR100DataModule(None, 0.2, 16, label_type="coarse")  # positionals reach the base
    assert (dm.val_split, dm.batch_size, dm.num_classes) == (0.2, 16, 20)
    assert dm.hparams["label_type"] == "coarse" and dm.hparams["batch_size"] == 16
    assert dm.hparams["seed"] == 42  # defaults of the base are saved too
    with pytest.raises(InvalidArgumentError, match="did you mean 'label_type'"):
        dmzoo.load_datamodule("cifar100", labl_type="coarse")


def test_tabular_tables_inherit_the_one_definition():
    params = inspect.signature(AdultDataModule).parameters
    assert list(params) == ["data_dir", *inspect.signature(TabularBase).parameters]
    assert params["batch_size"].default == 64 and params["seed"].default == 0
    dm = AdultDataModule("somewhere", 0.2, batch_size=8)
    assert (dm.data_dir, dm.val_split, dm.batch_size) == ("somewhere", 0.2, 8)


def test_user_subclasses_get_their_own_signature():
    class Extra(CIFAR100DataModule):
        def __init__(self, *args, flip: bool = False, **options):
            super().__init__(*args, **options)
            self.flip = flip

    class Fixed(CIFAR100DataModule):
        def __init__(self, width: int = 3):
            super().__init__(batch_size=width)

    assert list(inspect.signature(Extra).parameters)[-2:] == ["flip", "label_type"]
    assert list(inspect.signature(Fixed).parameters) == ["width"]
    assert Extra(batch_size=4, flip=True).flip and Fixed(5).batch_size == 5


def test_lightning_cli_reads_an_added_option_and_the_inherited_ones(monkeypatch):
    """jsonargparse follows ``**options`` into the base: every parameter is a CLI flag."""
    script = Path(__file__).resolve().parents[1] / "examples" / "lightning_cli_train.py"
    monkeypatch.setattr(sys, "argv", [str(script)])
    monkeypatch.syspath_prepend(str(script.parent))
    from lightning_cli_train import Classifier

    from dmzoo.interop import DmzooLightningCLI

    cli = DmzooLightningCLI(Classifier, run=False, args=[
        "--data=cifar100", "--data.label_type=coarse", "--data.batch_size=16",
        "--trainer.accelerator=cpu", "--trainer.logger=false"])
    dm = cli.datamodule
    assert (type(dm), dm.label_type, dm.batch_size, dm.num_classes) == (
        CIFAR100DataModule, "coarse", 16, 20)
    assert dm.spec.ref == "dmzoo/cifar100@1.0.0" and dm.hparams["seed"] == 42


def test_the_huggingface_facade_shows_both_variants_options():
    from dmzoo.plugins.huggingface.datamodule import HuggingFaceDataModule

    params = inspect.signature(HuggingFaceDataModule).parameters  # was (*args, **kwargs)
    assert {"path", "image_size", "augment", "missing", "stratify", "batch_size"} <= set(params)
    assert (params["batch_size"].default, params["seed"].default) == (32, 42)  # image defaults
    assert params["normalize"].default is None and params["pin_memory"].default is None
    with pytest.raises(InvalidArgumentError, match="did you mean 'batch_size'"):
        dmzoo.load_datamodule("huggingface", path="x", batch_sise=8)
