"""The CLI reference, generated from the real argparse parser so the docs never drift.

Walks ``dmzoo.cli.main.build_parser()`` (every subcommand, nested ones included) and
emits reStructuredText with Sphinx ``program`` / ``option`` directives, so options can be
cross-referenced as ``:option:`dmzoo list --task```.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator

from .render import esc, heading, indent

_LEVELS = "-~^\""
USAGE_WIDTH = 88  # wrap usage lines like a terminal of this width would


def walk(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> Iterator[
        tuple[tuple[str, ...], argparse.ArgumentParser, str]]:
    """Yield ``(command path, parser, one-line help)`` for the parser and every subcommand."""
    yield path, parser, ""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        helps = {a.dest: a.help or "" for a in action._choices_actions}
        seen: set[int] = set()
        for name, sub in action.choices.items():
            if id(sub) in seen:  # an alias of a command already listed
                continue
            seen.add(id(sub))
            for sub_path, sub_parser, sub_help in walk(sub, (*path, name)):
                yield sub_path, sub_parser, sub_help or helps.get(name, "")


def cli_reference_rst(parser: argparse.ArgumentParser) -> str:
    """reStructuredText for every command of ``parser``, in declaration order."""
    prog = parser.prog
    out: list[str] = []
    for path, sub, help_text in walk(parser):
        name = " ".join((prog, *path))
        if path:
            out += [f".. _cli-{'-'.join(path)}:", ""]
            out += heading(name, _LEVELS[min(len(path) - 1, len(_LEVELS) - 1)])
        for text in (help_text, sub.description or ""):
            if text and text not in out:
                out += [esc(text[0].upper() + text[1:]), ""]
        formatter = sub.formatter_class(prog=sub.prog, width=USAGE_WIDTH)
        formatter.add_usage(sub.usage, sub._actions, sub._mutually_exclusive_groups)
        usage = formatter.format_help().strip().splitlines()
        out += [".. code-block:: text", ""] + indent(usage) + [""]
        out += [f".. program:: {name}", ""]
        out += _options(sub)
    return "\n".join(out)


def _options(parser: argparse.ArgumentParser) -> list[str]:
    formatter = parser._get_formatter()
    out: list[str] = []
    for action in parser._actions:
        if (isinstance(action, (argparse._SubParsersAction, argparse._HelpAction))
                or action.help == argparse.SUPPRESS):
            continue  # every command takes -h/--help; the page says so once
        if action.option_strings:
            metavar = "" if action.nargs == 0 else " " + formatter._format_args(
                action, action.dest.upper())
            signature = ", ".join(opt + metavar for opt in action.option_strings)
        else:
            signature = formatter._format_args(action, action.dest).strip("[]. ") or action.dest
        text = formatter._expand_help(action) if action.help else ""
        extras = []
        if action.choices and not isinstance(action.choices, dict):
            extras.append("one of: " + ", ".join(str(c) for c in action.choices))
        if (action.option_strings and action.nargs != 0 and action.default not in (None, "")
                and action.default is not argparse.SUPPRESS and "default" not in text.lower()):
            extras.append(f"default: {action.default}")
        body = esc(text) + (f" ({esc('; '.join(extras))})" if extras else "")
        out += [f".. option:: {signature}", ""] + indent([body or "\\-"]) + [""]
    return out
