"""Digests, verification, and the ``DMZOO_CHECKSUMS`` override file.

The override file lets tests (and users with a patched upstream) supply other
checksums without weakening verification: every override carries a sha256.
Format, one file per line, ``#`` comments and blank lines ignored::

    # key<TAB>size<TAB>sha256
    mnist/train-images-idx3-ubyte.gz	9912422	440fcabf...
    train-images-idx3-ubyte	47040016	ba891046...
    https://example.org/data/adult.data	3974305	5b00264c...

``key`` is a resource file name, an alternate's file name, either qualified as
``name/file`` or ``namespace/name/file`` (most specific wins), or a resource URL.
``size`` may be empty (size not checked). Columns are separated by tabs or spaces.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import ChecksumError, StorageError
from ..settings import env_str
from ..spec import HEX_RE

if TYPE_CHECKING:
    from ..spec import DataModuleSpec, Resource

Override = tuple[int | None, str]  # (size or None, "algo:hexdigest") from a DMZOO_CHECKSUMS row
CHUNK = 1 << 20
Expect = tuple[int | None, str, str]  # size, algo, hex digest


def digest(path: str | Path, algo: str = "sha256") -> str:
    """Hex digest of a file, read in 1 MiB chunks."""
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


def expected_digest(resource: Resource) -> tuple[str, str]:
    """``(algo, hex)``: sha256 where known, else md5 (what upstream publishes)."""
    if resource.sha256:
        return "sha256", resource.sha256
    if resource.md5:
        return "md5", resource.md5
    raise ChecksumError(f"resource {resource.filename!r} has no checksum; dmzoo never "
                        "accepts an unverified file (add sha256 or md5 to the spec)")


def accepted_forms(resource: Resource) -> list[tuple[str, Expect]]:
    """Every accepted (file name, expectation): the published file, then alternates."""
    forms = [(resource.filename, (resource.size, *expected_digest(resource)))]
    for alt in resource.alternates:
        forms.extend((name, (alt.size, "sha256", alt.sha256)) for name in alt.filenames)
    return forms


def verify(path: Path, resource: Resource, *, label: str | None = None) -> None:
    """Raise :class:`ChecksumError` unless ``path`` has the resource's size and digest."""
    check(path, resource.size, *expected_digest(resource), label=label or str(path))


def check(path: Path, size: int | None, algo: str, expected: str, *, label: str) -> None:
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        raise ChecksumError(f"{label}: size is {actual_size} bytes, expected {size}; "
                            "it is truncated or a different file")
    actual = digest(path, algo)
    if actual != expected:
        raise ChecksumError(f"{label}: {algo} is {actual}, expected {expected}; "
                            "the file is corrupt or a different version")


# -- DMZOO_CHECKSUMS ------------------------------------------------------------------------
@lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> dict[str, Override]:
    table: dict[str, Override] = {}
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise StorageError(f"DMZOO_CHECKSUMS={path} cannot be read ({exc}); "
                           "fix the path or unset the variable") from None
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cols = line.split("\t") if "\t" in line else line.split()
        cols = [c.strip() for c in cols]
        if len(cols) != 3 or not HEX_RE["sha256"].match(cols[2]) or not (
                cols[1] == "" or cols[1].isdigit()):
            raise StorageError(f"DMZOO_CHECKSUMS={path} line {number} is {line!r}; expected "
                               "'key<TAB>size<TAB>sha256' with a lowercase hex sha256 "
                               "(size may be empty)")
        table[cols[0]] = (int(cols[1]) if cols[1] else None, cols[2])
    return table


def overrides() -> dict[str, Override]:
    """The parsed ``DMZOO_CHECKSUMS`` file, or ``{}`` when unset."""
    path = env_str("DMZOO_CHECKSUMS")
    if not path:
        return {}
    try:
        mtime = os.stat(path).st_mtime
    except OSError:
        mtime = -1.0
    return _load(path, mtime)


def lookup(table: dict[str, Override], spec: DataModuleSpec, filename: str,
           urls: Iterable[str] = ()) -> Override | None:
    for key in (f"{spec.namespace}/{spec.name}/{filename}", f"{spec.name}/{filename}",
                *urls, filename):
        if key in table:
            return table[key]
    return None


def effective(spec: DataModuleSpec, resource: Resource) -> Resource:
    """``resource`` with any ``DMZOO_CHECKSUMS`` override applied (itself and alternates)."""
    table = overrides()
    if not table:
        return resource
    hit = lookup(table, spec, resource.filename, resource.urls)
    if hit is not None:
        resource = replace(resource, size=hit[0], sha256=hit[1], md5=None)
    alternates = []
    for alt in resource.alternates:
        alt_hit = next((h for n in alt.filenames if (h := lookup(table, spec, n))), None)
        alternates.append(replace(alt, size=alt_hit[0], sha256=alt_hit[1]) if alt_hit else alt)
    return replace(resource, alternates=tuple(alternates))
