"""Real tables that ship inside scikit-learn: iris, wine, breast_cancer, diabetes, digits.

They need no download, so they work offline on a fresh machine (``dmzoo demo``).
Each is only a source of rows for :class:`~dmzoo.plugins.tabular.datamodule.TabularBase`; splitting and
preprocessing are the generic ones.
"""

from __future__ import annotations

import dmzoo.plugins.tabular.extra  # noqa: F401  (first: names the pip extra if missing)

# isort: split

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.csv as pcsv

from dmzoo.core.errors import MissingExtraError

from ..datamodule import TabularBase

TARGET = "target"


def sklearn_datasets() -> Any:
    """``sklearn.datasets``, or a :class:`MissingExtraError` naming the extra to install."""
    try:
        # deferred: sklearn is heavy and optional; missing, it gets a named error
        import sklearn.datasets
    except ImportError:
        raise MissingExtraError(
            "the bundled tables come from scikit-learn, which is not installed; "
            "run: pip install 'dmzoo[tabular]'"
        ) from None
    return sklearn.datasets


def bundled_file(name: str) -> Path | None:
    """A data file shipped inside scikit-learn, found without importing it (which takes seconds)."""
    try:
        spec = importlib.util.find_spec("sklearn")
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.origin:
        return None
    path = Path(spec.origin).parent / "datasets" / "data" / name
    return path if path.is_file() else None


class BundledTable(TabularBase):
    """A scikit-learn bundled table, split with ``val_split`` / ``test_split`` and ``seed``."""

    loader_name = ""  # the sklearn.datasets function
    loader_kwargs: dict[str, Any] = {}
    target = TARGET
    task_arg = "classification"
    _frame: pd.DataFrame | None = None

    def prepare_data(self) -> None:
        """Nothing to download; only check that scikit-learn is there."""
        sklearn_datasets()

    def raw_frame(self) -> pd.DataFrame:
        """The whole table as shipped, with class names (not codes) in ``target``."""
        if self._frame is None:
            bunch = getattr(sklearn_datasets(), self.loader_name)(as_frame=True, **self.loader_kwargs)
            frame = bunch.frame.copy()
            names = getattr(bunch, "target_names", None)
            if self.task_arg == "classification":
                names = [str(n) for n in (names if names is not None else np.unique(frame[TARGET]))]
                frame[TARGET] = pd.Categorical.from_codes(frame[TARGET].to_numpy().astype(int), names)
                self.classes_arg = names  # keep scikit-learn's class order
            self._frame = frame
        return self._frame

    def load_frames(self) -> tuple[pd.DataFrame, None]:
        return self.raw_frame(), None


class IrisDataModule(BundledTable):
    """Fisher's iris: 150 flowers, 4 measurements, 3 species."""

    loader_name = "load_iris"


class WineDataModule(BundledTable):
    """UCI wine recognition: 178 wines, 13 chemical measurements, 3 cultivars."""

    loader_name = "load_wine"


class BreastCancerDataModule(BundledTable):
    """Wisconsin diagnostic breast cancer: 569 tumours, 30 features, malignant / benign."""

    loader_name = "load_breast_cancer"


class DiabetesDataModule(BundledTable):
    """Efron et al. diabetes: 442 patients, 10 baseline variables, disease progression (regression)."""

    loader_name = "load_diabetes"
    loader_kwargs = {"scaled": False}  # the original units; standardisation is ours, train-only
    task_arg = "regression"


class DigitsDataModule(BundledTable):
    """UCI optical handwritten digits: 1,797 images of 8x8 pixels (0-16), classes 0-9.

    Batches carry the 64 pixels as ``x_num``; ``dims`` is ``(1, 8, 8)`` for models
    that reshape them into an image, and :meth:`plot` draws real samples.
    """

    loader_name = "load_digits"
    dims = (1, 8, 8)

    def prepare_data(self) -> None:
        if bundled_file("digits.csv.gz") is None:
            sklearn_datasets()

    def raw_frame(self) -> pd.DataFrame:
        """Read scikit-learn's ``digits.csv.gz`` directly: ``dmzoo demo`` starts faster."""
        if self._frame is not None:
            return self._frame
        path = bundled_file("digits.csv.gz")
        if path is None:
            return super().raw_frame()

        names = [f"pixel_{r}_{c}" for r in range(8) for c in range(8)] + [TARGET]
        table = pcsv.read_csv(path, read_options=pcsv.ReadOptions(column_names=names))
        frame = table.to_pandas()
        classes = [str(i) for i in range(10)]
        frame[TARGET] = pd.Categorical.from_codes(frame[TARGET].to_numpy().astype(int), classes)
        self.classes_arg = classes
        self._frame = frame.astype({n: "float64" for n in names[:-1]})
        return self._frame

    def images(self, split: str = "train") -> tuple[np.ndarray, np.ndarray]:
        """Raw pixels ``uint8[n, 8, 8]`` (0-16) and label codes of ``split``."""
        labels = self._built().arrays["y"]
        idx = self.split_rows(split)
        pixels = self.raw_frame().drop(columns=[TARGET]).to_numpy()[idx]
        return pixels.reshape(-1, 8, 8).astype("uint8"), labels[idx]

    def plot(self, n: int = 16, split: str = "train", path: str | Path | None = None) -> Any:
        """A grid of the first ``n`` real digits of ``split`` titled with their class."""
        # deferred: matplotlib is heavy and optional; only plot() needs it
        from matplotlib.figure import Figure

        images, labels = self.images(split)
        classes = self.classes
        assert classes is not None  # a classification table
        n = max(1, min(int(n), len(images)))
        cols = int(np.ceil(np.sqrt(n)))
        rows = int(np.ceil(n / cols))
        fig = Figure(figsize=(1.3 * cols, 1.5 * rows))
        for i in range(n):
            ax = fig.add_subplot(rows, cols, i + 1)
            ax.imshow(images[i], cmap="gray_r", vmin=0, vmax=16, interpolation="nearest")
            ax.set_title(classes[labels[i]], fontsize=9)
            ax.set_axis_off()
        fig.suptitle(f"digits ({split}, {n} of {len(images)})", fontsize=10)
        fig.tight_layout()
        if path is not None:
            fig.savefig(path, dpi=100)
        return fig
