"""Calls sys.exit(3) while being imported (a script mistaken for a plugin)."""

import sys

sys.exit(3)
