"""The conformance checks, one function each; every one gets a fresh :class:`Context`.

A check raises :class:`ConformanceError` (or any exception) to fail and
:class:`Skip` to say it does not apply. Each builds its own datamodules from
the spec's fixture, offline, in a private folder, so checks never share state.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import io
import json
import logging
import os
import pickle
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..core.errors import DmzooError, MissingHookError
from ..core.settings import FALSE_SPELLINGS, env_str
from ..core.spec import DataModuleSpec
from ..registry.loading import check_kwargs, import_class, instantiate
from .batches import batch_size, leaves, loader_digest
from .errors import ConformanceError
from .fixture import fixture_function, fixture_kwargs, offline_home
from .tiny_model import tiny_module

SPLITS = (("train", "fit"), ("val", "fit"), ("test", "test"), ("predict", "predict"))


class Skip(Exception):  # noqa: N818 - a control-flow signal, not an error
    """The check does not apply here; the message says why."""


class Context:
    """One check's spec, private folder and fixture kwargs (computed once)."""

    def __init__(self, spec: DataModuleSpec, folder: Path) -> None:
        self.spec, self.folder = spec, folder
        self._kwargs: dict[str, Any] | None = None

    def kwargs(self) -> dict[str, Any]:
        if self._kwargs is None:
            self._kwargs = fixture_kwargs(self.spec, self.folder / "fixture")
        return dict(self._kwargs)

    def build(self) -> Any:
        """A new datamodule on the fixture data, built the way ``load_datamodule`` builds it."""
        return instantiate(self.spec, self.kwargs())


def loaders(dm: Any) -> dict[str, Any]:
    """Each split's loader after the matching ``setup(stage)``; absent hooks are left out."""
    found, done = {}, set()
    for split, stage in SPLITS:
        if stage not in done:
            dm.setup(stage)
            done.add(stage)
        try:
            loader = getattr(dm, f"{split}_dataloader")()
        except MissingHookError:
            continue
        if loader is not None:
            found[split] = loader
    return found


def digests(dm: Any) -> dict[str, list[str]]:
    """Every split's order-independent digest, under a fixed torch seed."""
    # deferred: torch is heavy; importing this module must not load it
    import torch

    out = {}
    for split, loader in loaders(dm).items():
        torch.manual_seed(0)
        out[split] = loader_digest(loader)
    return out


def prepared(ctx: Context) -> Any:
    dm = ctx.build()
    dm.prepare_data()
    return dm


def _same(a: dict[str, list[str]], b: dict[str, list[str]], what: str) -> None:
    if a.keys() != b.keys():
        raise ConformanceError(f"{what}: loaders differ ({sorted(a)} vs {sorted(b)})")
    for split in a:
        if a[split] != b[split]:
            raise ConformanceError(
                f"{what}: the {split} loader yields different examples "
                f"({len(a[split])} vs {len(b[split])} examples, or different content)"
            )


# -- the checks --------------------------------------------------------------------------
def check_spec(ctx: Context) -> None:
    """Spec validity: names, version, checksum format, class path, default kwargs, fixture."""
    # deferred: core.datamodule imports torch (and Lightning)
    from ..core.datamodule import DataModule

    spec = ctx.spec.validate()
    cls = import_class(spec)
    if not issubclass(cls, DataModule):
        raise ConformanceError(f"{spec.cls} must subclass dmzoo.DataModule "
                               "(it gives the Lightning API, state_dict and the spec)")
    check_kwargs(spec, cls, dict(spec.default_kwargs))
    names = {f.name for f in spec.features}
    if spec.supervised_keys:
        inputs, target = spec.supervised_keys
        for key in (*(spec.input_keys or (inputs,)), target):
            if names and key not in names:
                raise ConformanceError(f"supervised key {key!r} is not one of the features "
                                       f"{sorted(names)}")
    if fixture_function(spec) is None and spec.resources:
        fixture_kwargs(spec, ctx.folder)  # raises the "declare a fixture" error


