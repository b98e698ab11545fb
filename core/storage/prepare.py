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
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import (
    CachePermissionError,
    ChecksumError,
    DamagedCacheError,
    NotPreparedError,
    OfflineError,
    StorageError,
)
from ..settings import env_flag
from .checksums import Expect, accepted_forms, check, digest, effective, expected_digest
from .download import check_settings, download
from .extract import is_gzip
from .locks import locked, writable_dir
from .paths import DOWNLOADS, MARKER, OWN_NAMES, PREPARED, claim, dataset_dir
from .sources import accepted_names, find_local, import_dir, offline, resource_urls
from .tempdirs import clear_unknown, make_temp_dir

if TYPE_CHECKING:
    from ..spec import DataModuleSpec, Resource

Build = Callable[[Mapping[str, Path], Path], Any]
MARKER_FORMAT = 1
_repairing: ContextVar[bool] = ContextVar("dmzoo_repairing", default=False)


@contextmanager
def repairing() -> Iterator[None]:
    """Within the block, ``prepare`` re-hashes a prepared dataset and rebuilds it if damaged
    (``dmzoo prepare`` runs in this mode; a plain ``prepare_data()`` only does the cheap checks)."""
    token = _repairing.set(True)
    try:
        yield
    finally:
        _repairing.reset(token)


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
            problems.append(str(exc) + _regzip_hint(candidate, res))
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


def _regzip_hint(candidate: Path, res: Resource) -> str:
    """For a gzip file that is not the published one: say the decompressed form is accepted."""
    plain = [n for alt in res.alternates for n in alt.filenames]
    if not plain or not is_gzip(candidate):
        return ""
    return (f" (it is gzip, but not the published gzip file; the decompressed file is accepted: "
            f"run 'gunzip -k {candidate}' and put {plain[0]!r} in the folder)")


def _clear_import_temps(downloads: Path, res: Resource) -> None:
    """Temp copies left by a killed ``--from`` import of this resource (resource lock held)."""
    for name in accepted_names(res):
        for leftover in downloads.glob(f".{name}.import-*"):
            leftover.unlink(missing_ok=True)


def _fetch(spec: DataModuleSpec, resource: Resource, folder: Path, quiet: bool,
           imported: list[Path] | None = None) -> tuple[Path, Expect]:
    """``resource`` in the dataset ``folder``: cached, imported (``--from``) or downloaded."""
    res = effective(spec, resource)
    downloads = folder / DOWNLOADS
    hit = _cached(downloads, res, repair=False)  # a prepared read-only cache needs no lock
    if hit:
        return hit
    writable_dir(downloads)
    claim(folder, spec.ref)
    with locked(folder, f"resource-{res.filename}", quiet=quiet):
        _clear_import_temps(downloads, res)
        hit = _cached(downloads, res, repair=True)
        if hit:
            return hit
        source = import_dir()
        if source is not None:
            hit = _import(source, downloads, res)
            if imported is not None:
                imported.append(hit[0])
            return hit
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
    files: dict[str, tuple[Path, Expect]] = {}
    missing: list[Resource] = []
    imported: list[Path] = []
    source = import_dir()
    try:
        for resource in spec.resources:
            try:
                files[resource.filename] = _fetch(spec, resource, folder, quiet, imported)
            except OfflineError:
                missing.append(resource)
        if missing:  # name every missing file at once, not one per run
            raise OfflineError(_missing_message(spec, missing, folder / DOWNLOADS) if source is None
                               else f"--from {source}: {len(missing)} file(s) of {spec.ref} not "
                               f"found: {_names(missing)}. Put them in {source} (the published "
                               "files, or the decompressed forms listed) and run again; nothing "
                               "was imported")
    except BaseException:
        for path in imported:  # a failed --from leaves nothing behind
            path.unlink(missing_ok=True)
        raise
    return files


# -- the prepared dataset ----------------------------------------------------------------------
def _permission_error(path: Path, exc: OSError) -> CachePermissionError:
    return CachePermissionError(f"no permission to read {path} ({exc.strerror}); the cache "
                                "belongs to another user or has restrictive modes: ask its owner "
                                "to make it readable (chmod -R a+rX), or use your own data_dir=")


