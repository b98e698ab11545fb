"""The shared fast batch path (core/fastloader.py) with real DataLoaders and workers."""

from __future__ import annotations

import copy
import logging
import os
import pickle

import numpy as np
import pytest
import torch
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    DistributedSampler,
    SequentialSampler,
)

from dmzoo.core.errors import InvalidArgumentError
from dmzoo.core.fastloader import (
    ArrayBatches,
    ArrayDataset,
    ArrayEpoch,
    ArrayLoader,
    Compose,
    EpochSampler,
    Normalize,
    ToFloat,
    make_loader,
)


@pytest.fixture()
def arrays(tmp_path):
    """A memory-mapped uint8 'image' array (1.6 MB) and int64 labels."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(500, 1, 56, 56), dtype=np.uint8)
    np.save(tmp_path / "x.npy", x)
    y = np.arange(500, dtype=np.int64) % 7
    return np.load(tmp_path / "x.npy", mmap_mode="r"), y


def collect(loader):
    return list(loader)


def test_getitems_batch_equals_per_sample_rows(arrays):
    x, y = arrays
    ds = ArrayDataset({"x": x, "y": y}, indices=np.arange(100, 300))
    batch = ds.__getitems__([5, 0, 199])
    assert batch["x"].dtype == torch.uint8 and batch["x"].shape == (3, 1, 56, 56)
    for i, pos in enumerate([5, 0, 199]):
        single = ds[pos]
        assert torch.equal(batch["x"][i], single["x"])
        assert torch.equal(single["x"], torch.from_numpy(np.array(x[100 + pos])))
        assert int(batch["y"][i]) == y[100 + pos]
    tup = ArrayDataset((x, y)).__getitems__([3])
    assert isinstance(tup, tuple) and int(tup[1][0]) == y[3]


def test_bad_arrays_rejected(arrays):
    x, y = arrays
    with pytest.raises(ValueError, match="first dimension"):
        ArrayDataset({"x": x, "y": y[:10]})
    with pytest.raises(ValueError, match=r"\[0, 500\)"):
        ArrayDataset((x, y), indices=[0, 500])
    with pytest.raises(InvalidArgumentError, match="batch_size must be an int >= 1, got 0"):
        make_loader(ArrayDataset((x, y)), batch_size=0)


def test_loader_covers_split_once_with_drop_last_and_order(arrays):
    x, y = arrays
    ds = ArrayDataset({"x": x, "y": y}, indices=np.arange(0, 500, 2))  # 250 rows
    plain = collect(make_loader(ds, batch_size=64))
    assert [len(b["y"]) for b in plain] == [64, 64, 64, 58]
    assert torch.equal(torch.cat([b["y"] for b in plain]), torch.from_numpy(y[::2]))
    dropped = collect(make_loader(ds, batch_size=64, drop_last=True))
    assert [len(b["y"]) for b in dropped] == [64, 64, 64]


def test_seeded_shuffle_is_reproducible_and_changes_per_epoch(arrays):
    x, y = arrays
    ds = ArrayDataset((x, np.arange(500)))

    def order(loader):
        return torch.cat([b[1] for b in loader]).tolist()

    loader = make_loader(ds, batch_size=50, shuffle=True, seed=7)
    e0, e1 = order(loader), order(loader)
    assert sorted(e0) == list(range(500)) and sorted(e1) == list(range(500))
    assert e0 != e1 and e0 != list(range(500))
    again = make_loader(ds, batch_size=50, shuffle=True, seed=7)
    assert order(again) == e0
    again.sampler.set_epoch(1)  # what Lightning does each epoch
    assert order(again) == e1
    assert order(make_loader(ds, batch_size=50, shuffle=True, seed=8)) != e0
    assert isinstance(loader.sampler, EpochSampler)


def test_float_and_normalize_match_manual_formula(arrays):
    x, y = arrays
    ds = ArrayDataset((x, y))
    t = Compose([ToFloat(0), Normalize(0, [0.25], [0.5])])
    (xb, yb), = collect(make_loader(ds, batch_size=500, transform=t))
    ref = (torch.from_numpy(np.array(x)).float() / 255 - 0.25) / 0.5
    assert xb.dtype == torch.float32 and torch.equal(xb, ref)
    assert yb.dtype == torch.int64
    rgb = {"img": torch.full((2, 3, 2, 2), 255, dtype=torch.uint8)}
    out = Compose([ToFloat("img"), Normalize("img", [0.0, 0.5, 1.0], [1.0, 0.5, 2.0])])(rgb)
    assert out["img"][:, :, 0, 0].tolist() == [[1.0, 1.0, 0.0]] * 2
    with pytest.raises(TypeError, match="ToFloat first"):
        Normalize(0, [0.5], [0.5])((torch.zeros(1, dtype=torch.uint8),))
    with pytest.raises(ValueError, match="std"):
        Normalize(0, [0.5], [0.0])


def test_cpu_numpy_path_equals_device_torch_path(arrays):
    x = torch.from_numpy(np.array(arrays[0][:64]))
    to_float, norm = ToFloat(0), Normalize(0, [0.3], [0.7])
    a, b = to_float.numpy_path(x), to_float.torch_path(x)
    assert a.dtype == b.dtype == torch.float32 and torch.equal(a, b)
    assert torch.equal(norm.numpy_path(a), norm.torch_path(a))
    rgb = torch.rand(4, 3, 5, 5)
    norm3 = Normalize(0, [0.1, 0.2, 0.3], [0.5, 0.6, 0.7])
    assert torch.equal(norm3.numpy_path(rgb), norm3.torch_path(rgb))
    ToFloat(0).numpy_path(x)
    assert x.dtype == torch.uint8  # inputs are never modified in place


def test_memmap_is_pickled_by_path_not_contents(arrays):
    x, y = arrays
    ds = ArrayDataset({"x": x, "y": y})
    blob = pickle.dumps(ds)
    assert len(blob) < x.nbytes / 100  # 1.6 MB of pixels do not travel
    back = pickle.loads(blob)
    assert isinstance(back.arrays[0], np.memmap)
    assert torch.equal(back.__getitems__([4, 2])["x"], ds.__getitems__([4, 2])["x"])
    in_memory = ArrayDataset({"x": np.array(x)})  # plain arrays still pickle (by value)
    assert len(pickle.dumps(in_memory)) > x.nbytes


class WhereAmI:
    """Batch transform recording which process served the batch."""

    def __call__(self, batch):
        n = len(batch["y"])
        return {**batch, "pid": torch.full((n,), os.getpid())}


def test_array_batches_are_made_in_process_whatever_num_workers(arrays, caplog):
    """Worker processes would only copy finished batches back: an ArrayDataset is served
    in this process for any num_workers, with the same batches, and the log says so once."""
    x, y = arrays
    ds = ArrayDataset({"x": x, "y": y})
    t = Compose([WhereAmI(), ToFloat("x")])
    ref = collect(make_loader(ds, batch_size=100, shuffle=True, seed=3, transform=t))
    with caplog.at_level(logging.INFO, logger="dmzoo"):
        got = [collect(make_loader(ds, batch_size=100, shuffle=True, seed=3, transform=t,
                                   num_workers=workers, multiprocessing_context="fork",
                                   persistent_workers=True))
               for workers in (1, 2, 4)]
    for batches in got:
        assert len(batches) == len(ref) == 5
        for a, b in zip(ref, batches, strict=True):
            assert torch.equal(a["x"], b["x"]) and torch.equal(a["y"], b["y"])
            assert int(b["pid"][0]) == os.getpid()
    said = [r for r in caplog.records if "is not used for dmzoo's whole-batch" in r.getMessage()]
    assert len(said) <= 1  # once per process (an earlier test may have said it already)


def test_per_sample_datasets_still_use_worker_processes(arrays):
    x, _ = arrays

    class PerSample(torch.utils.data.Dataset):
        def __len__(self):
            return 40

        def __getitem__(self, i):
            return torch.tensor(os.getpid())

    loader = make_loader(PerSample(), batch_size=10, num_workers=2,
                         collate_fn=torch.utils.data.default_collate,
                         multiprocessing_context="fork")
    pids = {int(p) for batch in loader for p in batch}
    assert os.getpid() not in pids and len(pids) == 2


def test_distributed_sampler_shards_cover_the_split(arrays):
    x, y = arrays
    ds = ArrayDataset((x, np.arange(500)))
    seen = []
    for rank in range(2):
        sampler = DistributedSampler(ds, num_replicas=2, rank=rank, shuffle=True, seed=1)
        sampler.set_epoch(0)
        seen.append(torch.cat([b[1] for b in make_loader(ds, batch_size=64, sampler=sampler)]))
    assert len(seen[0]) == len(seen[1]) == 250
    assert sorted(torch.cat(seen).tolist()) == list(range(500))


class Positions(torch.utils.data.Dataset):
    """Returns the positions it is asked for, and records what type they came as."""

    def __init__(self, n):
        self.n, self.given = n, []

    def __len__(self):
        return self.n

    def __getitems__(self, positions):
        self.given.append(type(positions))
        return torch.as_tensor(np.asarray(positions))

    def __getitem__(self, position):
        return position


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("order", ["sequential", "seeded", "distributed"])
def test_array_batches_are_the_batches_a_plain_dataloader_gives(order, drop_last):
    """Same batches, same order, same length as torch's own BatchSampler, but as numpy arrays.

    Guards the one private torch API dmzoo overrides, ``DataLoader._index_sampler``
    (``ArrayLoader``): if torch stops reading it, the batches come as lists and this fails."""
    def sampler(ds):
        return {"sequential": SequentialSampler(ds), "seeded": EpochSampler(ds, seed=4),
                "distributed": DistributedSampler(ds, num_replicas=3, rank=1, seed=2)}[order]

    fast_ds, plain_ds = Positions(1000), Positions(1000)
    fast = make_loader(fast_ds, batch_size=64, sampler=sampler(fast_ds), drop_last=drop_last)
    plain = DataLoader(plain_ds, batch_size=64, sampler=sampler(plain_ds), drop_last=drop_last,
                       collate_fn=lambda b: b)
    for _ in range(2):  # two epochs: the seeded order moves on the same way
        got, want = list(fast), list(plain)
        assert len(got) == len(want) == len(fast) == len(plain)
        assert all(torch.equal(g, w) for g, w in zip(got, want, strict=True))
    assert set(fast_ds.given) == {np.ndarray} and set(plain_ds.given) == {list}
    assert fast.batch_size == 64 and fast.sampler is not None  # looks like any DataLoader


def test_a_single_process_epoch_has_a_length_and_copies_empty():
    """``iter()`` without workers is a lean :class:`ArrayEpoch`: it has torch's iterator
    length, and a copy of a live epoch (Lightning pickles its loops) is an empty one."""
    loader = make_loader(Positions(100), batch_size=30)
    epoch = iter(loader)
    assert isinstance(epoch, ArrayEpoch) and len(epoch) == len(loader) == 4
    first = next(epoch)
    assert first.tolist() == list(range(30))
    assert list(copy.deepcopy(epoch)) == [] and list(pickle.loads(pickle.dumps(epoch))) == []
    assert [b.tolist()[0] for b in epoch] == [30, 60, 90]  # the original goes on unharmed
    workers = make_loader(ArrayDataset({"x": np.arange(10)}), batch_size=5, num_workers=1)
    with_workers = iter(workers)
    assert isinstance(with_workers, ArrayEpoch)  # arrays are served in-process regardless
    assert next(with_workers)["x"].tolist() == [0, 1, 2, 3, 4]
    other = iter(make_loader(Positions(10), batch_size=5, num_workers=1))
    assert not isinstance(other, ArrayEpoch)  # other datasets: torch's iterator, its workers
    assert next(other).tolist() == [0, 1, 2, 3, 4]
    del with_workers, other


def test_a_custom_batch_sampler_is_used_as_given():
    ds = Positions(10)
    custom = [[3, 1], [0]]
    loader = ArrayLoader(ds, batch_sampler=custom, collate_fn=lambda b: b)
    assert [b.tolist() for b in loader] == custom and set(ds.given) == {list}
    plain = BatchSampler(SequentialSampler(ds), batch_size=4, drop_last=False)
    assert [b.tolist() for b in ArrayBatches(plain)] == [list(b) for b in plain]


class Recording(ArrayDataset):
    def __getitems__(self, positions):
        self.given = [*getattr(self, "given", []), type(positions)]
        return super().__getitems__(positions)


@pytest.mark.parametrize("drop_last", [False, True])
def test_a_staged_epoch_gives_the_batches_gathered_one_by_one(monkeypatch, drop_last):
    """In-memory arrays: one gather per epoch, then slices; the same batches either way."""
    from dmzoo.core import fastloader, parallel

    monkeypatch.setattr(parallel, "PARALLEL_ROWS", 128)  # the epoch is gathered on threads
    rng = np.random.default_rng(1)
    arrays = {"x": rng.normal(size=(2000, 3)).astype(np.float32), "y": np.arange(2000)}

    def epochs(stage_max_bytes):
        monkeypatch.setattr(fastloader, "STAGE_MAX_BYTES", stage_max_bytes)
        ds = Recording(arrays, indices=np.arange(1, 2000, 2))
        loader = make_loader(ds, batch_size=64, shuffle=True, seed=3, drop_last=drop_last)
        return [list(loader) for _ in range(2)], set(ds.given)

    staged, staged_types = epochs(1 << 30)
    gathered, gathered_types = epochs(0)
    assert staged_types == {fastloader.EpochSlice} and gathered_types == {np.ndarray}
    for a, b in zip(sum(staged, []), sum(gathered, []), strict=True):
        assert torch.equal(a["x"], b["x"]) and torch.equal(a["y"], b["y"])
        assert a["x"].is_contiguous() and a["y"].dtype == torch.int64


def test_only_in_memory_arrays_of_bounded_size_are_staged(arrays, monkeypatch):
    from dmzoo.core import fastloader

    x, y = arrays
    assert not ArrayDataset((x, y)).can_stage()  # a memory map may be larger than RAM
    in_memory = ArrayDataset((np.array(x), y))
    assert in_memory.can_stage()
    monkeypatch.setattr(fastloader, "STAGE_MAX_BYTES", x.nbytes // 2)
    assert not in_memory.can_stage() and in_memory.subset(np.arange(100)).can_stage()




def test_normalize_with_scale_equals_to_float_then_normalize_bit_for_bit():
    x = torch.randint(0, 256, (16, 3, 5, 5), dtype=torch.uint8)
    mean, std = [0.49, 0.48, 0.45], [0.25, 0.24, 0.26]
    two = Compose([ToFloat(0), Normalize(0, mean, std)])((x,))[0]
    fused = Normalize(0, mean, std, scale=255)
    assert torch.equal(fused((x,))[0], two)
    assert torch.equal(fused.torch_path(x), two)  # the device path too
    assert x.dtype == torch.uint8  # the input is not modified
    with pytest.raises(TypeError, match="ToFloat first or give scale"):
        Normalize(0, mean, std)((x,))
