"""The gallery generator: a page per registered datamodule, real samples only, safe rewrites.

One generation (module fixture) covers the first-party plugins, the installed test plugin
(``acme``) and the in-process ``gallerytest`` plugin whose real data is served on loopback.
"""

from __future__ import annotations

import argparse
import json
import re
import struct
from pathlib import Path

import pytest

import dmzoo
from dmzoo.cli.main import build_parser, main
from dmzoo.core import storage
from dmzoo.core.errors import GalleryError
from dmzoo.gallery import write_gallery
from dmzoo.gallery.params import constructor_params, param_docs
from dmzoo.gallery.render import doc_text, esc, paragraphs
from dmzoo.registry import get_registry, reset_registry
from support import gallery_plugin
from support.environment import isolate_dmzoo
from support.http_server import FileServer

SECTIONS = ("Overview", "Use it", "Versions", "Splits", "Features", "Samples", "Class balance",
            "Constructor parameters", "Citation")
PREPARE = ["gallerytest/pen_digits", "gallerytest/broken_plot"]


class Built:
    """What the module fixture generated."""

    def __init__(self, root: Path, keys: list[tuple[str, str]], server: FileServer,
                 data_dir: Path) -> None:
        self.root, self.keys, self.server, self.data_dir = root, keys, server, data_dir

    def page(self, qualified: str) -> str:
        return (self.root / f"{qualified}.rst").read_text()

    def image(self, qualified: str) -> Path:
        ns, name = qualified.split("/")
        return self.root / "_images" / f"{ns}--{name}.png"

    def cards(self) -> dict[str, str]:
        """``namespace/name`` -> the sphinx-design card (its directive block) on the index."""
        index = (self.root / "index.rst").read_text()
        blocks = index.split(".. grid-item-card:: ")[1:]
        return {re.search(r":link: (\S+)", b)[1]: b.split(".. raw:: html")[0] for b in blocks}

    def card_filters(self) -> list[dict[str, str]]:
        """What gallery.js filters the cards by, in card order."""
        index = (self.root / "index.rst").read_text()
        return json.loads(re.search(r'id="dmzoo-card-filters">(.*?)</script>', index)[1])


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Built:
    tmp = tmp_path_factory.mktemp("gallery")
    with pytest.MonkeyPatch.context() as mp, FileServer(tmp / "srv") as server:
        isolate_dmzoo(mp, tmp / "home")
        gallery_plugin.register(server)
        keys = get_registry().datamodule_keys()
        write_gallery(tmp / "src", prepare=PREPARE, data_dir=tmp / "data")
        reset_registry()
        yield Built(tmp / "src" / "gallery", keys, server, tmp / "data")


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


# -- the index -------------------------------------------------------------------------------
def test_index_has_one_card_per_registered_datamodule(built):
    cards = built.cards()
    assert list(cards) == [f"{ns}/{name}" for ns, name in built.keys]
    # first-party, installed third-party and in-process plugins are all there
    assert {"dmzoo/mnist", "dmzoo/digits", "acme/toy", "gallerytest/pen_digits"} <= set(cards)
    assert all(":link-type: doc" in card and ":class-item: dmzoo-card" in card
               for card in cards.values())
    toctree = (built.root / "index.rst").read_text().split(".. toctree::")[1]
    assert all(f"   {slug}" in toctree for slug in cards)


def test_cards_carry_filter_data_and_facts(built):
    cards = built.cards()
    card = cards["gallerytest/pen_digits"]
    assert card.startswith("gallerytest/pen\\_digits\n")  # the title, escaped
    assert ":footer: v1.0.0 · image-classification · 1,797 examples" in " ".join(card.split())
    assert ":img-top: _images/gallerytest--pen_digits.png" in card
    assert "Handwritten 8x8 digits for the gallery tests." in card
    never = cards["gallerytest/never_prepared"]
    assert ":img-top:" not in never and "*data not prepared*" in never
    assert "<table" not in cards["dmzoo/wine"] and ".. list-table::" in cards["dmzoo/wine"]
    filters = dict(zip(cards, built.card_filters(), strict=True))  # the same order
    assert filters["gallerytest/pen_digits"]["task"] == "image-classification"
    assert filters["gallerytest/pen_digits"]["namespace"] == "gallerytest"
    assert "gallery-test" in filters["gallerytest/pen_digits"]["text"]  # tags are searchable
    assert "toy_legacy" in filters["acme/toy"]["text"]  # and so are aliases
    index = (built.root / "index.rst").read_text()
    for option in ("image-classification", "tabular-classification"):
        assert f'<option value="{option}">' in index


