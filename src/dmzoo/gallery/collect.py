"""Everything one gallery page shows, collected from the live registry at build time.

Because it reads the registry (entry points plus in-process registrations), the gallery
covers every installed plugin, third-party ones included, with no list to maintain.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ..core.spec import DataModuleSpec
from ..registry import get_registry
from ..registry.discovery import PluginInfo
from ..registry.loading import import_class
from .params import Param, constructor_params
from .samples import Samples, gather


@dataclass
class Provider:
    """The plugin that registered a datamodule and the distribution that ships it."""

    label: str
    entry_point: str = ""
    module: str = ""
    distribution: str = ""
    version: str = ""


@dataclass
class Entry:
    """One datamodule: its default spec, all versions, provider, parameters and samples."""

    spec: DataModuleSpec
    versions: list[DataModuleSpec]
    default_version: str
    release_notes: dict[str, str]
    provider: Provider
    params: list[Param] = field(default_factory=list)
    samples: Samples = field(default_factory=Samples)
    problems: list[str] = field(default_factory=list)

    @property
    def slug(self) -> str:
        """Path of the page under the gallery folder, without suffix: ``namespace/name``."""
        return f"{self.spec.namespace}/{self.spec.name}"

    @property
    def image_slug(self) -> str:
        """File name of the sample image, without suffix: ``namespace--name`` (one folder)."""
        return self.slug.replace("/", "--")

    @property
    def total_examples(self) -> int:
        return sum(s.num_examples for s in self.spec.splits)


@dataclass
class Gallery:
    entries: list[Entry]
    plugin_failures: list[str]


def wants_prepare(spec: DataModuleSpec, prepare: bool | Sequence[str]) -> bool:
    """``prepare`` is True/False or fnmatch patterns over ``name`` / ``namespace/name``."""
    if isinstance(prepare, bool):
        return prepare
    return any(fnmatch.fnmatchcase(spec.name, p) or fnmatch.fnmatchcase(spec.qualified_name, p)
               for p in prepare)


def collect(
    image_dir: Path,
    *,
    prepare: bool | Sequence[str] = False,
    data_dir: str | Path | None = None,
) -> Gallery:
    """Build an :class:`Entry` per registered datamodule; sample grids go to ``image_dir``."""
    registry = get_registry()
    entries = []
    for namespace, name in registry.datamodule_keys():
        versions = registry.versions(namespace, name)
        spec = registry.default_version(namespace, name)
        notes: dict[str, str] = {}
        for v in versions:  # a note may live on any version's spec; the newest wording wins
            notes.update(v.release_notes)
        entry = Entry(spec, versions, spec.version, notes, _provider(spec, registry.plugins))
        entry.params = _params(entry)
        entry.samples = gather(spec, image_dir / f"{entry.image_slug}.png",
                               prepare=wants_prepare(spec, prepare), data_dir=data_dir)
        entry.problems += entry.samples.problems
        entries.append(entry)
    failures = [str(f) for f in registry.failures]
    return Gallery(entries, failures)


def _provider(spec: DataModuleSpec, plugins: Sequence[PluginInfo]) -> Provider:
    """The distribution behind ``spec.plugin``, and its entry point when that is unambiguous.

    Specs are labelled with their distribution; one distribution may hold several entry
    points (dmzoo ships ``vision`` and ``tabular``), told apart by the package of the class.
    """
    same = [p for p in plugins if (p.distribution or p.name) == spec.plugin]
    if not same:
        return Provider(spec.plugin or "<unknown>")
    module = spec.cls.partition(":")[0]
    owners = [p for p in same if module.startswith(p.module.partition(":")[0].rpartition(".")[0] + ".")]
    dist = same[0]
    if len(same) == 1 or len(owners) == 1:
        p = same[0] if len(same) == 1 else owners[0]
        return Provider(spec.plugin, p.name, p.module, p.distribution, p.version)
    return Provider(spec.plugin, distribution=dist.distribution, version=dist.version)


def _params(entry: Entry) -> list[Param]:
    try:
        return constructor_params(import_class(entry.spec), entry.spec.default_kwargs)
    except Exception as exc:
        entry.problems.append(f"could not read the constructor parameters: {type(exc).__name__}: {exc}")
        return []