def read_marker(folder: Path) -> dict[str, Any] | None:
    """The completion marker, or None when absent or not a marker this dmzoo wrote."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
    except PermissionError as exc:
        raise _permission_error(folder / MARKER, exc) from None
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == MARKER_FORMAT else None


def _is_ready(folder: Path, spec: DataModuleSpec) -> bool:
    marker = read_marker(folder)
    return bool(marker and marker.get("ref") == spec.ref and (folder / PREPARED).is_dir())


def is_prepared(spec: DataModuleSpec, data_dir: str | Path | None = None) -> bool:
    """True when the completion marker for this exact spec exists (it is written last)."""
    return _is_ready(dataset_dir(spec, data_dir), spec)


def prepared_problems(folder: Path, *, full: bool) -> list[str]:
    """What is wrong with ``prepared/`` against the marker's manifest: missing, resized (and,
    with ``full``, re-hashed) or extra files, or a marker that is not one. Empty when intact."""
    marker = read_marker(folder)
    if marker is None:
        return [f"{folder / MARKER} is not a dmzoo completion marker (garbage or another "
                "format)"] if (folder / MARKER).exists() else []
    files = marker.get("files")
    if not isinstance(files, dict):
        return [f"{folder / MARKER} has no file manifest"]
    prepared, problems = folder / PREPARED, []
    for rel, record in files.items():
        path = prepared / rel
        try:
            size = path.stat().st_size
        except PermissionError as exc:
            raise _permission_error(path, exc) from None
        except OSError:
            problems.append(f"prepared file {rel} is missing")
            continue
        if not os.access(path, os.R_OK):
            raise _permission_error(path, PermissionError(13, "Permission denied"))
        want = record[0] if isinstance(record, list) and record else None
        if size != want:
            problems.append(f"prepared file {rel} changed since it was prepared ({size} bytes, "
                            f"expected {want})")
        elif full and digest(path) != record[1]:
            problems.append(f"prepared file {rel} changed since it was prepared")
    if full and prepared.is_dir():
        extra = sorted(p.relative_to(prepared).as_posix() for p in prepared.rglob("*")
                       if (p.is_file() or p.is_symlink()) and
                       p.relative_to(prepared).as_posix() not in files)
        problems += [f"prepared/{rel} is not part of the prepared dataset" for rel in extra]
    return problems


def prepared_dir(spec: DataModuleSpec, data_dir: str | Path | None = None) -> Path:
    """The prepared folder after the cheap checks (every manifest file present, with its size).

    :class:`NotPreparedError` saying how to prepare it, :class:`DamagedCacheError` saying
    how to repair it, :class:`CachePermissionError` when it cannot be read.
    """
    folder = dataset_dir(spec, data_dir)
    if not _is_ready(folder, spec):
        raise NotPreparedError(
            f"{spec.ref} is not prepared in {folder}; call prepare_data() first (on one process, "
            f"e.g. rank 0) or run '{_prepare_command(spec, data_dir)}'")
    problems = prepared_problems(folder, full=False)
    if problems:
        raise damaged(spec, problems[0], data_dir)
    return folder / PREPARED


def _prepare_command(spec: DataModuleSpec, data_dir: str | Path | None) -> str:
    return (f"dmzoo prepare {spec.qualified_name} --version {spec.version}"
            + (f" --data-dir {data_dir}" if data_dir is not None else ""))


def damaged(spec: DataModuleSpec, problem: str, data_dir: str | Path | None = None
            ) -> DamagedCacheError:
    """The error for a prepared cache that fails a check, naming the command that repairs it."""
    return DamagedCacheError(f"the prepared cache of {spec.ref} in {dataset_dir(spec, data_dir)} "
                             f"is damaged ({problem}); repair it with "
                             f"'{_prepare_command(spec, data_dir)}'")


def manifest(folder: Path) -> dict[str, list[Any]]:
    """``{relative path: [size, sha256]}`` of every file under ``folder``."""
    out = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        out[path.relative_to(folder).as_posix()] = [path.stat().st_size, digest(path)]
    return out


def _clear_stale(folder: Path) -> None:
    """Remove what an interrupted run left: the marker first, so nothing looks ready, then the
    old build and every temp folder or file of any kind (prepare lock held)."""
    (folder / MARKER).unlink(missing_ok=True)
    shutil.rmtree(folder / PREPARED, ignore_errors=True)
    clear_unknown(folder, set(OWN_NAMES))


def _write_marker(folder: Path, spec: DataModuleSpec, files: dict[str, tuple[Path, Expect]],
                  built: dict[str, list[Any]]) -> None:
    # deferred: import cycle with dmzoo/__init__, which imports core
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


def _usable(folder: Path, spec: DataModuleSpec, quiet: bool) -> bool:
    """Ready and passing the checks (full ones in repair mode); a damaged one is cleared."""
    if not _is_ready(folder, spec):
        return False
    repair = _repairing.get()
    problems = prepared_problems(folder, full=repair)
    if repair and not problems:
        _fetch_all(spec, folder, quiet)  # re-verifies downloads, replacing any corrupt one
    if not problems:
        return True
    print(f"dmzoo: rebuilding the damaged prepared cache of {spec.ref}: {problems[0]}",
          file=sys.stderr)
    (folder / MARKER).unlink(missing_ok=True)
    return False


def prepare(spec: DataModuleSpec, build: Build | None, *, data_dir: str | Path | None = None,
            quiet: bool | None = None) -> Path:
    """Make ``spec``'s data ready once (idempotent, cross-process safe); return ``prepared/``.

    ``build(files, out_dir)`` gets ``{resource filename: verified path}`` (the
    path may be a decompressed alternate; read it with ``open_maybe_gzip``)
    and a fresh empty ``out_dir`` to write into. The answer is decided with the
    dataset lock held (a ``dmzoo cache rm`` in progress is waited for); only a
    read-only prepared cache is answered without the lock.
    """
    folder = dataset_dir(spec, data_dir)
    check_settings()
    quiet = auto_quiet(quiet)
    try:
        writable_dir(folder)
    except StorageError:
        if not _is_ready(folder, spec):
            raise
        prepared_dir(spec, data_dir)  # a read-only prepared cache: the cheap checks only
        return folder / PREPARED
    with locked(folder, "prepare", quiet=quiet):
        claim(folder, spec.ref)
        if _usable(folder, spec, quiet):  # ready, perhaps finished by another process
            clear_unknown(folder, set(OWN_NAMES))
            return folder / PREPARED
        files = _fetch_all(spec, folder, quiet)
        _clear_stale(folder)
        tmp = make_temp_dir(folder, "prepared.tmp-")
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
