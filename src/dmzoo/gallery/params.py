"""Constructor parameters of a datamodule class, with defaults and docs taken from the code.

The gallery documents what a user can pass to ``load_datamodule`` from the class itself
(``inspect.signature`` plus its docstring, in any style ``docstring_parser`` reads:
Google, NumPy, reST), so the page never drifts from the code.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Framework bases document parameters that are not the datamodule's own.
_FOREIGN = ("builtins", "lightning", "pytorch_lightning", "dmzoo.core")


@dataclass(frozen=True)
class Param:
    """One constructor parameter as shown in the docs."""

    name: str
    annotation: str
    default: str  # ``repr`` of the default, or "required"
    spec_default: bool  # the default comes from the spec's ``default_kwargs``
    doc: str


def constructor_params(cls: type, spec_defaults: Mapping[str, Any] | None = None) -> list[Param]:
    """Every keyword a user can pass to ``cls``; ``spec_defaults`` override signature defaults."""
    spec_defaults = spec_defaults or {}
    docs: dict[str, str] = {}
    for klass in reversed(cls.__mro__):  # base classes first: a subclass's docstring wins
        if not klass.__module__.startswith(_FOREIGN):
            init = klass.__dict__.get("__init__")
            docs.update(param_docs(klass.__dict__.get("__doc__") or ""))
            docs.update(param_docs(getattr(init, "__doc__", None) or ""))
    out = []
    for p in inspect.signature(cls).parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            continue
        if p.name in spec_defaults:
            default = _short_repr(spec_defaults[p.name])
        elif p.kind is p.VAR_KEYWORD:
            default = ""
        else:
            default = "required" if p.default is p.empty else _short_repr(p.default)
        annotation = "" if p.annotation is p.empty else (
            p.annotation if isinstance(p.annotation, str) else inspect.formatannotation(p.annotation))
        out.append(Param(f"**{p.name}" if p.kind is p.VAR_KEYWORD else p.name, annotation,
                         default, p.name in spec_defaults, docs.get(p.name, "")))
    return out


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def param_docs(doc: str) -> dict[str, str]:
    """Map parameter name -> one-paragraph description from a docstring."""
    # deferred: docstring_parser is optional (docs extra)
    import docstring_parser

    try:
        params = docstring_parser.parse(doc).params
    except docstring_parser.ParseError:  # a malformed docstring documents nothing
        return {}
    found = {}
    for param in params:
        for name in param.arg_name.split(","):  # "a, b: shared." documents both
            found[name.strip().lstrip("*")] = " ".join((param.description or "").split())
    return found
