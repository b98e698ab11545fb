"""What discovery found, saved so that a new process knows every spec without importing plugins.

Discovery imports each plugin and calls its spec hook: about 10 ms with the first-party
plugins, half of a warm tabular start. When nothing discovery depended on has changed, a
new process reads the plugins and specs back from ``<cache root>/.registry/`` and imports
a plugin only when one of its other hooks is called (:class:`~dmzoo.registry.Registry`).

"Nothing changed" is checked with ``stat`` alone, no import and no entry-point scan:

- the interpreter, dmzoo's version and ``sys.path``;
- the modification time of every ``sys.path`` folder (pip adds or removes a
  ``*.dist-info`` there when it installs, upgrades or removes a plugin);
- the size and modification time of every module file of each plugin's top-level package
  and of every module discovery imported (an edited plugin, an editable install).

A spec hook must therefore answer from its code alone (``docs/write_plugin.rst``). As git
does for its index, nothing is saved while a watched file or folder is under two seconds
old (a coarse clock could hide a change made in the same tick). A discovery with any
failure is never saved, so a broken plugin is reported in every process; a damaged or
foreign file is ignored and rewritten. Saving never creates the cache root: a process
that only lists, or fails on a bad argument, leaves no folder behind. ``DMZOO_DISCOVERY_CACHE=0`` turns all this off,
and ``dmzoo doctor`` always discovers afresh.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.settings import env_flag, env_str
from ..core.spec import DataModuleSpec
from .discovery import PluginInfo

FORMAT = 1
RACY_SECONDS = 2.0  # a watched path modified this recently is not trusted yet
Stat = tuple[int, int]  # (size, mtime in ns); (-1, -1) for a path that is not there


@dataclass(frozen=True)
class Discovered:
    """The entry-point plugins, the hooks each implements, and the specs they answered."""

    plugins: list[PluginInfo]
    hooks: dict[str, list[str]]
    specs: list[DataModuleSpec]


def enabled() -> bool:
    return env_str("DMZOO_DISCOVERY_CACHE") == "" or env_flag("DMZOO_DISCOVERY_CACHE")


def cache_file() -> Path:
    """One file per Python environment, under the cache root (never a plugin's choice)."""
    home = env_str("DMZOO_HOME")
    if home:
        root = Path(home).expanduser()
    else:
        from ..core.storage.paths import default_root

        root = default_root()
    env = hashlib.sha256(sys.prefix.encode()).hexdigest()[:16]
    return root / ".registry" / f"discovery-{env}.json"


def _stat(path: str) -> Stat:
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1)
    return (st.st_size, st.st_mtime_ns)


def _environment() -> dict[str, Any]:
    from .. import __version__

    entries = [p or os.getcwd() for p in sys.path]
    return {"format": FORMAT, "python": sys.version, "executable": sys.executable,
            "dmzoo": __version__, "sys_path": entries,
            "sys_path_mtimes": [_stat(p)[1] for p in entries]}


class Watch:
    """Started before discovery: notes which modules it imports, then saves what it found."""

    def __init__(self) -> None:
        self.modules_before = set(sys.modules)

    def _watched_files(self, plugins: Iterable[PluginInfo]) -> list[str] | None:
        """Module files discovery depended on; None if a plugin module has no file."""
        tops = {p.module.partition(":")[0].split(".")[0] for p in plugins}
        files = set()
        for name, module in list(sys.modules.items()):
            if name not in self.modules_before or name.split(".")[0] in tops:
                path = getattr(module, "__file__", None)
                if path:
                    files.add(os.path.abspath(path))
                elif name in tops:
                    return None  # e.g. a namespace package: its changes cannot be seen
        return sorted(files)

    def save(self, found: Discovered) -> None:
        """Write ``found`` atomically; skipped (silently: it is only a speed-up) when a
        watched path is too fresh to trust, or the cache root is not there (yet) or
        cannot be written."""
        files = self._watched_files(found.plugins)
        try:
            specs = json.loads(json.dumps([s.to_dict() for s in found.specs]))
            exact = [DataModuleSpec.from_dict(d) for d in specs] == found.specs
        except (TypeError, ValueError):  # a default kwarg JSON cannot hold (a Path, ...)
            return
        if files is None or not exact:
            return  # unwatchable, or JSON does not carry a spec exactly (a tuple kwarg)
        environment = _environment()
        stats = {f: _stat(f) for f in files}
        newest = max([m for _, m in stats.values()] + environment["sys_path_mtimes"])
        if newest > time.time_ns() - RACY_SECONDS * 1e9:
            return
        text = json.dumps({
            "environment": environment,
            "files": [[f, *st] for f, st in stats.items()],
            "plugins": [vars(p) for p in found.plugins],
            "hooks": found.hooks,
            "specs": specs,
        })
        target = cache_file()
        if not target.parent.parent.is_dir():
            return  # a cache root is made by storing data, never by listing
        try:
            target.parent.mkdir(exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=target.parent, prefix=".tmp-",
                                             delete=False, encoding="utf-8") as tmp:
                tmp.write(text)
            os.replace(tmp.name, target)
        except OSError:
            return


def load() -> Discovered | None:
    """The saved discovery if every watched path is as it was; else None."""
    try:
        data = json.loads(cache_file().read_text(encoding="utf-8"))
        if data["environment"] != _environment():
            return None
        if any(_stat(path) != (size, mtime) for path, size, mtime in data["files"]):
            return None
        return Discovered(plugins=[PluginInfo(**p) for p in data["plugins"]],
                          hooks={str(k): [str(h) for h in v] for k, v in data["hooks"].items()},
                          specs=[DataModuleSpec.from_dict(s).validate() for s in data["specs"]])
    except Exception:  # missing, damaged or foreign: discover afresh (and rewrite it)
        return None


def forget() -> None:
    """Remove the saved discovery (a plugin it listed failed to import after all)."""
    try:
        cache_file().unlink()
    except OSError:
        pass
