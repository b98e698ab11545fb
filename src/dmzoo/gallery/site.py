"""Build the HTML site with Sphinx: the project docs, or a gallery-only site.

``dmzoo gallery build OUT`` calls :func:`build_site`. The whole site (user guide, CLI and
API references, gallery) is built from the repository's ``docs/`` in a checkout, or from
the copy of those sources that the wheel ships as ``dmzoo/docs`` (built in a temporary
folder: nothing is written inside the installed package). ``--gallery-only`` builds a
site holding just the gallery of the installed datamodules, which is what a team
documenting its own plugins wants.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

import dmzoo

from ..core.errors import GalleryError, MissingExtraError

# Inside the wheel, ``dmzoo/docs/example_plugin`` holds the example plugin's files that the
# write-a-plugin guide includes from ``../examples/dmzoo-example-plugin`` (pyproject.toml).
PACKAGED_EXAMPLE = "example_plugin"

# A gallery-only site needs no conf.py: these settings, and templates/standalone_index.rst.
STANDALONE = {"project": "dmzoo gallery", "extensions": ["dmzoo.gallery.sphinxext"],
              "html_theme": "alabaster", "html_title": "dmzoo datamodule gallery",
              "html_show_sourcelink": False, "html_copy_source": False}


def checkout_docs() -> Path | None:
    """``docs/`` of the dmzoo checkout this package runs from, if any (editable installs)."""
    docs = Path(dmzoo.__file__).resolve().parents[2] / "docs"
    return docs if (docs / "conf.py").is_file() else None


def packaged_docs() -> Path | None:
    """The docs sources shipped inside an installed wheel (``dmzoo/docs``), if any."""
    docs = Path(dmzoo.__file__).resolve().parent / "docs"
    return docs if (docs / "conf.py").is_file() else None


def require_sphinx() -> None:
    """Fail with the extra to install, before anything is written, when Sphinx is missing."""
    try:
        # deferred: sphinx is heavy and optional (docs extra); missing, it gets a named error
        import sphinx  # noqa: F401
    except ImportError:
        raise MissingExtraError("building the site needs Sphinx, which is not installed; "
                                "run: pip install 'dmzoo[docs]'") from None


def check_output_dir(out: Path, source: Path | None) -> None:
    """OUT may be new, empty or an earlier Sphinx HTML output; anything else is refused."""
    if out.exists() and not out.is_dir():
        raise GalleryError(f"output {out} is a file; give a folder for the HTML site")
    if source is not None and out.resolve() == source.resolve():
        raise GalleryError(f"output {out} is the docs source folder; give another folder, "
                           f"e.g. {source / '_build' / 'html'}")
    if out.is_dir() and any(out.iterdir()) and not (out / ".buildinfo").exists():
        raise GalleryError(f"output {out} is not empty and holds no earlier Sphinx build; "
                           "refusing to overwrite its files. Choose an empty or new folder")


def build_site(
    out: str | Path,
    *,
    source: str | Path | None = None,
    gallery_only: bool = False,
    prepare: bool | Sequence[str] = False,
    data_dir: str | Path | None = None,
    quiet: bool = False,
) -> int:
    """Build the HTML site into ``out``; return the number of Sphinx warnings."""
    require_sphinx()
    out = Path(out)
    src = None if gallery_only else (Path(source) if source is not None else checkout_docs())
    packaged = None if gallery_only or src is not None else packaged_docs()
    if src is not None and not (src / "conf.py").is_file():
        raise GalleryError(f"{src} has no conf.py; --source must be a Sphinx source folder "
                           "(the repository's docs/)")
    check_output_dir(out, src or packaged)
    overrides = {"dmzoo_gallery_prepare": prepare if isinstance(prepare, bool) else list(prepare),
                 "dmzoo_gallery_data_dir": str(data_dir) if data_dir else ""}
    if src is not None:
        return _run_sphinx(src, out, overrides, quiet)
    with tempfile.TemporaryDirectory(prefix="dmzoo-docs-") as tmp:
        if packaged is not None:
            docs = Path(tmp) / "docs"
            skip = shutil.ignore_patterns(PACKAGED_EXAMPLE, "__pycache__", "__init__.py")
            shutil.copytree(packaged, docs, ignore=skip)
            shutil.copytree(packaged / PACKAGED_EXAMPLE,
                            Path(tmp) / "examples" / "dmzoo-example-plugin",
                            ignore=shutil.ignore_patterns("__pycache__"))
            return _run_sphinx(docs, out, overrides, quiet)
        index = resources.files(__package__) / "templates" / "standalone_index.rst"
        (Path(tmp) / "index.rst").write_text(index.read_text(encoding="utf-8"), encoding="utf-8")
        return _run_sphinx(Path(tmp), out, {**STANDALONE, **overrides}, quiet, has_conf=False)


def _run_sphinx(src: Path, out: Path, overrides: dict, quiet: bool, *,
                has_conf: bool = True) -> int:
    # deferred: sphinx is heavy and optional (docs extra)
    from sphinx.application import Sphinx
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    out.mkdir(parents=True, exist_ok=True)
    with patch_docutils(src), docutils_namespace():
        app = Sphinx(src, src if has_conf else None, out, out / ".doctrees", "html",
                     confoverrides=overrides, status=None if quiet else sys.stdout,
                     warning=sys.stderr, freshenv=False)
        app.build()
    if app.statuscode:
        raise GalleryError(f"Sphinx failed to build {out} (exit status {app.statuscode}); "
                           "its messages above say why")
    return app._warncount
