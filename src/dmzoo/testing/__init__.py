"""The plugin author kit: a conformance suite for dmzoo datamodules and plugins.

In the spirit of scikit-learn's ``check_estimator``, run it in a plugin's CI::

    from dmzoo.testing import check_plugin
    check_plugin("example")             # raises ConformanceError listing what failed

or per check under pytest (each (spec, check) pair is its own test)::

    from dmzoo.testing import parametrize_checks

    @parametrize_checks("example")
    def test_conformance(dmzoo_check):
        dmzoo_check()

or with no test code at all: ``pytest --dmzoo-plugin example``, or ``dmzoo check example``.
The checks build each datamodule on the tiny data its spec's ``fixture`` makes
(see :mod:`dmzoo.testing.fixture`), offline, in a private temporary folder.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..core.spec import DataModuleSpec
from .checks import CHECKS
from .errors import ConformanceError, ScaffoldError
from .fixture import fixture_from_files, fixture_kwargs
from .runner import Check, CheckResult, checks_for, run_checks, specs_for

__all__ = [
    "CHECKS",
    "Check",
    "CheckResult",
    "ConformanceError",
    "ScaffoldError",
    "check_datamodule",
    "check_plugin",
    "checks_for",
    "fixture_from_files",
    "fixture_kwargs",
    "parametrize_checks",
    "specs_for",
]

Target = str | DataModuleSpec | Iterable[DataModuleSpec]


def check_datamodule(
    target: Target, *, checks: Sequence[str] | None = None, raise_on_failure: bool = True
) -> list[CheckResult]:
    """Check one datamodule (a name, pinned or not, or a spec); raise if any check fails."""
    return run_checks(checks_for(target, checks=checks), raise_on_failure=raise_on_failure)


def check_plugin(
    plugin: str, *, checks: Sequence[str] | None = None, raise_on_failure: bool = True
) -> list[CheckResult]:
    """Check every spec of a plugin (entry-point name, distribution or package name)."""
    return run_checks(checks_for(plugin, checks=checks), raise_on_failure=raise_on_failure)


def parametrize_checks(target: Target, *, checks: Sequence[str] | None = None) -> Any:
    """``pytest.mark.parametrize("dmzoo_check", ...)`` over every check of ``target``."""
    # deferred: pytest is heavy; only parametrize_checks needs it
    import pytest

    selected = checks_for(target, checks=checks)
    return pytest.mark.parametrize("dmzoo_check", selected, ids=[c.id for c in selected])
