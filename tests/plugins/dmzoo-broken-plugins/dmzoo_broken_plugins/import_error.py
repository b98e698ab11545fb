"""Fails while being imported, like a plugin with a missing dependency."""

import a_dependency_that_is_not_installed  # noqa: F401
