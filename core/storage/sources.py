"""Where resource files may come from: URLs (mirrors, hooks), a local folder, or nowhere.

- ``DMZOO_MIRROR=<base>`` (an ``http://``, ``https://`` or ``file://`` URL) is tried first:
  ``<base>/<name>/<file>`` for the first-party ``dmzoo`` namespace, and
  ``<base>/<namespace>/<name>/<file>`` for every other namespace, so ``acme/mnist`` and
  ``dmzoo/mnist`` never share a mirror folder (see :func:`mirror_url`).
- the ``dmzoo_resource_urls`` hook edits the list after the spec's URLs.
- ``import_from(folder)``: take files from ``folder`` only (``dmzoo prepare --from``).
- ``DMZOO_OFFLINE=1``: no network at all.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import InvalidSettingError, StorageError, shorten
from ..plugin_answers import plugins
from ..settings import env_flag, env_str

if TYPE_CHECKING:
    from ..spec import DataModuleSpec, Resource

FIRST_PARTY = "dmzoo"
_import_dir: ContextVar[Path | None] = ContextVar("dmzoo_import_dir", default=None)


def offline() -> bool:
    return env_flag("DMZOO_OFFLINE")


@contextmanager
def import_from(folder: str | Path) -> Iterator[Path]:
    """Within the block, resources are taken (verified) from ``folder`` instead of the network."""
    path = Path(folder).expanduser()
    if not path.is_dir():
        raise StorageError(f"--from {shorten(str(folder))}: no such folder; give the folder holding the "
                           "downloaded files (e.g. the published .gz files)")
    token = _import_dir.set(path)
    try:
        yield path
    finally:
        _import_dir.reset(token)


def import_dir() -> Path | None:
    """The folder set by :func:`import_from`, or None."""
    return _import_dir.get()


def accepted_names(resource: Resource) -> list[str]:
    """The published file name, then every alternate's names."""
    return [resource.filename] + [n for alt in resource.alternates for n in alt.filenames]


def find_local(folder: Path, resource: Resource) -> list[Path]:
    """Candidate files for ``resource`` in ``folder`` (top level first, then subfolders)."""
    found: list[Path] = []
    for name in accepted_names(resource):
        direct = folder / name
        hits = [direct] if direct.is_file() else sorted(p for p in folder.rglob(name) if p.is_file())
        found.extend(h for h in hits if h not in found)
    return found


def mirror_base() -> str:
    """``DMZOO_MIRROR`` without its trailing slash; ``""`` when unset."""
    base = env_str("DMZOO_MIRROR")
    if base and not base.startswith(("http://", "https://", "file://")):
        raise InvalidSettingError(f"DMZOO_MIRROR={shorten(base, 60)} is not an http://, https:// "
                                  "or file:// URL; e.g. DMZOO_MIRROR=https://mirror.example.org/dmzoo")
    return base.rstrip("/")


def mirror_url(base: str, spec: DataModuleSpec, filename: str) -> str:
    """``<base>/<name>/<file>`` for namespace ``dmzoo``, else ``<base>/<namespace>/<name>/<file>``."""
    folder = spec.name if spec.namespace == FIRST_PARTY else f"{spec.namespace}/{spec.name}"
    return f"{base}/{folder}/{filename}"


def resource_urls(spec: DataModuleSpec, resource: Resource) -> list[str]:
    """URLs to try, in order: ``DMZOO_MIRROR``, the spec's, then plugin hook edits."""
    urls: list[str] = []
    mirror = mirror_base()
    if mirror:
        urls.append(mirror_url(mirror, spec, resource.filename))
    urls.extend(resource.urls)
    urls = plugins().resource_urls(spec, resource, urls)
    return list(dict.fromkeys(u for u in urls if isinstance(u, str) and u))
