"""Cheap checks a datamodule runs on its prepared arrays at ``setup()``.

Full re-hashing is ``dmzoo cache verify`` (and ``dmzoo prepare``, which repairs);
``setup()`` only does what costs next to nothing: the file sizes against the
manifest (:func:`~.prepare.prepared_dir`), and here the number of rows against
the spec's split sizes and the label range against the number of classes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .checksums import accepted_forms, lookup, overrides
from .paths import dataset_dir
from .prepare import damaged, read_marker

if TYPE_CHECKING:
    from ..spec import DataModuleSpec


def expected_counts(spec: DataModuleSpec, folder: Path | None = None) -> dict[str, int] | None:
    """``{split: examples}`` from the spec when the data comes from the published files, else
    None (then only the files themselves say how many rows they hold).

    Without ``folder`` (while building), "published" means no ``DMZOO_CHECKSUMS`` override
    for any resource; with a prepared dataset ``folder``, it means the completion marker
    records the spec's own checksums (of the published files or their listed alternates).
    """
    splits = {s.name: s.num_examples for s in spec.splits}
    if folder is None:
        table = overrides()
        overridden = table and any(lookup(table, spec, r.filename, r.urls) for r in spec.resources)
        return None if overridden else splits
    marker = read_marker(folder) or {}
    recorded = marker.get("resources", {})
    for res in spec.resources:
        rec = recorded.get(res.filename, {})
        if not any(rec.get(algo) == hexd for _, (_, algo, hexd) in accepted_forms(res)):
            return None
    return splits


def check_arrays(spec: DataModuleSpec, arrays: Mapping[str, Mapping[str, Any]], *, labels: str,
                 num_classes: int, data_dir: str | Path | None = None,
                 rows_follow_spec: bool = True) -> None:
    """``arrays[split][key]``: every key has the spec's row count for its split (where known)
    and ``arrays[split][labels]`` holds only class numbers below ``num_classes``. A
    datamodule whose splits depend on its options (joined extra rows, one of several
    upstream splits) passes ``rows_follow_spec=False``: then only the labels are checked.

    Raises :class:`~dmzoo.core.errors.DamagedCacheError` naming the repair command.
    """
    counts = (expected_counts(spec, dataset_dir(spec, data_dir)) if rows_follow_spec else None) or {}
    problem = ""
    for split, named in arrays.items():
        for key, array in named.items():
            want = counts.get(split)
            if want is not None and len(array) != want:
                problem = f"{split} {key} has {len(array)} rows, the spec says {want}"
        label_array = named.get(labels)
        if label_array is not None and label_array.size:
            top = int(label_array.max())
            if top >= num_classes:
                problem = f"{split} {labels} contain {top}, out of range for {num_classes} classes"
        if problem:
            raise damaged(spec, problem, data_dir)
