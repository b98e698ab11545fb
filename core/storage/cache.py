"""What is in the cache: list entries, re-verify them, remove them.

Works from the folders on disk and their completion markers, so entries of
uninstalled plugins are still listed, verified and removable. Only folders that
carry dmzoo's entry file (``.dmzoo-entry``, or the completion marker of an older
dmzoo) are entries: a ``<root>/*/NAME/*`` folder that some other program put
under a shared root is never listed, verified or removed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..errors import AmbiguousNameError, ChecksumError, StorageError, shorten
from ..plugin_answers import plugins
from ..settings import env_str
from ..spec import DataModuleSpec, normalize_name
from .checksums import accepted_forms, check, effective
from .locks import locked
from .paths import DOWNLOADS, ENTRY, LOCKS, MARKER, PREPARED, data_root, default_root, is_own
from .prepare import prepared_problems, read_marker
from .tempdirs import remove_path


@dataclass(frozen=True)
class CacheEntry:
    """One ``<root>/<namespace>/<name>/<version>`` folder."""

    root: Path
    namespace: str
    name: str
    version: str
    prepared: bool
    size: int

    @property
    def path(self) -> Path:
        return self.root / self.namespace / self.name / self.version

    @property
    def ref(self) -> str:
        return f"{self.namespace}/{self.name}@{self.version}"


def cache_roots(data_dir: str | Path | None = None) -> list[Path]:
    """Roots to scan: ``data_dir`` or ``DMZOO_HOME`` if set, else the user cache dir plus
    every root a ``dmzoo_data_dir`` plugin picks for a registered datamodule."""
    if data_dir is not None or env_str("DMZOO_HOME"):
        return [data_root(None, data_dir)]
    roots = [default_root()]
    for spec in plugins().specs():
        root = data_root(spec)
        if root not in roots:
            roots.append(root)
    return roots


def folder_size(folder: Path) -> int:
    """Bytes of the regular files under ``folder`` (links not followed)."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def list_cache(data_dir: str | Path | None = None) -> list[CacheEntry]:
    """Every cached dataset version under the cache roots."""
    entries = []
    for root in cache_roots(data_dir):
        for version_dir in _candidates(root):
            if not is_own(version_dir):
                continue
            ns, name = version_dir.parent.parent.name, version_dir.parent.name
            marker = read_marker(version_dir)
            prepared = bool(marker and (version_dir / PREPARED).is_dir())
            entries.append(CacheEntry(root, ns, name, version_dir.name, prepared,
                                      folder_size(version_dir)))
    return entries


def _candidates(root: Path) -> list[Path]:
    return [d for d in sorted(root.glob("*/*/*"))
            if d.is_dir() and not d.is_symlink() and not d.name.startswith(".")]


def _matcher(ref: str) -> Callable[[str, str, str], bool]:
    text, _, version = ref.partition("@")
    space, _, name = text.rpartition("/")
    ns, name = normalize_name(space) if space else None, normalize_name(name)
    return lambda e_ns, e_name, e_version: (e_name == name and (ns is None or e_ns == ns)
                                            and (not version or e_version == version.strip()))


def foreign(ref: str, data_dir: str | Path | None = None) -> list[Path]:
    """Folders laid out like ``ref`` under the cache roots that dmzoo did not create."""
    match = _matcher(ref)
    return [d for root in cache_roots(data_dir) for d in _candidates(root)
            if match(d.parent.parent.name, d.parent.name, d.name) and not is_own(d)]


def select(ref: str | None, data_dir: str | Path | None = None) -> list[CacheEntry]:
    """Entries matching ``[namespace/]name[@version]`` (all entries for None)."""
    entries = list_cache(data_dir)
    if not ref:
        return entries
    match = _matcher(ref)
    hits = [e for e in entries if match(e.namespace, e.name, e.version)]
    if not hits:
        others = foreign(ref, data_dir)
        if others:
            raise StorageError(f"nothing cached for {shorten(ref)}: {others[0]} is not a dmzoo "
                               f"cache folder (it has no {ENTRY}), so dmzoo leaves it alone; "
                               "delete it yourself if it is really unwanted")
        raise StorageError(f"nothing cached for {shorten(ref)}; 'dmzoo cache list' shows what "
                           "is cached")
    providers = sorted({e.namespace for e in hits})
    if len(providers) > 1:
        raise AmbiguousNameError(f"{ref!r} is cached for several namespaces "
                                 f"({', '.join(providers)}); use namespace/name")
    return hits


def _spec_for(entry: CacheEntry) -> DataModuleSpec | None:
    return next((s for s in plugins().specs() if (s.namespace, s.name, s.version)
                 == (entry.namespace, entry.name, entry.version)), None)


def verify_entry(entry: CacheEntry) -> list[str]:
    """Problems found re-checking downloads (against the spec, else the marker) and the
    prepared files (against the marker's manifest); empty when all is intact."""
    folder, problems = entry.path, []
    marker = read_marker(folder)
    spec = _spec_for(entry)
    resources = [effective(spec, r) for r in spec.resources] if spec else []
    for res in resources:
        present = [(folder / DOWNLOADS / name, expect) for name, expect in accepted_forms(res)
                   if (folder / DOWNLOADS / name).is_file()]
        if not present:
            if marker:
                problems.append(f"{res.filename}: missing from {folder / DOWNLOADS}")
            continue
        try:
            for path, expect in present:
                check(path, *expect, label=str(path))
        except ChecksumError as exc:
            problems.append(str(exc))
    if marker and not spec:
        for rec in marker.get("resources", {}).values():
            path = folder / rec.get("file", "")
            algo = "sha256" if "sha256" in rec else "md5"
            try:
                check(path, rec.get("size"), algo, rec.get(algo, ""), label=str(path))
            except (ChecksumError, OSError) as exc:
                problems.append(str(exc))
    return problems + prepared_problems(folder, full=True)


def remove(entry: CacheEntry) -> None:
    """Delete one cached version under its prepare lock (a running ``prepare`` is waited for,
    briefly). The marker goes first, so a half-removed one is never ready; the lock folder
    stays, so a preparer waiting on it carries on and rebuilds."""
    folder = entry.path
    if not is_own(folder):
        raise StorageError(f"{folder} is not a dmzoo cache folder (no {ENTRY}); not removing it")
    with locked(folder, "prepare", quiet=True, timeout=2.0):
        (folder / MARKER).unlink(missing_ok=True)
        for child in sorted(folder.iterdir(), key=lambda c: c.name == ENTRY):
            if child.name != LOCKS:
                remove_path(child)
