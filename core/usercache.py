"""Caches of the user's own data (image folders, Hugging Face datasets, tables).

A generic datamodule converts the user's files once (decoded pixels, encoded columns)
and keeps the result in dmzoo's ordinary cache, keyed by a *content fingerprint*: every
source file's path, size and modification time plus the options that shape the result.
A changed, added or removed file gives another key, hence another entry; nothing is
ever reused across different content.

Each entry is an ordinary dataset version, ``<root>/dmzoo/<name>/<FORMAT>+<key>/``, built
by :func:`dmzoo.core.storage.prepare` with a resource-less spec: the build writes into a
temporary folder renamed into place, the completion marker comes last, a cross-process
lock guards it. So ``dmzoo cache list`` shows these entries, ``dmzoo cache verify``
re-checks them and ``dmzoo cache rm NAME`` removes them, with no special code.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from . import storage
from .spec import DataModuleSpec

#: the release part of every user-cache version; bump to orphan old layouts
FORMAT = "1.0.0"


def file_stats(paths: Iterable[str | Path], root: str | Path | None = None
               ) -> list[tuple[str, int, int]]:
    """``(path relative to root, size, mtime in ns)`` of each file, in the given order."""
    prefix = os.path.join(os.path.abspath(root), "") if root is not None else ""
    out = []
    for path in (os.fspath(p) for p in paths):
        st = os.stat(path)
        if root is None:
            name = os.path.abspath(path)
        elif path.startswith(prefix):  # the common case, without relpath's cost per file
            name = path[len(prefix):]
        else:
            name = os.path.relpath(path, root)
        out.append((name.replace(os.sep, "/"), st.st_size, st.st_mtime_ns))
    return out


def content_key(files: Iterable[tuple[str, int, int]], options: Mapping[str, Any]) -> str:
    """A short hash of the file list (names, sizes, mtimes) and the options."""
    digest = hashlib.sha256()
    digest.update(json.dumps(dict(options), sort_keys=True, default=str).encode())
    for name, size, mtime in files:
        digest.update(f"\0{name}\0{size}\0{mtime}".encode())
    return digest.hexdigest()[:20]


def cache_spec(name: str, key: str) -> DataModuleSpec:
    """The resource-less spec naming one user-cache entry (``dmzoo/<name>@1.0.0+<key>``)."""
    return DataModuleSpec(name=name, version=f"{FORMAT}+{key}", cls="dmzoo.core:usercache",
                          summary=f"dmzoo cache of user data for {name}")


def cached(name: str, key: str, build: Callable[[Path], Any], *,
           data_dir: str | Path | None = None, quiet: bool | None = None) -> Path:
    """The prepared folder of entry ``(name, key)``; ``build(out_dir)`` makes it on a miss.

    ``build`` writes into a fresh temporary folder; a failure leaves nothing behind.
    """
    return storage.prepare(cache_spec(name, key), lambda _files, out: build(out),
                           data_dir=data_dir, quiet=quiet)

