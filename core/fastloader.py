"""The shared fast batch path: whole-split arrays served one whole batch at a time.

Per-sample ``Dataset.__getitem__`` + ``default_collate`` costs Python work for every
example. Here a split is a set of aligned arrays (usually ``np.load(mmap_mode="r")``
memory maps) plus an index array; a batch is one fancy-indexing call per array
(``__getitems__``, which ``torch.utils.data.DataLoader`` calls with the whole batch of
indices, here a numpy slice of the epoch order), and transforms run once per batch.
In a single-process loader over in-memory arrays, the epoch's rows are gathered once
and each batch is a slice of them (:class:`EpochSlice`). Because it is still a plain
map-style dataset fed by a ``DataLoader`` subclass with the standard ``batch_size`` and
``sampler``, workers and ``pin_memory`` work unchanged. The order comes from
:class:`~dmzoo.core.epochs.EpochSampler` (a ``DistributedSampler``: one global order per
epoch, sharded by rank, so Lightning keeps it), and :class:`ArrayLoader` resumes
mid-epoch from its ``state_dict()`` without replaying (``docs/fault_tolerance.rst``).

Public API (stable; used by the vision, tabular and distributed code)::

    ds = ArrayDataset({"x": np.load("x.npy", mmap_mode="r"), "y": y}, indices=train_idx)
    loader = make_loader(ds, batch_size=128, shuffle=True, seed=0,
                         transform=Compose([ToFloat("x"), Normalize("x", mean, std)]))
    for batch in loader:   # {"x": float32 tensor [128, ...], "y": tensor [128]}
        ...

Arrays may be given as a dict (batches are dicts) or a tuple/list (batches are
tuples). Batch transforms on CPU tensors compute with numpy ufuncs: those are
single-threaded, and for batch-sized tensors torch's OpenMP hand-off costs more than it
saves (10x slower on a busy 2-core machine, measured), while leaving the cores to the
model and the loader workers. The same transforms use torch on a device tensor. Memory-mapped arrays are pickled as their file path, never their contents,
so ``num_workers > 0`` with ``spawn`` does not copy the data into each worker (with
``fork`` the pages are shared anyway).
"""

from __future__ import annotations

import logging
import mmap
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import torch
from torch.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    Sampler,
    SequentialSampler,
)

from .epochs import BatchKey, EpochSampler, Pass, using_batch_key
from .errors import InvalidArgumentError, SplitMismatchError
from .options import check_loader_options
from .parallel import map_row_blocks

Batch = dict[str, torch.Tensor] | tuple[torch.Tensor, ...]
STAGE_MAX_BYTES = 1 << 30  # an epoch copy larger than this is gathered batch by batch
Key = str | int
BatchTransform = Callable[[Any], Any]

__all__ = [
    "ArrayBatches",
    "ArrayDataset",
    "ArrayEpoch",
    "ArrayLoader",
    "Batch",
    "BatchCollate",
    "BatchTransform",
    "Cast",
    "Compose",
    "EpochSampler",
    "EpochSlice",
    "Key",
    "KeyedBatch",
    "KeyedRows",
    "Normalize",
    "ToFloat",
    "make_loader",
    "uses_batch_key",
    "with_item",
]


# --------------------------------------------------------------------------- arrays
class _MemmapRef:
    """Picklable stand-in for a read-only memory map: reopened, not copied, on unpickle."""

    def __init__(self, array: np.memmap) -> None:
        self.filename = str(array.filename)
        self.offset = int(array.offset)
        self.dtype = array.dtype
        self.shape = tuple(array.shape)
        self.order: Literal["C", "F"] = \
            "F" if array.flags.f_contiguous and not array.flags.c_contiguous else "C"

    def open(self) -> np.memmap:
        return np.memmap(self.filename, dtype=self.dtype, mode="r", offset=self.offset,
                         shape=self.shape, order=self.order)


def _memmap_of(array: np.ndarray) -> np.memmap | None:
    """The whole-file memory map behind ``array`` if ``array`` is exactly that map."""
    # A memmap created by np.load/np.memmap owns an mmap.mmap as base; slices and
    # views have another ndarray as base and cannot be reopened by path alone.
    if (isinstance(array, np.memmap) and getattr(array, "filename", None)
            and isinstance(array.base, mmap.mmap)):
        return array
    return None


