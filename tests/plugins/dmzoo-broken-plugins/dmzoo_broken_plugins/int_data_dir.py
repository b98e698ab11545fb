"""Answers ``dmzoo_data_dir`` with an int instead of a path."""

from dmzoo import hookimpl


@hookimpl
def dmzoo_data_dir(spec):
    return 42
