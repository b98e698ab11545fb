"""``dmzoo list``, ``dmzoo info`` and ``dmzoo doctor``: read the registry, import no torch."""

from __future__ import annotations

import argparse
import os
import sys
import textwrap

from ..core.errors import InvalidArgumentError
from ..core.spec import TASKS
from ..registry import Registry, get_registry
from .output import human_size, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("list", help="list installed datamodules")
    p.add_argument("pattern", nargs="?", help="fnmatch pattern, e.g. mnist* or dmzoo/*")
    p.add_argument("--task", help="only this task, e.g. image-classification")
    p.add_argument("--namespace", help="only this provider")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_list)

    p = sub.add_parser("info", help="show everything known about a datamodule")
    p.add_argument("name", help="[namespace/]name[@version]")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_info)

    p = sub.add_parser("doctor", help="check plugins and the environment")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(handler=cmd_doctor)


def cmd_list(args: argparse.Namespace) -> int:
    if args.task and args.task not in TASKS:
        raise InvalidArgumentError(f"unknown task {args.task!r}; known tasks: {', '.join(TASKS)}")
    registry = get_registry()
    specs = registry.default_specs(args.pattern, task=args.task, namespace=args.namespace)
    if args.json:
        print_json([
            {"name": s.qualified_name, "version": s.version, "task": s.task,
             "summary": s.summary, "versions": [v.version for v in registry.versions(s.namespace, s.name)]}
            for s in specs
        ])
        return 0
    filters = [f"{args.pattern!r}"] if args.pattern else []
    filters += [f"--{k} {v}" for k, v in (("task", args.task), ("namespace", args.namespace)) if v]
    if not specs:
        print("no datamodule matches" + (" " + " ".join(filters) if filters else ""),
              file=sys.stderr)
        return 1 if filters else 0
    print_table(
        ["NAME", "VERSION", "TASK", "DOWNLOAD", "SUMMARY"],
        [[s.qualified_name, s.version, s.task, human_size(s.download_size) if s.resources else "-",
          s.summary] for s in specs],
    )
    if registry.failures:
        print(f"\n{len(registry.failures)} plugin problem(s); run 'dmzoo doctor'", file=sys.stderr)
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    registry = get_registry()
    spec = registry.resolve(args.name)
    versions = registry.versions(spec.namespace, spec.name)
    default = registry.default_version(spec.namespace, spec.name)
    if args.json:
        data = spec.to_dict()
        data["versions"] = [v.version for v in versions]
        data["default_version"] = default.version
        print_json(data)
        return 0
    print(f"{spec.qualified_name} {spec.version}" + ("  (default)" if spec is default else ""))
    if spec.summary:
        print(f"  {spec.summary}")
    for para in spec.description.split("\n\n"):  # blank lines separate paragraphs
        print(textwrap.fill(" ".join(para.split()), 98, initial_indent="  ",
                            subsequent_indent="  ", break_on_hyphens=False))
    rows = [
        ("task", spec.task),
        ("provider", spec.plugin),
        ("class", spec.cls),
        ("versions", ", ".join(v.version + ("*" if v is default else "") for v in versions)),
        ("homepage", spec.homepage),
        ("license", spec.license),
        ("tags", ", ".join(spec.tags)),
        ("splits", ", ".join(f"{s.name}={s.num_examples:,}" for s in spec.splits)),
        ("features", ", ".join(f"{f.name}{list(f.shape)}:{f.dtype}" for f in spec.features)),
        ("download", human_size(spec.download_size) if spec.resources else "none (bundled)"),
        ("aliases", ", ".join(spec.aliases)),
    ]
    for key, value in rows:
        if value:
            print(f"  {key:<10} {value}")
    for res in spec.resources:
        digest = f"sha256:{res.sha256}" if res.sha256 else f"md5:{res.md5}"
        print(f"  resource   {res.filename} ({human_size(res.size)}, {digest})")
    if spec.release_notes:
        print("  release notes:")
        for ver, note in sorted(spec.release_notes.items(), reverse=True):
            print(f"    {ver}: {note}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    registry = Registry(use_cache=False)  # import every plugin now, as a first discovery does
    env = {k: v for k, v in os.environ.items() if k.startswith("DMZOO_")}
    if args.json:
        print_json({
            "plugins": [p.__dict__ for p in registry.plugins],
            "failures": [{"plugin": f.plugin, "stage": f.stage, "cause": f.cause} for f in registry.failures],
            "datamodules": len(registry.datamodule_keys()),
            "environment": env,
        })
        return 1 if registry.failures else 0
    print(f"python {sys.version.split()[0]}")
    print_table(["PLUGIN", "DISTRIBUTION", "VERSION", "MODULE"],
                [[p.name, p.distribution, p.version, p.module] for p in registry.plugins])
    print(f"\n{len(registry.datamodule_keys())} datamodule(s) registered")
    for key, value in sorted(env.items()):
        print(f"{key}={value}")
    if registry.failures:
        print(f"\n{len(registry.failures)} problem(s):")
        for f in registry.failures:
            print(f"  - {f}")
        return 1
    print("no problems found")
    return 0