# -- pages -----------------------------------------------------------------------------------
def test_every_page_has_the_catalog_sections(built):
    for ns, name in built.keys:
        page = built.page(f"{ns}/{name}")
        headings = re.findall(r"^(.+)\n-{3,}$", page, re.M)
        missing = [s for s in SECTIONS if s not in headings]
        assert not missing, f"{ns}/{name} lacks {missing}"
        spec = get_registry_spec(ns, name)
        assert f"dmzoo.load_datamodule(\"{spec.ref}\"" in page
        assert f"class_path: {spec.cls.replace(':', '.')}" in page
        assert f"$ dmzoo prepare {ns}/{name} --version {spec.version}" in page
        if spec.resources:
            assert re.search(r"^Files\n-+$", page, re.M)


def get_registry_spec(ns: str, name: str) -> dmzoo.DataModuleSpec:
    spec = next((s for s in gallery_plugin.specs("http://x/", "0" * 64, 1)
                 if (s.namespace, s.name) == (ns, name)), None)
    return spec or get_registry().default_version(ns, name)


def test_prepared_page_shows_real_samples_balance_and_stats(built):
    page = built.page("gallerytest/pen_digits")
    assert ".. figure:: ../_images/gallerytest--pen_digits.png" in page
    width, height = png_size(built.image("gallerytest/pen_digits"))
    assert width > 100 and height > 100
    # the class balance equals the real label counts of the CSV
    counts = [int(c.replace(",", "")) for c in re.findall(r'dmzoo-bar-value">([\d,]+) \(', page)]
    assert counts == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert "Normalization statistics" in page and "Channel" in page
    assert "not prepared" not in page.split("Samples\n-------")[1].split("Class balance")[0]
    # the data really was prepared through storage: one download per prepared datamodule
    spec = get_registry_spec("gallerytest", "pen_digits")
    assert storage.is_prepared(spec, data_dir=built.data_dir)
    assert built.server.gets(gallery_plugin.CSV_NAME) == len(PREPARE)
    assert re.search(r"Prepared size\n\s+- \d+\.\d KiB", page)


def test_unprepared_page_says_so_and_has_no_picture(built):
    page = built.page("gallerytest/never_prepared")
    assert "was not prepared when this page was built, so no samples are shown" in page
    assert "no class balance is shown" in page
    assert ".. figure::" not in page and "<img" not in page
    assert not built.image("gallerytest/never_prepared").exists()
    assert built.server.gets(gallery_plugin.CSV_NAME + ".missing") == 0  # nothing downloaded
    mnist = built.page("dmzoo/mnist")  # first-party, not prepared in this build
    assert "was not prepared when this page was built" in mnist and ".. figure::" not in mnist


def test_a_broken_plot_is_reported_and_the_rest_still_documented(built):
    page = built.page("gallerytest/broken_plot")
    assert ".. warning::" in page
    assert esc("plot() failed: RuntimeError: this plugin's plot() is broken on purpose") in page
    assert ".. figure::" not in page
    assert 'dmzoo-bar-value">178 (' in page  # class_counts still worked


def test_bundled_tables_show_first_rows_and_metadata(built):
    page = built.page("dmzoo/wine")
    assert "The first 5 rows:" in page and "alcohol" in page
    assert "Feature metadata" in page and "num_classes" in page
    assert "nothing prepared on disk (bundled or generated data)" in page
    digits = built.page("dmzoo/digits")
    assert ".. figure::" in digits and png_size(built.image("dmzoo/digits"))[0] > 100


def test_generic_datamodule_page_explains_it_needs_data(built):
    page = built.page("dmzoo/tabular")
    assert "reads the data you give it" in page and ".. warning::" not in page


def test_third_party_plugin_provider_versions_and_notes(built):
    page = built.page("acme/toy")
    assert "dmzoo-test-plugin 0.3.0" in page and "``acme``" in page
    assert "``1.1.0`` (**default**)" in page
    assert "``2.0.0rc1`` (pre-release)" in page
    assert "First release." in page and "Adds a predict split." in page
    assert "Different records" not in page  # that note is for 2.0.0, which is not registered
    assert "``toy_legacy``" in page
    # constructor parameters come from the class, spec defaults marked
    assert "``n``" in page and "``80`` (*spec*)" in page and "``batch_size``" in page


