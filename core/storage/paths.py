"""Where a dataset lives on disk: the cache root and the per-version layout."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import StorageError
from ..settings import env_str

if TYPE_CHECKING:
    from ..spec import DataModuleSpec

DOWNLOADS = "downloads"
PREPARED = "prepared"
MARKER = "COMPLETE.json"
LOCKS = ".locks"


def default_root() -> Path:
    """The platform's user cache dir, e.g. ``~/.cache/dmzoo`` on Linux."""
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("dmzoo", appauthor=False))


def hook_root(spec: DataModuleSpec) -> Path | None:
    """The first non-None answer of a ``dmzoo_data_dir`` plugin; a raising plugin is skipped."""
    from ...registry import get_registry
    from ...registry.discovery import call_each

    registry = get_registry()
    for _, answer in call_each(registry.plugin_manager, "dmzoo_data_dir", registry.failures,
                               spec=spec):
        if answer is not None:
            return Path(answer).expanduser()
    return None


def data_root(spec: DataModuleSpec | None = None, data_dir: str | Path | None = None) -> Path:
    """``data_dir`` argument > ``DMZOO_HOME`` > plugin hook ``dmzoo_data_dir`` > user cache dir."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    home = env_str("DMZOO_HOME")
    if home:
        return Path(home).expanduser()
    if spec is not None:
        chosen = hook_root(spec)
        if chosen is not None:
            return chosen
    return default_root()


def dataset_dir(spec: DataModuleSpec, data_dir: str | Path | None = None) -> Path:
    """``<root>/<namespace>/<name>/<version>``: two versions never share files."""
    if spec is None:
        raise StorageError("this datamodule has no spec, so dmzoo does not know where its data "
                           "lives; load it with dmzoo.load_datamodule(name) or register its spec")
    return data_root(spec, data_dir) / spec.namespace / spec.name / spec.version
