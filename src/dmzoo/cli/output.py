"""Plain-text tables for people, JSON for scripts."""

from __future__ import annotations

import json
import sys
import warnings
from collections.abc import Sequence
from typing import Any, TextIO

from ..registry import DmzooPluginWarning


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")


def plugin_warnings_as_lines() -> None:
    """Show each broken-plugin warning as one ``dmzoo: warning: ...`` line on stderr,
    without Python's file, line and source-line decoration; other warnings are unchanged."""
    python_format = warnings.showwarning

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: TextIO | None = None, line: str | None = None) -> None:
        if not issubclass(category, DmzooPluginWarning):
            return python_format(message, category, filename, lineno, file, line)
        stream = file or sys.stderr
        if stream is not None:
            stream.write(f"dmzoo: warning: {' '.join(str(message).split())}\n")

    warnings.showwarning = show


def print_table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(c) for c in headers]] + [[str(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, row in enumerate(cells):
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
        if n == 0:
            print("  ".join("-" * w for w in widths))


def human_size(num: int | None) -> str:
    if num is None:
        return "?"
    size = float(num)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"
