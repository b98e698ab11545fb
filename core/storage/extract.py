"""Safe extraction of tar, zip and gzip files, plus reading a file that may be gzipped.

Every member is checked before anything is written: absolute paths, ``..``,
links leading outside, members reached through a link, and device files are
rejected with :class:`UnsafeArchiveError`. Extraction goes into a temporary
folder next to ``dest`` that is renamed into place, so an interrupted run
never leaves a half-extracted ``dest``. Nothing is ever unpickled.
"""

from __future__ import annotations

import gzip
import os
import posixpath
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import IO

from ..errors import StorageError, UnsafeArchiveError

GZIP_MAGIC = b"\x1f\x8b"


def open_maybe_gzip(path: str | Path) -> IO[bytes]:
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


def _inside(target: str) -> bool:
    norm = posixpath.normpath(target)
    return not (norm.startswith("/") or norm == ".." or norm.startswith("../"))


def check_tar(archive: Path, tar: tarfile.TarFile) -> list[tarfile.TarInfo]:
    """Validate every member of ``tar`` (see module docstring); return the members."""
    members = tar.getmembers()
    names = [_check_name(archive, m.name) for m in members]
    links = {n for m, n in zip(members, names, strict=True) if m.issym() or m.islnk()}
    for m, name in zip(members, names, strict=True):
        parents = name.split("/")[:-1]
        if any("/".join(parents[: i + 1]) in links for i in range(len(parents))):
            raise _unsafe(archive, m.name, "is reached through a link")
        if m.issym():
            if m.linkname.startswith("/") or not _inside(
                    posixpath.join(posixpath.dirname(name), m.linkname)):
                raise _unsafe(archive, m.name, f"is a symlink pointing outside ({m.linkname!r})")
        elif m.islnk():
            if m.linkname.startswith("/") or not _inside(m.linkname):
                raise _unsafe(archive, m.name, f"is a hard link pointing outside ({m.linkname!r})")
        elif not (m.isfile() or m.isdir()):
            raise _unsafe(archive, m.name, "is a device, FIFO or other special file")
    return members


def check_zip(archive: Path, zf: zipfile.ZipFile) -> None:
    for info in zf.infolist():
        _check_name(archive, info.filename)


def _extract_into(archive: Path, tmp: Path) -> None:
    if tarfile.is_tarfile(archive):
        with tarfile.open(archive) as tar:
            members = check_tar(archive, tar)
            if hasattr(tarfile, "data_filter"):  # Python >= 3.12, 3.11.4, 3.10.12
                tar.extractall(tmp, members=members, filter="data")
            else:
                tar.extractall(tmp, members=members)  # noqa: S202 - checked above
    elif zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as zf:
            check_zip(archive, zf)
            zf.extractall(tmp)
    else:
        if not is_gzip(archive):
            raise StorageError(f"{archive} is not a tar, zip or gzip file; "
                               "nothing to extract (read it directly instead)")
        name = archive.name[:-3] if archive.name.endswith(".gz") else archive.name + ".out"
        with gzip.open(archive, "rb") as src, open(tmp / name, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)


def extract(archive: str | Path, dest: str | Path) -> Path:
    """Extract ``archive`` (tar/zip/gzip, by content) into ``dest``; return ``dest``.

    ``dest`` may exist (e.g. a builder's ``out_dir``); an entry already there is
    never overwritten (:class:`StorageError`).
    """
    archive, dest = Path(archive), Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.extract-", dir=dest.parent))
    try:
        try:
            _extract_into(archive, tmp)
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, gzip.BadGzipFile) as exc:
            raise StorageError(f"{archive} is damaged ({type(exc).__name__}: {exc}); "
                               "delete it and download it again") from None
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
