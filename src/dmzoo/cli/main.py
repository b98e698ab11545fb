"""Entry point of the ``dmzoo`` command: argument parsing and error handling.

Command modules register their subparsers through ``register(subparsers)`` and
import heavy dependencies (torch, requests) only inside their handlers, so
``dmzoo list`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from .. import __version__
from ..core.errors import DmzooError
from .output import plugin_warnings_as_lines

COMMAND_MODULES = ("catalog", "storage", "demo", "gallery", "authoring")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dmzoo", description="Prebuilt, reproducible PyTorch DataModules."
    )
    parser.add_argument("--version", action="version", version=f"dmzoo {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__package__}.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 2
    if not args.debug:
        plugin_warnings_as_lines()
    try:
        code = int(args.handler(args) or 0)
        sys.stdout.flush()  # a reader that went away shows up here, not at interpreter exit
        return code
    except BrokenPipeError:
        # The reader (``dmzoo list --json | head -1``) took what it wanted and closed the
        # pipe: not an error. Point stdout at devnull so the exit flush stays silent too
        # (the recipe of Python's signal module documentation, "Note on SIGPIPE").
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("dmzoo: interrupted", file=sys.stderr)
        return 130
    except (DmzooError, OSError) as exc:
        if args.debug:
            raise
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"dmzoo: error: {message}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
