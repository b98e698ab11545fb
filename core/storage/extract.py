"""Safe extraction of tar, zip and gzip files, plus reading a file that may be gzipped.

Every member is checked before anything is written: absolute paths, ``..``,
links leading outside, members reached through a link, and device files are
rejected with :class:`UnsafeArchiveError`. Link targets are not judged as text:
each one is resolved component by component through every link of the archive
(those before it and the final set), so a chain such as ``L/s2 -> s1/../..``
followed by ``L/s1 -> ..`` is caught, with or without ``tarfile.data_filter``.

Archive bombs: the total of the members' sizes (read from the headers before
anything is written; sparse members are refused) and the bytes actually written
must stay under ``max_bytes`` (default ``EXPANSION_LIMIT`` times the archive's
size). Extraction goes into a temporary folder next to ``dest`` that is renamed
into place, so an interrupted run never leaves a half-extracted ``dest``.
Nothing is ever unpickled.
"""

from __future__ import annotations

import gzip
import io
import os
import posixpath
import shutil
import tarfile
import zipfile
from pathlib import Path

from ..errors import StorageError, UnsafeArchiveError
from .tempdirs import make_temp_dir

GZIP_MAGIC = b"\x1f\x8b"
EXPANSION_LIMIT = 100  # default cap: extracted bytes per byte of archive
MAX_LINK_HOPS = 40


def open_maybe_gzip(path: str | Path) -> io.BufferedIOBase:
    """Open ``path`` for binary reading, decompressing when it is gzip (by content, not name).

    Builders use it so a resource works both as published (``x.gz``) and as
    the decompressed alternate imported with ``dmzoo prepare --from``.
    """
    return gzip.open(path, "rb") if is_gzip(path) else open(path, "rb")


def is_gzip(path: str | Path) -> bool:
    """Whether the file starts with gzip's magic bytes (its name is not trusted)."""
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


