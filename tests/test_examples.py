"""Every training script in ``examples/`` runs, in a fresh process, on each first-party
datamodule it claims to support (any classification datamodule: images, plain tables and
tables with categorical columns) and on the example plugin. Data that cannot be downloaded
here comes from the spec's fixture (tiny upstream-format files, prepared offline); the
scripts find it through ``DMZOO_HOME``."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import dmzoo
from dmzoo.testing.fixture import fixture_kwargs

pytestmark = pytest.mark.slow
EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# Bundled table, table with categorical columns (fixture), images (fixture), third-party.
DATA = ["dmzoo/wine", "dmzoo/adult", "dmzoo/mnist", "example/moons"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def data_env(ref: str, tmp_path: Path) -> dict[str, str]:
    """The environment a script runs in: offline, with ``ref``'s fixture prepared in DMZOO_HOME."""
    home = tmp_path / "home"
    spec = dmzoo.get_spec(ref)
    if spec.fixture and spec.resources:
        home = Path(fixture_kwargs(spec, tmp_path / "fixture")["data_dir"])
    env = {**os.environ, "DMZOO_HOME": str(home), "DMZOO_OFFLINE": "1", "DMZOO_QUIET": "1",
           "OMP_NUM_THREADS": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(free_port()),
           "WORLD_SIZE": "1", "RANK": "0", "LOCAL_RANK": "0", "NODE_RANK": "0",
           "LOCAL_WORLD_SIZE": "1"}
    env.pop("DMZOO_CHECKSUMS", None)
    return env


def run(args: list[str], env: dict[str, str], cwd: Path) -> str:
    proc = subprocess.run([sys.executable, *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    return proc.stdout


@pytest.mark.parametrize("ref", DATA)
def test_lightning_cli_train(ref, tmp_path):
    env = data_env(ref, tmp_path)
    env = {k: v for k, v in env.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK",
                                                     "NODE_RANK", "LOCAL_WORLD_SIZE")}
    run([str(EXAMPLES / "lightning_cli_train.py"), "fit", "--data", ref,
         "--data.batch_size", "8", "--trainer.max_steps", "3", "--trainer.limit_val_batches", "1",
         "--trainer.accelerator", "cpu", "--trainer.logger", "false",
         "--trainer.enable_checkpointing", "false", "--trainer.enable_progress_bar", "false",
         "--trainer.enable_model_summary", "false"], env, tmp_path)


@pytest.mark.parametrize("ref", DATA)
def test_plain_torch_ddp(ref, tmp_path):
    run([str(EXAMPLES / "plain_torch_ddp.py"), "--data", ref, "--epochs", "1",
         "--batch-size", "8", "--report", str(tmp_path / "out")], data_env(ref, tmp_path), tmp_path)
    assert (tmp_path / "out" / "rank0.json").is_file()


@pytest.mark.parametrize("ref", DATA)
def test_lightning_ddp(ref, tmp_path):
    env = data_env(ref, tmp_path)
    env = {k: v for k, v in env.items() if k not in ("WORLD_SIZE", "RANK", "LOCAL_RANK",
                                                     "NODE_RANK", "LOCAL_WORLD_SIZE")}
    run([str(EXAMPLES / "lightning_ddp.py"), "--data", ref, "--devices", "1", "--epochs", "1",
         "--batch-size", "8", "--report", str(tmp_path / "out")], env, tmp_path)
    assert (tmp_path / "out" / "rank0.json").is_file()


@pytest.mark.parametrize("ref, config", [("dmzoo/wine", "wine"), ("dmzoo/mnist", "mnist"),
                                         ("example/moons", "moons")])
def test_hydra_train(ref, config, tmp_path):
    out = run([str(EXAMPLES / "hydra" / "train.py"), f"data={config}", "data.batch_size=8",
               f"hydra.run.dir={tmp_path / 'run'}"], data_env(ref, tmp_path), tmp_path)
    assert any(line.startswith(ref + "@") for line in out.splitlines()), out
    assert re.search(r"^epoch 0: [1-9]\d* batches, [1-9]\d* examples$", out, re.M), out
