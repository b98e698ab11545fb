"""Sphinx extension: generate the gallery from the registry before Sphinx reads the sources.

Enable it in ``conf.py`` with ``extensions = ["dmzoo.gallery.sphinxext"]`` (it loads
``sphinx_design``, whose cards the index uses). Settings:

``dmzoo_gallery_dir`` (``"gallery"``)
    folder under the source dir that receives the generated pages (git-ignore it).
``dmzoo_gallery_prepare`` (``False``)
    prepare data before documenting it: ``True``, or name patterns
    (``-D dmzoo_gallery_prepare=digits,acme/*``).
``dmzoo_gallery_data_dir`` (``""``)
    data root to read and prepare (default: the usual dmzoo cache).

The CLI reference is not this extension's: ``docs/cli.rst`` uses sphinx-argparse's
``.. argparse::`` directive on ``dmzoo.cli.main.build_parser``.
"""

from __future__ import annotations

from importlib import resources
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging

from .. import __version__
from .write import write_gallery

logger = logging.getLogger(__name__)
STATIC = resources.files(__package__) / "static"  # gallery.js, gallery.css, favicon.svg


def prepare_setting(value: Any) -> bool | list[str]:
    """``True``/``False``, or a list of name patterns (a comma-separated string from ``-D``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        value = [p.strip() for p in value.split(",")]
    return [p for p in value if p]


def generate(app: Sphinx, config: Config) -> None:
    gallery = write_gallery(app.srcdir, config.dmzoo_gallery_dir,
                            prepare=prepare_setting(config.dmzoo_gallery_prepare),
                            data_dir=config.dmzoo_gallery_data_dir or None)
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    if not config.html_favicon:  # without one, browsers log a failed favicon.ico request
        config.html_favicon = str(STATIC / "dmzoo-gallery" / "favicon.svg")
    for failure in gallery.plugin_failures:
        logger.warning("dmzoo gallery: %s", failure, type="dmzoo", subtype="plugin")
    for entry in gallery.entries:
        for problem in entry.problems:
            logger.warning("dmzoo gallery: %s: %s", entry.spec.qualified_name, problem,
                           type="dmzoo", subtype="gallery")
    logger.info("dmzoo gallery: %d datamodule(s), %d with prepared data",
                len(gallery.entries), sum(e.samples.prepared for e in gallery.entries))


def setup(app: Sphinx) -> dict[str, Any]:
    app.setup_extension("sphinx_design")
    app.add_config_value("dmzoo_gallery_dir", "gallery", "env", types=frozenset({str}))
    app.add_config_value("dmzoo_gallery_prepare", False, "env",
                         types=frozenset({bool, str, list, tuple}))
    app.add_config_value("dmzoo_gallery_data_dir", "", "env", types=frozenset({str}))
    app.connect("config-inited", generate)
    app.add_css_file("dmzoo-gallery/gallery.css")
    app.add_js_file("dmzoo-gallery/gallery.js", loading_method="defer")
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