class ArrayDataset(Dataset):
    """Rows ``indices`` of aligned arrays; ``__getitems__`` returns a whole batch.

    ``arrays``: dict (batches are dicts) or sequence (batches are tuples) of arrays
    sharing their first dimension. ``indices``: the rows making up this split (an
    integer array; default all rows). Batches hold ``torch`` tensors with the arrays'
    dtypes; conversion to float and normalisation belong to the batch transform.
    """

    def __init__(self, arrays: Mapping[str, np.ndarray] | Sequence[np.ndarray],
                 indices: np.ndarray | Sequence[int] | None = None) -> None:
        self._is_dict = isinstance(arrays, Mapping)
        self.keys: tuple[Key, ...]
        if isinstance(arrays, Mapping):
            self.keys, values = tuple(arrays.keys()), list(arrays.values())
        else:
            self.keys, values = tuple(range(len(arrays))), list(arrays)
        if not values:
            raise ValueError("ArrayDataset needs at least one array")
        lengths = {len(v) for v in values}
        if len(lengths) != 1:
            raise ValueError(f"arrays must share their first dimension, got lengths {sorted(lengths)}")
        self.num_rows = lengths.pop()
        self.arrays: list[np.ndarray] = values
        if indices is None:
            self.indices = np.arange(self.num_rows, dtype=np.int64)
        else:
            self.indices = np.asarray(indices, dtype=np.int64)
            if self.indices.ndim != 1:
                raise ValueError("indices must be one-dimensional")
            if len(self.indices) and (self.indices.min() < 0 or self.indices.max() >= self.num_rows):
                raise ValueError(f"indices must lie in [0, {self.num_rows})")

    def subset(self, indices: np.ndarray | Sequence[int]) -> ArrayDataset:
        """Another split over the same arrays (no copy); ``indices`` are absolute rows."""
        view = ArrayDataset.__new__(ArrayDataset)
        view.__dict__.update(self.__dict__)
        view.indices = np.asarray(indices, dtype=np.int64)
        return view

    def __len__(self) -> int:
        return len(self.indices)

    def rows(self, positions: Sequence[int] | np.ndarray) -> list[np.ndarray]:
        """Numpy rows for dataset ``positions`` (0..len-1), one array per key, in order."""
        if isinstance(positions, list):  # what BatchSampler hands over: 2x faster than asarray
            positions = np.fromiter(positions, dtype=np.int64, count=len(positions))
        rows = self.indices.take(np.asarray(positions, dtype=np.int64))
        # ``take(axis=0)`` gathers whole rows with one memcpy each: 4-5x faster than
        # ``a[rows]`` on 2-D arrays, the same result (memory maps included).
        return [np.asarray(a.take(rows, axis=0)) for a in self.arrays]

    def _pack(self, values: list[Any]) -> Any:
        return dict(zip(self.keys, values, strict=True)) if self._is_dict else tuple(values)

    def __getitems__(self, positions: Sequence[int] | EpochSlice | KeyedRows) -> Any:
        """The batch of ``positions``; a :class:`KeyedBatch` when they carry a key."""
        if isinstance(positions, EpochSlice):  # rows already gathered: slice, don't gather
            key = positions.key
            values = [a[positions.start:positions.stop] for a in positions.arrays]
        elif isinstance(positions, KeyedRows):
            key, values = positions.key, self.rows(positions.rows)
        else:
            key, values = None, self.rows(positions)
        batch = self._pack([self._tensor(v) for v in values])
        return batch if key is None else KeyedBatch(batch, key)

    def _tensor(self, rows: Any) -> torch.Tensor:
        """A batch's rows of one array as a tensor (numpy here; already one on a device)."""
        return torch.from_numpy(np.ascontiguousarray(rows))

    def can_stage(self) -> bool:
        """Whether a loader may copy a whole epoch at once (:meth:`stage`): in-memory
        arrays only (memory maps may exceed RAM), and at most ``STAGE_MAX_BYTES``."""
        if any(isinstance(a, np.memmap) for a in self.arrays):
            return False
        row_bytes = sum(a.nbytes // max(len(a), 1) for a in self.arrays)
        return row_bytes * len(self) <= STAGE_MAX_BYTES

    def stage(self, order: np.ndarray) -> list[np.ndarray]:
        """Every array's rows for dataset positions ``order``, gathered in one pass each
        (blocks of rows side by side on threads)."""
        rows = self.indices.take(order)
        out = [np.empty((len(rows), *a.shape[1:]), dtype=a.dtype) for a in self.arrays]

        def gather(block: slice) -> None:
            for array, staged in zip(self.arrays, out, strict=True):
                # mode="clip" (the rows are valid) writes straight into ``out``: no buffer
                np.take(array, rows[block], axis=0, out=staged[block], mode="clip")

        map_row_blocks(gather, len(rows))
        return out

    def __getitem__(self, position: int) -> Batch:
        """One example (for generic code); the loaders use :meth:`__getitems__`."""
        row = self.indices[position]
        return self._pack([torch.as_tensor(np.array(a[row])) for a in self.arrays])

    # Pickle memory maps by path so spawned workers reopen them instead of copying.
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["arrays"] = [_MemmapRef(m) if (m := _memmap_of(a)) is not None else a
                           for a in self.arrays]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["arrays"] = [a.open() if isinstance(a, _MemmapRef) else a for a in state["arrays"]]
        self.__dict__.update(state)


# ------------------------------------------------------------------------- sampling
class EpochSlice:
    """Batch ``start:stop`` of an epoch whose rows were gathered, in order, into ``arrays``;
    ``key`` names the samples' global positions (None: the collate needs no key)."""

    __slots__ = ("arrays", "key", "start", "stop")

    def __init__(self, arrays: list[np.ndarray], start: int, stop: int,
                 key: BatchKey | None = None) -> None:
        self.arrays, self.start, self.stop, self.key = arrays, start, stop, key

    def __len__(self) -> int:
        return self.stop - self.start


class KeyedRows:
    """A batch of dataset positions (``rows``) with the :class:`BatchKey` of its samples."""

    __slots__ = ("key", "rows")

    def __init__(self, rows: np.ndarray, key: BatchKey) -> None:
        self.rows, self.key = rows, key

    def __len__(self) -> int:
        return len(self.rows)

    def __reduce__(self) -> tuple[Any, ...]:  # sent to loader workers
        return KeyedRows, (self.rows, self.key)


class KeyedBatch:
    """What ``__getitems__`` returns for keyed rows: the batch and its key, which
    :class:`BatchCollate` makes current while the batch transform runs."""

    __slots__ = ("batch", "key")

    def __init__(self, batch: Any, key: BatchKey) -> None:
        self.batch, self.key = batch, key


class _Progress:
    """Where a loader is: the pass being iterated, and a loaded state waiting for the next."""

    __slots__ = ("current", "passes", "pending")

    def __init__(self) -> None:
        self.current: Pass | None = None
        self.pending: dict[str, Any] | None = None
        self.passes = 0  # epochs counted for samplers that have no ``epoch`` of their own


class ArrayBatches:
    """A ``BatchSampler``'s batches as int64 numpy slices of one per-pass order array.

    ``BatchSampler`` builds every batch as a Python list, one int at a time, and
    ``__getitems__`` then turns it back into an array: for 1,400 batches of 512 that is
    a third of a tabular epoch. Here the whole pass is one array (this rank's shard of
    :class:`~dmzoo.core.epochs.EpochSampler`'s global order, or any other sampler read
    once) and each batch is a view of it. Same batches, same order, same ``len``.

    With ``stage`` (an :class:`ArrayDataset`'s, in a single-process loader), the epoch's
    rows are gathered once, in order, and each batch is an :class:`EpochSlice` of them:
    one large copy instead of a random gather per batch. With ``keyed`` each batch
    carries its :class:`BatchKey`; datasets without ``__getitems__`` get Python lists.
    A pass begins where a loaded state (``progress.pending``) says, without replaying.
    """

    def __init__(self, batch_sampler: BatchSampler,
                 stage: Callable[[np.ndarray], list[np.ndarray]] | None = None,
                 progress: _Progress | None = None, *, keyed: bool = False,
                 as_lists: bool = False) -> None:
        self.batch_sampler = batch_sampler
        self.stage = stage
        self.progress = progress if progress is not None else _Progress()
        self.keyed, self.as_lists = keyed, as_lists

    def _count(self, samples: int) -> int:
        size = self.batch_sampler.batch_size
        return samples // size if self.batch_sampler.drop_last else -(-samples // size)

    def __len__(self) -> int:
        current, pending = self.progress.current, self.progress.pending
        if pending is not None:
            sampler = self.batch_sampler.sampler
            if isinstance(sampler, EpochSampler):
                return pending["num_yielded"] + self._count(sampler.shard_size(pending["position"]))
        elif current is not None and current.yielded < current.batches:
            return current.done + current.batches
        return len(self.batch_sampler)

    def begin(self) -> Pass:
        """Start the next pass: the next epoch, or the rest of a loaded one."""
        sampler, progress = self.batch_sampler.sampler, self.progress
        pending, progress.pending = progress.pending, None
        if isinstance(sampler, EpochSampler):
            if pending is not None and pending["epoch"] == sampler.epoch:
                run = sampler.begin(pending["position"], pending["num_yielded"])
            else:
                run = sampler.begin()
        else:
            epoch = int(getattr(sampler, "epoch", progress.passes))
            skip = pending["num_yielded"] if pending is not None and pending["epoch"] == epoch else 0
            if type(sampler) is SequentialSampler:
                rows = np.arange(len(sampler), dtype=np.int64)
            else:
                rows = np.fromiter(iter(sampler), dtype=np.int64)
            size = self.batch_sampler.batch_size
            run = Pass(epoch=epoch, start=skip * size, world=1, rank=0, rows=rows[skip * size:],
                       done=skip)
        progress.passes = run.epoch + 1
        run.batches = self._count(len(run.rows))
        progress.current = run
        return run

    def __iter__(self) -> Iterator[Any]:
        # A generator, so the pass begins at the first batch, not at ``iter()``: the
        # DataLoader calls ``iter()`` more than once and must not advance the epoch.
        run = self.begin()
        rows, size = run.rows, self.batch_sampler.batch_size
        stop = min(len(rows), run.batches * size)
        if self.as_lists:
            for start in range(0, stop, size):
                yield rows[start:start + size].tolist()
        elif self.stage is not None:
            arrays = self.stage(rows[:stop])
            for b, start in enumerate(range(0, stop, size)):
                key = run.key(b, size) if self.keyed else None
                yield EpochSlice(arrays, start, min(start + size, stop), key)
        elif self.keyed:
            for b, start in enumerate(range(0, stop, size)):
                yield KeyedRows(rows[start:start + size], run.key(b, size))
        else:
            for start in range(0, stop, size):
                yield rows[start:start + size]


class ArrayEpoch:
    """One single-process pass of an :class:`ArrayLoader`: each batch of indices goes
    straight to ``__getitems__`` and ``collate_fn``, exactly what torch's own iterator
    does with no workers, minus its per-batch bookkeeping (a profiler scope and
    counters: a fifth of a tabular epoch of 512-row batches, measured). ``pin`` pins
    each batch (``pin_memory`` with CUDA)."""

    def __init__(self, loader: DataLoader, batches: ArrayBatches, pin: bool = False) -> None:
        self._batches = iter(batches)
        self._len = len(batches)
        self._fetch = loader.dataset.__getitems__  # type: ignore[attr-defined]
        self._collate = loader.collate_fn
        self._progress = batches.progress
        self._pin = pin

    def __iter__(self) -> ArrayEpoch:
        return self

    def __len__(self) -> int:
        return self._len

    def _make(self, indices: Any) -> Any:
        batch = self._collate(self._fetch(indices))
        return _pinned(batch) if self._pin else batch

    def __next__(self) -> Any:
        batch = self._make(next(self._batches))
        self._progress.current.yielded += 1  # type: ignore[union-attr]
        return batch

    def __reduce__(self) -> tuple[Any, ...]:
        # A live epoch is not copied (torch's iterators refuse): a copy is an empty one.
        return iter, ((),)


_log = logging.getLogger("dmzoo")


_said_in_process = False


def _say_once_in_process(num_workers: int) -> None:
    """Log, once per process, that ``num_workers`` is not used on the array fast path."""
    global _said_in_process
    if not _said_in_process:
        _said_in_process = True
        _log.info(
            "dmzoo: num_workers=%d is not used for dmzoo's whole-batch array loaders: their "
            "batches are made in this process, because worker processes would only add the "
            "copy of every finished batch back to it (6-20x slower, benchmarks/"
            "bench_workers.py); the batches are the same as with num_workers=0", num_workers)


def _pinned(batch: Any) -> Any:
    """``batch`` (a tensor, or a tuple/list/dict of them, nested) in page-locked memory."""
    if isinstance(batch, torch.Tensor):
        return batch.pin_memory()
    if isinstance(batch, dict):
        return {k: _pinned(v) for k, v in batch.items()}
    if isinstance(batch, (tuple, list)):
        return type(batch)(_pinned(v) for v in batch)
    return batch


class _Counted:
    """torch's iterator (workers, pinned memory), counting the batches it hands out."""

    def __init__(self, iterator: Any, progress: _Progress) -> None:
        self._iterator, self._progress = iterator, progress

    def __iter__(self) -> _Counted:
        return self

    def __len__(self) -> int:
        return len(self._iterator)

    def __next__(self) -> Any:
        batch = next(self._iterator)
        self._progress.current.yielded += 1  # type: ignore[union-attr]
        return batch

    def __getattr__(self, name: str) -> Any:
        return getattr(self._iterator, name)

    def __reduce__(self) -> tuple[Any, ...]:
        return iter, ((),)


STATE_FORMAT = 1


class ArrayLoader(DataLoader):
    """A standard ``DataLoader`` (same arguments, attributes and ``sampler`` semantics)
    that feeds its own ``BatchSampler``'s batches as :class:`ArrayBatches`, and resumes
    mid-epoch: ``state_dict()`` / ``load_state_dict()`` as torchdata's ``StatefulDataLoader``.

    Only the loader's own plain ``BatchSampler`` is replaced; a custom ``batch_sampler``
    (e.g. the one Lightning wraps for ``predict``) is used as given. An
    :class:`ArrayDataset` is served in this process by an :class:`ArrayEpoch` whatever
    ``num_workers`` says (pinned when ``pin_memory``; each epoch staged when it
    :meth:`~ArrayDataset.can_stage`): worker processes cannot speed up whole-batch numpy
    gathers, they only add the copy of every batch back (``benchmarks/bench_workers.py``:
    6-20x slower), so a user who raises ``num_workers`` loses nothing and gets the same
    batches; it is said once in the ``dmzoo`` log. Other datasets (per-sample ones) use
    torch's iterator with its workers. The replacement goes through
    ``DataLoader._index_sampler``, the one private hook used here (the property every
    DataLoader iterator and ``len`` read); the tests compare the batches with torch's own
    for each kind of sampler.

    The state is a few numbers (epoch, global position reached, batches yielded), taken
    between batches: loaded into a new loader over the same data (any process, any
    ``num_workers``, any world size with :class:`~dmzoo.core.epochs.EpochSampler`), the
    next ``iter()`` continues with the next batch; the epochs after it are unchanged.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._progress = _Progress()

    # Private torch API: DataLoader._index_sampler (torch >= 1.x) is the property every
    # DataLoader iterator and __len__ read to get batches of indices; overriding it is the
    # only way to swap the batches without re-implementing torch's multi-worker iterator.
    # If torch renames it or stops reading it, this override silently stops applying:
    # tests/test_fastloader.py::test_array_batches_are_the_batches_a_plain_dataloader_gives
    # (numpy batches expected) and ::test_a_staged_epoch_gives_the_batches_gathered_one_by_one
    # fail first.
    @property
    def _index_sampler(self) -> Any:
        sampler = super()._index_sampler
        if type(sampler) is not BatchSampler:
            return sampler
        dataset = self.dataset
        if not getattr(dataset, "__getitems__", None):
            return ArrayBatches(sampler, None, self._progress, as_lists=True)
        arrays = dataset if isinstance(dataset, ArrayDataset) else None
        keyed = arrays is not None and isinstance(self.collate_fn, BatchCollate) \
            and uses_batch_key(self.collate_fn.transform)
        stage = arrays.stage if arrays is not None and arrays.can_stage() else None  # in-process
        return ArrayBatches(sampler, stage, self._progress, keyed=keyed)

    def __iter__(self) -> Any:  # an iterator: ArrayEpoch, or torch's own
        batches = self._index_sampler
        if not isinstance(batches, ArrayBatches):
            return super().__iter__()
        in_process = self.num_workers == 0 or isinstance(self.dataset, ArrayDataset)
        if in_process and not batches.as_lists:
            if self.num_workers:
                _say_once_in_process(self.num_workers)
            return ArrayEpoch(self, batches, pin=self.pin_memory)
        return _Counted(super().__iter__(), self._progress)

    @property
    def last_batch_key(self) -> BatchKey | None:
        """The key of the batch handed out last (for batch transforms run after the loader,
        e.g. on the device)."""
        run = self._progress.current
        if run is None or run.yielded == 0:
            return None
        return run.key(run.yielded - 1, self.batch_size or 1)

    # -- resumption ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """Where this loader is: a dict of plain numbers, saved with a checkpoint."""
        progress, sampler = self._progress, self.sampler
        n = len(self.dataset)  # type: ignore[arg-type]
        state = {"format": STATE_FORMAT, "num_samples": n,
                 "shuffle": getattr(sampler, "shuffle", None),
                 "seed": getattr(sampler, "seed", None),
                 "world_size": getattr(sampler, "num_replicas", 1)}
        run = progress.current
        if progress.pending is not None:
            return {**state, **{k: progress.pending[k] for k in
                                ("epoch", "position", "num_yielded")}}
        if run is None:
            epoch = int(getattr(sampler, "epoch", progress.passes))
            return {**state, "epoch": epoch, "position": 0, "num_yielded": 0}
        if run.yielded >= run.batches:  # the pass is over: the next epoch from its start
            return {**state, "epoch": run.epoch + 1, "position": 0, "num_yielded": 0}
        taken = min(run.yielded * (self.batch_size or 1), len(run.rows))
        return {**state, "epoch": run.epoch, "position": min(run.start + taken * run.world, n),
                "num_yielded": run.done + run.yielded}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from ``state`` (a :meth:`state_dict`) at the next ``iter()``.

        Refuses a state of another split size, seed or shuffle (a different epoch order)."""
        keys = ("format", "num_samples", "epoch", "position", "num_yielded")
        if not isinstance(state, Mapping) or any(not isinstance(state.get(k), int) for k in keys) \
                or state["format"] != STATE_FORMAT:
            raise InvalidArgumentError(
                "ArrayLoader.load_state_dict() takes the dict its state_dict() returned (format "
                f"{STATE_FORMAT}); got {state if not isinstance(state, Mapping) else dict(state)!r}")
        sampler, n = self.sampler, len(self.dataset)  # type: ignore[arg-type]
        mine = {"num_samples": n, "shuffle": getattr(sampler, "shuffle", None),
                "seed": getattr(sampler, "seed", None)}
        differ = {k: (state.get(k), v) for k, v in mine.items() if state.get(k) != v}
        if differ:
            said = ", ".join(f"{k} {a!r} (now {b!r})" for k, (a, b) in differ.items())
            raise SplitMismatchError(
                f"this loader state was saved for another epoch order: {said}; resume with the "
                "same data, split and seed, or start the epoch over without the state")
        if not 0 <= state["position"] <= n or state["num_yielded"] < 0 or state["epoch"] < 0:
            raise InvalidArgumentError(f"loader state out of range for {n} samples: {dict(state)!r}")
        resume = {k: int(state[k]) for k in ("epoch", "position", "num_yielded")}
        if resume["num_yielded"] and not isinstance(self._index_sampler, ArrayBatches):
            raise InvalidArgumentError(
                "this loader has a custom batch_sampler, so it can resume only at an epoch "
                "boundary; save its state between epochs")
        if isinstance(sampler, EpochSampler) and resume["position"] >= n:
            resume = {"epoch": resume["epoch"] + 1, "position": 0, "num_yielded": 0}
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(resume["epoch"])
        self._progress.passes = resume["epoch"]
        self._progress.current = None
        self._progress.pending = resume if resume["position"] or resume["num_yielded"] else None


# ----------------------------------------------------------------------- transforms
def _get(batch: Any, key: Key) -> Any:
    return batch[key]


def with_item(batch: Any, key: Key, value: Any) -> Any:
    """A copy of a dict or tuple batch with ``batch[key]`` replaced by ``value``
    (batch transforms return new batches: the input may be shared)."""
    if isinstance(batch, dict):
        return {**batch, key: value}
    items = list(batch)
    items[key] = value  # type: ignore[index]
    return tuple(items)


class Compose:
    """Apply batch transforms in order."""

    def __init__(self, transforms: Sequence[BatchTransform]) -> None:
        self.transforms = list(transforms)

    @property
    def uses_batch_key(self) -> bool:
        return any(uses_batch_key(t) for t in self.transforms)

    def __call__(self, batch: Any) -> Any:
        for t in self.transforms:
            batch = t(batch)
        return batch

    def __repr__(self) -> str:
        return f"Compose({self.transforms!r})"


class ToFloat:
    """``batch[key]`` to float32, divided by ``scale`` (255 maps uint8 pixels to [0, 1]).

    Dividing (not multiplying by 1/255) gives bit-identical results to torchvision's
    ``ToTensor``.
    """

    def __init__(self, key: Key = 0, scale: float = 255.0) -> None:
        self.key, self.scale = key, float(scale)

    def numpy_path(self, x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(np.divide(x.numpy(), np.float32(self.scale), dtype=np.float32))

    def torch_path(self, x: torch.Tensor) -> torch.Tensor:
        return x.to(torch.float32).div_(self.scale)

    def __call__(self, batch: Any) -> Any:
        x = _get(batch, self.key)
        # CPU: numpy, single-threaded (see the module docstring); devices: torch.
        y = self.numpy_path(x) if x.device.type == "cpu" else self.torch_path(x)
        return with_item(batch, self.key, y)

    def __repr__(self) -> str:
        return f"ToFloat(key={self.key!r}, scale={self.scale})"


class Cast:
    """``batch[key]`` to ``dtype`` (e.g. uint8 labels to the int64 that losses expect)."""

    def __init__(self, key: Key, dtype: torch.dtype = torch.int64) -> None:
        self.key, self.dtype = key, dtype

    def __call__(self, batch: Any) -> Any:
        return with_item(batch, self.key, _get(batch, self.key).to(self.dtype))

    def __repr__(self) -> str:
        return f"Cast(key={self.key!r}, dtype={self.dtype})"


class Normalize:
    """``(batch[key] - mean) / std`` with per-channel statistics along ``dim`` (1 = NCHW).

    With ``scale``, integer input (uint8 pixels) is first divided by ``scale`` into one
    fresh float32 buffer, normalised there in place: :class:`ToFloat` + ``Normalize`` with
    one allocation and one pass less, bit-identical to them (and to torchvision's
    ``ToTensor`` + ``Normalize``).
    """

    def __init__(self, key: Key, mean: Sequence[float], std: Sequence[float], dim: int = 1,
                 scale: float | None = None) -> None:
        self.key, self.dim = key, dim
        self.scale = None if scale is None else float(scale)
        self.mean = torch.as_tensor(mean, dtype=torch.float32)
        self.std = torch.as_tensor(std, dtype=torch.float32)
        if (self.std <= 0).any():
            raise ValueError("std must be positive")

    def _shaped(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        shape = [1] * x.dim()
        if t.numel() > 1:
            shape[self.dim] = t.numel()
        return t.to(x.device).view(shape)

    def _numpy_stats(self, ndim: int) -> tuple[np.ndarray, np.ndarray]:
        """``mean`` and ``std`` shaped for ``ndim``-D numpy batches (made once per ``ndim``)."""
        cache = self.__dict__.setdefault("_numpy", {})
        if ndim not in cache:
            shape = [1] * ndim
            if self.mean.numel() > 1:
                shape[self.dim] = self.mean.numel()
            cache[ndim] = (self.mean.numpy().reshape(shape), self.std.numpy().reshape(shape))
        return cache[ndim]

    def numpy_path(self, x: torch.Tensor) -> torch.Tensor:
        mean, std = self._numpy_stats(x.dim())
        if self.scale is None:
            out = np.subtract(x.numpy(), mean, dtype=np.float32)
        else:
            out = np.divide(x.numpy(), np.float32(self.scale), dtype=np.float32)
            np.subtract(out, mean, out=out)
        return torch.from_numpy(np.divide(out, std, out=out))

    def torch_path(self, x: torch.Tensor) -> torch.Tensor:
        mean, std = self._shaped(self.mean, x), self._shaped(self.std, x)
        if self.scale is not None:
            return x.to(torch.float32).div_(self.scale).sub_(mean).div_(std)
        return x.sub(mean).div_(std)

    def __call__(self, batch: Any) -> Any:
        x = _get(batch, self.key)
        if not x.is_floating_point() and self.scale is None:
            raise TypeError(f"Normalize needs a float tensor at {self.key!r}; put ToFloat first "
                            "or give scale=")
        # CPU: numpy, single-threaded (see the module docstring); devices: torch.
        y = self.numpy_path(x) if x.device.type == "cpu" else self.torch_path(x)
        return with_item(batch, self.key, y)

    def __repr__(self) -> str:
        scale = "" if self.scale is None else f", scale={self.scale}"
        return (f"Normalize(key={self.key!r}, mean={self.mean.tolist()}, "
                f"std={self.std.tolist()}{scale})")


def uses_batch_key(transform: Any) -> bool:
    """Whether a batch transform reads :func:`~dmzoo.core.epochs.current_batch_key` (its
    ``uses_batch_key`` attribute says so): only then do batches carry their key."""
    return bool(getattr(transform, "uses_batch_key", False))


# -------------------------------------------------------------------------- loading
class BatchCollate:
    """``collate_fn`` for batches already assembled by ``__getitems__``: apply ``transform``,
    with the batch's :class:`BatchKey` current (:func:`~dmzoo.core.epochs.current_batch_key`).

    Runs inside the worker processes, so the per-batch work is parallel too.
    """

    def __init__(self, transform: BatchTransform | None = None) -> None:
        self.transform = transform

    def __call__(self, batch: Any) -> Any:
        if isinstance(batch, KeyedBatch):
            if self.transform is None:
                return batch.batch
            with using_batch_key(batch.key):
                return self.transform(batch.batch)
        return self.transform(batch) if self.transform is not None else batch


def make_loader(dataset: Dataset, *, batch_size: int, shuffle: bool = False, seed: int = 0,
                drop_last: bool = False, num_workers: int = 0, pin_memory: bool = False,
                transform: BatchTransform | None = None, sampler: Sampler | None = None,
                collate_fn: Callable[[Any], Any] | None = None,
                multiprocessing_context: str | None = None,
                persistent_workers: bool = False, prefetch_factor: int | None = None) -> DataLoader:
    """An :class:`ArrayLoader` over an :class:`ArrayDataset` with batch transforms.

    The order comes from an :class:`~dmzoo.core.epochs.EpochSampler` (a permutation of
    ``(seed, epoch)`` when ``shuffle``, sharded over torch.distributed's ranks when a
    process group is initialised); pass ``sampler`` instead to take over ordering
    (resumable by batch count, not across world sizes). ``pin_memory`` is
    ignored when no CUDA device exists (it would only warn). ``collate_fn`` replaces the
    batch collate (and ``transform``) for datasets without ``__getitems__``, e.g. a
    per-sample dataset that needs ``default_collate``.
    """
    if collate_fn is not None and transform is not None:
        raise ValueError("give either transform (batch path) or collate_fn, not both")
    check_loader_options(batch_size=batch_size, num_workers=num_workers, shuffle=shuffle,
                         drop_last=drop_last, pin_memory=pin_memory, seed=seed)
    if sampler is None:
        sampler = EpochSampler(dataset, shuffle=shuffle, seed=seed)
    gen = torch.Generator()
    gen.manual_seed(int(seed))
    kwargs: dict[str, Any] = {}
    if num_workers > 0:
        kwargs.update(multiprocessing_context=multiprocessing_context,
                      persistent_workers=persistent_workers, prefetch_factor=prefetch_factor)
    return ArrayLoader(
        dataset,
        batch_size=batch_size,
        sampler=sampler,
        drop_last=drop_last,
        num_workers=num_workers,
        pin_memory=bool(pin_memory and torch.cuda.is_available()),
        collate_fn=collate_fn if collate_fn is not None else BatchCollate(transform),
        generator=gen,
        **kwargs,
    )
