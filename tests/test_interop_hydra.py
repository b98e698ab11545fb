"""Hydra: ``_target_: dmzoo.load_datamodule`` with ``name:`` and kwargs builds the datamodule."""

from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import OmegaConf

CONF = Path(__file__).resolve().parents[1] / "examples" / "hydra" / "conf"


def test_instantiate_by_name_with_kwargs_and_version():
    cfg = OmegaConf.create({"_target_": "dmzoo.load_datamodule", "name": "example/moons",
                            "version": "1.0.0", "batch_size": 16, "n": 40})
    dm = instantiate(cfg)
    assert dm.spec.ref == "example/moons@1.0.0"
    assert (dm.hparams.batch_size, dm.hparams.n) == (16, 40)
    dm.setup("fit")
    assert next(iter(dm.train_dataloader()))[0].shape == (16, 2)


def test_the_example_hydra_config_composes_and_overrides():
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("config", overrides=["data.batch_size=8", "data.version=1.*"])
        dm = instantiate(cfg.data)
        assert dm.spec.ref == "example/moons@1.1.0" and dm.hparams.batch_size == 8
        cfg = compose("config", overrides=["data=points"])
        assert instantiate(cfg.data).spec.ref == "example/points@1.0.0"


def test_nested_values_arrive_as_plain_python_with_convert_all():
    cfg = OmegaConf.create({"_target_": "dmzoo.load_datamodule", "_convert_": "all",
                            "name": "example/moons", "n": 40,
                            "noise": {"not": "a float"}})
    dm = instantiate(cfg)
    assert type(dm.hparams.noise) is dict  # not an OmegaConf DictConfig


def test_a_mistyped_name_or_argument_keeps_dmzoos_message():
    with pytest.raises(InstantiationException, match="did you mean 'example/moons'"):
        instantiate({"_target_": "dmzoo.load_datamodule", "name": "example/moon"})
    with pytest.raises(InstantiationException, match="did you mean 'batch_size'"):
        instantiate({"_target_": "dmzoo.load_datamodule", "name": "example/moons", "batchsize": 3})