_LAZY_PROBE = """
import json, sys, dmzoo
dmzoo.list_datamodules()
found = dmzoo.is_datamodule(sys.argv[1])
if found:
    dmzoo.get_spec(sys.argv[1])
print(json.dumps({"found": found, "torch": "torch" in sys.modules,
                  "cls": sys.argv[2] in sys.modules}))
"""


def check_listing_is_lazy(ctx: Context) -> None:
    """In a fresh interpreter, listing and ``get_spec`` import neither torch nor the class."""
    spec = ctx.spec
    module = spec.cls.partition(":")[0]
    env = {k: v for k, v in os.environ.items() if k != "DMZOO_STRICT"}
    proc = subprocess.run([sys.executable, "-c", _LAZY_PROBE, spec.ref, module],
                          capture_output=True, text=True, env=env, timeout=120)
    if proc.returncode != 0:
        raise ConformanceError(f"listing failed in a fresh process: {proc.stderr.strip()[-2000:]}")
    seen = json.loads(proc.stdout.strip().splitlines()[-1])
    if not seen["found"]:
        raise Skip(f"{spec.ref} is not installed as an entry point (registered in-process "
                   "only); pip install the plugin to check listing")
    if seen["cls"]:
        raise ConformanceError(f"listing imported {module!r}; the entry-point module must "
                               "name the class as a string and not import it")
    if seen["torch"]:
        raise ConformanceError("listing imported torch; keep the entry-point module free "
                               "of torch and datamodule imports")


def check_loaders_yield_batches(ctx: Context) -> None:
    """Every defined loader yields at least one non-empty batch; a train loader exists."""
    found = loaders(prepared(ctx))
    if "train" not in found:
        raise ConformanceError("train_dataloader() is not defined")
    for split, loader in found.items():
        batch = next(iter(loader), None)
        if batch is None:
            raise ConformanceError(f"the {split} loader yields no batch on the fixture data")
        if batch_size(batch) < 1:
            raise ConformanceError(f"the {split} loader yields an empty batch")


def check_batches_are_inputs_target(ctx: Context) -> None:
    """Every train/val/test batch is ``(inputs, target)`` as the spec's ``supervised_keys`` say:
    ``inputs`` a tensor (or a dict of the named tensors), ``target`` a tensor, one batch size;
    a predict batch is the same pair, or ``inputs`` alone for unlabelled rows."""
    found = loaders(prepared(ctx))
    for split, loader in found.items():
        batch = next(iter(loader), None)
        if batch is None:
            continue  # check_loaders_yield_batches reports it
        if split == "predict" and not _is_pair(batch):
            check_inputs(ctx.spec, batch, _size_of(batch), split)
            continue
        if not _is_pair(batch):
            raise ConformanceError(
                f"the {split} loader yields {_kind(batch)}, not an (inputs, target) pair; "
                "`for x, y in dm.train_dataloader()` must work (see the write-a-plugin guide)")
        inputs, target = batch
        if not _is_tensor(target) or target.ndim < 1:
            raise ConformanceError(f"the {split} loader's target is {_kind(target)}; it must be "
                                   "a tensor whose first dimension is the batch")
        check_inputs(ctx.spec, inputs, int(target.shape[0]), split)


