"""``dmzoo new-plugin NAME``: write a complete, installable plugin package that passes the checks.

The generated package holds one generated-data datamodule (Gaussian blobs) with
a spec, a fixture, a split fingerprint, a conformance test and a README: a
working starting point to replace with real data.
"""

from __future__ import annotations

import re
from pathlib import Path

from ..core.spec import normalize_name
from .errors import ScaffoldError

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def package_names(name: str) -> dict[str, str]:
    """Distribution, import package and namespace for plugin ``name``."""
    norm = normalize_name(name)
    if norm.startswith("dmzoo_"):
        norm = norm[len("dmzoo_"):]
    if not _NAME_RE.match(norm):
        raise ScaffoldError(f"plugin name {name!r} is not usable: use letters, digits, '-' or '_', "
                            "starting with a letter (e.g. 'acme-vision')")
    return {"dist": "dmzoo-" + norm.replace("_", "-"), "package": f"dmzoo_{norm}", "namespace": norm}


def new_plugin(name: str, parent: str | Path = ".", *, datamodule: str = "blobs") -> Path:
    """Create ``parent/dmzoo-NAME`` and return it; an existing folder is never touched."""
    names = package_names(name)
    dm_name = normalize_name(datamodule)
    if not _NAME_RE.match(dm_name):
        raise ScaffoldError(f"datamodule name {datamodule!r} must start with a letter and hold "
                            "only letters, digits and '_'")
    root = Path(parent) / names["dist"]
    if root.exists():
        raise ScaffoldError(f"{root} already exists; choose another name or folder "
                            "(nothing was changed)")
    if not Path(parent).is_dir():
        raise ScaffoldError(f"{parent} is not a folder; create it first or pass another --dir")
    values = {**names, "name": dm_name, "cls": "".join(p.title() for p in dm_name.split("_"))}
    files = {rel.format(**values): text.format(**values) for rel, text in TEMPLATES.items()}
    root.mkdir()
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


# Templates: ``{name}`` fields are filled in; ``{{`` / ``}}`` are literal braces.
TEMPLATES: dict[str, str] = {
    "pyproject.toml": '''\
[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "dmzoo datamodules in the '{namespace}' namespace."
readme = "README.md"
requires-python = ">=3.10"
dependencies = ["dmzoo"]

[project.optional-dependencies]
test = ["pytest>=7", "lightning>=2.1"]

[project.entry-points.dmzoo]
{namespace} = "{package}.plugin"

[tool.setuptools]
packages = ["{package}"]
''',
    "README.md": '''\
# {dist}

dmzoo datamodules in the `{namespace}` namespace.

    pip install -e .
    dmzoo list '{namespace}/*'
    dmzoo check {namespace}           # the dmzoo conformance checks
    pytest                            # the same, one test per check

```python
import dmzoo
dm = dmzoo.load_datamodule("{namespace}/{name}", batch_size=32)
```

Add a datamodule: write its class (subclass `dmzoo.DataModule`), add a
`DataModuleSpec` to `plugin.py` (class named as a `"module:Class"` string, so
listing stays cheap), and a `fixture` that makes tiny data offline.
''',
    "{package}/__init__.py": '''\
"""dmzoo plugin package for the '{namespace}' namespace (imports nothing heavy)."""
''',
    "{package}/plugin.py": '''\
"""Entry point (group ``dmzoo``): static specs only, no torch and no datamodule import."""

from __future__ import annotations

from dmzoo import DataModuleSpec, Feature, Split, hookimpl


@hookimpl
def dmzoo_datamodule_specs() -> list[DataModuleSpec]:
    return [
        DataModuleSpec(
            name="{name}",
            version="0.1.0",
            namespace="{namespace}",
            cls="{package}.datamodule:{cls}DataModule",
            summary="Gaussian blobs (replace with your data).",
            task="tabular-classification",
            splits=(Split("train", 400), Split("val", 100)),
            features=(Feature("x", (2,), "float32"), Feature("y", (), "int64", classes=("a", "b"))),
            supervised_keys=("x", "y"),
            fixture="{package}.fixtures:tiny",
            release_notes={{"0.1.0": "First release."}},
        ),
    ]
''',
    "{package}/datamodule.py": '''\
"""The {name} datamodule: data held in memory, splits fixed by ``seed``."""

from __future__ import annotations

import hashlib
from typing import Any

import torch
from torch.utils.data import DataLoader, TensorDataset

import dmzoo


class {cls}DataModule(dmzoo.DataModule):
    """``n`` points in two blobs; batches are ``(x[B, 2], y[B])``; 20% held out for val."""

    def __init__(self, n: int = 500, batch_size: int = 32, seed: int = 0) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.n, self.batch_size, self.seed = n, batch_size, seed

    def _split(self) -> tuple[torch.Tensor, torch.Tensor]:
        order = torch.randperm(self.n, generator=torch.Generator().manual_seed(self.seed))
        cut = self.n - self.n // 5
        return order[:cut].sort().values, order[cut:].sort().values

    def fingerprint(self) -> str:
        train, val = self._split()
        return hashlib.sha256(train.numpy().tobytes() + val.numpy().tobytes()).hexdigest()[:16]

    def setup(self, stage: str | None = None) -> None:
        g = torch.Generator().manual_seed(self.seed)
        y = torch.arange(self.n) % 2
        x = torch.randn(self.n, 2, generator=g) + 3 * y[:, None].float()
        train, val = self._split()
        self.train_set = TensorDataset(x[train], y[train])
        self.val_set = TensorDataset(x[val], y[val])

    def train_dataloader(self) -> DataLoader:
        g = torch.Generator().manual_seed(self.seed)
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True, generator=g)

    def val_dataloader(self) -> DataLoader:
        return DataLoader(self.val_set, batch_size=self.batch_size)

    def state_dict(self) -> dict[str, Any]:
        return {{**super().state_dict(), "split_fingerprint": self.fingerprint()}}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        super().load_state_dict(state)
        if state.get("split_fingerprint") not in (None, self.fingerprint()):
            raise dmzoo.errors.SplitMismatchError(
                "the checkpoint was made with other {name} splits; use the same n and seed")
''',
    "{package}/fixtures.py": '''\
"""Tiny fixture data for dmzoo.testing: kwargs that work offline on a few examples."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def tiny(folder: Path) -> dict[str, Any]:
    return {{"n": 40, "batch_size": 8}}
''',
    "tests/test_conformance.py": '''\
"""dmzoo's conformance checks, one test per (datamodule version, check)."""

from dmzoo.testing import parametrize_checks


@parametrize_checks("{namespace}")
def test_conformance(dmzoo_check):
    dmzoo_check()
''',
}
