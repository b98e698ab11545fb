"""What a new user meets first, on a fresh clone or an installed wheel: the test suite runs
without the data folder beside the checkout, ``dmzoo.errors`` imports, the CLI behaves in
pipes and on bad filters, and ``dmzoo gallery build`` works (or says what to install)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import dmzoo
from dmzoo.core.spec import TASKS

REPO = Path(__file__).resolve().parents[1]


def dmzoo_cli(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dmzoo", *args], capture_output=True, text=True,
                          timeout=300, **kwargs)


def test_real_data_tests_skip_with_a_reason_in_a_clone_without_the_shared_folder(tmp_path):
    clone = tmp_path / "clone"  # no ../shared beside it
    shutil.copytree(REPO / "tests", clone / "tests", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", clone)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider",
         "tests/test_vision.py", "-k", "published_ones or real_files_through_mirror"],
        cwd=clone, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "2 skipped" in proc.stdout and "error" not in proc.stdout.lower()
    assert f"needs the official MNIST files in {tmp_path / 'shared' / 'data' / 'mnist'}" \
        in proc.stdout
    assert "missing: t10k-images-idx3-ubyte.gz" in proc.stdout and "dmzoo info mnist" in proc.stdout


def test_dmzoo_errors_is_an_importable_module_of_every_error():
    proc = subprocess.run([sys.executable, "-c", (
        "import sys, dmzoo.errors as e; from dmzoo.errors import DmzooError, ChecksumError, "
        "NotSetUpError, DataNotFoundError; import dmzoo; assert dmzoo.errors is e; "
        "print(len(e.__all__), 'torch' in sys.modules)")], capture_output=True, text=True,
        timeout=120)
    assert proc.returncode == 0, proc.stderr
    count, torch_imported = proc.stdout.split()
    assert int(count) >= 20 and torch_imported == "False"
    import dmzoo.core.errors as core

    assert {n for n in dmzoo.errors.__all__} == {
        n for n, v in vars(core).items() if isinstance(v, type) and issubclass(v, Exception)}
    assert all(issubclass(getattr(dmzoo.errors, n), dmzoo.DmzooError) for n in dmzoo.errors.__all__)


@pytest.mark.parametrize("args", [["list", "--json"], ["list"], ["info", "wine", "--json"]])
def test_output_into_a_closed_pipe_is_quiet_and_succeeds(args):
    """``dmzoo list --json | head -1``: the reader leaves early; no error message, exit 0."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before dmzoo writes: every write is EPIPE
    try:
        proc = subprocess.run([sys.executable, "-m", "dmzoo", *args], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=120)
    finally:
        os.close(write_end)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr


def test_list_through_a_real_head_prints_the_first_line_only(tmp_path):
    proc = subprocess.run(f"{sys.executable} -m dmzoo list --json | head -1", shell=True,
                          capture_output=True, text=True, timeout=120)
    assert proc.stdout == "[\n" and proc.stderr == ""


def test_list_filters_that_match_nothing_exit_1():
    proc = dmzoo_cli("list", "--task", "nosuchtask")
    assert proc.returncode == 1 and proc.stdout == ""
    line = proc.stderr.strip()
    assert "\n" not in line and "unknown task 'nosuchtask'" in line
    assert all(task in line for task in TASKS)
    proc = dmzoo_cli("list", "--namespace", "nosuchnamespace")
    assert proc.returncode == 1 and "no datamodule matches --namespace nosuchnamespace" in proc.stderr
    proc = dmzoo_cli("list", "--task", "text-classification", "--namespace", "dmzoo")
    assert proc.returncode == 1 and "--task text-classification" in proc.stderr


def test_gallery_build_without_sphinx_names_the_extra_to_install(tmp_path):
    out = tmp_path / "site"
    code = ("import sys; sys.modules['sphinx'] = None  # as if Sphinx were not installed\n"
            "from dmzoo.cli.main import main; sys.exit(main(['gallery', 'build', sys.argv[1]]))")
    proc = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == ("dmzoo: error: building the site needs Sphinx, which is not "
                                   "installed; run: pip install 'dmzoo[docs]'")
    assert not out.exists()


@pytest.mark.slow
def test_an_installed_wheel_builds_the_whole_site(tmp_path):
    """The wheel ships the docs sources: user guide, CLI and API pages, not just the gallery."""
    source = tmp_path / "src"
    skip = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "_build",
                                  "artifacts", "__pycache__", ".pytest_cache", ".ruff_cache")

    def ignore(folder: str, names: list[str]) -> set[str]:  # generated pages, tests: not shipped
        extra = {"gallery"} if Path(folder).name == "docs" else set()
        return set(skip(folder, names)) | extra | ({"tests"} if Path(folder) == REPO else set())

    shutil.copytree(REPO, source, ignore=ignore)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "--no-build-isolation", str(source), "-w", str(tmp_path / "dist")],
                   check=True, capture_output=True, timeout=300)
    site = tmp_path / "site-packages"
    with zipfile.ZipFile(next((tmp_path / "dist").glob("dmzoo-*.whl"))) as wheel:
        wheel.extractall(site)
    out, run_dir = tmp_path / "html", tmp_path / "elsewhere"
    run_dir.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "DMZOO_HOME": str(tmp_path / "home")}
    code = ("import sys, dmzoo; assert dmzoo.__file__.startswith(sys.argv[2]), dmzoo.__file__\n"
            "from dmzoo.cli.main import main; sys.exit(main(['gallery', 'build', sys.argv[1], '-q']))")
    proc = subprocess.run([sys.executable, "-c", code, str(out), str(site)], cwd=run_dir, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    for page in ("index", "quickstart", "concepts", "write_plugin", "cli", "api", "gallery/index"):
        assert (out / f"{page}.html").is_file(), page
    assert "load_datamodule" in (out / "api.html").read_text(encoding="utf-8")
    assert "gallery build" in (out / "cli.html").read_text(encoding="utf-8")
    assert "points_fixture" in (out / "write_plugin.html").read_text(encoding="utf-8")
    assert not list(site.rglob("dmzoo/docs/gallery"))  # nothing written into the package
    assert (site / "dmzoo" / "py.typed").is_file()  # type checkers use the installed package
