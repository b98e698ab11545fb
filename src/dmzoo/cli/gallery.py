"""``dmzoo gallery build OUT``: build the HTML docs site with the datamodule gallery."""

from __future__ import annotations

import argparse
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("gallery", help="build the documentation site and datamodule gallery",
                       description="Build the documentation site and datamodule gallery.")
    gallery_sub = p.add_subparsers(dest="gallery_command", metavar="COMMAND")
    b = gallery_sub.add_parser(
        "build", help="build the HTML site (docs + a page per installed datamodule)",
        description="Build the HTML site with Sphinx: the project docs (the docs/ of a dmzoo "
                    "checkout, or --source) plus a gallery page for every installed datamodule. "
                    "Without docs sources, a gallery-only site is built.")
    b.add_argument("out", metavar="OUT", help="output folder (new, empty, or an earlier build)")
    b.add_argument("--prepare", action="append", nargs="?", const="*", metavar="PATTERN",
                   help="prepare data first so pages show real samples: all datamodules, or "
                        "those matching PATTERN (repeatable, e.g. --prepare digits)")
    b.add_argument("--data-dir", metavar="DIR", help="data root to read and prepare "
                                                     "(default: DMZOO_HOME or the user cache)")
    b.add_argument("--source", metavar="DIR", help="Sphinx source folder (default: docs/ of "
                                                   "the dmzoo checkout, when there is one)")
    b.add_argument("--gallery-only", action="store_true",
                   help="build only the gallery, even when docs sources are available")
    b.add_argument("-q", "--quiet", action="store_true", help="print only warnings and errors")
    b.set_defaults(handler=cmd_build)
    p.set_defaults(handler=lambda args: (p.print_help(), 2)[1])


def cmd_build(args: argparse.Namespace) -> int:
    # deferred: the gallery package loads for `gallery build` only, not at CLI start-up
    from ..gallery import build_site

    warnings = build_site(args.out, source=args.source, gallery_only=args.gallery_only,
                          prepare=args.prepare or False, data_dir=args.data_dir, quiet=args.quiet)
    print(f"site built in {args.out} ({warnings} warning(s)); open {args.out}/index.html",
          file=sys.stderr)
    return 0
