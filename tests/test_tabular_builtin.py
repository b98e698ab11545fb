"""The bundled scikit-learn tables: real rows, classes, splits, gallery hooks, Lightning."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch

import dmzoo
from dmzoo.core.errors import MissingExtraError

# name: (rows, number of features, classes or None for a regression)
TABLES = {
    "iris": (150, 4, ["setosa", "versicolor", "virginica"]),
    "wine": (178, 13, ["class_0", "class_1", "class_2"]),
    "breast_cancer": (569, 30, ["malignant", "benign"]),
    "diabetes": (442, 10, None),
    "digits": (1797, 64, [str(i) for i in range(10)]),
}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_every_bundled_table_loads_real_rows(name):
    rows, features, classes = TABLES[name]
    dm = dmzoo.load_datamodule(name, batch_size=1000)
    dm.prepare_data()
    dm.setup("fit")
    spec = dmzoo.get_spec(name)
    sizes = dm.split_sizes()
    assert sum(sizes.values()) == rows
    assert sizes == {s.name: s.num_examples for s in spec.splits}  # the spec tells the truth
    assert dm.classes == classes
    assert dm.num_classes == (len(classes) if classes else None)
    assert dm.task == ("classification" if classes else "regression")
    assert len(dm.numerical) == features and dm.categorical == []
    batch, y = next(iter(dm.train_dataloader()))
    assert batch["x_num"].dtype == torch.float32 and batch["x_num"].shape[1] == features
    assert batch["x_cat"].dtype == torch.int64 and batch["x_cat"].shape[1] == 0
    assert y.dtype == (torch.int64 if classes else torch.float32)
    # standardised with training statistics: the train split is centred
    x = dm.arrays("train")["x_num"]
    assert np.allclose(x.mean(axis=0), 0, atol=1e-4)
    if classes:
        counts = dm.class_counts("train")
        assert list(counts) == classes and sum(counts.values()) == sizes["train"]
    assert dm.state_dict()["spec"] == {"namespace": "dmzoo", "name": name, "version": "1.0.0"}


def test_iris_rows_match_the_published_table():
    dm = dmzoo.load_datamodule("iris")
    first = dm.preview(2)
    assert first[0] == {"sepal length (cm)": 5.1, "sepal width (cm)": 3.5, "petal length (cm)": 1.4,
                        "petal width (cm)": 0.2, "target": "setosa"}
    assert len(first) == 2
    assert dm.class_counts("train") == {"setosa": 36, "versicolor": 36, "virginica": 36}
    assert dm.class_counts("test") == {"setosa": 10, "versicolor": 10, "virginica": 10}


def test_splits_are_stratified_disjoint_and_reproducible():
    a = dmzoo.load_datamodule("breast_cancer", seed=7)
    b = dmzoo.load_datamodule("breast_cancer", seed=7)
    c = dmzoo.load_datamodule("breast_cancer", seed=8)
    for dm in (a, b, c):
        dm.setup("fit")
    assert a.split_fingerprint == b.split_fingerprint != c.split_fingerprint
    idx = {s: a.split_rows(s) for s in ("train", "val", "test")}
    every = np.concatenate(list(idx.values()))
    assert len(np.unique(every)) == len(every) == 569
    shares = {s: a.class_counts(s)["malignant"] / len(idx[s]) for s in idx}
    overall = 212 / 569
    assert all(abs(share - overall) < 0.02 for share in shares.values()), shares


def test_digits_plot_draws_real_labelled_digits(tmp_path):
    dm = dmzoo.load_datamodule("digits")
    images, labels = dm.images("test")
    assert images.shape == (359, 8, 8) and images.max() == 16 and images.dtype == np.uint8
    target = tmp_path / "grid.png"
    fig = dm.plot(n=9, split="test", path=target)
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [dm.classes[i] for i in labels[:9]]
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the image in the first panel is the first test digit, not an encoded/normalised copy
    np.testing.assert_array_equal(fig.axes[0].images[0].get_array(), images[0])


def test_wine_trains_with_a_lightning_trainer_and_checkpoints_its_encodings(tmp_path):
    import lightning.pytorch as pl

    class Linear(pl.LightningModule):
        def __init__(self, n_in: int, n_out: int) -> None:
            super().__init__()
            self.net = torch.nn.Linear(n_in, n_out)

        def training_step(self, batch, _):
            inputs, y = batch
            return torch.nn.functional.cross_entropy(self.net(inputs["x_num"]), y)

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=0.05)

    pl.seed_everything(0)
    dm = dmzoo.load_datamodule("wine", batch_size=32)
    model = Linear(13, 3)
    trainer = pl.Trainer(accelerator="cpu", max_epochs=15, logger=False, enable_progress_bar=False,
                         enable_model_summary=False, enable_checkpointing=False)
    trainer.fit(model, datamodule=dm)
    test = dm.arrays("test")
    with torch.no_grad():
        pred = model.net(torch.from_numpy(test["x_num"])).argmax(1).numpy()
    accuracy = float((pred == test["y"]).mean())
    assert accuracy >= 0.9, accuracy

    path = tmp_path / "wine.ckpt"
    trainer.save_checkpoint(path)
    ckpt = torch.load(path, weights_only=False)
    saved = ckpt[type(dm).__qualname__]
    assert saved["split_fingerprint"] == dm.split_fingerprint
    fresh = dmzoo.load_datamodule("wine", batch_size=32)
    fresh.load_state_dict(saved)
    fresh.setup("fit")
    assert fresh.preprocessor.state_dict() == dm.preprocessor.state_dict()
    np.testing.assert_array_equal(fresh.arrays("val")["x_num"], dm.arrays("val")["x_num"])


def test_missing_scikit_learn_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    dm = dmzoo.load_datamodule("iris")
    with pytest.raises(MissingExtraError, match=r"pip install 'dmzoo\[tabular\]'"):
        dm.prepare_data()


def test_missing_pandas_names_the_extra():
    code = ("import sys; sys.modules['pandas'] = None\n"
            "import dmzoo\n"
            "try:\n    dmzoo.load_datamodule('iris')\n"
            "except dmzoo.DmzooError as exc:\n    print(type(exc).__name__, exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "pip install 'dmzoo[tabular]'" in out.stdout, out.stdout + out.stderr


def test_digits_read_directly_equals_scikit_learns_loader():
    from sklearn.datasets import load_digits

    direct = dmzoo.load_datamodule("digits").raw_frame()
    published = load_digits(as_frame=True).frame
    assert list(direct.columns) == list(published.columns)
    np.testing.assert_array_equal(direct.drop(columns="target").to_numpy(),
                                  published.drop(columns="target").to_numpy())
    assert (direct["target"].astype(int) == published["target"]).all()
