"""Constructor parameters of a datamodule class, with defaults and docs taken from the code.

The gallery documents what a user can pass to ``load_datamodule`` from the class itself
(``inspect.signature`` plus its docstring), so the page never drifts from the code.
Docstrings in NumPy (``Parameters`` / ``----------``), Google (``Args:``) and Sphinx
(``:param name:``) style are understood.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_SECTION_END = re.compile(r"^(Returns?|Yields?|Raises?|Attributes|Examples?|Notes?|See Also|"
                          r"Warnings?|References|Methods)\s*:?\s*$")
_NUMPY_HEAD = re.compile(r"^(?:Parameters|Other Parameters|Keyword Arguments)\s*$")
_GOOGLE_HEAD = re.compile(r"^(?:Args|Arguments|Parameters|Keyword Args|Keyword Arguments):\s*$")
_NAMES = r"\*{0,2}\w+(?:\s*,\s*\*{0,2}\w+)*"  # "a" or "a, b, c" (documented together)
_GOOGLE_ITEM = re.compile(rf"^({_NAMES})\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_ITEM = re.compile(rf"^({_NAMES})(?:\s*:.*)?$")
_FOREIGN = ("builtins", "lightning", "pytorch_lightning", "dmzoo.core")
_SPHINX_ITEM = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


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
    # Base classes first, so a subclass's docstring wins; the framework bases document
    # parameters that are not this class's.
    for klass in reversed(cls.__mro__):
        if klass.__module__.startswith(_FOREIGN):
            continue
        docs.update(param_docs(klass.__dict__.get("__doc__") or ""))
        docs.update(param_docs(_init_doc(klass)))
    out = []
    for p in inspect.signature(cls).parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            continue
        name = f"**{p.name}" if p.kind is p.VAR_KEYWORD else p.name
        if p.name in spec_defaults:
            default, from_spec = _short_repr(spec_defaults[p.name]), True
        elif p.kind is p.VAR_KEYWORD:
            default, from_spec = "", False
        else:
            default = "required" if p.default is p.empty else _short_repr(p.default)
            from_spec = False
        annotation = "" if p.annotation is p.empty else _annotation(p.annotation)
        out.append(Param(name, annotation, default, from_spec, docs.get(p.name, "")))
    return out


def _init_doc(cls: type) -> str:
    init = cls.__dict__.get("__init__")
    return (getattr(init, "__doc__", None) or "") if init is not None else ""


def _annotation(annotation: Any) -> str:
    if isinstance(annotation, str):
        return annotation
    return inspect.formatannotation(annotation)


def _short_repr(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def param_docs(doc: str) -> dict[str, str]:
    """Map parameter name -> one-paragraph description from a docstring."""
    lines = inspect.cleandoc(doc).splitlines() if doc else []
    found: dict[str, str] = {}
    found.update(_sphinx_style(lines))
    found.update(_sectioned(lines, numpy=True))
    found.update(_sectioned(lines, numpy=False))
    return found


def _sphinx_style(lines: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    current = None
    for line in lines:
        match = _SPHINX_ITEM.match(line.strip())
        if match:
            current = match[1]
            found[current] = match[2].strip()
        elif current and line.startswith((" ", "\t")) and line.strip():
            found[current] += " " + line.strip()
        else:
            current = None
    return found


def _sectioned(lines: list[str], *, numpy: bool) -> dict[str, str]:
    """Parse a NumPy ``Parameters`` or a Google ``Args:`` section."""
    found: dict[str, str] = {}
    i = 0
    while i < len(lines):
        head = lines[i].strip()
        is_head = (_NUMPY_HEAD.match(head) and i + 1 < len(lines)
                   and set(lines[i + 1].strip()) == {"-"}) if numpy else _GOOGLE_HEAD.match(head)
        if not is_head:
            i += 1
            continue
        i += 2 if numpy else 1
        base = None  # indentation of the item lines
        current = None
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                i += 1
                continue
            indent = len(line) - len(line.lstrip())
            if _SECTION_END.match(line.strip()) or (numpy and i + 1 < len(lines)
                                                    and set(lines[i + 1].strip()) == {"-"}):
                break
            if base is None:
                base = indent
            if indent < base:
                break
            if indent == base:
                match = (_NUMPY_ITEM if numpy else _GOOGLE_ITEM).match(line.strip())
                if not match:
                    break
                current = [n.strip().lstrip("*") for n in match[1].split(",")]
                for name in current:
                    found[name] = "" if numpy else match[2].strip()
            elif current:
                for name in current:
                    found[name] = (found[name] + " " + line.strip()).strip()
            i += 1
    return found
