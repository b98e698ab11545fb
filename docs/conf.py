"""Sphinx configuration of the dmzoo documentation.

Build with ``make -C docs html`` (output in ``docs/_build/html``) or
``dmzoo gallery build OUT``. The datamodule gallery is generated into ``docs/gallery/``
from the installed plugins by the ``dmzoo.gallery.sphinxext`` extension before Sphinx
reads the sources; ``-D dmzoo_gallery_prepare=1`` prepares the data first. The CLI
reference (``cli.rst``) is sphinx-argparse's ``.. argparse::`` directive.
"""

from __future__ import annotations

import dmzoo

project = "dmzoo"
author = "the dmzoo authors"
copyright = "the dmzoo authors, MIT License"  # noqa: A001 - Sphinx's name for it
version = release = dmzoo.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",  # Google / NumPy docstring sections
    "sphinxarg.ext",  # the CLI reference, from dmzoo's argparse parser
    "dmzoo.gallery.sphinxext",  # the gallery pages (sphinx-design cards)
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"
nitpicky = False
smartquotes = False  # prose holds copy-paste code (spec descriptions): keep straight quotes

# -- autodoc: the API reference is generated from the docstrings --------------------------
autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}
napoleon_google_docstring = True
napoleon_numpy_docstring = True

# -- CLI reference: sections titled "dmzoo cache list", anchors #dmzoo-cache-list -------
sphinxarg_full_subcommand_name = True  # sphinx-argparse >= 0.6

# -- gallery (see dmzoo.gallery.sphinxext) ------------------------------------------------
dmzoo_gallery_dir = "gallery"
dmzoo_gallery_prepare = False  # -D dmzoo_gallery_prepare=1, or =digits,iris
dmzoo_gallery_data_dir = ""  # default: DMZOO_HOME or the user cache

# -- HTML: the built-in theme, no CDN, works offline --------------------------------------
html_theme = "alabaster"
html_title = f"dmzoo {release}"
html_theme_options = {
    "description": "Prebuilt, reproducible PyTorch DataModules",
    "page_width": "1120px",
    "sidebar_width": "230px",
    "fixed_sidebar": False,
    "show_relbars": True,
}
html_sidebars = {"**": ["about.html", "navigation.html", "searchbox.html"]}
html_static_path = []
html_show_sourcelink = False
html_copy_source = False
