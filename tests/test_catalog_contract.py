"""The README's loop, ``for x, y in dm.train_dataloader()``, on every first-party datamodule
and the example plugin's: ``x`` a tensor or a dict of tensors, ``y`` a tensor, one batch size.

Each datamodule is built offline on its spec's fixture (tiny upstream-format files prepared
through the real storage path), exactly as ``dmzoo check`` builds it.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
import torch

import dmzoo
from dmzoo import DataModuleSpec
from dmzoo.core.errors import SpecError
from dmzoo.registry.loading import instantiate
from dmzoo.testing import CHECKS, check_plugin, specs_for
from dmzoo.testing.checks import loaders
from dmzoo.testing.fixture import fixture_kwargs, offline_home

FIRST_PARTY = ("vision", "tabular")
EXAMPLE = "example"
SPECS = [spec for plugin in (*FIRST_PARTY, EXAMPLE) for spec in specs_for(plugin)]


def batch_size_of(inputs) -> int:
    if isinstance(inputs, dict):
        sizes = {int(v.shape[0]) for v in inputs.values()}
        assert all(isinstance(v, torch.Tensor) for v in inputs.values()), inputs
        assert len(sizes) == 1, f"inputs of different batch sizes: {sizes}"
        return sizes.pop()
    assert isinstance(inputs, torch.Tensor), type(inputs)
    return int(inputs.shape[0])


def test_the_catalog_holds_every_first_party_datamodule_and_the_example():
    names = {spec.qualified_name for spec in SPECS}
    assert {"dmzoo/mnist", "dmzoo/cifar10", "dmzoo/wine", "dmzoo/adult", "dmzoo/tabular",
            "dmzoo/california_housing", "example/moons", "example/points"} <= names


@pytest.mark.parametrize("spec", SPECS, ids=[s.ref for s in SPECS])
def test_for_x_y_in_every_loader(spec, tmp_path):
    with offline_home(tmp_path):
        dm = instantiate(spec, fixture_kwargs(spec, tmp_path / "fixture"))
        dm.prepare_data()
        found = loaders(dm)  # each split's loader after its setup(stage); undefined ones left out
        assert "train" in found
        for split in ("train", "val", "test"):
            batches = 0
            for x, y in found.get(split, ()):
                assert isinstance(y, torch.Tensor) and y.ndim >= 1, (split, type(y))
                assert batch_size_of(x) == y.shape[0] > 0
                if spec.input_keys is not None:
                    assert isinstance(x, dict) and set(x) == set(spec.input_keys)
                batches += 1
            assert batches or split not in found, f"{spec.ref}: the {split} loader yields nothing"
        for batch in found.get("predict", ()):  # (inputs, target), or inputs when unlabelled
            if isinstance(batch, (tuple, list)):
                assert len(batch) == 2 and batch_size_of(batch[0]) == batch[1].shape[0]
            else:
                assert batch_size_of(batch) > 0


@pytest.mark.slow
def test_the_conformance_kit_passes_on_the_tabular_plugin():
    """``dmzoo check tabular``: adult and california_housing on their fixtures, the generic
    ``tabular`` on a fixture CSV (every check, Lightning's fast_dev_run included)."""
    results = check_plugin("tabular")
    failed = {f"{r.ref} {r.check}": r.message for r in results if r.status != "passed"}
    assert not failed and len(results) == len(specs_for("tabular")) * len(CHECKS)


def test_supervised_keys_say_the_batch_structure_and_survive_json():
    spec = dmzoo.get_spec("adult")
    assert spec.supervised_keys == (("x_num", "x_cat"), "y") and spec.input_keys == ("x_num", "x_cat")
    assert (spec.input_size, spec.num_classes) == (14, 2)
    again = DataModuleSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec and again.input_keys == ("x_num", "x_cat")
    mnist = dmzoo.get_spec("mnist")
    assert mnist.input_keys is None and (mnist.input_size, mnist.num_classes) == (784, 10)
    assert dmzoo.get_spec("tabular").input_size is None  # widths known only after setup()
    assert dmzoo.get_spec("california_housing").num_classes is None  # a regression
    for bad in ((("x",), 3), ((), "y"), ("x",), (("x", 1), "y")):
        with pytest.raises(SpecError, match="supervised_keys"):
            dataclasses.replace(spec, supervised_keys=bad).validate()
