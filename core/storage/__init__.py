"""Data acquisition that never corrupts: cache layout, downloads, checksums, locks, extraction.

Layout of one dataset version (``dataset_dir(spec)``)::

    <root>/<namespace>/<name>/<version>/
        downloads/<file>          verified resource files (published form, or an
                                  imported alternate under its own name)
        downloads/<file>.part     a download in progress; resumed with an HTTP Range request
        prepared.tmp-XXXX/        a build in progress (removed by the next run, like any
                                  other entry not listed here)
        prepared/                 the builder's output, renamed into place when complete
        COMPLETE.json             completion marker, written last (atomic rename): the spec
                                  ref, each resource's checksum and a size+sha256 manifest
                                  of every prepared file (``dmzoo cache verify`` re-checks it)
        .locks/                   ``prepare.lock`` and ``resource-<file>.lock`` (flock:
                                  released by the kernel when the holder dies); kept by
                                  ``dmzoo cache rm`` so a waiting preparer carries on
        .dmzoo-entry              written first: marks the folder as dmzoo's own; ``cache
                                  list``/``verify``/``rm`` ignore folders without it

``<root>`` is ``data_dir=`` > ``DMZOO_HOME`` > the ``dmzoo_data_dir`` hook > the
platform user cache dir. A dataset is prepared exactly when ``COMPLETE.json``
exists for its ref and ``prepared/`` is present.

Environment: ``DMZOO_MIRROR`` (tried first, see :mod:`.sources`), ``DMZOO_OFFLINE=1``
(no network), ``DMZOO_CHECKSUMS`` (override file, see :mod:`.checksums`),
``DMZOO_QUIET=1``, ``DMZOO_TIMEOUT``, ``DMZOO_BACKOFF`` and ``DMZOO_MIN_RATE`` (see
:mod:`.download`). The user docs are ``docs/storage.rst``.

Importing this package is cheap: requests, filelock and tqdm load on first use.
"""

from __future__ import annotations

from .cache import CacheEntry, folder_size, foreign, list_cache, remove, select, verify_entry
from .checksums import digest, verify
from .extract import extract, open_maybe_gzip
from .integrity import check_arrays, expected_counts
from .paths import data_root, dataset_dir
from .prepare import damaged, fetch, is_prepared, prepare, prepared_dir, repairing
from .sources import import_from, offline, resource_urls

__all__ = [
    "CacheEntry",
    "check_arrays",
    "damaged",
    "data_root",
    "dataset_dir",
    "digest",
    "expected_counts",
    "extract",
    "fetch",
    "folder_size",
    "foreign",
    "import_from",
    "is_prepared",
    "list_cache",
    "offline",
    "open_maybe_gzip",
    "prepare",
    "prepared_dir",
    "remove",
    "repairing",
    "resource_urls",
    "select",
    "verify",
    "verify_entry",
]
