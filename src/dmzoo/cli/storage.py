"""``dmzoo cache list|verify|rm`` and ``dmzoo prepare``: the data cache from the shell."""

from __future__ import annotations

import argparse
import os
import sys
from contextlib import nullcontext

from ..registry import load_datamodule
from .output import human_size, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    cache = sub.add_parser("cache", help="inspect, verify and clean the data cache")
    csub = cache.add_subparsers(dest="cache_command", metavar="ACTION")
    cache.set_defaults(handler=lambda args: cache.print_help() or 2)

    p = csub.add_parser("list", help="list cached datamodule versions")
    p.add_argument("--data-dir", help="cache root to look in (default: DMZOO_HOME or user cache)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_list)

    p = csub.add_parser("verify", help="re-check checksums of cached files, and look for extra "
                        "files and a damaged completion marker")
    p.add_argument("name", nargs="?", help="[namespace/]name[@version]; all when omitted")
    p.add_argument("--data-dir", help="cache root to look in")
    p.set_defaults(handler=cmd_verify)

    p = csub.add_parser("rm", help="delete cached data of a datamodule")
    p.add_argument("name", help="[namespace/]name[@version]; every version when none is given")
    p.add_argument("--data-dir", help="cache root to look in")
    p.set_defaults(handler=cmd_rm)

    p = sub.add_parser("prepare", help="download and build a datamodule's data now")
    p.add_argument("name", help="[namespace/]name[@version]")
    p.add_argument("--version", help="version or specifier, e.g. 1.0.0 or '>=1,<2'")
    p.add_argument("--data-dir", help="root folder for the data (default: DMZOO_HOME or cache)")
    p.add_argument("--from", dest="from_dir", metavar="DIR",
                   help="take the files from this local folder instead of the network")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(handler=cmd_prepare)


def cmd_list(args: argparse.Namespace) -> int:
    # deferred: core.storage (~15 ms) loads for `cache` commands only, not at CLI start-up
    from ..core import storage

    entries = storage.list_cache(args.data_dir)
    if args.json:
        print_json([{"name": f"{e.namespace}/{e.name}", "version": e.version,
                     "prepared": e.prepared, "size": e.size, "path": str(e.path)} for e in entries])
        return 0
    if not entries:
        print("the cache is empty", file=sys.stderr)
        return 0
    print_table(["NAME", "VERSION", "STATUS", "SIZE", "PATH"],
                [[f"{e.namespace}/{e.name}", e.version, "prepared" if e.prepared else "incomplete",
                  human_size(e.size), e.path] for e in entries])
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    # deferred: core.storage (~15 ms) loads for `cache` commands only, not at CLI start-up
    from ..core import storage

    bad = 0
    for entry in storage.select(args.name, args.data_dir):
        problems = storage.verify_entry(entry)
        status = "ok" if not problems else f"{len(problems)} problem(s)"
        if not entry.prepared and not problems:
            status = "ok (not prepared yet)"
        print(f"{entry.ref}: {status}")
        for problem in problems:
            print(f"  - {problem}")
        bad += bool(problems)
    if bad:
        print(f"{bad} cached version(s) damaged; repair with 'dmzoo prepare NAME --version "
              "VERSION' (it re-checks and rebuilds), or delete with 'dmzoo cache rm NAME@VERSION'",
              file=sys.stderr)
    return 1 if bad else 0


def cmd_rm(args: argparse.Namespace) -> int:
    # deferred: core.storage (~15 ms) loads for `cache` commands only, not at CLI start-up
    from ..core import storage

    for entry in storage.select(args.name, args.data_dir):
        storage.remove(entry)
        print(f"removed {entry.ref} ({human_size(entry.size)}) from {entry.path}")
    for path in storage.foreign(args.name, args.data_dir):
        print(f"left alone {path}: not a dmzoo cache folder", file=sys.stderr)
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    # deferred: core.storage (~15 ms) loads for `cache` commands only, not at CLI start-up
    from ..core import storage

    if args.quiet:
        os.environ["DMZOO_QUIET"] = "1"
    kwargs = {"data_dir": args.data_dir} if args.data_dir else {}
    datamodule = load_datamodule(args.name, version=args.version, **kwargs)
    with storage.import_from(args.from_dir) if args.from_dir else nullcontext(), \
            storage.repairing():
        datamodule.prepare_data()
    spec = datamodule.spec
    if spec is not None and storage.is_prepared(spec, args.data_dir):
        print(f"prepared {spec.ref} in {storage.prepared_dir(spec, args.data_dir)}")
    else:
        print(f"prepared {spec.ref if spec else args.name}")
    return 0
