"""Layers point one way: ``core`` (the contract) never imports ``registry`` (which builds
on it), not even inside a function; the registry gives core what it needs
(``dmzoo.core.plugin_answers``)."""

from __future__ import annotations

import ast
from pathlib import Path

import dmzoo.core

CORE = Path(dmzoo.core.__path__[0])


def module_name(path: Path) -> str:
    """``dmzoo.core.x.y`` for ``core/x/y.py`` (``__init__`` kept, as a relative import's
    anchor)."""
    return "dmzoo." + ".".join(path.relative_to(CORE.parent).with_suffix("").parts)


def imported_modules(path: Path, package: str) -> list[tuple[int, str]]:
    """``(line, absolute module name)`` of every import in ``path`` (module ``package``),
    at any depth."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:-node.level]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names]
    return found


def test_core_never_imports_the_registry():
    files = sorted(CORE.rglob("*.py"))
    assert len(files) > 20 and CORE.name == "core"
    bad = [f"{path.relative_to(CORE.parent)}:{line} imports {name}"
           for path in files for line, name in imported_modules(path, module_name(path))
           if name == "dmzoo.registry" or name.startswith("dmzoo.registry.")]
    assert bad == []


def test_the_import_walk_sees_relative_and_nested_imports(tmp_path):
    """The check above would catch the imports it forbids, wherever they hide."""
    probe = tmp_path / "probe.py"
    probe.write_text("from ..spec import DataModuleSpec\n"
                     "def f():\n    from ...registry import get_registry\n"
                     "    import dmzoo.registry.index\n", encoding="utf-8")
    names = [name for _, name in imported_modules(probe, "dmzoo.core.storage.probe")]
    assert names == ["dmzoo.core.spec.DataModuleSpec", "dmzoo.registry.get_registry",
                     "dmzoo.registry.index"]
