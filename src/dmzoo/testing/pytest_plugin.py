"""pytest integration: ``pytest --dmzoo-plugin NAME`` runs the conformance checks.

Loaded through the ``pytest11`` entry point (or ``-p dmzoo.testing.pytest_plugin``).
Each (spec, check) pair becomes one test item, so ``-k`` and reports work as
usual. This module imports nothing heavy until the option is used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from dmzoo import DmzooError
from dmzoo.testing import ConformanceError, checks_for

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("dmzoo", "dmzoo datamodule conformance")
    group.addoption(
        "--dmzoo-plugin", action="append", default=[], metavar="NAME",
        help="run dmzoo's conformance checks on a plugin, package, namespace or datamodule "
             "(repeatable)",
    )


class DmzooCheckItem(pytest.Item):
    """One conformance check of one spec."""

    def __init__(self, *, check: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check

    def runtest(self) -> None:
        self.check()

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, ConformanceError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[str, int | None, str]:
        return "dmzoo", None, f"dmzoo check {self.check.id}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    targets = config.getoption("dmzoo_plugin")
    if not targets:
        return

    for target in targets:
        try:
            selected = checks_for(target)
        except DmzooError as exc:
            raise pytest.UsageError(f"--dmzoo-plugin {target}: {exc}") from None
        items.extend(DmzooCheckItem.from_parent(session, name=f"dmzoo[{c.id}]", check=c)
                     for c in selected)
