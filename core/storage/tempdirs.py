"""Temporary folders inside the cache: created with the user's umask, and cleaned when stale.

``tempfile.mkdtemp`` makes mode-0700 folders; renamed into place they would make a
shared cache unreadable for everyone else, so temp folders here are made with
``os.mkdir`` (mode 0777 minus the umask, like any other folder the user creates).
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path


def make_temp_dir(parent: Path, prefix: str) -> Path:
    """A new empty folder ``<parent>/<prefix><pid>-<random>`` honouring the umask."""
    for _ in range(100):
        path = parent / f"{prefix}{os.getpid()}-{secrets.token_hex(4)}"
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise FileExistsError(f"cannot create a temporary folder in {parent}")


def remove_path(path: Path) -> None:
    """Delete a file, link or folder (links are removed, never followed)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def clear_unknown(folder: Path, keep: set[str]) -> None:
    """Remove every entry of ``folder`` whose name is not in ``keep``.

    Only for dmzoo's own dataset folders, with their lock held: whatever else is there
    was left by a run killed mid-way (build, extraction, marker write, import).
    """
    for entry in sorted(folder.iterdir()) if folder.is_dir() else []:
        if entry.name not in keep:
            remove_path(entry)
