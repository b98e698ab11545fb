"""torch.distributed on CPU (gloo): prepare_data once per node or once in total (counted
at a loopback server), setup on every rank, and training shards that cover every example
once per epoch with a new order each epoch. Plain torchrun-style and Lightning DDP."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch.utils.data import DataLoader, IterableDataset, TensorDataset

import dmzoo
from dmzoo.core.storage import import_from
from dmzoo.interop import distributed_loader, prepare_then_setup, rank_info

ROOT = Path(__file__).resolve().parents[1]
UPSTREAM = ROOT / "examples" / "dmzoo-example-plugin" / "upstream" / "points.csv"
SERVED = "example/points/points.csv"  # DMZOO_MIRROR layout: <base>/<namespace>/<name>/<file>


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(script: str, args: list[str], *, nodes: int, per_node: int, homes: list[Path],
           mirror: str, report: Path, timeout: int = 240) -> None:
    """Start nodes x per_node processes as a launcher (torchrun, SLURM) would; wait for all."""
    port, procs = free_port(), []
    for node in range(nodes):
        for local in range(per_node):
            env = {**os.environ, "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port),
                   "WORLD_SIZE": str(nodes * per_node), "RANK": str(node * per_node + local),
                   "LOCAL_RANK": str(local), "NODE_RANK": str(node),
                   "LOCAL_WORLD_SIZE": str(per_node), "DMZOO_HOME": str(homes[node]),
                   "DMZOO_MIRROR": mirror, "DMZOO_QUIET": "1", "OMP_NUM_THREADS": "1"}
            procs.append(subprocess.Popen(
                [sys.executable, str(ROOT / "examples" / script), "--report", str(report), *args],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = []
    try:
        for proc in procs:
            outputs.append(proc.communicate(timeout=timeout)[0])
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    for proc, out in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, out[-4000:]


def reports(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("rank*.json"))]


def train_rows(home: Path) -> list[str]:
    """Content hashes of every training example, from the datamodule built in this process."""
    dm = dmzoo.load_datamodule("example/points", data_dir=str(home / "check"))
    with import_from(UPSTREAM.parent):
        dm.prepare_data()
    dm.setup("fit")
    return sorted(hashlib.sha1(x.numpy().tobytes()).hexdigest()[:16]
                  for x in dm.train_set.tensors[0])


def assert_epochs_shard_the_train_set(found: list[dict], expected: list[str]) -> None:
    world = len(found)
    for epoch in range(len(found[0]["epochs"])):
        shards = [r["epochs"][epoch] for r in found]
        assert {len(s) for s in shards} == {-(-len(expected) // world)}  # equal, padded
        union = [row for shard in shards for row in shard]
        assert set(union) == set(expected)  # every example, nothing else
        assert len(union) - len(set(union)) == -len(expected) % world  # repeats = padding only
    assert found[0]["epochs"][0] != found[0]["epochs"][1]  # set_epoch: a new shuffle


@pytest.fixture
def served(file_server):
    file_server.put(SERVED, UPSTREAM.read_bytes())
    return file_server


# -- plain torch.distributed, two simulated nodes of two processes ------------------------------
@pytest.mark.slow
def test_plain_ddp_prepares_once_per_node_with_a_data_dir_per_node(tmp_path, served):
    homes = [tmp_path / "node0", tmp_path / "node1"]
    launch("plain_torch_ddp.py", [], nodes=2, per_node=2, homes=homes, mirror=served.url,
           report=tmp_path / "out")
    found = reports(tmp_path / "out")
    assert served.gets(SERVED) == 2  # one download per node
    assert [r["rank"] for r in found if r["prepared"]] == [0, 2]  # LOCAL_RANK 0 of each node
    assert all(dmzoo.core.storage.is_prepared(dmzoo.get_spec("example/points"), h) for h in homes)
    assert_epochs_shard_the_train_set(found, train_rows(tmp_path))
    assert len({tuple(r["weights"]) for r in found}) == 1  # DDP kept the replicas identical


@pytest.mark.slow
def test_plain_ddp_prepares_once_in_total_with_a_shared_data_dir(tmp_path, served):
    shared = tmp_path / "shared"
    launch("plain_torch_ddp.py", ["--prepare-once"], nodes=2, per_node=2, homes=[shared, shared],
           mirror=served.url, report=tmp_path / "out")
    found = reports(tmp_path / "out")
    assert served.gets(SERVED) == 1
    assert [r["rank"] for r in found if r["prepared"]] == [0]
    assert_epochs_shard_the_train_set(found, train_rows(tmp_path))


# -- Lightning DDP ------------------------------------------------------------------------------
@pytest.mark.slow
def test_lightning_ddp_two_devices_fit(tmp_path, served):
    env = {**os.environ, "DMZOO_HOME": str(tmp_path / "home"), "DMZOO_MIRROR": served.url,
           "DMZOO_QUIET": "1", "OMP_NUM_THREADS": "1"}
    for key in ("LOCAL_RANK", "NODE_RANK", "WORLD_SIZE", "RANK"):
        env.pop(key, None)
    proc = subprocess.run([sys.executable, str(ROOT / "examples" / "lightning_ddp.py"),
                           "--devices", "2", "--report", str(tmp_path / "out")],
                          env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode == 0, proc.stderr[-4000:]
    found = reports(tmp_path / "out")
    assert [(r["rank"], r["world_size"]) for r in found] == [(0, 2), (1, 2)]
    assert served.gets(SERVED) == 1
    assert_epochs_shard_the_train_set(found, train_rows(tmp_path))


@pytest.mark.slow
@pytest.mark.parametrize("per_node", [True, False])
def test_lightning_ddp_two_nodes(tmp_path, served, per_node):
    homes = [tmp_path / "node0", tmp_path / "node1"] if per_node else [tmp_path / "shared"] * 2
    launch("lightning_ddp.py", ["--num-nodes", "2", "--devices", "2", "--epochs", "2"]
           + ([] if per_node else ["--prepare-once"]),
           nodes=2, per_node=2, homes=homes, mirror=served.url, report=tmp_path / "out")
    found = reports(tmp_path / "out")
    assert [(r["rank"], r["node_rank"]) for r in found] == [(0, 0), (1, 0), (2, 1), (3, 1)]
    assert served.gets(SERVED) == (2 if per_node else 1)
    assert_epochs_shard_the_train_set(found, train_rows(tmp_path))


# -- the helpers in one process ----------------------------------------------------------------
def test_distributed_loader_shards_pads_and_reshuffles_per_epoch():
    data = TensorDataset(torch.arange(10))
    base = DataLoader(data, batch_size=3, shuffle=True)
    shards = [distributed_loader(base, num_replicas=3, rank=r) for r in range(3)]

    def epoch(e: int) -> list[list[int]]:
        out = []
        for loader in shards:
            loader.sampler.set_epoch(e)
            out.append([int(v) for (b,) in loader for v in b])
        return out

    first, second = epoch(0), epoch(1)
    assert [len(s) for s in first] == [4, 4, 4]  # 10 examples padded to 12
    assert set(sum(first, [])) == set(range(10))
    assert first != second and set(sum(second, [])) == set(range(10))
    assert epoch(0) == first  # the same epoch gives the same order


def test_distributed_loader_keeps_the_fast_loader_batches_and_seed():
    import numpy as np

    from dmzoo.core.fastloader import ArrayDataset, ArrayLoader, make_loader

    ds = ArrayDataset({"x": np.arange(8, dtype=np.float32)[:, None], "y": np.arange(8)})
    fast = make_loader(ds, batch_size=2, shuffle=True, seed=7)
    loader = distributed_loader(fast, num_replicas=2, rank=1)
    assert loader.sampler.shuffle and loader.sampler.seed == 7
    assert isinstance(loader, ArrayLoader)  # still whole-array batches
    batch = next(iter(loader))
    assert set(batch) == {"x", "y"} and batch["x"].shape == (2, 1)


def test_distributed_loader_rejects_what_it_cannot_shard():
    class Stream(IterableDataset):
        def __iter__(self):
            yield from range(3)

    with pytest.raises(dmzoo.errors.InvalidArgumentError, match="IterableDataset"):
        distributed_loader(DataLoader(Stream(), batch_size=2), num_replicas=2, rank=0)
    with pytest.raises(dmzoo.errors.InvalidArgumentError, match="torch DataLoader"):
        distributed_loader([1, 2, 3], num_replicas=2, rank=0)


def test_without_a_process_group_prepare_then_setup_is_the_single_process_case(monkeypatch):
    for key in ("RANK", "LOCAL_RANK", "WORLD_SIZE", "NODE_RANK"):
        monkeypatch.delenv(key, raising=False)
    assert rank_info() == dmzoo.interop.RankInfo(rank=0, local_rank=0, node_rank=0, world_size=1)
    dm = dmzoo.load_datamodule("example/moons", n=20)
    assert prepare_then_setup(dm) is True and len(dm.train_set) == 16
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setenv("RANK", "3")
    assert prepare_then_setup(dmzoo.load_datamodule("example/moons", n=20)) is False
