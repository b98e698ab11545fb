"""The datamodule gallery and docs generator, built from the registry at docs build time.

- :func:`write_gallery` writes ``.rst`` pages + real sample images into a Sphinx source tree;
- :mod:`dmzoo.gallery.sphinxext` is the Sphinx extension that calls it (and adds the
  generated CLI reference);
- :func:`build_site` builds the HTML site (``dmzoo gallery build OUT``).

Importing this package imports neither Sphinx nor torch.
"""

from __future__ import annotations

from .collect import Entry, Gallery, collect
from .site import build_site
from .write import write_gallery

__all__ = ["Entry", "Gallery", "build_site", "collect", "write_gallery"]
