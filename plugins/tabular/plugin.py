"""Entry point of the first-party tabular plugin: specs only, nothing heavy imported.

Each table family is one folder (plain-data ``spec.py`` + ``datamodule.py``) and one line below.
"""

from __future__ import annotations

from dmzoo import hookimpl
from dmzoo.core.spec import DataModuleSpec

from .adult.spec import ADULT
from .bundled.spec import BUNDLED
from .california_housing.spec import CALIFORNIA_HOUSING
from .spec import TABULAR

SPECS = [TABULAR, *BUNDLED, ADULT, CALIFORNIA_HOUSING]


@hookimpl
def dmzoo_datamodule_specs() -> list[DataModuleSpec]:
    return list(SPECS)