def test_first_party_provider_names_its_entry_point(built):
    assert "(entry point ``tabular``" in built.page("dmzoo/wine")
    assert "(entry point ``vision``" in built.page("dmzoo/mnist")


def test_plugin_text_is_escaped_not_interpreted(built):
    page = built.page("gallerytest/pen_digits")
    assert esc(gallery_plugin.TRICKY) in page
    assert "@misc{uci_digits" in page.split(".. code-block:: bibtex")[1]


# -- rewriting safely ------------------------------------------------------------------------
def test_regeneration_is_stable_and_drops_uninstalled_pages(tmp_path, file_server):
    gallery_plugin.register(file_server)
    write_gallery(tmp_path)
    page = tmp_path / "gallery" / "gallerytest" / "pen_digits.rst"
    before = page.stat().st_mtime_ns
    write_gallery(tmp_path)
    assert page.stat().st_mtime_ns == before  # unchanged pages are not rewritten
    reset_registry()  # the plugin is gone
    write_gallery(tmp_path)
    assert not page.exists() and not page.parent.exists()
    assert (tmp_path / "gallery" / "dmzoo" / "mnist.rst").exists()


def test_refuses_to_overwrite_a_folder_it_did_not_generate(tmp_path):
    mine = tmp_path / "gallery" / "notes.rst"
    mine.parent.mkdir()
    mine.write_text("my own page")
    with pytest.raises(GalleryError, match="did not generate"):
        write_gallery(tmp_path)
    assert mine.read_text() == "my own page"
    assert sorted(p.name for p in mine.parent.iterdir()) == ["notes.rst"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(GalleryError, match="is a file"):
        write_gallery(tmp_path, "file")


# -- pieces ----------------------------------------------------------------------------------
def test_param_docs_understand_the_three_docstring_styles():
    google = """Summary.

    Args:
        a: first
            continued.
        b, c (int): shared.

    Returns:
        nothing
    """
    numpy = """Summary.

    Parameters
    ----------
    a : int
        first one.
    b : str

    Returns
    -------
    x
    """
    sphinx = """Summary.

    :param a: first
        again.
    :param int b: second.
    """
    assert param_docs(google) == {"a": "first continued.", "b": "shared.", "c": "shared."}
    assert param_docs(numpy) == {"a": "first one.", "b": ""}
    assert param_docs(sphinx) == {"a": "first again.", "b": "second."}


def test_constructor_params_read_signature_docstrings_and_spec_defaults():
    params = {p.name: p for p in constructor_params(gallery_plugin.PenDigitsDataModule,
                                                    {"fail_plot": True})}
    assert list(params) == ["data_dir", "batch_size", "fail_plot"]
    assert params["batch_size"].default == "32" and not params["batch_size"].spec_default
    assert params["fail_plot"].default == "True" and params["fail_plot"].spec_default
    assert params["data_dir"].annotation == "str | None"
    assert params["batch_size"].doc == "examples per batch."


def test_paragraphs_neutralise_line_starts():
    text = "- not a list\n1. not enumerated\n\n.. not a directive"
    assert paragraphs(text) == ["\\- not a list\n\\1. not enumerated", "\\.. not a directive"]


def commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    """``(command path, parser)`` for ``parser`` and every subcommand (aliases once)."""
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            seen: set[int] = set()
            for name, sub in action.choices.items():
                if id(sub) not in seen:
                    seen.add(id(sub))
                    yield from commands(sub, (*path, name))


def test_cli_reference_documents_every_command_and_option(tmp_path, capsys):
    """docs/cli.rst (sphinx-argparse on the real parser), built with docs/conf.py, warning-free."""
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    docs = Path(__file__).resolve().parents[1] / "docs"
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "cli.rst").write_text((docs / "cli.rst").read_text())
    with patch_docutils(docs), docutils_namespace():  # the gallery is not needed for this page
        Sphinx(src, docs, out, tmp_path / "doctrees", "html", status=None, warningiserror=True,
               confoverrides={"extensions": "sphinxarg.ext", "root_doc": "cli"}).build()
    assert "WARNING" not in capsys.readouterr().err  # help text is read as reStructuredText
    page = (out / "cli.html").read_text()
    found = list(commands(build_parser()))
    assert {"list", "info", "cache list", "gallery build"} <= {" ".join(p) for p, _ in found}
    for path, parser in found:
        if not path:
            continue
        anchor = f'<section id="dmzoo-{"-".join(path)}">'
        assert anchor in page, path
        section = page.split(anchor)[1]
        for action in parser._actions:
            if action.help == argparse.SUPPRESS or action.dest == "help" or action.choices:
                continue
            name = ", ".join(action.option_strings) or action.metavar or action.dest
            assert f"<kbd>{name}</kbd>" in section, (path, name)
    build = page.split('<section id="dmzoo-gallery-build">')[1].split("</section>")[0]
    assert "[--prepare [PATTERN]]" in re.sub(r"<[^>]+>", "", build)  # the usage line


