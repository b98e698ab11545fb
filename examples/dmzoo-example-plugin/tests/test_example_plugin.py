"""The example plugin's own tests: what a third-party plugin author writes."""

from pathlib import Path

import pytest

import dmzoo
from dmzoo.core.storage import import_from
from dmzoo.testing import parametrize_checks

UPSTREAM = Path(__file__).resolve().parents[1] / "upstream"


# dmzoo's conformance suite: one test per (datamodule version, check).
@parametrize_checks("example")
def test_conformance(dmzoo_check):
    dmzoo_check()


def test_versions_and_release_notes():
    assert [dmzoo.get_spec("example/moons", version=v).version for v in ("1.0.0", "1.*")] == [
        "1.0.0", "1.1.0"]
    dm = dmzoo.load_datamodule("example/moons@1.0.0")
    dm.setup("fit")
    with pytest.raises(dmzoo.errors.MissingHookError):
        dm.predict_dataloader()
    dm = dmzoo.load_datamodule("example/moons")
    dm.setup("predict")
    assert sum(len(x) for x in dm.predict_dataloader()) == 400  # unlabelled: inputs only


def test_points_prepare_from_the_published_file_offline(monkeypatch):
    monkeypatch.setenv("DMZOO_OFFLINE", "1")
    dm = dmzoo.load_datamodule("example/points", batch_size=50)
    with import_from(UPSTREAM):
        dm.prepare_data()
    dm.setup("fit")
    assert len(dm.train_set) + len(dm.val_set) == 240
    counts = dm.class_counts("train")
    assert set(counts) == {"circle", "square", "triangle"} and sum(counts.values()) == 192
    assert sum(dm.class_counts("val").values()) == 48


def test_a_wrong_file_is_rejected_and_nothing_is_prepared(tmp_path, monkeypatch):
    monkeypatch.setenv("DMZOO_OFFLINE", "1")
    (tmp_path / "points.csv").write_text("x,y,shape\n1,2,circle\n")
    dm = dmzoo.load_datamodule("example/points")
    with pytest.raises(dmzoo.errors.ChecksumError), import_from(tmp_path):
        dm.prepare_data()
    with pytest.raises(dmzoo.errors.NotPreparedError):
        dm.setup("fit")