def check_inputs(spec: DataModuleSpec, inputs: Any, size: int, split: str) -> None:
    """``inputs`` has the structure, batch size and declared feature shapes of the spec."""
    keys = spec.input_keys
    if keys is not None:
        if not isinstance(inputs, dict) or set(inputs) != set(keys):
            raise ConformanceError(f"the {split} loader's inputs are {_kind(inputs)}; the spec's "
                                   f"supervised_keys say a dict with keys {list(keys)}")
        named = dict(inputs)
    elif _is_tensor(inputs):
        named = {spec.supervised_keys[0]: inputs} if spec.supervised_keys else {"inputs": inputs}
    elif isinstance(inputs, dict) and inputs and not spec.supervised_keys:
        named = dict(inputs)  # the spec does not say: any dict of tensors
    else:
        raise ConformanceError(f"the {split} loader's inputs are {_kind(inputs)}; they must be "
                               "a tensor, or a dict of tensors named by the spec's "
                               "supervised_keys, e.g. ((\"x_num\", \"x_cat\"), \"y\")")
    features = {f.name: f for f in spec.features}
    for name, tensor in named.items():
        if not _is_tensor(tensor) or tensor.ndim < 1 or int(tensor.shape[0]) != size:
            raise ConformanceError(f"the {split} loader's input {name!r} is {_kind(tensor)}; "
                                   f"expected a tensor of batch size {size}")
        declared = features[name].shape if name in features else None
        if declared and (len(declared) != tensor.ndim - 1 or any(
                d is not None and d != s for d, s in zip(declared, tensor.shape[1:], strict=False))):
            raise ConformanceError(f"the {split} loader's input {name!r} has example shape "
                                   f"{tuple(tensor.shape[1:])}; the spec's feature says {declared}")


def _is_pair(batch: Any) -> bool:
    return isinstance(batch, (tuple, list)) and len(batch) == 2


def _is_tensor(value: Any) -> bool:
    # deferred: torch is heavy; importing this module must not load it
    import torch

    return isinstance(value, torch.Tensor)


def _size_of(inputs: Any) -> int:
    first = next(iter(inputs.values())) if isinstance(inputs, dict) and inputs else inputs
    return int(first.shape[0]) if _is_tensor(first) and first.ndim else -1


def _kind(value: Any) -> str:
    if _is_tensor(value):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, dict):
        return f"a dict with keys {sorted(map(str, value))}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of {len(value)}"
    return f"a {type(value).__name__}"


def check_setup_idempotent(ctx: Context) -> None:
    """``prepare_data`` and ``setup`` twice give the same data as once."""
    dm = prepared(ctx)
    dm.prepare_data()
    first = digests(dm)
    _same(first, digests(dm), "setup() called twice")


def check_state_dict_round_trip(ctx: Context) -> None:
    """``state_dict`` names the spec, survives ``torch.save``, and restores the same splits."""
    # deferred: torch is heavy; importing this module must not load it
    import torch

    spec = ctx.spec
    dm = prepared(ctx)
    before = digests(dm)
    state = dm.state_dict()
    if not isinstance(state, dict):
        raise ConformanceError(f"state_dict() returned {type(state).__name__}, expected a dict")
    named = state.get("spec", {})
    want = {"namespace": spec.namespace, "name": spec.name, "version": spec.version}
    if {k: named.get(k) for k in want} != want:
        raise ConformanceError(f"state_dict()['spec'] is {named!r}, expected {want!r} "
                               "(call super().state_dict() and extend it)")
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    try:
        restored = torch.load(buffer, weights_only=True)
    except Exception as exc:
        raise ConformanceError(f"state_dict() holds objects a checkpoint cannot load safely "
                               f"(torch.load(weights_only=True) failed: {exc})") from exc
    other = ctx.build()
    other.load_state_dict(restored)
    other.prepare_data()
    _same(before, digests(other), "after load_state_dict()")
    if other.state_dict() != state:
        raise ConformanceError("state_dict() after load_state_dict() differs from the saved one")
    if "split_fingerprint" in state:
        tampered = copy.deepcopy(state)
        tampered["split_fingerprint"] = "0" * 16
        fresh = ctx.build()
        try:  # refusing in load_state_dict() or in the setup() after it are both fine
            fresh.load_state_dict(tampered)
            fresh.prepare_data()
            fresh.setup("fit")
        except DmzooError:
            return
        raise ConformanceError("a state with another split_fingerprint was accepted by "
                               "load_state_dict() and setup(); one must raise SplitMismatchError")


