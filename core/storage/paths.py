"""Where a dataset lives on disk: the cache root and the per-version layout."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_cache_dir

from ..errors import StorageError
from ..plugin_answers import plugins
from ..settings import env_str

if TYPE_CHECKING:
    from ..spec import DataModuleSpec

DOWNLOADS = "downloads"
PREPARED = "prepared"
MARKER = "COMPLETE.json"
LOCKS = ".locks"
ENTRY = ".dmzoo-entry"  # written first in every dataset folder dmzoo creates: "this is ours"
OWN_NAMES = frozenset({DOWNLOADS, PREPARED, MARKER, LOCKS, ENTRY})


def default_root() -> Path:
    """The platform's user cache dir, e.g. ``~/.cache/dmzoo`` on Linux."""
    return Path(user_cache_dir("dmzoo", appauthor=False))


def data_root(spec: DataModuleSpec | None = None, data_dir: str | Path | None = None) -> Path:
    """``data_dir`` argument > ``DMZOO_HOME`` > plugin hook ``dmzoo_data_dir`` > user cache dir."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    home = env_str("DMZOO_HOME")
    if home:
        return Path(home).expanduser()
    chosen = plugins().data_dir(spec) if spec is not None else None
    return chosen if chosen is not None else default_root()


def dataset_dir(spec: DataModuleSpec, data_dir: str | Path | None = None) -> Path:
    """``<root>/<namespace>/<name>/<version>``: two versions never share files."""
    if spec is None:
        raise StorageError("this datamodule has no spec, so dmzoo does not know where its data "
                           "lives; load it with dmzoo.load_datamodule(name), or name its spec in the "
                           "class's SPEC")
    return data_root(spec, data_dir) / spec.namespace / spec.name / spec.version


def claim(folder: Path, ref: str) -> None:
    """Mark ``folder`` as a dmzoo dataset folder (``cache list``/``rm`` touch nothing else)."""
    entry = folder / ENTRY
    if not entry.exists():
        entry.write_text(f"dmzoo dataset folder for {ref}; managed by 'dmzoo cache'\n",
                         encoding="utf-8")


def is_own(folder: Path) -> bool:
    """Whether ``folder`` carries dmzoo's entry file (or a marker of an older dmzoo)."""
    if (folder / ENTRY).is_file():
        return True
    try:
        head = (folder / MARKER).read_text(encoding="utf-8")[:200]
    except (OSError, UnicodeDecodeError):
        return False
    return '"format"' in head and '"ref"' in head
