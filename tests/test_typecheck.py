"""mypy sees dmzoo's real classes: with Lightning installed, a user subclass of
``dmzoo.DataModule`` and ``load_datamodule(...)`` are ``LightningDataModule``s to it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("mypy", reason="mypy comes with the test extra")
pytest.importorskip("lightning", reason="the Lightning base is what is checked")

import dmzoo  # noqa: E402
import dmzoo.core  # noqa: E402
import dmzoo.plugins  # noqa: E402
import dmzoo.registry  # noqa: E402

HERE = Path(__file__).parent
WRONG = '''
import dmzoo
a: int = dmzoo.DataModule()
b: int = dmzoo.load_datamodule("mnist")
'''


def package_tree(dest: Path) -> Path:
    """``dmzoo`` as one folder of links (an editable install maps core/, registry/ and
    plugins/ into it, which mypy cannot follow)."""
    root = dest / "dmzoo"
    root.mkdir(parents=True)
    for child in Path(dmzoo.__path__[0]).iterdir():
        (root / child.name).symlink_to(child)
    for sub in (dmzoo.core, dmzoo.registry, dmzoo.plugins):
        link = root / sub.__name__.rsplit(".", 1)[1]
        if not link.exists():
            link.symlink_to(sub.__path__[0])
    return dest


@pytest.mark.slow
def test_a_user_subclass_passed_to_trainer_fit_type_checks(tmp_path):
    (tmp_path / "wrong.py").write_text(WRONG, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy", "--follow-imports=silent", "--no-error-summary",
         str(HERE / "typecheck" / "user_subclass.py"), str(tmp_path / "wrong.py")],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "MYPYPATH": str(package_tree(tmp_path / "tree"))})
    errors = proc.stdout.strip().splitlines()
    assert not [e for e in errors if "user_subclass.py" in e], proc.stdout
    # not Any: assigning one to an int is an error naming the real class
    assert any("wrong.py:3" in e and '"DataModule"' in e for e in errors), proc.stdout
    assert any("wrong.py:4" in e and '"DataModule"' in e for e in errors), proc.stdout
