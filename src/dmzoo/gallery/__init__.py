"""The datamodule gallery and docs generator, built from the registry at docs build time.

- :func:`write_gallery` writes ``.rst`` pages (from the Jinja templates in ``templates/``)
  and real sample images into a Sphinx source tree;
- :mod:`dmzoo.gallery.sphinxext` is the Sphinx extension that calls it;
- :func:`build_site` builds the HTML site (``dmzoo gallery build OUT``).

Importing this package imports neither Sphinx, Jinja nor torch; nor does it import
``dmzoo.cli`` (the CLI imports this package, never the other way round).
"""

from __future__ import annotations

from .collect import Entry, Gallery, collect
from .site import build_site
from .write import write_gallery

__all__ = ["Entry", "Gallery", "build_site", "collect", "write_gallery"]
