"""``dmzoo list / info / doctor / --version``: output, exit codes, and no torch import."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import dmzoo
from dmzoo.cli.main import main
from dmzoo.registry import reset_registry


@pytest.fixture(autouse=True)
def fresh_registry():
    reset_registry()
    yield
    reset_registry()


def cli(capsys, *args):
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_table_and_json(capsys):
    code, out, _ = cli(capsys, "list")
    assert code == 0
    assert out.splitlines()[0].split() == ["NAME", "VERSION", "TASK", "DOWNLOAD", "SUMMARY"]
    assert any(line.startswith("acme/toy ") and " 1.1.0 " in line for line in out.splitlines())
    code, out, _ = cli(capsys, "list", "toy", "--json")
    rows = json.loads(out)
    assert code == 0 and rows[0]["name"] == "acme/toy"
    assert rows[0]["versions"] == ["1.0.0", "1.1.0", "2.0.0rc1"]


def test_list_filters_and_no_match(capsys):
    code, out, _ = cli(capsys, "list", "--task", "tabular-classification", "--namespace", "acme", "--json")
    assert [r["name"] for r in json.loads(out)] == ["acme/toy"]
    code, out, err = cli(capsys, "list", "no_such_*")
    assert code == 1 and "no datamodule matches 'no_such_*'" in err


def test_info_text_and_json(capsys):
    code, out, _ = cli(capsys, "info", "acme/toy@1.0.0")
    assert code == 0
    assert out.startswith("acme/toy 1.0.0\n")
    assert "versions   1.0.0, 1.1.0*, 2.0.0rc1" in out
    code, out, _ = cli(capsys, "info", "toy", "--json")
    data = json.loads(out)
    assert data["version"] == data["default_version"] == "1.1.0"
    assert data["splits"] == [{"name": "train", "num_examples": 64}, {"name": "test", "num_examples": 16}]


@pytest.mark.parametrize(
    "args, message",
    [
        (["info", "tyo"], "no datamodule named 'tyo'; did you mean 'toy'"),
        (["info", "toy@9"], "has no version matching '==9'"),
        (["info", "toy@>>1"], "neither a version nor a PEP 440 specifier"),
        (["info", "a/b/c"], "is not a datamodule name"),
    ],
)
def test_errors_are_one_line_without_traceback(capsys, args, message):
    code, out, err = cli(capsys, *args)
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("dmzoo: error: ") and message in err
    assert "Traceback" not in err


def test_debug_shows_the_exception(capsys):
    with pytest.raises(dmzoo.DmzooError):
        main(["--debug", "info", "tyo"])


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0 and capsys.readouterr().out.strip() == f"dmzoo {dmzoo.__version__}"
    assert main([]) == 2


def test_doctor_healthy(capsys):
    code, out, _ = cli(capsys, "doctor")
    assert code == 0
    assert "no problems found" in out and "dmzoo.plugins.vision.plugin" in out


def test_catalog_commands_import_neither_torch_nor_classes():
    """Listing, info and doctor must stay cheap: check sys.modules in a fresh process."""
    script = (
        "import sys\n"
        "from dmzoo.cli.main import main\n"
        "for args in (['list'], ['list', '--json'], ['info', 'toy'], ['doctor']):\n"
        "    main(args)\n"
        "import dmzoo\n"
        "dmzoo.list_datamodules(); dmzoo.get_spec('acme/toy'); dmzoo.is_datamodule('mnist')\n"
        "heavy = [m for m in ('torch', 'numpy', 'requests', 'lightning', 'pandas',"
        " 'dmzoo_test_plugin.toy', 'dmzoo.core.datamodule') if m in sys.modules]\n"
        "from dmzoo.registry import get_registry, index\n"
        "cls_modules = {s.cls.split(':')[0] for s in index.iter_all(get_registry())}\n"
        "classes = sorted(cls_modules & set(sys.modules))\n"
        "print('HEAVY', heavy, classes)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "HEAVY [] []"
