"""Parse datamodule references: ``[namespace/]name[@version-or-specifier]``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from ..core.errors import InvalidNameError, InvalidVersionError
from ..core.spec import normalize_name

_PART = r"[A-Za-z][A-Za-z0-9_\-.]*"
_REF_RE = re.compile(rf"^(?:(?P<ns>{_PART})/)?(?P<name>{_PART})(?:@(?P<ver>.+))?$")
_OPERATORS = ("<", ">", "=", "!", "~")


@dataclass(frozen=True)
class Ref:
    """A parsed reference; ``namespace`` and ``specifier`` may be absent."""

    name: str
    namespace: str | None = None
    specifier: SpecifierSet | None = None

    def __str__(self) -> str:
        base = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{base}@{self.specifier}" if self.specifier else base


def parse_version_request(text: str) -> SpecifierSet:
    """``"1.0.0"`` means exactly that version; ``">=1,<2"`` or ``"1.*"`` are specifiers."""
    text = text.strip()
    if not text:
        raise InvalidVersionError("empty version; write e.g. '1.0.0', '>=1,<2' or '1.*'")
    candidate = text if text.startswith(_OPERATORS) else f"=={text}"
    try:
        return SpecifierSet(candidate)
    except InvalidSpecifier:
        raise InvalidVersionError(
            f"version {text!r} is neither a version nor a PEP 440 specifier "
            "(write e.g. '1.0.0', '>=1,<2' or '1.*')"
        ) from None


def parse_ref(ref: str, version: str | None = None) -> Ref:
    """Parse ``ref``; ``version=`` is the keyword form of ``@VERSION`` (not both)."""
    if not isinstance(ref, str):
        raise InvalidNameError(f"a datamodule name must be a string, got {type(ref).__name__}")
    match = _REF_RE.match(ref.strip())
    if not match:
        raise InvalidNameError(
            f"{ref!r} is not a datamodule name; expected 'name', 'namespace/name' "
            "or either with '@VERSION' (e.g. 'dmzoo/mnist@1.0.0')"
        )
    ver = match["ver"]
    if ver is not None and version is not None:
        raise InvalidNameError(f"{ref!r} already pins a version; drop version={version!r}")
    ver = ver if ver is not None else version
    ns = match["ns"]
    return Ref(
        name=normalize_name(match["name"]),
        namespace=normalize_name(ns) if ns else None,
        specifier=parse_version_request(ver) if ver is not None else None,
    )
