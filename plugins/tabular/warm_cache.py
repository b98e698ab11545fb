"""Warm starts for the generic ``tabular`` datamodule: parse, split, fit and encode once.

When ``data`` (and ``test_data``) are files, the result of ``setup()`` (encoded arrays,
split indices, fitted encodings, preview rows) is kept in a dmzoo user cache
(:mod:`dmzoo.core.usercache`) keyed by the files' paths, sizes and modification times
and every option that shapes it. A later ``setup()``, in any process, loads those arrays
instead of reading the table again; a changed, added or removed file (or another
option) misses the cache and rebuilds. ``dmzoo cache list`` shows the entries as
``dmzoo/tabular@1.0.0+<key>``; ``dmzoo cache rm tabular`` removes them.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from dmzoo import __version__
from dmzoo.core import storage, usercache
from dmzoo.core.errors import DamagedCacheError, NotPreparedError, StorageError

from .preprocess import Preprocessor
from .sources import is_path_like, is_path_list

if TYPE_CHECKING:
    from .datamodule import TabularDataModule

log = logging.getLogger("dmzoo.tabular")

CACHE_NAME = "tabular"
CACHE_FORMAT = 1
#: constructor arguments that only shape the loaders, not the cached arrays; every other
#: argument (present or added later) is part of the key
LOADER_ONLY = frozenset({"batch_size", "num_workers", "drop_last", "shuffle", "pin_memory",
                         "predict_data"})


def _files(value: Any) -> list[str] | None:
    if value is None:
        return []
    if is_path_like(value):
        return [str(value)]
    if is_path_list(value):
        return [str(v) for v in value]
    return None  # in-memory data: nothing to key a cache on


def cache_key(dm: TabularDataModule) -> str | None:
    """The content key of ``dm``'s files and options; None when it reads no files, or when
    encodings restored from a checkpoint must be applied instead."""
    data, test = _files(dm.data), _files(dm.test_data)
    if not data or test is None or dm.preprocessor is not None:
        return None
    try:
        stats = usercache.file_stats(data + test)
    except OSError:  # a missing file: let the normal path raise its clear error
        return None
    options = {k: v for k, v in dm.hparams.items() if k not in LOADER_ONLY}
    options.update(format=CACHE_FORMAT, files=len(data), test_files=len(test),
                   dmzoo=__version__)
    return usercache.content_key(stats, options)


def restore(dm: TabularDataModule, key: str) -> bool:
    """Load the cached setup of ``key`` into ``dm``; False on a miss."""
    spec = usercache.cache_spec(CACHE_NAME, key)
    try:
        folder = storage.prepared_dir(spec)
    except (NotPreparedError, DamagedCacheError):  # damaged: rebuilt by store()
        return False
    try:
        meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
        # memory-mapped: the first batch needs a few pages, not the whole table
        arrays = {name: np.load(folder / f"{name}.npy", mmap_mode="r") for name in meta["arrays"]}
        indices = {name: np.load(folder / f"split_{name}.npy", mmap_mode="r") for name in meta["splits"]}
    except (OSError, ValueError, KeyError):
        return False  # damaged: rebuilt by the caller

    dm.preprocessor = Preprocessor.from_state_dict(meta["preprocessing"])
    dm._arrays, dm._indices, dm._fingerprint = arrays, indices, None
    # object column labels: pandas' default (Arrow strings) costs 7 ms on first use
    columns = pd.Index(meta["head"]["columns"], dtype=object)
    dm._head = pd.DataFrame(meta["head"]["data"], columns=columns, dtype=object)
    return True


def store(dm: TabularDataModule, key: str) -> None:
    """Write ``dm``'s fresh setup under ``key`` (atomically; an existing entry is kept)."""

    fitted = dm._fitted()

    def build(out: Path) -> None:
        for name, array in fitted.arrays.items():
            np.save(out / f"{name}.npy", array)
        for name, rows in fitted.indices.items():
            np.save(out / f"split_{name}.npy", rows)
        head = fitted.head.astype(object)
        head = head.where(head.notna(), None)
        meta = {"format": CACHE_FORMAT, "arrays": list(fitted.arrays),
                "splits": list(fitted.indices),
                "preprocessing": fitted.preprocessor.state_dict(),
                "head": {"columns": [str(c) for c in head.columns],
                         "data": head.values.tolist()}}
        (out / "meta.json").write_text(json.dumps(meta, default=str) + "\n", encoding="utf-8")

    try:
        with storage.repairing():  # a damaged entry (restore() refused it) is rebuilt
            usercache.cached(CACHE_NAME, key, build)
    except (StorageError, OSError) as exc:  # a read-only or full cache: run without it
        log.warning("tabular: warm cache not written (%s); the next run reads the table again",
                    exc)
