"""Render gallery pages from the Jinja templates in ``templates/`` (reStructuredText out).

The index is a sphinx-design card grid; a page is ordinary reStructuredText. The filters
below escape text written by plugin authors, so a stray ``*`` or ``_`` in a third-party
description can neither break the build nor inject markup.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .collect import Entry, Gallery

if TYPE_CHECKING:
    import jinja2

_RST_SPECIAL = re.compile(r"([\\`*_|\[\]<>:])")
_LINE_START = re.compile(r"^([-+#=.>~^\"'!$%&(),;?@{}/]|\d+[.)]\s|[A-Za-z][.)]\s)")
_SAFE_URL = re.compile(r"^https?://[^\s<>`\\]+$")


def esc(text: Any) -> str:
    """Inline text for reStructuredText: one line, markup characters escaped."""
    return _RST_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def literal(text: Any) -> str:
    """Inline literal; falls back to escaped text when it holds a backtick."""
    text = " ".join(str(text).split())
    return f"``{text}``" if text and "`" not in text and not text.endswith("\\") else esc(text)


def doc_text(text: str) -> str:
    """Docstring text: keeps ````literal```` spans (the Python convention), escapes the rest."""
    parts = re.split(r"``(.+?)``", " ".join(str(text).split()))
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(_RST_SPECIAL.sub(r"\\\1", part))
            continue
        # an inline literal must touch whitespace or punctuation; "\ " is an invisible joint
        before = "" if not parts[i - 1] or parts[i - 1][-1] in " ([{'\"" else "\\ "
        after = "" if not parts[i + 1] or parts[i + 1][0] in " .,;!?)]}'\"-/" else "\\ "
        out.append(before + literal(part) + after)
    return "".join(out)


def paragraphs(text: str) -> list[str]:
    """Escaped paragraphs of free text (blank lines separate paragraphs)."""
    out = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [esc(line) for line in block.splitlines() if line.strip()]
        lines = [("\\" + line) if _LINE_START.match(line) else line for line in lines]
        if lines:
            out.append("\n".join(lines))
    return out


def link(url: str, text: str | None = None) -> str:
    return f"`{esc(text or url)} <{url}>`__" if _SAFE_URL.match(url) else esc(url)


@cache
def environment() -> jinja2.Environment:
    import jinja2  # ships with Sphinx (the docs extra), which dmzoo itself does not need
    from jinja2.filters import do_filesizeformat

    env = jinja2.Environment(loader=jinja2.PackageLoader(__package__), undefined=jinja2.StrictUndefined,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                             autoescape=False)  # reStructuredText: the filters escape
    env.filters.update(
        esc=esc, literal=literal, doc_text=doc_text, paragraphs=paragraphs, link=link,
        size=lambda n: "unknown" if n is None else do_filesizeformat(n, binary=True),
        cells=lambda record, keys: [esc(record.get(k, "")) for k in keys],
        yaml_scalars=lambda d: {k: v for k, v in d.items()
                                if v is None or isinstance(v, (bool, int, float, str))},
        json=lambda v: json.dumps(v, default=str), tuple_repr=lambda v: repr(tuple(v)),
        host=lambda url: urlsplit(url).netloc or url)
    env.tests["identifier"] = str.isidentifier
    return env


def render_index(gallery: Gallery, images: str) -> str:
    """The card grid; ``images`` is the folder of the sample grids relative to the index."""
    filters = [{"task": e.spec.task, "namespace": e.spec.namespace, "text": " ".join(
        [e.spec.qualified_name, e.spec.summary, e.spec.task, *e.spec.tags, *e.spec.aliases]).lower()}
        for e in gallery.entries]  # what gallery.js filters the cards by, in card order
    return environment().get_template("index.rst.jinja").render(gallery=gallery, images=images,
                                                                filters=filters)


def render_page(entry: Entry, images: str) -> str:
    """One datamodule's page; ``images`` is the folder of the sample grids relative to it."""
    return environment().get_template("page.rst.jinja").render(e=entry, images=images)