def test_cli_rejects_an_output_that_is_not_a_site(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    assert main(["gallery", "build", str(out), "--gallery-only", "-q"]) == 1
    err = capsys.readouterr().err
    assert "not empty and holds no earlier Sphinx build" in err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert main(["gallery", "build", str(out / "keep.txt"), "--gallery-only"]) == 1
    assert "is a file" in capsys.readouterr().err
    assert main(["gallery", "build", str(tmp_path / "o2"), "--source", str(tmp_path)]) == 1
    assert "has no conf.py" in capsys.readouterr().err


def test_doc_text_keeps_literals_valid_next_to_any_character():
    from docutils.core import publish_doctree
    from docutils.utils import Reporter

    text = 'run: ``None``: (default) in``x``s, ``"fork"``, *args and ``a``'
    rst = doc_text(text)
    tree = publish_doctree(rst, settings_overrides={"report_level": Reporter.WARNING_LEVEL,
                                                    "halt_level": Reporter.WARNING_LEVEL})
    assert [n.astext() for n in tree.findall(lambda n: n.tagname == "literal")] == [
        "None", "x", '"fork"', "a"]
    assert tree.astext() == 'run: None: (default) inxs, "fork", *args and a'


@pytest.mark.slow  # a real Sphinx build (the browser test builds the full site)
def test_gallery_only_site_builds_html_with_every_section(tmp_path, file_server, capsys):
    gallery_plugin.register(file_server)
    out = tmp_path / "site"
    args = ["gallery", "build", str(out), "--gallery-only", "-q", "--data-dir", str(tmp_path / "d"),
            "--prepare", "gallerytest/pen_digits"]
    assert main(args) == 0
    assert "(0 warning(s))" in capsys.readouterr().err
    index = (out / "index.html").read_text()
    assert 'href="gallery/index.html"' in index
    page = (out / "gallery" / "gallerytest" / "pen_digits.html").read_text()
    for section in SECTIONS:
        assert f'id="{section.lower().replace(" ", "-")}"' in page, section
    image = re.search(r'<img alt="gallerytest/pen_digits: train samples[^"]*"[^>]* src="([^"]+)"',
                      page)
    assert image and png_size((out / "gallery" / "gallerytest" / image[1]).resolve())[0] > 100
    assert (out / "_static" / "dmzoo-gallery" / "gallery.js").is_file()
    assert main(args) == 0  # an earlier build is a valid OUT: rebuilt in place
    assert (out / ".buildinfo").is_file()


class _RaisingPlugin:
    @dmzoo.hookimpl
    def dmzoo_datamodule_specs(self):
        raise RuntimeError("cannot list my specs")


def test_a_broken_plugin_is_named_on_the_index_and_the_others_documented(tmp_path):
    with pytest.warns(UserWarning, match="cannot list my specs"):
        dmzoo.register_plugin(_RaisingPlugin(), name="raising")
        gallery = write_gallery(tmp_path)
    index = (tmp_path / "gallery" / "index.rst").read_text()
    assert ".. warning::" in index and "raising" in index and "cannot list my specs" in index
    assert any(e.spec.qualified_name == "dmzoo/mnist" for e in gallery.entries)
    assert (tmp_path / "gallery" / "dmzoo" / "mnist.rst").is_file()


def test_the_gallery_never_imports_the_cli():
    """The CLI imports the gallery (``dmzoo gallery build``), never the other way round."""
    import ast

    import dmzoo.gallery

    imported = []
    for path in Path(dmzoo.gallery.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported += [(path.name, a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom):  # ".." is dmzoo, "." is dmzoo.gallery
                base = ["dmzoo.gallery", "dmzoo"][node.level - 1] if node.level else ""
                imported.append((path.name, ".".join(filter(None, [base, node.module]))))
    assert ("render.py", "dmzoo.gallery.collect") in imported  # the walk sees relative imports
    assert [(f, m) for f, m in imported if m.startswith("dmzoo.cli")] == []
