"""A tiny third-party-style plugin for the gallery tests (namespace ``gallerytest``).

Its data is real: the UCI handwritten digits CSV that scikit-learn ships
(``digits.csv.gz``), served from the loopback :class:`FileServer` and prepared through
the real storage layer (download, sha256 check, build, completion marker), so the
gallery's pictures come from a genuinely prepared dataset.

``register(server)`` registers, in-process:

- ``gallerytest/pen_digits``: prepared by the tests; implements the whole gallery protocol;
- ``gallerytest/never_prepared``: same class, never prepared (its page must say so);
- ``gallerytest/broken_plot``: its ``plot()`` raises (the page reports it, the build goes on).
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

import dmzoo
from dmzoo import DataModuleSpec, Feature, Resource, Split
from dmzoo.core import storage

CLASSES = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
CSV_NAME = "digits.csv.gz"
# Text that would be markup in reStructuredText: the page must show it literally.
TRICKY = "Tricky *text* with _under_ `ticks` |bars| :role: and [1]_ .. marks"


def digits_csv() -> bytes:
    return (resources.files("sklearn.datasets.data") / CSV_NAME).read_bytes()


def build(files: Mapping[str, Path], out_dir: Path) -> None:
    """``digits.csv.gz`` (64 pixels 0-16 + label per row) -> ``images.npy``, ``labels.npy``."""
    with gzip.open(files[CSV_NAME], "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    np.save(out_dir / "images.npy", table[:, :64].reshape(-1, 8, 8).astype(np.uint8))
    np.save(out_dir / "labels.npy", table[:, 64])


class PenDigitsDataModule(dmzoo.DataModule):
    """8x8 handwritten digits from the UCI CSV file.

    Args:
        data_dir: root of the dmzoo cache for this datamodule.
        batch_size: examples per batch.
        fail_plot: make ``plot()`` raise, to test how the gallery reports a broken plugin.
    """

    def __init__(self, data_dir: str | None = None, batch_size: int = 32,
                 fail_plot: bool = False) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.data_dir, self.batch_size, self.fail_plot = data_dir, batch_size, fail_plot

    def prepare_data(self) -> None:
        storage.prepare(self.spec, build, data_dir=self.data_dir, quiet=True)

    def setup(self, stage: str | None = None) -> None:
        folder = storage.prepared_dir(self.spec, self.data_dir)
        self.images = np.load(folder / "images.npy")
        self.labels = np.load(folder / "labels.npy")
        pixels = self.images.astype(np.float64) / 16.0
        self.mean, self.std = [float(pixels.mean())], [float(pixels.std())]

    def train_dataloader(self) -> Any:
        import torch
        from torch.utils.data import DataLoader, TensorDataset

        data = TensorDataset(torch.from_numpy(self.images).float(), torch.from_numpy(self.labels))
        return DataLoader(data, batch_size=self.batch_size, shuffle=True)

    def plot(self, n: int = 16, split: str = "train", path: str | Path | None = None) -> Any:
        if self.fail_plot:
            raise RuntimeError("this plugin's plot() is broken on purpose")
        from matplotlib.figure import Figure

        fig = Figure(figsize=(4, 4.4))
        for i in range(n):
            ax = fig.add_subplot(4, (n + 3) // 4, i + 1)
            ax.imshow(self.images[i], cmap="gray_r", vmin=0, vmax=16)
            ax.set_title(CLASSES[self.labels[i]], fontsize=8)
            ax.set_axis_off()
        if path is not None:
            fig.savefig(path, dpi=80)
        return fig

    def class_counts(self, split: str = "train") -> dict[str, int]:
        counts = np.bincount(self.labels, minlength=len(CLASSES))
        return {name: int(c) for name, c in zip(CLASSES, counts, strict=True)}


def specs(url: str, sha256: str, size: int) -> list[DataModuleSpec]:
    common = dict(
        namespace="gallerytest",
        version="1.0.0",
        cls="support.gallery_plugin:PenDigitsDataModule",
        summary="Handwritten 8x8 digits for the gallery tests.",
        description="The UCI optical digits test set.\n\n" + TRICKY,
        homepage="https://archive.ics.uci.edu/dataset/80",
        license="CC BY 4.0",
        citation="@misc{uci_digits, title={Optical Recognition of Handwritten Digits}}",
        task="image-classification",
        tags=("gallery-test",),
        splits=(Split("train", 1797),),
        features=(Feature("image", (8, 8), "uint8"), Feature("label", (), "int64", classes=CLASSES)),
        supervised_keys=("image", "label"),
        release_notes={"1.0.0": "First release."},
    )
    resource = Resource(CSV_NAME, urls=(url,), sha256=sha256, size=size,
                        checksum_source="sha256 computed by the test")
    missing = Resource(CSV_NAME, urls=(url + ".missing",), sha256=sha256, size=size)
    return [
        DataModuleSpec(name="pen_digits", resources=(resource,), **common),
        DataModuleSpec(name="never_prepared", resources=(missing,), **common),
        DataModuleSpec(name="broken_plot", resources=(resource,),
                       default_kwargs={"fail_plot": True}, **common),
    ]


def register(server: Any) -> list[DataModuleSpec]:
    """Serve the CSV from ``server`` and register the three specs in this process."""
    data = digits_csv()
    server.put(CSV_NAME, data)
    out = specs(server.url_for(CSV_NAME), hashlib.sha256(data).hexdigest(), len(data))
    return [dmzoo.register_datamodule(s) for s in out]
