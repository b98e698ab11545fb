"""Warm starts of the generic ``tabular`` datamodule: cached setup keyed by file content."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch

import dmzoo
from dmzoo.core import storage
from dmzoo.plugins.tabular import warm_cache
from dmzoo.testing.batches import leaves


def table(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n).round(3)
    return pd.DataFrame({"x": x, "city": rng.choice(["a", "b", "c"], n),
                         "label": np.where(x > 0, "pos", "neg")})


@pytest.fixture
def csv(tmp_path):
    path = tmp_path / "t.csv"
    table().to_csv(path, index=False)
    return path


def load(data, **kwargs):
    kwargs = {"batch_size": 32, **kwargs}
    dm = dmzoo.load_datamodule("tabular", data=data, target="label", **kwargs)
    dm.prepare_data()
    dm.setup("fit")
    return dm


def entries():
    return [e for e in storage.list_cache() if e.name == "tabular"]


def all_batches(dm, split="val"):
    """Every tensor of every batch (whatever the batch structure)."""
    return [t.clone() for batch in getattr(dm, f"{split}_dataloader")() for t in leaves(batch)]


def test_second_setup_restores_identical_arrays_and_state(csv):
    cold = load(csv)
    (entry,) = entries()
    assert entry.prepared and entry.version.startswith("1.0.0+")
    fresh = dmzoo.load_datamodule("tabular", data=csv, target="label", batch_size=32)
    assert warm_cache.restore(fresh, warm_cache.cache_key(fresh))  # the warm path, no re-read
    warm = load(csv)
    assert warm.state_dict() == cold.state_dict()
    assert warm.metadata == cold.metadata and warm.preview(3) == cold.preview(3)
    for a, b in zip(all_batches(cold), all_batches(warm), strict=True):
        assert torch.equal(a, b)
    assert entries() == [entry]


def test_changed_file_or_option_rebuilds(csv):
    load(csv)
    table(450, seed=1).to_csv(csv, index=False)  # a changed file
    changed = load(csv)
    assert sum(changed.split_sizes().values()) == 450 and len(entries()) == 2
    load(csv, seed=3)  # another option
    assert len(entries()) == 3
    os.utime(csv, ns=(1, 1))  # same bytes, another mtime: not trusted
    load(csv)
    assert len(entries()) == 4


def test_test_file_added_or_removed_is_another_entry(csv, tmp_path):
    test = tmp_path / "test.csv"
    table(50, seed=2).to_csv(test, index=False)
    with_test = load(csv, test_data=test)
    assert with_test.split_sizes()["test"] == 50
    without = load(csv)
    assert without.split_sizes()["test"] == 80 and len(entries()) == 2


def test_in_memory_data_and_restored_encodings_bypass_the_cache(csv):
    load(table())
    assert entries() == []
    state = load(csv).state_dict()
    other = dmzoo.load_datamodule("tabular", data=csv, target="label")
    other.load_state_dict(state)
    assert warm_cache.cache_key(other) is None  # the checkpoint's encodings are applied


def test_damaged_entry_is_rebuilt_not_trusted(csv):
    cold = load(csv)
    (entry,) = entries()
    (entry.path / "prepared" / "meta.json").write_text("{", encoding="utf-8")
    warm = load(csv)
    assert warm.state_dict() == cold.state_dict()
    meta = json.loads((entry.path / "prepared" / "meta.json").read_text(encoding="utf-8"))
    assert meta["arrays"]  # the damaged entry was rebuilt, not left for the next run


def test_warm_start_in_a_new_process_and_cache_rm(csv):
    load(csv)
    probe = ("import sys, json, dmzoo\n"
             "from dmzoo.plugins.tabular import warm_cache\n"
             "dm = dmzoo.load_datamodule('tabular', data=sys.argv[1], target='label')\n"
             "hit = warm_cache.restore(dm, warm_cache.cache_key(dm))\n"
             "dm.setup('fit')\n"
             "print(json.dumps({'hit': hit, 'sizes': dm.split_sizes()}))\n")
    out = subprocess.run([sys.executable, "-c", probe, str(csv)], capture_output=True, text=True,
                         check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["hit"] and sum(seen["sizes"].values()) == 400
    rm = subprocess.run([sys.executable, "-m", "dmzoo", "cache", "rm", "tabular"],
                        capture_output=True, text=True)
    assert rm.returncode == 0, rm.stderr
    assert entries() == []


def test_unwritable_cache_only_costs_the_warm_start(csv, tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("DMZOO_HOME", str(blocker / "home"))  # cannot be created
    dm = load(csv)
    assert sum(dm.split_sizes().values()) == 400
    assert "warm cache not written" in caplog.text


def test_loader_options_share_an_entry(csv):
    load(csv)
    load(csv, batch_size=7, shuffle=False, num_workers=0)
    assert len(entries()) == 1
    load(csv, na_values=["?"])  # shapes the arrays: another entry
    assert len(entries()) == 2