def check_pickling(ctx: Context) -> None:
    """A datamodule pickles before and after setup (spawned DataLoader workers need it)."""
    pickle.loads(pickle.dumps(ctx.build()))
    dm = prepared(ctx)
    before = digests(dm)
    _same(before, digests(pickle.loads(pickle.dumps(dm))), "after pickling")


def check_split_reproducible(ctx: Context) -> None:
    """Two datamodules built with the same arguments hold the same splits."""
    a, b = prepared(ctx), prepared(ctx)
    _same(digests(a), digests(b), "two instances with the same arguments")
    if a.state_dict() != b.state_dict():
        raise ConformanceError("two instances with the same arguments have different state_dict()")


def check_lightning_fast_dev_run(ctx: Context) -> None:
    """``Trainer(fast_dev_run=True)`` fits (and tests/predicts where defined) on CPU."""
    if env_str("DMZOO_LIGHTNING").lower() in FALSE_SPELLINGS:
        raise Skip("DMZOO_LIGHTNING=0")
    if _import_lightning() is None:
        raise Skip("Lightning is not installed")
    dm = prepared(ctx)
    pl = _lightning_of(dm)
    if pl is None:
        raise ConformanceError(f"{type(dm).__qualname__} is not a LightningDataModule although "
                               "Lightning is installed; subclass dmzoo.DataModule")

    model = tiny_module(pl)
    with _quiet_lightning():
        trainer = pl.Trainer(fast_dev_run=True, accelerator="cpu", devices=1, logger=False,
                             enable_checkpointing=False, enable_progress_bar=False,
                             enable_model_summary=False, default_root_dir=str(ctx.folder))
    defined = loaders(dm)
    with warnings.catch_warnings(), _quiet_lightning():
        warnings.simplefilter("ignore")
        trainer.fit(model, datamodule=dm)
        if "test" in defined:
            trainer.test(model, datamodule=dm, verbose=False)
        if "predict" in defined:
            trainer.predict(model, datamodule=dm)
    if model.seen_batches < 1:
        raise ConformanceError("Trainer.fit ran no training batch")


@contextlib.contextmanager
def _quiet_lightning() -> Iterator[None]:
    """Hide Lightning's info lines (GPU available, fast_dev_run...) during the check."""
    loggers = [logging.getLogger(n) for n in ("lightning.pytorch", "lightning.fabric",
                                              "pytorch_lightning", "lightning_fabric")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _import_lightning() -> Any | None:
    """Lightning, preferring the flavour this process already uses (it cannot mix both)."""
    names = ("lightning.pytorch", "pytorch_lightning")
    if "pytorch_lightning" in sys.modules and "lightning.pytorch" not in sys.modules:
        names = names[::-1]
    for name in names:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def _lightning_of(dm: Any) -> Any | None:
    """The Lightning package the datamodule's base class comes from (or None)."""
    for klass in type(dm).__mro__:
        if klass.__name__ == "LightningDataModule":
            return importlib.import_module(klass.__module__.split(".core")[0])
    return None


CHECKS: dict[str, Callable[[Context], None]] = {
    "spec": check_spec,
    "listing_is_lazy": check_listing_is_lazy,
    "loaders_yield_batches": check_loaders_yield_batches,
    "batches_are_inputs_target": check_batches_are_inputs_target,
    "setup_idempotent": check_setup_idempotent,
    "state_dict_round_trip": check_state_dict_round_trip,
    "pickling": check_pickling,
    "split_reproducible": check_split_reproducible,
    "lightning_fast_dev_run": check_lightning_fast_dev_run,
}


def run_in_context(spec: DataModuleSpec, name: str, folder: Path) -> None:
    """Run check ``name`` for ``spec`` offline in ``folder``."""
    with offline_home(folder):
        CHECKS[name](Context(spec, folder))


def first_tensor(batch: Any) -> Any:
    """The first tensor in a batch (what the tiny model trains on)."""
    for leaf in leaves(batch):
        if hasattr(leaf, "float"):
            return leaf
    raise ConformanceError(f"batch holds no tensor: {type(batch).__name__}")
