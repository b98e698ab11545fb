"""Tiny fixture data for ``dmzoo.testing`` (named by each spec's ``fixture`` field).

A fixture gets an empty folder and returns constructor kwargs that make the
datamodule work offline on a few examples (see ``dmzoo.testing.fixture``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dmzoo import DataModuleSpec


def moons_fixture(folder: Path) -> dict[str, Any]:
    """Generated data: just make it small."""
    return {"n": 40, "batch_size": 8}


def points_fixture(folder: Path, spec: DataModuleSpec) -> dict[str, Any]:
    """Twelve rows in the upstream CSV format, prepared through dmzoo's real storage path."""
    from dmzoo.testing import fixture_from_files

    rows = ["x,y,shape"] + [f"{i * 0.5:.4f},{i % 4 * 0.25:.4f},{('circle', 'square', 'triangle')[i % 3]}"
                            for i in range(12)]
    return fixture_from_files(spec, folder, {"points.csv": ("\n".join(rows) + "\n").encode()},
                              batch_size=4)
