"""Static description of a datamodule: what a plugin registers.

A spec is plain data (no torch, no datamodule import), so the registry can
list, document and validate every installed datamodule cheaply. The class is
named as a ``"module:Class"`` string and imported only when instantiated.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from packaging.version import InvalidVersion, Version

from .errors import SpecError

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
NAMESPACE_RE = re.compile(r"^[a-z][a-z0-9_.-]*$")
CLASS_PATH_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")
HEX_RE = {"md5": re.compile(r"^[0-9a-f]{32}$"), "sha256": re.compile(r"^[0-9a-f]{64}$")}
TASKS = (
    "image-classification",
    "tabular-classification",
    "tabular-regression",
    "text-classification",
    "other",
)


def normalize_name(name: str) -> str:
    """Names are case-insensitive and ``-`` equals ``_``."""
    return name.strip().lower().replace("-", "_")


@dataclass(frozen=True)
class Split:
    """One split (``train``, ``test``...) and its number of examples."""

    name: str
    num_examples: int


@dataclass(frozen=True)
class Feature:
    """One field of an example: its shape (``None`` for a size known only after
    ``setup()``, as in TFDS), dtype and, for labels, class names."""

    name: str
    shape: tuple[int | None, ...] = ()
    dtype: str = "float32"
    classes: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Alternate:
    """Another accepted form of a resource, e.g. the decompressed file.

    Used by ``dmzoo prepare --from DIR``: a user who already holds
    ``MNIST/raw/train-images-idx3-ubyte`` can import it as is, still verified.
    """

    filenames: tuple[str, ...]
    sha256: str
    size: int | None = None


@dataclass(frozen=True)
class Resource:
    """One file to download. ``urls`` are tried in order (mirrors).

    ``checksum_source`` says where the digest comes from (e.g. "md5 as
    published by torchvision", "sha256 computed by dmzoo at release"), so a
    reader knows how much to trust it.
    """

    filename: str
    urls: tuple[str, ...]
    sha256: str | None = None
    md5: str | None = None
    size: int | None = None
    checksum_source: str = ""
    alternates: tuple[Alternate, ...] = ()


@dataclass(frozen=True)
class DataModuleSpec:
    """Everything dmzoo knows about one version of one datamodule."""

    name: str
    version: str
    cls: str
    namespace: str = "dmzoo"
    summary: str = ""
    description: str = ""
    homepage: str = ""
    license: str = ""
    citation: str = ""
    task: str = "other"
    tags: tuple[str, ...] = ()
    splits: tuple[Split, ...] = ()
    features: tuple[Feature, ...] = ()
    # ``(inputs, target)``: the feature names of each batch's two parts. ``inputs`` is one
    # name (batches carry that tensor) or a tuple of names (a dict of those tensors, e.g.
    # ``(("x_num", "x_cat"), "y")``), as in TFDS; see :meth:`input_keys`.
    supervised_keys: tuple[str | tuple[str, ...], str] | None = None
    resources: tuple[Resource, ...] = ()
    default_kwargs: Mapping[str, Any] = field(default_factory=dict)
    release_notes: Mapping[str, str] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    fixture: str | None = None
    plugin: str = ""

    def __post_init__(self) -> None:
        # Normalise iterables to tuples so specs stay hashable and immutable.
        for f in ("tags", "splits", "features", "resources", "aliases"):
            object.__setattr__(self, f, tuple(getattr(self, f)))
        keys = self.supervised_keys
        if isinstance(keys, (list, tuple)) and len(keys) == 2:  # JSON lists become tuples
            inputs = tuple(keys[0]) if isinstance(keys[0], list) else keys[0]
            object.__setattr__(self, "supervised_keys", (inputs, keys[1]))
        object.__setattr__(self, "name", normalize_name(self.name))
        object.__setattr__(self, "namespace", normalize_name(self.namespace))
        object.__setattr__(self, "aliases", tuple(normalize_name(a) for a in self.aliases))

    @property
    def qualified_name(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def ref(self) -> str:
        """The fully pinned reference, e.g. ``dmzoo/mnist@1.0.0``."""
        return f"{self.qualified_name}@{self.version}"

    @property
    def input_keys(self) -> tuple[str, ...] | None:
        """Keys of the inputs dict of a batch, or None when inputs is one tensor (or unknown)."""
        if not self.supervised_keys or isinstance(self.supervised_keys[0], str):
            return None
        return tuple(self.supervised_keys[0])

    @property
    def input_size(self) -> int | None:
        """Width of the inputs flattened into one row (every input feature's shape
        multiplied out and summed): what a linear first layer needs. None if not declared."""
        if not self.supervised_keys:
            return None
        shapes = {f.name: f.shape for f in self.features}
        inputs = self.supervised_keys[0]
        total = 0
        for key in (inputs,) if isinstance(inputs, str) else inputs:
            shape = shapes.get(key)
            if shape is None or None in shape:
                return None
            total += math.prod(shape)  # type: ignore[arg-type]
        return total

    @property
    def num_classes(self) -> int | None:
        """Number of classes of the target feature, or None (a regression, or not declared)."""
        target = self.supervised_keys[1] if self.supervised_keys else None
        classes = next((f.classes for f in self.features if f.name == target), ())
        return len(classes) or None

    @property
    def parsed_version(self) -> Version:
        return Version(self.version)

    @property
    def download_size(self) -> int | None:
        sizes = [r.size for r in self.resources]
        return None if None in sizes else sum(sizes)  # type: ignore[arg-type]

    def validate(self) -> DataModuleSpec:
        """Raise :class:`SpecError` naming every problem; return self if valid."""
        problems = list(_problems(self))
        if problems:
            raise SpecError(f"invalid spec {self.namespace}/{self.name}: " + "; ".join(problems))
        return self

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (used by ``dmzoo info --json`` and the gallery)."""
        data = asdict(self)
        data["default_kwargs"] = dict(self.default_kwargs)
        data["release_notes"] = dict(self.release_notes)
        data["qualified_name"] = self.qualified_name
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DataModuleSpec:
        """Inverse of :meth:`to_dict`; lets plugins ship specs as JSON/TOML."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known - {"qualified_name"}
        if unknown:
            raise SpecError(f"unknown spec field(s): {', '.join(sorted(unknown))}")
        kw = {k: v for k, v in data.items() if k in known}
        kw["splits"] = tuple(s if isinstance(s, Split) else Split(**s) for s in kw.get("splits", ()))
        kw["features"] = tuple(
            f if isinstance(f, Feature) else Feature(**{**f, "shape": tuple(f.get("shape", ())),
                                                        "classes": tuple(f.get("classes", ()))})
            for f in kw.get("features", ())
        )
        kw["resources"] = tuple(_resource(r) for r in kw.get("resources", ()))
        return cls(**kw)


def _resource(r: Any) -> Resource:
    if isinstance(r, Resource):
        return r
    alts = tuple(
        a if isinstance(a, Alternate) else Alternate(**{**a, "filenames": tuple(a["filenames"])})
        for a in r.get("alternates", ())
    )
    return Resource(**{**r, "urls": tuple(r["urls"]), "alternates": alts})


def _problems(spec: DataModuleSpec) -> Iterator[str]:
    if not NAME_RE.match(spec.name):
        yield f"name {spec.name!r} must match {NAME_RE.pattern}"
    if not NAMESPACE_RE.match(spec.namespace):
        yield f"namespace {spec.namespace!r} must match {NAMESPACE_RE.pattern}"
    try:
        Version(spec.version)
    except (InvalidVersion, TypeError):
        yield f"version {spec.version!r} is not a PEP 440 / semantic version"
    if not isinstance(spec.cls, str) or not CLASS_PATH_RE.match(spec.cls):
        yield f"cls {spec.cls!r} must be a 'package.module:ClassName' string"
    if spec.task not in TASKS:
        yield f"task {spec.task!r} must be one of {', '.join(TASKS)}"
    for alias in spec.aliases:
        if not NAME_RE.match(alias):
            yield f"alias {alias!r} must match {NAME_RE.pattern}"
    for split in spec.splits:
        if not isinstance(split.num_examples, int) or split.num_examples < 0:
            yield f"split {split.name!r} needs a non-negative integer num_examples"
    seen = set()
    for res in spec.resources:
        if res.filename in seen:
            yield f"resource {res.filename!r} listed twice"
        seen.add(res.filename)
        if "/" in res.filename or res.filename in ("", ".", ".."):
            yield f"resource filename {res.filename!r} must be a plain file name"
        if not res.urls:
            yield f"resource {res.filename!r} has no URL"
        if not (res.sha256 or res.md5):
            yield f"resource {res.filename!r} needs a sha256 or md5 checksum"
        for algo in ("sha256", "md5"):
            digest = getattr(res, algo)
            if digest is not None and not HEX_RE[algo].match(digest):
                yield f"resource {res.filename!r}: {algo} {digest!r} is not a lowercase hex digest"
        for alt in res.alternates:
            if not HEX_RE["sha256"].match(alt.sha256 or ""):
                yield f"resource {res.filename!r}: alternate sha256 {alt.sha256!r} is not hex"
    if spec.supervised_keys is not None:
        keys = spec.supervised_keys
        inputs = keys[0] if isinstance(keys, tuple) and len(keys) == 2 else None
        names = (inputs,) if isinstance(inputs, str) else inputs
        if not isinstance(names, tuple) or not names or not isinstance(keys[1], str) \
                or not all(isinstance(k, str) for k in names):
            yield (f"supervised_keys {keys!r} must be (input, target) or ((input, ...), target), "
                   "feature names")
    for key in spec.release_notes:
        try:
            Version(key)
        except InvalidVersion:
            yield f"release note key {key!r} is not a version"
