"""Real data kept outside the repository (``../shared/data`` beside the checkout).

CI has it; a fresh clone does not. Tests that need it call :func:`shared_mnist`, which
skips them with a reason naming the missing files and how to get them, so the rest of the
suite still runs for anyone.
"""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_MNIST = REPO.parent / "shared" / "data" / "mnist"
MNIST_REAL = ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
              "train-labels-idx1-ubyte.gz")


def shared_mnist(*extra: str) -> Path:
    """The folder of the official MNIST files (and ``extra`` ones), or skip the test."""
    missing = [name for name in (*MNIST_REAL, *extra) if not (SHARED_MNIST / name).is_file()]
    if missing:
        pytest.skip(f"needs the official MNIST files in {SHARED_MNIST} (../shared/data/mnist "
                    f"beside the checkout); missing: {', '.join(missing)}. Download them from "
                    "the URLs that `dmzoo info mnist` lists into that folder to run this test")
    return SHARED_MNIST