def _unsafe(archive: Path, member: str, why: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(f"refusing to extract {archive}: member {member!r} {why}; "
                              "the archive is malicious or corrupt, nothing was extracted")


def _check_name(archive: Path, name: str) -> str:
    """The member's normalised relative path, or raise if it could land outside."""
    if not name or "\x00" in name:
        raise _unsafe(archive, name, "has an empty or invalid name")
    unix = name.replace("\\", "/")
    if unix.startswith("/") or (len(unix) > 1 and unix[1] == ":"):
        raise _unsafe(archive, name, "has an absolute path")
    if ".." in unix.split("/"):
        raise _unsafe(archive, name, "contains '..'")
    norm = posixpath.normpath(unix)
    return "" if norm == "." else norm


class _Outside(Exception):
    pass


def _resolve(parts: list[str], links: dict[str, str]) -> list[str]:
    """Components of the path ``parts`` after following ``links``; raise if it leaves the root."""
    out: list[str] = []
    todo = list(parts)
    hops = 0
    while todo:
        part = todo.pop(0)
        if part in ("", "."):
            continue
        if part == "..":
            if not out:
                raise _Outside
            out.pop()
            continue
        out.append(part)
        target = links.get("/".join(out))
        if target is not None:
            hops += 1
            if hops > MAX_LINK_HOPS or target.startswith("/"):
                raise _Outside
            out.pop()
            todo = target.split("/") + todo
    return out


def _link_escapes(name: str, member: tarfile.TarInfo, links: dict[str, str]) -> bool:
    start = posixpath.dirname(name).split("/") if member.issym() else []
    try:
        _resolve(start + member.linkname.replace("\\", "/").split("/"), links)
    except _Outside:
        return True
    return False


def check_tar(archive: Path, tar: tarfile.TarFile, max_bytes: int | None = None
              ) -> list[tarfile.TarInfo]:
    """Validate every member of ``tar`` (see module docstring); return the members."""
    members = tar.getmembers()
    names = [_check_name(archive, m.name) for m in members]
    symlinks = {n: m.linkname for m, n in zip(members, names, strict=True) if m.issym()}
    links = {n for m, n in zip(members, names, strict=True) if m.issym() or m.islnk()}
    seen: set[str] = set()
    accepted: dict[str, str] = {}
    total = 0
    for m, name in zip(members, names, strict=True):
        parents = name.split("/")[:-1]
        if any("/".join(parents[: i + 1]) in links for i in range(len(parents))):
            raise _unsafe(archive, m.name, "is reached through a link")
        if name in seen and name in links:
            raise _unsafe(archive, m.name, "appears twice, once as a link")
        seen.add(name)
        if m.issym() or m.islnk():
            kind = "symlink" if m.issym() else "hard link"
            if m.linkname.startswith("/") or _link_escapes(name, m, accepted) or _link_escapes(
                    name, m, symlinks):
                raise _unsafe(archive, m.name, f"is a {kind} pointing outside "
                                               f"({m.linkname!r}, resolved through the archive's links)")
            if m.issym():
                accepted[name] = m.linkname
        elif m.issparse():
            raise _unsafe(archive, m.name, "is a sparse file (its size cannot be checked)")
        elif not (m.isfile() or m.isdir()):
            raise _unsafe(archive, m.name, "is a device, FIFO or other special file")
        total += m.size if m.isfile() else 0
        if max_bytes is not None and total > max_bytes:
            raise _bomb(archive, f"its members add up to more than {max_bytes} bytes")
    return members


def _bomb(archive: Path, why: str) -> UnsafeArchiveError:
    return UnsafeArchiveError(f"refusing to extract {archive}: {why}, far more than an archive "
                              f"of its size should hold (an archive bomb?); nothing was kept")


def check_zip(archive: Path, zf: zipfile.ZipFile, max_bytes: int | None = None) -> None:
    total = 0
    for info in zf.infolist():
        _check_name(archive, info.filename)
        total += info.file_size  # zipfile stops reading a member at this size
        if max_bytes is not None and total > max_bytes:
            raise _bomb(archive, f"its members add up to more than {max_bytes} bytes")


def _copy_capped(src: io.BufferedIOBase, dst: io.BufferedIOBase, archive: Path, max_bytes: int | None) -> None:
    written = 0
    while chunk := src.read(1 << 20):
        written += len(chunk)
        if max_bytes is not None and written > max_bytes:
            raise _bomb(archive, f"it decompresses to more than {max_bytes} bytes")
        dst.write(chunk)


def _extract_into(archive: Path, tmp: Path, max_bytes: int | None) -> None:
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tar:
            members = check_tar(archive, tar, max_bytes)
            if hasattr(tarfile, "data_filter"):  # Python >= 3.12, 3.11.4, 3.10.12
                tar.extractall(tmp, members=members, filter="data")
            else:
                tar.extractall(tmp, members=members)  # noqa: S202 - checked above
    elif zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            check_zip(archive, zf, max_bytes)
            zf.extractall(tmp)
    else:
        if not is_gzip(archive):
            raise StorageError(f"{archive} is not a tar, zip or gzip file; "
                               "nothing to extract (read it directly instead)")
        name = archive.name[:-3] if archive.name.endswith(".gz") else archive.name + ".out"
        with gzip.open(archive, "rb") as src, open(tmp / name, "wb") as dst:
            _copy_capped(src, dst, archive, max_bytes)


def default_cap(archive: Path) -> int:
    """``EXPANSION_LIMIT`` times the archive's (verified, so expected) size, at least 1 MiB."""
    return max(archive.stat().st_size * EXPANSION_LIMIT, 1 << 20)


def extract(archive: str | Path, dest: str | Path, *, max_bytes: int | None = None) -> Path:
    """Extract ``archive`` (tar/zip/gzip, by content) into ``dest``; return ``dest``.

    ``dest`` may exist (e.g. a builder's ``out_dir``); an entry already there is
    never overwritten (:class:`StorageError`). ``max_bytes`` caps the extracted size
    (default :func:`default_cap`); past it, :class:`UnsafeArchiveError`.
    """
    archive, dest = Path(archive), Path(dest)
    cap = default_cap(archive) if max_bytes is None else max_bytes
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = make_temp_dir(dest.parent, f".{dest.name}.extract-")
    try:
        try:
            _extract_into(archive, tmp, cap)
        except _filter_errors() as exc:
            raise UnsafeArchiveError(f"refusing to extract {archive}: {exc}; the archive is "
                                     "malicious or corrupt, nothing was kept") from None
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, gzip.BadGzipFile) as exc:
            raise StorageError(f"{archive} is damaged ({type(exc).__name__}: {exc}); "
                               f"delete {archive} and download it again") from None
        if not dest.exists():
            os.replace(tmp, dest)
            return dest
        for entry in sorted(tmp.iterdir()):
            if (dest / entry.name).exists() or (dest / entry.name).is_symlink():
                raise StorageError(f"extracting {archive} would overwrite {dest / entry.name}; "
                                   "extract into an empty folder")
        for entry in sorted(tmp.iterdir()):
            os.replace(entry, dest / entry.name)
        return dest
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _filter_errors() -> tuple[type[BaseException], ...]:
    """``tarfile.FilterError`` where the data filter exists (it means unsafe, not damaged)."""
    error = getattr(tarfile, "FilterError", None)
    return (error,) if error is not None else ()
