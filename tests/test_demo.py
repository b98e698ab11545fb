"""``dmzoo demo`` end to end in a fresh process: offline, output lines, and a real PNG."""

from __future__ import annotations

import io
import os
import re
import struct
import subprocess
import sys

import pytest

import dmzoo


def run_demo(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DMZOO_HOME": str(tmp_path / "home"), "DMZOO_OFFLINE": "1"}
    return subprocess.run([sys.executable, "-m", "dmzoo", "demo", *args], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=300)


def png_size(path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_demo_trains_on_digits_offline_and_writes_a_grid(tmp_path):
    out = run_demo(tmp_path, "--epochs", "3", "--quiet")
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert re.search(r"^dmzoo demo: \d+ datamodule\(s\) installed$", text, re.M)
    assert re.search(r"^dmzoo/digits\s+1\.0\.0\s+tabular-classification\s+bundled$", text, re.M)
    assert "rows: train 1,294, val 144, test 359" in text
    epochs = re.findall(r"^epoch (\d)/3  train_loss ([\d.]+)  val_acc ([\d.]+)", text, re.M)
    assert [e[0] for e in epochs] == ["1", "2", "3"]
    losses = [float(e[1]) for e in epochs]
    assert losses[-1] < losses[0]
    assert float(epochs[-1][2]) >= 0.85
    fingerprint = re.search(r"^split fingerprint: ([0-9a-f]{16})$", text, re.M).group(1)
    dm = dmzoo.load_datamodule("digits")  # same split in this process as in the demo's
    dm.setup("fit")
    assert fingerprint == dm.split_fingerprint
    width, height = png_size(tmp_path / "dmzoo-demo.png")
    assert width >= 300 and height >= 300
    assert "wrote sample grid: dmzoo-demo.png" in text


def test_demo_of_a_plain_table_draws_rows_and_class_balance(tmp_path, capsys):
    from dmzoo.cli.main import main

    target = tmp_path / "iris.png"
    assert main(["demo", "iris", "--epochs", "2", "--out", str(target), "--batch-size", "16"]) == 0
    out, err = capsys.readouterr()
    assert "using dmzoo/iris@1.0.0" in out
    assert re.search(r"^epoch 2/2 .* val_acc", out, re.M)
    assert "preparing iris" not in err  # stderr is not a terminal: no progress bar
    assert png_size(target)[0] >= 600


class Terminal(io.StringIO):
    """A stderr that says it is a terminal (where a progress bar belongs)."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("quiet_env, shown", [(None, True), ("1", False)])
def test_demo_progress_bar_only_on_a_terminal_without_dmzoo_quiet(tmp_path, monkeypatch,
                                                                   quiet_env, shown):
    from dmzoo.cli.main import main

    if quiet_env is None:
        monkeypatch.delenv("DMZOO_QUIET", raising=False)
    else:
        monkeypatch.setenv("DMZOO_QUIET", quiet_env)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["demo", "iris", "--epochs", "1", "--out", str(tmp_path / "i.png")]) == 0
    assert ("preparing iris" in terminal.getvalue()) is shown


@pytest.mark.parametrize("args, message", [
    (["no_such_table"], "no datamodule named 'no_such_table'"),
    (["--epochs", "0"], "--epochs and --batch-size must be at least 1"),
    (["adult"], "DMZOO_OFFLINE is set"),
])
def test_demo_errors_are_one_clear_line(tmp_path, monkeypatch, capsys, args, message):
    from dmzoo.cli.main import main

    monkeypatch.setenv("DMZOO_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)
    assert main(["demo", *args]) == 1
    err = capsys.readouterr().err
    last = err.strip().splitlines()[-1]
    assert last.startswith("dmzoo: error: ") and message in last and "Traceback" not in err
    assert not (tmp_path / "dmzoo-demo.png").exists()
