"""``dmzoo check`` (conformance checks) and ``dmzoo new-plugin`` (package scaffold)."""

from __future__ import annotations

import argparse
import sys

from .output import print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("check", help="run the conformance checks on a plugin or datamodule")
    p.add_argument("target", metavar="PACKAGE_OR_NAME",
                   help="plugin (entry-point, distribution or package name), namespace, or "
                        "datamodule name ([namespace/]name[@version])")
    p.add_argument("--check", action="append", dest="checks", metavar="CHECK",
                   help="run only this check (repeatable); default: all")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("-v", "--verbose", action="store_true", help="show tracebacks of failures")
    p.set_defaults(handler=cmd_check)

    p = sub.add_parser("new-plugin", help="scaffold a plugin package (dmzoo-NAME/)")
    p.add_argument("name", help="plugin name, e.g. acme-vision (also the namespace)")
    p.add_argument("--dir", default=".", help="parent folder (default: current folder)")
    p.add_argument("--datamodule", default="blobs", help="name of the first datamodule")
    p.set_defaults(handler=cmd_new_plugin)


def cmd_check(args: argparse.Namespace) -> int:
    # deferred: dmzoo.testing (~14 ms) loads for `check` only, not at CLI start-up
    from ..testing import checks_for, run_checks

    results = run_checks(checks_for(args.target, checks=args.checks), raise_on_failure=False)
    failed = [r for r in results if r.status == "failed"]
    if args.json:
        print_json([{"ref": r.ref, "check": r.check, "status": r.status, "message": r.message,
                     "seconds": round(r.seconds, 3)} for r in results])
        return 1 if failed else 0
    print_table(["DATAMODULE", "CHECK", "RESULT", "SECONDS", "NOTE"],
                [[r.ref, r.check, r.status.upper(), f"{r.seconds:.2f}", _short(r.message)]
                 for r in results])
    if args.verbose:
        for r in failed:
            print(f"\n--- {r.ref} {r.check}\n{r.detail}", file=sys.stderr)
    counts = {s: sum(r.status == s for r in results) for s in ("passed", "failed", "skipped")}
    print(f"\n{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
    return 1 if failed else 0


def cmd_new_plugin(args: argparse.Namespace) -> int:
    # deferred: the scaffold loads for `new-plugin` only, not at CLI start-up
    from ..testing.scaffold import new_plugin, package_names

    root = new_plugin(args.name, args.dir, datamodule=args.datamodule)
    names = package_names(args.name)
    print(f"created {root}")
    print(f"next: pip install -e {root} && dmzoo check {names['namespace']}")
    return 0


def _short(message: str, width: int = 90) -> str:
    line = message.splitlines()[0] if message else ""
    return line if len(line) <= width else line[: width - 3] + "..."
