"""Opening a ``datasets`` dataset and reading its structure: splits, image and label columns.

Loading, Hub download, authentication and caching are the ``datasets`` library's own
(``load_dataset``); a folder written by ``save_to_disk`` is opened with ``load_from_disk``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dmzoo.core.errors import (
    DataFormatError,
    DmzooError,
    InvalidArgumentError,
    MissingExtraError,
)

INSTALL = "pip install 'dmzoo[hf]'"
#: dmzoo split -> accepted ``datasets`` split names, in order of preference
SPLIT_NAMES = {
    "train": ("train", "training"),
    "val": ("validation", "valid", "val", "dev", "development", "eval", "evaluation"),
    "test": ("test", "testing"),
}
TABULAR_TYPES = ("Value", "ClassLabel")


def require_datasets() -> Any:
    try:
        # deferred: datasets is heavy and optional (hf extra); missing, it gets a named error
        import datasets
    except ImportError:
        raise MissingExtraError(f"the huggingface datamodule needs the datasets library: "
                                f"{INSTALL}") from None
    return datasets


def is_saved_dataset(path: str) -> bool:
    """A folder written by ``Dataset.save_to_disk`` / ``DatasetDict.save_to_disk``."""
    folder = Path(path).expanduser()
    return folder.is_dir() and any((folder / f).is_file()
                                   for f in ("dataset_dict.json", "state.json"))


def open_dataset(path: str, name: str | None, *, data_files: Any = None,
                 revision: str | None = None, cache_dir: str | None = None) -> Any:
    """A ``DatasetDict`` (one ``train`` split for a saved single ``Dataset``)."""
    datasets = require_datasets()
    try:
        if is_saved_dataset(path):
            found = datasets.load_from_disk(str(Path(path).expanduser()))
        else:
            kwargs = {k: v for k, v in (("data_files", data_files), ("revision", revision),
                                        ("cache_dir", cache_dir)) if v is not None}
            found = datasets.load_dataset(path, name, **kwargs)
    except DmzooError:
        raise
    except Exception as exc:  # not found, offline, bad files...: say which dataset, keep the cause
        cause = " ".join(str(exc).split())[:500]
        raise DataFormatError(f"datasets could not load path={path!r}, name={name!r}: "
                              f"{type(exc).__name__}: {cause}; check the dataset id or local "
                              "path (and name=, data_files=, the network or HF_TOKEN)") from exc
    if isinstance(found, datasets.Dataset):
        found = datasets.DatasetDict({"train": found})
    return found


def map_splits(names: list[str]) -> dict[str, str]:
    """``{"train": ..., ["val": ...], ["test": ...]}``: dmzoo stage -> dataset split name."""
    lower = {n.lower(): n for n in names}
    out = {}
    for stage, accepted in SPLIT_NAMES.items():
        hit = next((lower[a] for a in accepted if a in lower), None)
        if hit is not None:
            out[stage] = hit
    if "train" not in out:
        raise DataFormatError(f"the dataset has no training split (it has: {', '.join(names)}); "
                              "dmzoo needs one named train or training")
    return out


def kind_of(feature: Any) -> str:
    return type(feature).__name__


def _named_column(features: Any, key: str, option: str) -> str:
    """``key``, the column the user named with ``option``, if the dataset has it."""
    if key not in features:
        raise InvalidArgumentError(f"{option}={key!r} is not a column; columns: "
                                   f"{', '.join(features)}")
    return key


def image_column(features: Any, image_key: str | None) -> str | None:
    """The image column: ``image_key``, else the one ``Image`` feature (None when none)."""
    if image_key is not None:
        return _named_column(features, image_key, "image_key")
    found = [k for k, f in features.items() if kind_of(f) == "Image"]
    if len(found) > 1:
        raise InvalidArgumentError(f"several image columns ({', '.join(found)}); pick one with "
                                   "image_key=")
    return found[0] if found else None


def label_column(features: Any, label_key: str | None) -> str:
    """The label column: ``label_key``, else the one ``ClassLabel`` feature."""
    if label_key is not None:
        return _named_column(features, label_key, "label_key")
    found = [k for k, f in features.items() if kind_of(f) == "ClassLabel"]
    if len(found) != 1:
        raise InvalidArgumentError(
            f"{'no' if not found else 'several'} ClassLabel column(s) "
            f"({', '.join(found) or 'columns: ' + ', '.join(features)}); name the label "
            "column with label_key=")
    return found[0]


def check_tabular(features: Any) -> None:
    """Every column must be a plain value or a class label."""
    other = [f"{k} ({kind_of(f)})" for k, f in features.items() if kind_of(f) not in TABULAR_TYPES]
    if other:
        raise DataFormatError(f"feature type(s) not supported yet: {', '.join(other)}; dmzoo's "
                              "huggingface datamodule reads image classification (an Image and a "
                              "ClassLabel column) and tables of plain values")


class ArrowImages:
    """The encoded images of one column (bytes, else the file path), read from the Arrow
    table a slice at a time, so a large dataset is never held in memory as Python bytes.

    Works for ``Image`` features (``struct<bytes, path>``) and for plain binary or
    string (path) columns named with ``image_key=``.
    """

    def __init__(self, dataset: Any, key: str) -> None:
        if getattr(dataset, "_indices", None) is not None:  # a select()/shuffle() view
            dataset = dataset.flatten_indices()
        self.column = dataset.data.column(key)

    def __len__(self) -> int:
        return len(self.column)

    def _field(self, chunk: Any, name: str) -> list[Any]:
        # deferred: pyarrow is heavy and optional (it comes with datasets)
        import pyarrow as pa
        import pyarrow.compute as pc

        kind = chunk.type
        if pa.types.is_struct(kind):
            return pc.struct_field(chunk, name).to_pylist()
        is_path = pa.types.is_string(kind) or pa.types.is_large_string(kind)
        if (name == "path") == is_path:
            return chunk.to_pylist()
        return [None] * len(chunk)

    def __getitem__(self, rows: slice) -> list[Any]:
        start, stop, _ = rows.indices(len(self))
        chunk = self.column.slice(start, stop - start)
        return [b if b is not None else p
                for b, p in zip(self._field(chunk, "bytes"), self._field(chunk, "path"),
                                strict=True)]

    def names(self, split: str) -> list[str]:
        """How each image is named in messages: its path, else ``split[row]``."""
        paths = self._field(self.column, "path")
        return [p or f"{split}[{i}]" for i, p in enumerate(paths)]


class SourceChain:
    """Several :class:`ArrowImages` (one per split) seen as one sequence of slices."""

    def __init__(self, parts: list[ArrowImages]) -> None:
        self.parts = parts
        self.starts = [0]
        for part in parts:
            self.starts.append(self.starts[-1] + len(part))

    def __len__(self) -> int:
        return self.starts[-1]

    def __getitem__(self, rows: slice) -> list[Any]:
        start, stop, _ = rows.indices(len(self))
        out: list[Any] = []
        for part, first in zip(self.parts, self.starts, strict=False):
            lo, hi = max(start - first, 0), min(stop - first, len(part))
            if lo < hi:
                out.extend(part[lo:hi])
        return out
