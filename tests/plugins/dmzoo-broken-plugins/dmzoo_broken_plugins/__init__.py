"""Plugins broken on purpose."""
