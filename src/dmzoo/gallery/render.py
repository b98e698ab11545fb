"""Render gallery entries as reStructuredText pages (Sphinx reads them like any other page).

Text written by plugin authors is escaped, so a stray ``*`` or ``_`` in a third-party
description can neither break the build nor inject markup. The index cards are raw HTML
(a card grid has no reStructuredText form) filtered by ``gallery.js`` in the browser.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from ..cli.output import human_size
from .collect import Entry, Gallery
from .samples import BUNDLED, FAILED, NEEDS_ARGUMENTS, NOT_PREPARED, PREPARED

_RST_SPECIAL = re.compile(r"([\\`*_|\[\]<>:])")
_LINE_START = re.compile(r"^([-+#=.>~^\"'!$%&(),;?@{}/]|\d+[.)]\s|[A-Za-z][.)]\s)")
_SAFE_URL = re.compile(r"^https?://[^\s<>`\\]+$")
IMAGE_URL = "_static/dmzoo-gallery/img/{slug}.png"  # relative to the site root


# -- escaping helpers ----------------------------------------------------------------------
def esc(text: Any) -> str:
    """Inline text for reStructuredText: one line, markup characters escaped."""
    return _RST_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def doc_text(text: str) -> str:
    """Docstring text: keeps ````literal```` spans (the Python convention), escapes the rest."""
    parts = re.split(r"``(.+?)``", " ".join(str(text).split()))
    for i in range(0, len(parts), 2):
        parts[i] = _RST_SPECIAL.sub(r"\\\1", parts[i])
    out = []
    for i, part in enumerate(parts):
        if i % 2 == 0:
            out.append(part)
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
    if not _SAFE_URL.match(url):
        return esc(url)
    return f"`{esc(text or url)} <{url}>`__"


def literal(text: Any) -> str:
    """Inline literal; falls back to escaped text when it holds a backtick."""
    text = " ".join(str(text).split())
    return f"``{text}``" if text and "`" not in text and not text.endswith("\\") else esc(text)


def heading(text: str, char: str) -> list[str]:
    return [text, char * max(len(text), 3), ""]


def indent(lines: Iterable[str], prefix: str = "   ") -> list[str]:
    return [prefix + line if line else "" for line in lines]


def list_table(header: Sequence[str], rows: Iterable[Sequence[str]], *, widths: str = "",
               cls: str = "", stub: bool = False) -> list[str]:
    """A ``list-table``; every cell is already-escaped one-line reStructuredText."""
    out = [".. list-table::", "   :header-rows: 1", f"   :class: dmzoo-table {cls}".rstrip()]
    if widths:
        out.append(f"   :widths: {widths}")
    if stub:
        out.append("   :stub-columns: 1")
    out.append("")
    for row in [list(header), *rows]:
        for i, cell in enumerate(row):
            out.append(("   * - " if i == 0 else "     - ") + (cell or "\\-"))
    return out + [""]


def code(language: str, text: str, caption: str = "") -> list[str]:
    out = [f".. code-block:: {language}"]
    if caption:
        out.append(f"   :caption: {esc(caption)}")
    return out + [""] + indent(text.rstrip("\n").splitlines()) + [""]


def raw_html(markup: str) -> list[str]:
    return [".. raw:: html", ""] + indent(markup.splitlines()) + [""]


def size_text(num: int | None, unknown: str = "unknown") -> str:
    return human_size(num) if num is not None else unknown


# -- index -----------------------------------------------------------------------------------
def render_index(gallery: Gallery, root: str) -> str:
    """The gallery index: filter bar, one card per datamodule, hidden toctree."""
    entries = gallery.entries
    tasks = sorted({e.spec.task for e in entries})
    namespaces = sorted({e.spec.namespace for e in entries})
    out = [".. _dmzoo-gallery:", "", *heading("Datamodule gallery", "=")]
    out += [
        f"Every datamodule installed when this site was built: {len(entries)} from "
        f"{len(namespaces)} namespace(s), first-party and third-party plugins alike. "
        "Pictures show real samples of prepared data only; a card without one means the "
        "data was not prepared when the site was built (``dmzoo gallery build OUT --prepare`` "
        "prepares it first).",
        "",
    ]
    if gallery.plugin_failures:
        out += [".. warning::", "", "   Some plugins could not be loaded and are missing here:", ""]
        out += [f"   - {esc(f)}" for f in gallery.plugin_failures] + [""]
    options = lambda values: "".join(  # noqa: E731
        f'<option value="{html.escape(v)}">{html.escape(v)}</option>' for v in values)
    bar = (
        '<div class="dmzoo-gallery" id="dmzoo-gallery-app">\n'
        '<form class="dmzoo-filter" role="search" onsubmit="return false">\n'
        '<input type="search" id="dmzoo-q" placeholder="Filter by name, summary, tag..." '
        'aria-label="Filter datamodules by text">\n'
        f'<select id="dmzoo-task" aria-label="Filter by task"><option value="">All tasks</option>'
        f'{options(tasks)}</select>\n'
        '<select id="dmzoo-namespace" aria-label="Filter by namespace">'
        f'<option value="">All namespaces</option>{options(namespaces)}</select>\n'
        f'<span id="dmzoo-count" aria-live="polite">{len(entries)} of {len(entries)} datamodules</span>\n'
        "</form>\n"
        '<div class="dmzoo-cards">\n'
        + "\n".join(_card(e, root) for e in entries)
        + '\n</div>\n<p class="dmzoo-empty" id="dmzoo-empty" hidden>No datamodule matches '
        "these filters.</p>\n</div>"
    )
    out += raw_html(bar)
    out += [".. toctree::", "   :hidden:", ""] + [f"   {e.slug}" for e in entries] + [""]
    return "\n".join(out)


def _card(entry: Entry, root: str) -> str:
    spec = entry.spec
    e = html.escape
    text = " ".join([spec.qualified_name, spec.summary, spec.task, *spec.tags, *spec.aliases])
    if entry.samples.image is not None:
        thumb = (f'<img src="{e(root + IMAGE_URL.format(slug=entry.image_slug))}" '
                 f'alt="Samples from {e(spec.qualified_name)}">')
    elif entry.samples.preview:
        thumb = _mini_table(entry.samples.preview)
    else:
        thumb = f'<span class="dmzoo-nothumb">{_THUMB_TEXT[entry.samples.status]}</span>'
    size = size_text(spec.download_size) if spec.resources else "no download"
    examples = f"{entry.total_examples:,} examples" if spec.splits else "your own data"
    facts = [f"v{spec.version}", spec.task, examples, size]
    return (
        f'<a class="dmzoo-card" href="{e(entry.slug)}.html" data-task="{e(spec.task)}" '
        f'data-namespace="{e(spec.namespace)}" data-text="{e(text.lower())}">\n'
        f'<div class="dmzoo-thumb">{thumb}</div>\n'
        f'<div class="dmzoo-card-body"><span class="dmzoo-ns">{e(spec.namespace)}/</span>'
        f'<span class="dmzoo-name">{e(spec.name)}</span>\n'
        f'<p class="dmzoo-summary">{e(spec.summary)}</p>\n'
        f'<p class="dmzoo-facts">{" &middot; ".join(e(f) for f in facts)}</p></div>\n</a>'
    )


_THUMB_TEXT = {PREPARED: "no preview", BUNDLED: "no preview", NOT_PREPARED: "data not prepared",
               NEEDS_ARGUMENTS: "loads your own data", FAILED: "samples unavailable"}


def _mini_table(rows: list[dict[str, Any]], cols: int = 4) -> str:
    keys = list(rows[0])[:cols]
    head = "".join(f"<th>{html.escape(k)}</th>" for k in keys)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(k, '')))}</td>" for k in keys)
                   + "</tr>" for r in rows[:4])
    return f'<table class="dmzoo-mini"><tr>{head}</tr>{body}</table>'


# -- one page per datamodule -----------------------------------------------------------------
def render_page(entry: Entry, image_rel: str) -> str:
    """The page of one datamodule; ``image_rel`` is the sample grid path relative to the page."""
    spec = entry.spec
    out = [f".. _dmzoo-gallery-{spec.namespace}-{spec.name}:", ""]
    out += heading(spec.qualified_name, "=")
    badges = [spec.task, f"version {spec.version}", f"namespace {spec.namespace}", *spec.tags]
    out += raw_html('<p class="dmzoo-badges">' + "".join(
        f'<span class="dmzoo-badge">{html.escape(b)}</span>' for b in badges) + "</p>")
    if spec.summary:
        out += [f"**{esc(spec.summary)}**", ""]
    for para in paragraphs(spec.description):
        out += [para, ""]
    if entry.problems:
        out += [".. warning::", "", "   Problems met while documenting this datamodule:", ""]
        out += [f"   - {esc(p)}" for p in entry.problems] + [""]
    for section in (_overview, _usage, _versions, _splits, _features, _samples, _balance,
                    _normalization, _feature_info, _parameters, _files, _citation):
        out += section(entry, image_rel)
    return "\n".join(out)


def _overview(entry: Entry, _: str) -> list[str]:
    spec, p = entry.spec, entry.provider
    provider = esc(p.distribution or p.label)
    if p.version:
        provider += f" {esc(p.version)}"
    if p.entry_point:
        provider += f" (entry point {literal(p.entry_point)} in group ``dmzoo``: {literal(p.module)})"
    prepared = {
        PREPARED: size_text(entry.samples.prepared_size),
        BUNDLED: "nothing prepared on disk (bundled or generated data)",
        NEEDS_ARGUMENTS: "depends on the data you pass",
    }.get(entry.samples.status, "not prepared when this page was built")
    rows = [
        ("Homepage", link(spec.homepage) if spec.homepage else "not given"),
        ("License", esc(spec.license) or "not given"),
        ("Task", literal(spec.task)),
        ("Provider plugin", provider),
        ("Class", literal(spec.cls)),
        ("Default version", literal(entry.default_version)),
        ("Download size", size_text(spec.download_size) if spec.resources else "nothing to download"),
        ("Prepared size", prepared),
        ("Examples", f"{entry.total_examples:,} in {len(spec.splits)} split(s)"),
        ("Supervised keys", literal(repr(tuple(spec.supervised_keys)))
         if spec.supervised_keys else "none"),
    ]
    if spec.aliases:
        rows.append(("Deprecated aliases", ", ".join(literal(a) for a in spec.aliases)))
    return heading("Overview", "-") + list_table(["Field", "Value"], rows, widths="25 75",
                                                 stub=True)


def _usage(entry: Entry, _: str) -> list[str]:
    spec = entry.spec
    names = {p.name for p in entry.params}
    call_args = ", batch_size=64" if "batch_size" in names else ""
    python = (
        "import dmzoo\n\n"
        f'dm = dmzoo.load_datamodule("{spec.ref}"{call_args})\n'
        "dm.prepare_data()   # downloads and verifies once, then reuses the cache\n"
        'dm.setup("fit")\n'
        "batch = next(iter(dm.train_dataloader()))\n"
    )
    init_args = {k: v for k, v in spec.default_kwargs.items() if _yaml_scalar(v)}
    if "batch_size" in names:
        init_args.setdefault("batch_size", 64)
    yaml = ["# python train.py fit --config config.yaml", "data:",
            f"  class_path: {spec.cls.replace(':', '.')}"]
    if init_args:
        yaml.append("  init_args:")
        yaml += [f"    {k}: {json.dumps(v)}" for k, v in init_args.items()]
    prepare = f"dmzoo prepare {spec.qualified_name} --version {spec.version}"
    return (heading("Use it", "-")
            + code("python", python, "Python")
            + code("yaml", "\n".join(yaml), "LightningCLI config")
            + code("console", f"$ {prepare}", "Prepare the data ahead of time"))


def _yaml_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _versions(entry: Entry, _: str) -> list[str]:
    rows = []
    for v in reversed(entry.versions):
        label = literal(v.version)
        marks = []
        if v.version == entry.default_version:
            marks.append("**default**")
        if v.parsed_version.is_prerelease:
            marks.append("pre-release")
        if marks:
            label += " (" + ", ".join(marks) + ")"
        rows.append((label, esc(entry.release_notes.get(v.version, "")) or "no release notes"))
    return heading("Versions", "-") + list_table(["Version", "Release notes"], rows,
                                                 widths="25 75")


def _splits(entry: Entry, _: str) -> list[str]:
    splits = entry.spec.splits
    if not splits:
        return heading("Splits", "-") + ["The spec declares no splits.", ""]
    rows = [(literal(s.name), f"{s.num_examples:,}") for s in splits]
    rows.append(("**total**", f"**{entry.total_examples:,}**"))
    return heading("Splits", "-") + list_table(["Split", "Examples"], rows, widths="50 50")


def _features(entry: Entry, _: str) -> list[str]:
    spec = entry.spec
    out = heading("Features", "-")
    if not spec.features:
        return out + ["The spec declares no features.", ""]
    rows = []
    for f in spec.features:
        classes = ""
        if f.classes:
            shown = ", ".join(f.classes[:20]) + (f", ... ({len(f.classes)} in all)"
                                                  if len(f.classes) > 20 else "")
            classes = f"{len(f.classes)}: {esc(shown)}"
        rows.append((literal(f.name), literal(repr(tuple(f.shape))), literal(f.dtype),
                     classes or "\\-", esc(f.description) or "\\-"))
    out += list_table(["Name", "Shape", "Dtype", "Classes", "Description"], rows,
                      widths="15 12 12 36 25")
    if spec.supervised_keys:
        x, y = spec.supervised_keys
        inputs = literal(x) if isinstance(x, str) else \
            "a dict of " + ", ".join(literal(k) for k in x)
        out += [f"Each batch is ``(inputs, target)``: inputs {inputs}, target {literal(y)}.", ""]
    return out


def _no_data(entry: Entry, what: str) -> list[str]:
    """Why there is no picture: never a synthetic stand-in."""
    ref, status = entry.spec.qualified_name, entry.samples.status
    if status == NEEDS_ARGUMENTS:
        required = entry.samples.required
        why = (f"required: {', '.join(literal(a) for a in required)}"
               if all(a.isidentifier() for a in required) else esc("; ".join(required)))
        return [f"This datamodule reads the data you give it ({why}), so there is no "
                f"dataset of its own to show; {what} shown.", ""]
    if status == FAILED:
        return [".. note::", "", f"   Reading the data failed when this page was built (see the "
                f"warning above), so {what} shown.", ""]
    return [".. note::", "",
            f"   The data of this datamodule was not prepared when this page was built, so "
            f"{what} shown. Nothing synthetic is shown in its place. Run "
            f"``dmzoo prepare {ref}`` and rebuild, or build with "
            f"``dmzoo gallery build OUT --prepare``.", ""]


def _samples(entry: Entry, image_rel: str) -> list[str]:
    s = entry.samples
    out = heading("Samples", "-")
    if not s.prepared:
        return out + _no_data(entry, "no samples are")
    if s.image is None and not s.preview:
        return out + ["This datamodule offers no ``plot()`` or ``preview()`` for the gallery.", ""]
    if s.image is not None:
        alt = " ".join(f"{entry.spec.qualified_name}: {s.plot_split} samples with their "
                       "class names".split())  # an option value is plain text, not markup
        out += [f".. figure:: {image_rel}", f"   :alt: {alt}", "   :class: dmzoo-samples",
                "", f"   Real samples from the ``{s.plot_split}`` split, with their class names.", ""]
    if s.preview:
        keys = list(s.preview[0])
        rows = [[esc(r.get(k, "")) for k in keys] for r in s.preview]
        out += [f"The first {len(s.preview)} rows:", ""]
        out += list_table([esc(k) for k in keys], rows, cls="dmzoo-wide")
    return out


def _balance(entry: Entry, _: str) -> list[str]:
    s = entry.samples
    out = heading("Class balance", "-")
    if not s.prepared:
        return out + _no_data(entry, "no class balance is")
    if not s.class_counts:
        return out + ["This datamodule offers no ``class_counts()`` for the gallery.", ""]
    total = sum(s.class_counts.values()) or 1
    top = max(s.class_counts.values()) or 1
    bars = [f'<div class="dmzoo-bars" aria-label="class balance of the {html.escape(s.counts_split)} split">']
    for name, count in s.class_counts.items():
        bars.append(
            f'<div class="dmzoo-bar"><span class="dmzoo-bar-label">{html.escape(name)}</span>'
            f'<span class="dmzoo-bar-track"><span class="dmzoo-bar-fill" '
            f'style="width:{100 * count / top:.1f}%"></span></span>'
            f'<span class="dmzoo-bar-value">{count:,} ({100 * count / total:.1f}%)</span></div>')
    bars.append("</div>")
    out += [f"Examples per class in the ``{s.counts_split}`` split ({total:,} in all):", ""]
    return out + raw_html("\n".join(bars))


def _normalization(entry: Entry, _: str) -> list[str]:
    s = entry.samples
    if s.mean is None and s.std is None:
        return []
    out = heading("Normalization statistics", "-")
    out += ["``mean`` and ``std`` as the datamodule reports them (used by ``normalize=True``).", ""]
    mean, std = s.mean or [], s.std or []
    n = max(len(mean), len(std))
    rows = [(str(i), f"{mean[i]:.4f}" if i < len(mean) else "\\-",
             f"{std[i]:.4f}" if i < len(std) else "\\-") for i in range(n)]
    return out + list_table(["Channel", "Mean", "Std"], rows, widths="20 40 40")


def _feature_info(entry: Entry, _: str) -> list[str]:
    info = entry.samples.feature_info
    if not info:
        return []
    rows = [(literal(k), esc(json.dumps(v, default=str))) for k, v in info.items()]
    return (heading("Feature metadata", "-")
            + ["What a model needs to build its inputs (the datamodule's ``metadata``):", ""]
            + list_table(["Key", "Value"], rows, widths="25 75"))


def _parameters(entry: Entry, _: str) -> list[str]:
    out = heading("Constructor parameters", "-")
    if not entry.params:
        return out + ["No parameters could be read from the class.", ""]
    out += [f"Keyword arguments of ``{esc(entry.spec.cls.split(':')[-1])}``, read from its "
            "signature and docstring; ``load_datamodule`` checks them before building "
            "anything. A default marked *spec* comes from the spec's ``default_kwargs``.", ""]
    rows = []
    for p in entry.params:
        default = literal(p.default) if p.default else "\\-"
        if p.spec_default:
            default += " (*spec*)"
        rows.append((literal(p.name), literal(p.annotation) if p.annotation else "\\-", default,
                     doc_text(p.doc) or "\\-"))
    return out + list_table(["Name", "Type", "Default", "Description"], rows,
                            widths="24 20 14 42")


def _files(entry: Entry, _: str) -> list[str]:
    resources = entry.spec.resources
    if not resources:
        return []
    rows = []
    for r in resources:
        digest = f"sha256 {r.sha256}" if r.sha256 else f"md5 {r.md5}"
        mirrors = f" (+{len(r.urls) - 1} mirror(s))" if len(r.urls) > 1 else ""
        host = urlsplit(r.urls[0]).netloc or r.urls[0]
        rows.append((literal(r.filename), size_text(r.size), literal(digest),
                     esc(r.checksum_source) or "\\-", link(r.urls[0], host) + mirrors))
    return heading("Files", "-") + list_table(
        ["File", "Size", "Checksum", "Checksum source", "Download from"], rows,
        widths="20 8 30 24 18")


def _citation(entry: Entry, _: str) -> list[str]:
    out = heading("Citation", "-")
    if not entry.spec.citation.strip():
        return out + ["The spec gives no citation.", ""]
    return out + code("bibtex", entry.spec.citation.strip())
