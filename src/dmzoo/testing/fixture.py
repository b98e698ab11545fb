"""Tiny fixture data: how a spec says "build me offline, on a few examples".

``DataModuleSpec.fixture`` is a ``"package.module:function"`` string. The
function is called as ``function(folder)`` (or ``function(folder, spec)`` when
it takes a second parameter) where ``folder`` is an empty, writable
:class:`~pathlib.Path` owned by the caller. It writes whatever tiny data the
datamodule needs there (a few KiB, well under a second) and returns the
constructor keyword arguments that make the datamodule work on that data with
no network, e.g. ``{"data_dir": folder, "batch_size": 8}``. They are merged
over ``spec.default_kwargs`` exactly like ``load_datamodule`` merges the
user's. A spec without resources (generated data) may omit the fixture: its
default arguments are used as they are.
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from ..core.errors import PluginError
from ..core.spec import CLASS_PATH_RE, DataModuleSpec
from ..core.storage import import_from
from ..registry.loading import import_object, instantiate


def fixture_function(spec: DataModuleSpec) -> Any | None:
    """Import the spec's fixture function (None when the spec declares none)."""
    if spec.fixture is None:
        return None
    if not isinstance(spec.fixture, str) or not CLASS_PATH_RE.match(spec.fixture):
        raise PluginError(f"{spec.ref}: fixture {spec.fixture!r} must be a "
                          "'package.module:function' string")
    try:
        obj = import_object(spec.fixture)
    except Exception as exc:
        raise PluginError(f"{spec.ref}: cannot import fixture {spec.fixture!r}: "
                          f"{type(exc).__name__}: {exc}") from exc
    if not callable(obj):
        raise PluginError(f"{spec.ref}: fixture {spec.fixture!r} is not callable")
    return obj


def fixture_kwargs(spec: DataModuleSpec, folder: str | Path) -> dict[str, Any]:
    """Run the spec's fixture in ``folder``; return its kwargs (without the spec defaults)."""
    func = fixture_function(spec)
    if func is None:
        if spec.resources:
            raise PluginError(
                f"{spec.ref} downloads {len(spec.resources)} file(s) but declares no fixture, so "
                "it cannot be checked offline; add fixture='your_pkg.module:function' to its "
                "spec (see dmzoo.testing.fixture)"
            )
        return {}
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    takes_spec = len(inspect.signature(func).parameters) >= 2
    kwargs = func(folder, spec) if takes_spec else func(folder)
    if not isinstance(kwargs, Mapping):
        raise PluginError(f"{spec.ref}: fixture {spec.fixture!r} returned "
                          f"{type(kwargs).__name__}; it must return a dict of constructor kwargs")
    return dict(kwargs)


@contextlib.contextmanager
def offline_home(folder: str | Path) -> Iterator[Path]:
    """Run with ``DMZOO_OFFLINE=1`` and a private ``DMZOO_HOME`` (restored afterwards).

    The checks use it so a datamodule that still reaches for the network or the
    user's cache fails loudly instead of passing by accident.
    """
    home = Path(folder) / "dmzoo_home"
    with _environment(DMZOO_OFFLINE="1", DMZOO_HOME=str(home)):
        yield home


@contextlib.contextmanager
def _environment(**values: str) -> Iterator[None]:
    """Set environment variables for the block, then restore (or remove) each one."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def fixture_from_files(
    spec: DataModuleSpec,
    folder: str | Path,
    files: Mapping[str, bytes],
    *,
    data_dir_arg: str = "data_dir",
    **kwargs: Any,
) -> dict[str, Any]:
    """Prepare a downloading datamodule offline from tiny stand-ins of its resources.

    For a fixture function of a spec with ``resources``: ``files`` maps each
    resource filename to tiny bytes in the upstream format. They are imported
    through the real storage path (``import_from`` + a ``DMZOO_CHECKSUMS`` file
    naming their sha256, so verification still runs) and the datamodule's own
    ``prepare_data()`` builds them into ``folder/"data"``. Returns the kwargs
    (``data_dir`` + ``kwargs``) that reuse that prepared copy with no network.
    """
    folder = Path(folder)
    upstream = folder / "upstream"
    upstream.mkdir(parents=True, exist_ok=True)
    lines = []
    for name, data in files.items():
        (upstream / name).write_bytes(data)
        lines.append(f"{spec.namespace}/{spec.name}/{name}\t{len(data)}\t"
                     f"{hashlib.sha256(data).hexdigest()}")
    table = folder / "checksums.tsv"
    table.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = {**kwargs, data_dir_arg: str(folder / "data")}
    with _environment(DMZOO_CHECKSUMS=str(table)), import_from(upstream):
        instantiate(spec, dict(out)).prepare_data()
    return out
