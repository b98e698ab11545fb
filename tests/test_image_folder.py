"""``image_folder``: real PNG/JPEG bytes decoded by Pillow, the fingerprinted cache, bad files."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import dmzoo
from dmzoo.core import storage
from dmzoo.core.errors import (
    DataFormatError,
    InvalidArgumentError,
    NotPreparedError,
    SplitMismatchError,
)
from dmzoo.plugins.vision.image_folder.datamodule import write_images
from dmzoo.plugins.vision.image_folder.decode import decode
from support.quiet_trainer import quiet_trainer

PIL = pytest.importorskip("PIL.Image")


def load(root, **kwargs):
    kwargs = {"image_size": 8, "batch_size": 4, "prepare_workers": 1, **kwargs}
    return dmzoo.load_datamodule("image_folder", root=str(root), **kwargs)


@pytest.fixture
def folder(tmp_path):
    write_images(tmp_path / "imgs", {"cat": 10, "dog": 8, "owl": 6})
    return tmp_path / "imgs"


def entries():
    return [e for e in storage.list_cache() if e.name == "image_folder"]


def test_decode_png_and_jpeg_bytes_exactly(tmp_path):
    pixels = np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3)
    PIL.fromarray(pixels).save(tmp_path / "a.png")
    assert np.array_equal(decode(str(tmp_path / "a.png"), None), pixels.transpose(2, 0, 1))
    flat = np.full((16, 16, 3), 200, dtype=np.uint8)
    PIL.fromarray(flat).save(tmp_path / "b.jpg", quality=95)
    out = decode((tmp_path / "b.jpg").read_bytes(), (8, 4), "L")
    assert out.shape == (1, 8, 4) and abs(int(out.mean()) - 200) <= 2
    # crop rule: a 4 x 8 image whose left and right quarters differ -> centre kept
    wide = np.zeros((4, 8), dtype=np.uint8)
    wide[:, 2:6] = 255
    PIL.fromarray(wide).save(tmp_path / "w.png")
    assert decode(str(tmp_path / "w.png"), (4, 4), "L", "crop").min() == 255
    assert decode(str(tmp_path / "w.png"), (4, 4), "L", "stretch").min() < 255


def test_fast_path_batches_classes_and_splits(folder):
    dm = load(folder, normalize=True, augment=True)
    dm.prepare_data()
    dm.setup("fit")
    assert dm.classes == ["cat", "dog", "owl"] and dm.num_classes == 3 and dm.dims == (3, 8, 8)
    sizes = {k: len(v) for k, v in dm.splits().items()}
    assert sum(sizes.values()) == 24 and sizes["test"] == 5 and sizes["val"] == 2
    rows = np.concatenate(list(dm.splits().values()))
    assert len(np.unique(rows)) == 24
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (4, 3, 8, 8) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert abs(float(x.mean())) < 1.5  # normalised
    # the cache holds what Pillow decodes from the file (8 x 8 crop of a 12 x 12+ image)
    plain = load(folder)
    plain.setup("test")
    source = plain._source("test")
    image, label = source.rows([0])
    name = plain._meta["names"][source.indices[0]]
    assert np.array_equal(image[0], decode(str(folder / name), (8, 8)))
    assert plain.classes[int(label[0])] == Path(name).parts[0]


def test_split_folders_override_the_seeded_split(tmp_path):
    write_images(tmp_path / "d" / "train", {"a": 6, "b": 6})
    write_images(tmp_path / "d" / "valid", {"a": 2, "b": 1}, seed=1)
    write_images(tmp_path / "d" / "test", {"b": 3}, seed=2)
    dm = load(tmp_path / "d")
    dm.prepare_data()
    dm.setup()
    assert {k: len(v) for k, v in dm.splits().items()} == {"train": 12, "val": 3, "test": 3}
    assert dm.class_counts("test") == {"a": 0, "b": 3}


def test_cache_entry_is_listed_reused_and_invalidated(folder, tmp_path):
    spare = write_images(tmp_path / "spare", {"x": 2}, seed=9)
    dm = load(folder)
    dm.prepare_data()
    (first,) = entries()
    assert first.prepared and first.version.startswith("1.0.0+")
    load(folder).prepare_data()
    assert entries() == [first]  # unchanged content: reused
    os.replace(spare[0], folder / "cat" / "000.png")  # a changed file
    load(folder).prepare_data()
    assert len(entries()) == 2
    os.replace(spare[1], folder / "dog" / "extra.jpg")  # an added file
    added = load(folder)
    added.prepare_data()
    added.setup()
    assert sum(len(v) for v in added.splits().values()) == 25 and len(entries()) == 3
    (folder / "dog" / "extra.jpg").unlink()  # removed again: back to the second entry
    load(folder).prepare_data()
    assert len(entries()) == 3
    (folder / "owl" / "000.png").unlink()  # a removed file
    load(folder).prepare_data()
    assert len(entries()) == 4
    assert subprocess.run([sys.executable, "-m", "dmzoo", "cache", "rm", "image_folder"],
                          capture_output=True, text=True).returncode == 0
    assert entries() == []


def test_bad_files_are_listed_and_nothing_is_cached(folder):
    (folder / "cat" / "notes.txt").write_text("not an image")
    good = (folder / "dog" / "000.png").read_bytes()
    (folder / "dog" / "broken.png").write_bytes(good[: len(good) // 2])  # truncated PNG
    with pytest.raises(DataFormatError, match=r"2 of 26 image.*notes\.txt \(not an image.*broken\.png \(OSError: image file is truncated"):
        load(folder).prepare_data()
    assert entries() == [] or not any(e.prepared for e in entries())
    dm = load(folder, on_error="skip")
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        dm.prepare_data()
    assert any("broken.png" in str(w.message) and "notes.txt" in str(w.message) for w in seen)
    dm.setup()
    assert sum(len(v) for v in dm.splits().values()) == 24
    assert all("broken" not in n for n in dm._meta["names"])


@pytest.mark.parametrize("layout, match", [
    ({}, "does not exist"),
    ({"only": 3}, "at least two"),
    ({"a": 3, "b": 0}, "empty class folder"),
])
def test_layout_errors(tmp_path, layout, match):
    root = tmp_path / "imgs"
    if layout:
        write_images(root, layout)  # a class with 0 images is an empty folder
    with pytest.raises(DataFormatError, match=match):
        load(root).prepare_data()


def test_setup_before_prepare_or_after_a_change_says_prepare(folder):
    with pytest.raises(NotPreparedError, match="call prepare_data"):
        load(folder).setup()
    dm = load(folder)
    dm.prepare_data()
    (folder / "cat" / "000.png").unlink()
    with pytest.raises(NotPreparedError, match="changed since"):
        load(folder).setup()  # a new instance lists the files again


def test_argument_errors(folder):
    with pytest.raises(InvalidArgumentError, match="root="):
        dmzoo.load_datamodule("image_folder")
    with pytest.raises(InvalidArgumentError, match="image_size"):
        load(folder, image_size=(8, 0))
    with pytest.raises(InvalidArgumentError, match="on_error"):
        load(folder, on_error="ignore")
    with pytest.raises(InvalidArgumentError, match="square"):
        load(folder, image_size=(8, 6), augment=True)


def test_per_sample_path_with_any_size(folder):
    from torchvision import transforms as T

    dm = load(folder, image_size=None, train_transforms=T.Compose([T.Resize((5, 5)),
                                                                    T.ToTensor()]))
    dm.prepare_data()
    dm.setup("fit")
    assert dm.dims is None and len(dm.mean) == 3
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (4, 3, 5, 5) and y.dtype == torch.int64


def test_state_dict_refuses_another_split(folder):
    dm = load(folder)
    dm.prepare_data()
    dm.setup()
    state = dm.state_dict()
    other = load(folder, seed=7)
    other.prepare_data()
    other.setup()
    with pytest.raises(SplitMismatchError):
        other.load_state_dict(state)


def test_lightning_fit(folder, tmp_path):
    pl = pytest.importorskip("lightning.pytorch")
    from dmzoo.testing.tiny_model import tiny_module

    dm = load(folder, augment=True, normalize=True)
    model = tiny_module(pl)
    trainer = quiet_trainer(tmp_path, max_steps=3)
    trainer.fit(model, datamodule=dm)
    assert model.seen_batches >= 3


def test_worker_processes_write_the_same_cache(tmp_path):
    write_images(tmp_path / "many", {"a": 160, "b": 150}, size=6)  # > one 256-image block
    (tmp_path / "many" / "b" / "bad.png").write_bytes(b"\x89PNG broken")
    one = load(tmp_path / "many", on_error="skip", data_dir=str(tmp_path / "c1"))
    two = load(tmp_path / "many", on_error="skip", data_dir=str(tmp_path / "c2"),
               prepare_workers=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for dm in (one, two):
            dm.prepare_data()
            dm.setup()
    a, b = one._load()["all"], two._load()["all"]
    assert len(a["labels"]) == 310
    assert all(np.array_equal(a[k], b[k]) for k in ("images", "labels", "sums"))
    assert one.mean == two.mean and one._meta["skipped"] == two._meta["skipped"] != []
