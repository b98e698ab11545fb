"""Reading ``DMZOO_*`` environment settings (stdlib only, cheap to import).

Read at the moment of use, never cached, so tests and ``dmzoo`` commands can change
a setting for the rest of the process.
"""

from __future__ import annotations

import os

__all__ = ["FALSE_SPELLINGS", "TRUE_SPELLINGS", "env_flag", "env_str"]

TRUE_SPELLINGS = ("1", "true", "yes", "on")
FALSE_SPELLINGS = ("0", "false", "no", "off")


def env_str(name: str) -> str:
    """The variable's value with surrounding whitespace removed; ``""`` when unset."""
    return os.environ.get(name, "").strip()


def env_flag(name: str) -> bool:
    """True when the variable is set to ``1``, ``true``, ``yes`` or ``on`` (any case)."""
    return env_str(name).lower() in TRUE_SPELLINGS
