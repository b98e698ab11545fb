"""Fetch verified resource files and build a dataset exactly once, crash-safe.

``prepare`` holds the dataset lock, fetches every resource (each under its own
lock), lets ``build`` write into a fresh temporary folder, renames it to
``prepared/`` and writes the completion marker last. A dataset is prepared
only when the marker exists, so a run killed at any point is redone by the
next one, never reported ready.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ChecksumError, NotPreparedError, OfflineError
from ..settings import env_flag
from .checksums import Expect, accepted_forms, check, digest, effective, expected_digest
from .download import download
from .locks import locked, writable_dir
from .paths import DOWNLOADS, MARKER, PREPARED, dataset_dir
from .sources import accepted_names, find_local, import_dir, offline, resource_urls

if TYPE_CHECKING:
    from ..spec import DataModuleSpec, Resource

Build = Callable[[Mapping[str, Path], Path], Any]
MARKER_FORMAT = 1


def auto_quiet(quiet: bool | None) -> bool:
    """Progress bars only on a terminal, unless ``quiet`` or ``DMZOO_QUIET=1`` says otherwise."""
    if quiet is not None:
        return quiet
    if env_flag("DMZOO_QUIET"):
        return True
    return not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty())


# -- one resource ------------------------------------------------------------------------------
def _cached(downloads: Path, res: Resource, *, repair: bool) -> tuple[Path, Expect] | None:
    """A verified file for ``res`` already in ``downloads``; with ``repair``, drop corrupt ones."""
    for name, expect in accepted_forms(res):
        path = downloads / name
        if not path.is_file():
            continue
        try:
            check(path, *expect, label=str(path))
        except ChecksumError as exc:
            if repair:
                print(f"dmzoo: discarding corrupt cached file: {exc}", file=sys.stderr)
                path.unlink()
            continue
        return path, expect
    return None


def _import(folder: Path, downloads: Path, res: Resource) -> tuple[Path, Expect]:
    """Copy the first candidate in ``folder`` that verifies into ``downloads``."""
    forms = dict(accepted_forms(res))
    problems = []
    for candidate in find_local(folder, res):
        expect = forms[candidate.name]
        tmp = downloads / f".{candidate.name}.import-{os.getpid()}"
        try:
            shutil.copyfile(candidate, tmp)
            check(tmp, *expect, label=str(candidate))
        except ChecksumError as exc:
            tmp.unlink(missing_ok=True)
            problems.append(str(exc))
            continue
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        os.replace(tmp, downloads / candidate.name)
        return downloads / candidate.name, expect
    if problems:
        raise ChecksumError(f"--from {folder}: no acceptable copy of {res.filename}, nothing "
                            "imported: " + "; ".join(problems))
    raise OfflineError(f"--from {folder}: {res.filename} is missing")


def _fetch(spec: DataModuleSpec, resource: Resource, folder: Path,
           quiet: bool) -> tuple[Path, Expect]:
    """``resource`` in the dataset ``folder``: cached, imported (``--from``) or downloaded."""
    res = effective(spec, resource)
    downloads = folder / DOWNLOADS
    hit = _cached(downloads, res, repair=False)  # a prepared read-only cache needs no lock
    if hit:
        return hit
    writable_dir(downloads)
    with locked(folder, f"resource-{res.filename}", quiet=quiet):
        hit = _cached(downloads, res, repair=True)
        if hit:
            return hit
        source = import_dir()
        if source is not None:
            return _import(source, downloads, res)
        if offline():
            raise OfflineError(_missing_message(spec, [res], downloads))
        path = download(resource_urls(spec, resource), downloads / res.filename, res, quiet=quiet)
        return path, (res.size, *expected_digest(res))


def _names(missing: list[Resource]) -> str:
    return "; ".join(" or ".join(accepted_names(r)) for r in missing)


def _missing_message(spec: DataModuleSpec, missing: list[Resource], downloads: Path) -> str:
    return (f"DMZOO_OFFLINE is set and {spec.ref} needs {len(missing)} file(s) not in the cache: "
            f"{_names(missing)}. Put them in {downloads}, or run 'dmzoo prepare {spec.qualified_name} "
            f"--version {spec.version} --from DIR' with a folder holding them, or unset DMZOO_OFFLINE")


def fetch(spec: DataModuleSpec, resource: Resource, *, data_dir: str | Path | None = None,
          quiet: bool | None = None) -> Path:
    """A verified local copy of ``resource`` (downloaded, imported or cached)."""
    return _fetch(spec, resource, dataset_dir(spec, data_dir), auto_quiet(quiet))[0]


def _fetch_all(spec: DataModuleSpec, folder: Path, quiet: bool) -> dict[str, tuple[Path, Expect]]:
    files, missing = {}, []
    for resource in spec.resources:
        try:
            files[resource.filename] = _fetch(spec, resource, folder, quiet)
        except OfflineError:
            missing.append(resource)
    if not missing:
        return files
    # name every missing file at once, not one per run
    source = import_dir()
    if source is None:
        raise OfflineError(_missing_message(spec, missing, folder / DOWNLOADS))
    raise OfflineError(f"--from {source}: {len(missing)} file(s) of {spec.ref} not found: "
                       f"{_names(missing)}. "
                       f"Put them in {source} (the published files, or the decompressed forms "
                       "listed) and run again")


# -- the prepared dataset ----------------------------------------------------------------------
def read_marker(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == MARKER_FORMAT else None


def _is_ready(folder: Path, spec: DataModuleSpec) -> bool:
    marker = read_marker(folder)
    return bool(marker and marker.get("ref") == spec.ref and (folder / PREPARED).is_dir())


def is_prepared(spec: DataModuleSpec, data_dir: str | Path | None = None) -> bool:
    """True when the completion marker for this exact spec exists (it is written last)."""
    return _is_ready(dataset_dir(spec, data_dir), spec)


def prepared_dir(spec: DataModuleSpec, data_dir: str | Path | None = None) -> Path:
    """The prepared folder, or :class:`NotPreparedError` saying how to prepare it."""
    folder = dataset_dir(spec, data_dir)
    if not _is_ready(folder, spec):
        raise NotPreparedError(
            f"{spec.ref} is not prepared in {folder}; call prepare_data() first (on one process, "
            f"e.g. rank 0) or run 'dmzoo prepare {spec.qualified_name} --version {spec.version}'"
            + (f" --data-dir {data_dir}" if data_dir is not None else ""))
    return folder / PREPARED


def manifest(folder: Path) -> dict[str, list[Any]]:
    """``{relative path: [size, sha256]}`` of every file under ``folder``."""
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        out[path.relative_to(folder).as_posix()] = [path.stat().st_size, digest(path)]
    return out


def _clear_stale(folder: Path) -> None:
    """Remove what an interrupted run left: the marker first, so nothing looks ready."""
    (folder / MARKER).unlink(missing_ok=True)
    shutil.rmtree(folder / PREPARED, ignore_errors=True)
    for leftover in folder.glob("prepared.tmp-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def _write_marker(folder: Path, spec: DataModuleSpec, files: dict[str, tuple[Path, Expect]],
                  built: dict[str, list[Any]]) -> None:
    from ... import __version__

    data = {
        "format": MARKER_FORMAT,
        "ref": spec.ref,
        "prepared_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "dmzoo": __version__,
        "resources": {name: {"file": path.relative_to(folder).as_posix(), "size": exp[0],
                             exp[1]: exp[2]} for name, (path, exp) in files.items()},
        "files": built,
    }
    tmp = folder / f".{MARKER}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, folder / MARKER)


def prepare(spec: DataModuleSpec, build: Build | None, *, data_dir: str | Path | None = None,
            quiet: bool | None = None) -> Path:
    """Make ``spec``'s data ready once (idempotent, cross-process safe); return ``prepared/``.

    ``build(files, out_dir)`` gets ``{resource filename: verified path}`` (the
    path may be a decompressed alternate; read it with ``open_maybe_gzip``)
    and a fresh empty ``out_dir`` to write into.
    """
    folder = dataset_dir(spec, data_dir)
    if _is_ready(folder, spec):
        return folder / PREPARED
    quiet = auto_quiet(quiet)
    writable_dir(folder)
    with locked(folder, "prepare", quiet=quiet):
        if _is_ready(folder, spec):  # another process finished while we waited
            return folder / PREPARED
        files = _fetch_all(spec, folder, quiet)
        _clear_stale(folder)
        tmp = Path(tempfile.mkdtemp(prefix="prepared.tmp-", dir=folder))
        try:
            if build is not None:
                build({name: path for name, (path, _) in files.items()}, tmp)
            built = manifest(tmp)
            os.replace(tmp, folder / PREPARED)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        _write_marker(folder, spec, files, built)
    return folder / PREPARED
