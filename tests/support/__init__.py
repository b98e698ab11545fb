"""Shared test helpers (import as ``from support.http_server import FileServer``; pytest puts
``tests/`` on sys.path): a loopback file server with fault injection, tiny datamodules.
"""
