"""Fail with the pip command to run when the optional 'tabular' extra is missing.

The datamodule modules import this first, so a user without pandas/pyarrow gets
:class:`MissingExtraError` naming ``pip install 'dmzoo[tabular]'``, not a bare
``ModuleNotFoundError`` from deep inside.
"""

from __future__ import annotations

from dmzoo.core.errors import MissingExtraError

try:
    import pandas  # noqa: F401
    import pyarrow  # noqa: F401
except ImportError as exc:
    raise MissingExtraError(
        f"the tabular datamodules need pandas and pyarrow ({exc.name} is not installed); "
        "run: pip install 'dmzoo[tabular]'"
    ) from None
