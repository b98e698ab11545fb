"""Sphinx extension: generate the gallery before Sphinx reads the sources, add the CLI reference.

Enable it in ``conf.py`` with ``extensions = ["dmzoo.gallery.sphinxext"]``. Settings:

``dmzoo_gallery_dir`` (``"gallery"``)
    folder under the source dir that receives the generated pages (git-ignore it).
``dmzoo_gallery_prepare`` (``False``)
    prepare data before documenting it: ``True``, or name patterns
    (``-D dmzoo_gallery_prepare=digits,acme/*``).
``dmzoo_gallery_data_dir`` (``""``)
    data root to read and prepare (default: the usual dmzoo cache).

The directive ``.. dmzoo-cli-reference::`` expands to the reference of every ``dmzoo``
command, built from the real argparse parser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles

from .write import static_dir, write_gallery

logger = logging.getLogger(__name__)


def prepare_setting(value: Any) -> bool | list[str]:
    """``True``/``False``, or a list of name patterns (a comma-separated string from ``-D``)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        value = [p.strip() for p in value.split(",")]
    return [p for p in value if p]


def generate(app: Sphinx, config: Config) -> None:
    gallery_dir = config.dmzoo_gallery_dir
    gallery = write_gallery(app.srcdir, gallery_dir,
                            prepare=prepare_setting(config.dmzoo_gallery_prepare),
                            data_dir=config.dmzoo_gallery_data_dir or None)
    static = static_dir(Path(app.srcdir) / gallery_dir)
    config.html_static_path = [*config.html_static_path, str(static)]
    config.exclude_patterns = [*config.exclude_patterns, f"{gallery_dir}/_static"]
    if not config.html_favicon:
        config.html_favicon = str(static / "dmzoo-gallery" / "favicon.svg")
    for failure in gallery.plugin_failures:
        logger.warning("dmzoo gallery: %s", failure, type="dmzoo", subtype="plugin")
    for entry in gallery.entries:
        for problem in entry.problems:
            logger.warning("dmzoo gallery: %s: %s", entry.spec.qualified_name, problem,
                           type="dmzoo", subtype="gallery")
    prepared = sum(e.samples.prepared for e in gallery.entries)
    logger.info("dmzoo gallery: %d datamodule(s), %d with prepared data",
                len(gallery.entries), prepared)


class CliReference(SphinxDirective):
    """``.. dmzoo-cli-reference::`` -> every dmzoo command, from ``build_parser()``."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from ..cli import main
        from .cliref import cli_reference_rst

        for module in _cli_modules():  # rebuild the page when a command changes
            self.env.note_dependency(module)
        text = cli_reference_rst(main.build_parser())
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, StringList(text.splitlines(), self.get_source_info()[0]),
                                 container)
        return container.children


def _cli_modules() -> list[str]:
    from .. import cli

    return [str(p) for p in Path(cli.__file__).parent.glob("*.py")]


def setup(app: Sphinx) -> dict[str, Any]:
    from .. import __version__

    app.add_config_value("dmzoo_gallery_dir", "gallery", "env", types=frozenset({str}))
    app.add_config_value("dmzoo_gallery_prepare", False, "env",
                         types=frozenset({bool, str, list, tuple}))
    app.add_config_value("dmzoo_gallery_data_dir", "", "env", types=frozenset({str}))
    app.add_directive("dmzoo-cli-reference", CliReference)
    app.connect("config-inited", generate)
    app.add_css_file("dmzoo-gallery/gallery.css")
    app.add_js_file("dmzoo-gallery/gallery.js", loading_method="defer")
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
