"""``huggingface`` on real ``datasets`` objects built from local data (the Hub is unreachable)."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest
import torch

import dmzoo
from dmzoo.core import storage
from dmzoo.core.errors import DataFormatError, InvalidArgumentError
from dmzoo.plugins.vision.image_folder.datamodule import write_images
from dmzoo.plugins.vision.image_folder.decode import decode
from dmzoo.testing.batches import leaves
from support.quiet_trainer import quiet_trainer

datasets = pytest.importorskip("datasets")
from datasets import ClassLabel, Dataset, DatasetDict, Features, Image, Sequence, Value  # noqa: E402

CLASSES = ["cat", "dog", "owl"]


@pytest.fixture(autouse=True)
def hf_offline(tmp_path, monkeypatch):
    """No Hub access, and every datasets cache under tmp_path."""
    hf = tmp_path / "hf"
    for name, value in (("HF_DATASETS_OFFLINE", "1"), ("HF_HUB_OFFLINE", "1"),
                        ("HF_HOME", str(hf)), ("HF_DATASETS_CACHE", str(hf / "datasets"))):
        monkeypatch.setenv(name, value)  # for child processes
    # datasets read them at import, which happened at collection: set its config too
    for name, value in (("HF_DATASETS_OFFLINE", True), ("HF_HUB_OFFLINE", True),
                        ("HF_CACHE_HOME", str(hf)), ("HF_DATASETS_CACHE", hf / "datasets"),
                        ("HF_MODULES_CACHE", hf / "modules"),
                        ("DOWNLOADED_DATASETS_PATH", hf / "datasets" / "downloads"),
                        ("EXTRACTED_DATASETS_PATH", hf / "datasets" / "downloads" / "extracted")):
        monkeypatch.setattr(datasets.config, name, value)


def image_split(folder, count, seed):
    files = write_images(folder, dict.fromkeys(CLASSES, count), seed=seed)
    features = Features({"image": Image(), "label": ClassLabel(names=CLASSES)})
    return Dataset.from_dict({"image": [str(f) for f in files],
                              "label": [CLASSES.index(f.parent.name) for f in files]},
                             features=features)


def load(path, **kwargs):
    kwargs = {"image_size": 8, "batch_size": 4, "prepare_workers": 1, **kwargs}
    dm = dmzoo.load_datamodule("huggingface", path=str(path), **kwargs)
    dm.prepare_data()
    dm.setup("fit")
    return dm


def entries():
    return [e for e in storage.list_cache() if e.name == "huggingface"]


def test_local_imagefolder_builder_decodes_the_real_files(tmp_path):
    write_images(tmp_path / "photos" / "train", dict.fromkeys(CLASSES, 6))
    write_images(tmp_path / "photos" / "test", dict.fromkeys(CLASSES, 2), seed=1)
    dm = load(tmp_path / "photos")
    assert type(dm).__name__ == "HuggingFaceImageDataModule"
    assert dm.classes == CLASSES and dm.dims == (3, 8, 8)
    assert {k: len(v) for k, v in dm.splits().items()} == {"train": 16, "val": 2, "test": 6}
    source = dm._source("test")
    pixels, label = source.rows([0])
    name = dm._meta["names"][source.indices[0]]
    assert np.array_equal(pixels[0], decode(name, (8, 8)))
    assert CLASSES[int(label[0])] in name
    x, y = next(iter(dm.train_dataloader()))
    assert x.shape == (4, 3, 8, 8) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert dm.state_dict()["spec"]["name"] == "huggingface"
    (entry,) = entries()
    assert entry.prepared


def test_saved_dataset_with_a_valid_split_and_image_bytes(tmp_path):
    train = image_split(tmp_path / "a", 5, 0)
    jpegs = write_images(tmp_path / "b", dict.fromkeys(CLASSES, 1), seed=2)
    valid = Dataset.from_dict(
        {"image": [{"bytes": f.read_bytes(), "path": None} for f in jpegs],
         "label": [0, 1, 2]}, features=train.features)
    DatasetDict({"train": train, "valid": valid}).save_to_disk(str(tmp_path / "saved"))
    dm = load(tmp_path / "saved", mode="L")
    sizes = {k: len(v) for k, v in dm.splits().items()}
    assert sizes == {"train": 12, "val": 3, "test": 3}
    val = dm._source("val")
    pixels, labels = val.rows(np.arange(3))
    expected = [decode(f.read_bytes(), (8, 8), "L") for f in jpegs]
    assert all(np.array_equal(p, e) for p, e in zip(pixels, expected, strict=True))
    assert labels.tolist() == [0, 1, 2]


def test_changed_dataset_gets_another_cache_entry(tmp_path):
    DatasetDict({"train": image_split(tmp_path / "a", 4, 0)}).save_to_disk(str(tmp_path / "s1"))
    first = load(tmp_path / "s1")
    load(tmp_path / "s1")
    assert len(entries()) == 1
    DatasetDict({"train": image_split(tmp_path / "b", 5, 3)}).save_to_disk(str(tmp_path / "s2"))
    second = load(tmp_path / "s2")
    assert len(entries()) == 2 and second.cache_key() != first.cache_key()
    load(tmp_path / "s1", image_size=10)  # another option
    assert len(entries()) == 3
    rm = subprocess.run([sys.executable, "-m", "dmzoo", "cache", "rm", "huggingface"],
                        capture_output=True, text=True)
    assert rm.returncode == 0, rm.stderr
    assert entries() == []


def test_unreadable_image_bytes_are_listed(tmp_path):
    good = image_split(tmp_path / "a", 3, 0)
    bad = Dataset.from_dict({"image": [{"bytes": b"not an image", "path": None}],
                             "label": [1]}, features=good.features)
    DatasetDict({"train": datasets.concatenate_datasets([good, bad])}).save_to_disk(
        str(tmp_path / "s"))
    with pytest.raises(DataFormatError, match=r"1 of 10 image.*train\[9\] \(not an image"):
        load(tmp_path / "s")
    assert not any(e.prepared for e in entries())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dm = load(tmp_path / "s", on_error="skip")
    assert sum(len(v) for v in dm.splits().values()) == 9


def people(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n).round(3)
    return pd.DataFrame({"x": x, "city": rng.choice(["a", "b"], n),
                         "label": np.where(x > 0, "pos", "neg")})


def test_csv_table_goes_through_the_tabular_preprocessing(tmp_path):
    people(200, 0).to_csv(tmp_path / "t.csv", index=False)
    dm = dmzoo.load_datamodule("huggingface", path="csv", data_files=str(tmp_path / "t.csv"),
                               label_key="label", batch_size=16)
    assert type(dm).__name__ == "HuggingFaceTabularDataModule"
    dm.prepare_data()
    dm.setup("fit")
    assert dm.split_sizes() == {"train": 144, "val": 16, "test": 40}
    assert dm.numerical == ["x"] and dm.categorical == ["city"] and dm.classes == ["neg", "pos"]
    train_x = dm.arrays("train")["x_num"]
    assert abs(float(train_x.mean())) < 1e-5  # standardised with train statistics
    assert "preprocessing" in dm.state_dict()


def test_parquet_class_label_and_validation_split_are_kept(tmp_path):
    features = Features({"x": Value("float32"), "y": ClassLabel(names=["no", "yes"])})
    splits = {}
    for split, n, seed in (("train", 120, 0), ("validation", 30, 1), ("test", 25, 2)):
        df = people(n, seed)
        splits[split] = Dataset.from_dict({"x": df["x"], "y": (df["x"] > 0).astype(int)},
                                          features=features)
    files = {}
    for split, data in splits.items():  # real parquet files (features kept in their metadata)
        files[split] = str(tmp_path / f"{split}.parquet")
        data.to_parquet(files[split])
    dm = dmzoo.load_datamodule("huggingface", path="parquet", data_files=files, batch_size=8)
    dm.prepare_data()
    dm.setup("fit")
    assert dm.split_sizes() == {"train": 120, "val": 30, "test": 25}
    assert dm.split_rows("val").tolist() == list(range(120, 150))
    assert dm.classes == ["no", "yes"] and dm.schema.target == "y"
    state = dm.state_dict()
    again = dmzoo.load_datamodule("huggingface", path="parquet", data_files=files, batch_size=8)
    again.load_state_dict(state)
    again.setup("fit")
    first = [t for b in dm.val_dataloader() for t in leaves(b)]
    second = [t for b in again.val_dataloader() for t in leaves(b)]
    assert all(torch.equal(a, b) for a, b in zip(first, second, strict=True))


def test_unsupported_features_and_bad_arguments(tmp_path):
    Dataset.from_dict({"tokens": [[1, 2], [3]], "n": [1.0, 2.0], "y": [0, 1]},
                      features=Features({"tokens": Sequence(Value("int32")), "n": Value("float32"),
                                         "y": ClassLabel(names=["a", "b"])})
                      ).save_to_disk(str(tmp_path / "seq"))
    dm = dmzoo.load_datamodule("huggingface", path=str(tmp_path / "seq"))
    with pytest.raises(DataFormatError, match=r"not supported yet: tokens \((Sequence|List)\)"):
        dm.setup("fit")
    Dataset.from_dict({"n": [1.0, 2.0], "y": [0, 1]}).save_to_disk(str(tmp_path / "nolabel"))
    with pytest.raises(InvalidArgumentError, match="label_key="):
        dmzoo.load_datamodule("huggingface", path=str(tmp_path / "nolabel")).setup("fit")
    with pytest.raises(InvalidArgumentError, match="image_size do"):
        dmzoo.load_datamodule("huggingface", path=str(tmp_path / "nolabel"), image_size=8)
    DatasetDict({"train": image_split(tmp_path / "a", 2, 0)}).save_to_disk(str(tmp_path / "img"))
    with pytest.raises(InvalidArgumentError, match=r"need image_size="):
        dmzoo.load_datamodule("huggingface", path=str(tmp_path / "img"))
    with pytest.raises(InvalidArgumentError, match="path="):
        dmzoo.load_datamodule("huggingface")
    with pytest.raises(DataFormatError, match="no training split"):
        DatasetDict({"test": image_split(tmp_path / "b", 2, 0)}).save_to_disk(str(tmp_path / "t"))
        dmzoo.load_datamodule("huggingface", path=str(tmp_path / "t"), image_size=8)


def test_missing_datasets_library_names_the_extra_and_listing_stays_light(tmp_path):
    probe = ("import sys, json\n"
             "import dmzoo\n"
             "names = dmzoo.list_datamodules(); dmzoo.get_spec('huggingface')\n"
             "light = not any(m in sys.modules for m in ('torch', 'datasets',"
             " 'dmzoo.plugins.huggingface.datamodule'))\n"
             "sys.modules['datasets'] = None  # as if not installed\n"
             "try:\n"
             "    dmzoo.load_datamodule('huggingface', path='x')\n"
             "except dmzoo.DmzooError as exc:\n"
             "    print(json.dumps({'light': light, 'listed': 'dmzoo/huggingface' in names,"
             " 'error': type(exc).__name__, 'message': str(exc)}))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["light"] and seen["listed"] and seen["error"] == "MissingExtraError"
    assert "pip install 'dmzoo[hf]'" in seen["message"]


@pytest.mark.parametrize("kind", ["image", "table"])
def test_lightning_fit(tmp_path, kind):
    pl = pytest.importorskip("lightning.pytorch")
    from dmzoo.testing.tiny_model import tiny_module

    if kind == "image":
        DatasetDict({"train": image_split(tmp_path / "a", 6, 0)}).save_to_disk(str(tmp_path / "d"))
        dm = dmzoo.load_datamodule("huggingface", path=str(tmp_path / "d"), image_size=8,
                                   batch_size=4, prepare_workers=1, augment=True, normalize=True)
    else:
        people(120, 0).to_csv(tmp_path / "t.csv", index=False)
        dm = dmzoo.load_datamodule("huggingface", path="csv", data_files=str(tmp_path / "t.csv"),
                                   label_key="label", batch_size=8)
    model = tiny_module(pl)
    trainer = quiet_trainer(tmp_path, max_steps=3)
    trainer.fit(model, datamodule=dm)
    assert model.seen_batches >= 3


def test_a_dataset_that_cannot_be_loaded_is_named(tmp_path):
    with pytest.raises(DataFormatError, match=r"datasets could not load path='.*nowhere'"):
        dmzoo.load_datamodule("huggingface", path=str(tmp_path / "nowhere"), image_size=8)


def test_an_unlabelled_test_split_is_replaced_by_a_cut_from_train(tmp_path):
    train = image_split(tmp_path / "a", 5, 0)
    test = Dataset.from_dict({"image": train["image"][:4], "label": [-1] * 4},
                             features=train.features)
    DatasetDict({"train": train, "test": test}).save_to_disk(str(tmp_path / "s"))
    with pytest.warns(UserWarning, match="split 'test' has no labels"):
        dm = load(tmp_path / "s")
    assert {k: len(v) for k, v in dm.splits().items()} == {"train": 11, "val": 1, "test": 3}
