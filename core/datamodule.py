"""The DataModule base class every dmzoo datamodule derives from.

Why the base class can change at run time
-----------------------------------------
Lightning's ``Trainer`` only accepts a ``LightningDataModule`` (it checks
``isinstance`` and ``is_overridden`` raises "Expected a parent" otherwise), so
a dmzoo datamodule must really derive from Lightning's class. But importing
``lightning.pytorch`` costs several seconds on top of torch (most of it is
Lightning importing torchmetrics, torchvision and scipy), which a user of a
plain PyTorch loop should not pay for ``load_datamodule("mnist")``.

So ``DataModule`` derives from Lightning's class exactly when the process uses
Lightning, decided by ``DMZOO_LIGHTNING``:

* ``auto`` (default): if ``lightning.pytorch`` (preferred) or
  ``pytorch_lightning`` is already imported, use its ``LightningDataModule``.
  Otherwise start on :class:`PlainDataModule` (the same API, written here) and
  install a tiny import hook; the moment Lightning's datamodule module has been
  imported, ``DataModule.__bases__`` is switched to Lightning's class. Python
  recomputes the MRO of every subclass, and existing instances follow their
  class, so ``Trainer.fit(model, datamodule=dm)`` works whichever was imported
  first (dmzoo or Lightning) and even for a datamodule built before
  ``import lightning``. The plain base sets the same instance attributes under
  the same names as Lightning's, so such an instance is valid after the switch.
* ``1``: import Lightning now and always use it (``MissingExtraError`` if absent).
* ``0``: always the plain base; Lightning's Trainer then rejects dmzoo
  datamodules in this process (use it for plain loops or to rule Lightning out),
  and importing Lightning warns saying so.

The one constraint: use one Lightning flavour per process. The first of
``lightning`` / ``pytorch_lightning`` to be imported wins (Lightning itself
does not support mixing them); importing the other one afterwards warns.
The setting is read once, when this module is first imported.

The four ``*_dataloader`` defaults raise :class:`MissingHookError` (naming the
hook and class) yet still look "not overridden" to Lightning: their
``__wrapped__`` points at the current base's function, which is what
``is_overridden`` compares, so Lightning skips a loop that has no loader.
"""

from __future__ import annotations

import copy
import functools
import importlib
import importlib.abc
import inspect
import sys
import threading
import types
import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .context import current_spec
from .errors import (
    DmzooError,
    InvalidArgumentError,
    InvalidSettingError,
    InvalidStageError,
    MissingExtraError,
    MissingHookError,
    SpecMismatchError,
)
from .hparams import AttributeDict
from .hparams import save_hyperparameters as _save_hyperparameters
from .settings import FALSE_SPELLINGS, TRUE_SPELLINGS, env_str
from .transfer import move_to_device

if TYPE_CHECKING:
    from .spec import DataModuleSpec

__all__ = ["DataModule", "PlainDataModule", "lightning_setting", "STAGES", "LOADER_HOOKS"]

STAGES = ("fit", "validate", "test", "predict")
LOADER_HOOKS = ("train_dataloader", "val_dataloader", "test_dataloader", "predict_dataloader")
# Modules defining LightningDataModule, in order of preference.
_LIGHTNING_MODULES = ("lightning.pytorch.core.datamodule", "pytorch_lightning.core.datamodule")
_STAGE_HINTS = {"train": "fit", "training": "fit", "val": "validate", "valid": "validate",
                "validation": "validate", "testing": "test", "inference": "predict"}


def lightning_setting() -> str:
    """``DMZOO_LIGHTNING`` normalised to ``"auto"``, ``"1"`` or ``"0"``."""
    raw = env_str("DMZOO_LIGHTNING").lower() or "auto"
    for value, spellings in (("auto", {"auto"}), ("1", TRUE_SPELLINGS),
                             ("0", FALSE_SPELLINGS)):
        if raw in spellings:
            return value
    raise InvalidSettingError(
        f"DMZOO_LIGHTNING={raw!r} is not understood; use 'auto' (default: derive from "
        "Lightning's LightningDataModule once Lightning is imported), '1' (always, importing "
        "Lightning now) or '0' (never)"
    )


def _missing(obj: Any, hook: str) -> MissingHookError:
    name = type(obj).__qualname__
    split = hook.removesuffix("_dataloader")
    return MissingHookError(
        f"{name}.{hook}() is not defined, so {name} has no {split} data; define {hook}() "
        f"in {name}, or build it with {name}.from_datasets({split}_dataset=...)"
    )


def check_stage(stage: Any, obj: Any, hook: str) -> None:
    """Raise :class:`InvalidStageError` unless ``stage`` is one Lightning uses (or None)."""
    if stage is None or (isinstance(stage, str) and stage in STAGES):
        return
    hint = _STAGE_HINTS.get(str(stage).lower())
    raise InvalidStageError(
        f"{type(obj).__qualname__}.{hook}() got stage {stage!r}; expected one of "
        f"{', '.join(map(repr, STAGES))} or None" + (f" (did you mean {hint!r}?)" if hint else "")
    )


class PlainDataModule:
    """Lightning's DataModule API without Lightning: the base when Lightning is not in use.

    Instance attributes and class constants carry Lightning's names, so an
    instance stays valid when ``DataModule`` is later moved onto Lightning's base.
    """

    name: str | None = None
    CHECKPOINT_HYPER_PARAMS_KEY = "datamodule_hyper_parameters"
    CHECKPOINT_HYPER_PARAMS_NAME = "datamodule_hparams_name"
    CHECKPOINT_HYPER_PARAMS_TYPE = "datamodule_hparams_type"

    def __init__(self) -> None:
        self.trainer: Any = None
        self.prepare_data_per_node = True
        self.allow_zero_length_dataloader_with_multiple_devices = False
        self._log_hyperparams = False

    def prepare_data(self) -> None:
        """Download and write data to disk; runs once per node (or once in total)."""

    def setup(self, stage: str | None = None) -> None:
        """Build datasets for ``stage``; runs in every process."""

    def teardown(self, stage: str | None = None) -> None:
        """Release what ``setup`` built."""

    def train_dataloader(self) -> Any:
        raise _missing(self, "train_dataloader")

    def val_dataloader(self) -> Any:
        raise _missing(self, "val_dataloader")

    def test_dataloader(self) -> Any:
        raise _missing(self, "test_dataloader")

    def predict_dataloader(self) -> Any:
        raise _missing(self, "predict_dataloader")

    def on_before_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        return batch

    def transfer_batch_to_device(self, batch: Any, device: Any, dataloader_idx: int) -> Any:
        return move_to_device(batch, device)

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        return batch

    def state_dict(self) -> dict[str, Any]:
        return {}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        pass

    def on_exception(self, exception: BaseException) -> None:
        pass

    def save_hyperparameters(
        self,
        *args: Any,
        ignore: str | Iterable[str] | None = None,
        frame: types.FrameType | None = None,
        logger: bool = True,
    ) -> None:
        """Store the ``__init__`` arguments (or those named) in :attr:`hparams`."""
        if frame is None:
            frame = inspect.currentframe().f_back  # type: ignore[union-attr]
        _save_hyperparameters(self, *args, ignore=ignore, frame=frame, logger=logger)

    @property
    def hparams(self) -> AttributeDict:
        """Saved hyperparameters (mutable)."""
        return self.__dict__.setdefault("_hparams", AttributeDict())

    @property
    def hparams_initial(self) -> AttributeDict:
        """A copy of the hyperparameters as first saved."""
        return copy.deepcopy(self.__dict__.get("_hparams_initial", AttributeDict()))

    @classmethod
    def load_from_checkpoint(
        cls, checkpoint_path: Any, map_location: Any = None, weights_only: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        """Build from a Lightning checkpoint's saved hparams, then restore its state."""
        import torch

        ckpt = torch.load(checkpoint_path, map_location=map_location or "cpu",
                          weights_only=weights_only)
        saved = dict(ckpt.get(cls.CHECKPOINT_HYPER_PARAMS_KEY, {}))
        name = ckpt.get(cls.CHECKPOINT_HYPER_PARAMS_NAME)
        if name and name != "kwargs":
            saved = {name: saved}
        datamodule = cls(**{**saved, **kwargs})
        if cls.__qualname__ in ckpt:
            datamodule.load_state_dict(ckpt[cls.__qualname__])
        return datamodule


def _stage_checked(fn: Any, hook: str) -> Any:
    """Wrap a subclass's ``setup``/``teardown`` so a bad stage fails clearly, and record it."""

    @functools.wraps(fn)
    def checked(self: Any, *args: Any, **kwargs: Any) -> Any:
        stage = args[0] if args else kwargs.get("stage")
        check_stage(stage, self, hook)
        result = fn(self, *args, **kwargs)
        _record_stage(self, hook, stage)
        return result

    checked._dmzoo_stage_checked = True  # type: ignore[attr-defined]
    return checked


def _record_stage(obj: Any, hook: str, stage: Any) -> None:
    stages = obj.__dict__.setdefault("_dmzoo_stages", set())
    stage = getattr(stage, "value", stage)  # Lightning passes its TrainerFn enum
    if hook == "setup":
        stages.add(stage)
    elif stage is None:
        stages.clear()
    else:
        stages.discard(stage)


class DataModule(PlainDataModule):
    """Base of every dmzoo datamodule; a ``LightningDataModule`` whenever Lightning is used.

    Subclasses define ``__init__`` with their own arguments and call
    ``super().__init__()``, then the hooks they need (``prepare_data``,
    ``setup``, ``train_dataloader``...), and extend ``state_dict`` /
    ``load_state_dict`` with ``super()``.
    """

    def __init__(self) -> None:
        super().__init__()
        self._spec = _spec_being_built(type(self))
        self._dmzoo_stages: set[str | None] = set()
        if _SETTING == "auto" and DataModule.__bases__ == (PlainDataModule,):
            _adopt_loaded_lightning()  # safety net if the import hook was bypassed

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for hook in ("setup", "teardown"):
            fn = cls.__dict__.get(hook)
            if isinstance(fn, types.FunctionType) and not hasattr(fn, "_dmzoo_stage_checked"):
                setattr(cls, hook, _stage_checked(fn, hook))

    # -- spec -----------------------------------------------------------------------
    @property
    def spec(self) -> DataModuleSpec | None:
        """The spec this datamodule was loaded for, else the one registered for its class."""
        return self.__dict__.get("_spec") or registered_spec(type(self))

    # -- lifecycle ------------------------------------------------------------------
    def setup(self, stage: str | None = None) -> None:
        check_stage(stage, self, "setup")
        _record_stage(self, "setup", stage)

    def teardown(self, stage: str | None = None) -> None:
        check_stage(stage, self, "teardown")
        _record_stage(self, "teardown", stage)

    def train_dataloader(self) -> Any:
        """Training loader(s); defined by subclasses."""
        raise _missing(self, "train_dataloader")

    def val_dataloader(self) -> Any:
        """Validation loader(s); defined by subclasses."""
        raise _missing(self, "val_dataloader")

    def test_dataloader(self) -> Any:
        """Test loader(s); defined by subclasses."""
        raise _missing(self, "test_dataloader")

    def predict_dataloader(self) -> Any:
        """Prediction loader(s); defined by subclasses."""
        raise _missing(self, "predict_dataloader")

    def batch_to_device(self, batch: Any, device: Any, dataloader_idx: int = 0) -> Any:
        """What Lightning does with a batch, for plain loops: before hook, transfer, after hook."""
        batch = self.on_before_batch_transfer(batch, dataloader_idx)
        batch = self.transfer_batch_to_device(batch, device, dataloader_idx)
        return self.on_after_batch_transfer(batch, dataloader_idx)

    # -- checkpoints ----------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """``{"spec": {namespace, name, version}}`` when a spec is attached, else ``{}``."""
        spec = self.spec
        if spec is None:
            return {}
        return {"spec": {"namespace": spec.namespace, "name": spec.name, "version": spec.version}}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Check the checkpoint was made for this data.

        Another datamodule or another MAJOR version (different records or splits)
        raises :class:`SpecMismatchError`: resuming on other data would silently
        change the experiment. A MINOR/PATCH difference only warns.
        """
        if not isinstance(state_dict, Mapping):
            raise InvalidArgumentError(
                f"{type(self).__qualname__}.load_state_dict() takes the dict saved by "
                f"state_dict(), got {type(state_dict).__name__}"
            )
        saved, spec = state_dict.get("spec"), self.spec
        if saved is not None and not isinstance(saved, Mapping):
            raise InvalidArgumentError(
                f"{type(self).__qualname__}.load_state_dict(): 'spec' must be the dict "
                f"state_dict() saves, got {type(saved).__name__}"
            )
        if not saved or spec is None:
            if saved:
                warnings.warn(f"checkpoint was made with {_ref(saved)}, but this "
                              f"{type(self).__qualname__} has no spec; not checked", stacklevel=2)
            return
        if (saved.get("namespace"), saved.get("name")) != (spec.namespace, spec.name) or \
                _major(saved.get("version")) != spec.parsed_version.major:
            raise SpecMismatchError(
                f"checkpoint was made with {_ref(saved)}, but this datamodule is {spec.ref}; "
                f"resume with the same data (load_datamodule({_ref(saved)!r})), or start a new "
                "run / load only the model weights to use other data"
            )
        if saved.get("version") != spec.version:
            warnings.warn(f"checkpoint was made with {_ref(saved)}; resuming with {spec.ref} "
                          "(same MAJOR version, so the same records and splits)", stacklevel=2)

    def __getstate__(self) -> dict[str, Any]:
        # A Trainer is not part of the data (and often not picklable): spawn workers
        # and copies get the datamodule without it, as a fresh one would be.
        state = self.__dict__.copy()
        if "trainer" in state:
            state["trainer"] = None
        return state

    # -- building from datasets ---------------------------------------------------
    @classmethod
    def from_datasets(
        cls,
        train_dataset: Any = None,
        val_dataset: Any = None,
        test_dataset: Any = None,
        predict_dataset: Any = None,
        batch_size: int = 1,
        num_workers: int = 0,
        **kwargs: Any,
    ) -> Any:
        """A datamodule serving ready datasets (one, or a list/dict of them, per split).

        ``batch_size`` and ``num_workers`` go to every loader, and to ``__init__``
        only if its signature names them or takes ``**kwargs``. Train loaders
        shuffle, except over an ``IterableDataset``.
        """
        given = {"train": train_dataset, "val": val_dataset, "test": test_dataset,
                 "predict": predict_dataset}
        collections = {split: _as_collection(value, f"{split}_dataset")
                       for split, value in given.items() if value is not None}
        extra = {"batch_size": batch_size, "num_workers": num_workers}
        from ..registry.loading import accepted_parameters  # late, as the registry imports core

        names, takes_kwargs = accepted_parameters(cls)
        if not takes_kwargs:
            extra = {k: v for k, v in extra.items() if k in names}
        datamodule = cls(**kwargs, **extra)
        for split, collection in collections.items():
            # A partial of a module function: picklable, and Lightning sees the hook as defined.
            hook = functools.partial(_loaders, collection, batch_size=batch_size,
                                     num_workers=num_workers, shuffle=split == "train")
            setattr(datamodule, f"{split}_dataloader", hook)
        datamodule.__dict__.setdefault("_dmzoo_stages", set()).add(None)
        return datamodule

    # -- display --------------------------------------------------------------------
    def __repr__(self) -> str:
        spec = self.spec
        parts = [type(self).__qualname__] + ([spec.ref] if spec else [])
        parts += [f"{split}: {text}" for split, text in self._loader_summary()]
        return "<" + " | ".join(parts) + ">"

    def __str__(self) -> str:
        spec = self.spec
        lines = [type(self).__qualname__ + (f" ({spec.ref})" if spec else "")]
        hparams = self.__dict__.get("_hparams") or {}
        if hparams:
            lines.append("  hparams: " + ", ".join(f"{k}={v!r}" for k, v in hparams.items()))
        lines += [f"  {split + ':':<9}{text}" for split, text in self._loader_summary(all_=True)]
        return "\n".join(lines)

    def _loader_summary(self, all_: bool = False) -> list[tuple[str, str]]:
        rows = []
        ready = bool(self.__dict__.get("_dmzoo_stages"))
        for hook in LOADER_HOOKS:
            split = hook.removesuffix("_dataloader")
            if not defines_hook(self, hook):
                if all_:
                    rows.append((split, "not defined"))
                continue
            if not ready:
                rows.append((split, "defined (call setup() for sizes)"))
                continue
            try:
                rows.append((split, _describe(getattr(self, hook)())))
            except Exception as exc:  # a summary must never raise
                rows.append((split, f"defined (unavailable: {type(exc).__name__})"))
        return rows


def defines_hook(datamodule: Any, hook: str) -> bool:
    """Whether ``datamodule`` provides ``hook`` itself (class or instance), not the base default."""
    return hook in datamodule.__dict__ or getattr(type(datamodule), hook) is not getattr(DataModule, hook)


def _spec_being_built(cls: type) -> DataModuleSpec | None:
    """The spec ``load_datamodule`` is building, if it names this very class (not, say, a
    helper datamodule constructed inside the requested one's ``__init__``)."""
    spec = current_spec()
    if spec is None:
        return None
    from ..registry.loading import import_class

    try:
        return spec if import_class(spec) is cls else None
    except DmzooError:
        return None


def registered_spec(cls: type) -> DataModuleSpec | None:
    """Highest registered version whose ``cls`` names ``cls``; None if none, or if several
    datamodules share the class (which one is meant cannot be told)."""
    from ..registry import get_registry

    specs = get_registry().find_by_class(f"{cls.__module__}:{cls.__qualname__}")
    if not specs or len({(s.namespace, s.name) for s in specs}) > 1:
        return None
    final = [s for s in specs if not s.parsed_version.is_prerelease] or specs
    return max(final, key=lambda s: s.parsed_version)


def _ref(saved: Mapping[str, Any]) -> str:
    return f"{saved.get('namespace')}/{saved.get('name')}@{saved.get('version')}"


def _major(version: Any) -> int | None:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(str(version)).major
    except InvalidVersion:
        return None


# -- from_datasets helpers ------------------------------------------------------------
def _is_dataset(obj: Any) -> bool:
    from torch.utils.data import Dataset

    if isinstance(obj, Dataset):
        return True
    if isinstance(obj, (str, bytes, Mapping, list, tuple)):
        return False
    return hasattr(obj, "__getitem__") and hasattr(obj, "__len__")


def _as_collection(value: Any, arg: str) -> tuple[str, Any]:
    """``("one", ds)``, ``("list", [ds...])`` or ``("dict", {name: ds})``; bad input fails here."""
    if _is_dataset(value):
        return ("one", value)
    if isinstance(value, Mapping):
        kind, items = "dict", dict(value)
    elif isinstance(value, Iterable) and not isinstance(value, (str, bytes)):
        kind, items = "list", list(value)
    else:
        raise InvalidArgumentError(
            f"from_datasets({arg}=...) takes a torch Dataset, or a list/dict of them; "
            f"got {type(value).__name__}"
        )
    values = items.values() if isinstance(items, dict) else items
    bad = [type(v).__name__ for v in values if not _is_dataset(v)]
    if not items or bad:
        got = "an empty collection" if not items else f"elements of type {', '.join(bad)}"
        raise InvalidArgumentError(
            f"from_datasets({arg}=...) takes a torch Dataset, or a non-empty list/dict of them; "
            f"got {got}"
        )
    return (kind, items)


def _loaders(collection: tuple[str, Any], *, batch_size: int, num_workers: int,
             shuffle: bool) -> Any:
    """dmzoo's resumable loaders (seed 0, per-sample ``default_collate``) for map-style
    datasets; an ``IterableDataset`` orders itself, so it gets a plain ``DataLoader``."""
    import torch
    from torch.utils.data import DataLoader, IterableDataset, default_collate

    from .fastloader import make_loader

    def loader(ds: Any) -> Any:
        pin = torch.cuda.is_available()
        if isinstance(ds, IterableDataset):
            return DataLoader(ds, batch_size=batch_size, num_workers=num_workers, pin_memory=pin)
        return make_loader(ds, batch_size=batch_size, shuffle=shuffle, num_workers=num_workers,
                           pin_memory=pin, collate_fn=default_collate)

    kind, items = collection
    if kind == "dict":
        return {name: loader(ds) for name, ds in items.items()}
    if kind == "list":
        return [loader(ds) for ds in items]
    return loader(items)


def _describe(loaders: Any) -> str:
    if isinstance(loaders, Mapping):
        return "{" + ", ".join(f"{k}: {_describe(v)}" for k, v in loaders.items()) + "}"
    if isinstance(loaders, (list, tuple)):
        return "[" + ", ".join(_describe(v) for v in loaders) + "]"
    try:
        count = len(loaders)
        text = f"{count} batch{'' if count == 1 else 'es'}"
    except TypeError:
        text = type(loaders).__name__
    batch_size = getattr(loaders, "batch_size", None)
    if batch_size:
        text += f" of {batch_size}"
    try:
        text += f" ({len(loaders.dataset)} examples)"
    except (AttributeError, TypeError):
        pass
    return text


# -- choosing the base ----------------------------------------------------------------
def _use_base(base: type) -> None:
    """Make ``DataModule`` (every subclass and existing instance with it) derive from ``base``."""
    if DataModule.__bases__ != (base,):
        DataModule.__bases__ = (base,)
    for hook in LOADER_HOOKS:
        # Lightning's is_overridden follows __wrapped__: our defaults count as "not overridden".
        getattr(DataModule, hook).__wrapped__ = getattr(base, hook)


def _loaded_lightning_base() -> type | None:
    for module_name in _LIGHTNING_MODULES:
        base = getattr(sys.modules.get(module_name), "LightningDataModule", None)
        if base is not None:
            return base
    return None


def _adopt_loaded_lightning() -> None:
    base = _loaded_lightning_base()
    if base is not None:
        _use_base(base)


def _on_lightning_loaded(module: types.ModuleType) -> None:
    """Lightning (or pytorch_lightning) has just defined its LightningDataModule."""
    base, current = module.LightningDataModule, DataModule.__bases__[0]
    flavour = module.__name__.split(".")[0]
    if current is base:
        return
    if _SETTING == "0":
        warnings.warn(
            f"{flavour} was imported while DMZOO_LIGHTNING=0: dmzoo datamodules are not "
            "LightningDataModules in this process, so Lightning's Trainer rejects them "
            "('Expected a parent'); unset DMZOO_LIGHTNING to use them with Lightning",
            stacklevel=2,
        )
    elif current is PlainDataModule:
        _use_base(base)
    else:
        warnings.warn(
            f"{flavour} was imported, but dmzoo datamodules already derive from "
            f"{current.__module__.split('.')[0]}'s LightningDataModule, so a {flavour} Trainer "
            "rejects them; use only one of lightning / pytorch_lightning per process",
            stacklevel=2,
        )


def _import_lightning_base() -> type:
    problems = []
    for module_name in _LIGHTNING_MODULES:
        try:
            return importlib.import_module(module_name).LightningDataModule
        except ImportError as exc:
            problems.append(f"{module_name.split('.')[0]}: {exc}")
    raise MissingExtraError(
        "DMZOO_LIGHTNING=1 needs Lightning, which cannot be imported (" + "; ".join(problems)
        + "); pip install 'dmzoo[lightning]', or unset DMZOO_LIGHTNING"
    )


class _LightningImportHook(importlib.abc.MetaPathFinder):
    """Calls :func:`_on_lightning_loaded` right after Lightning defines LightningDataModule."""

    def __init__(self) -> None:
        self._busy = threading.local()

    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname not in _LIGHTNING_MODULES or getattr(self._busy, "name", None) == fullname:
            return None
        self._busy.name = fullname  # another finder that delegates back must not loop
        try:
            spec = self._find_elsewhere(fullname, path, target)
        finally:
            self._busy.name = None
        if spec is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _AdoptingLoader(spec.loader)
        return spec

    def _find_elsewhere(self, fullname: str, path: Any, target: Any) -> Any:
        for finder in list(sys.meta_path):
            find = getattr(finder, "find_spec", None)
            if finder is not self and find is not None:
                spec = find(fullname, path, target)
                if spec is not None:
                    return spec
        return None


class _AdoptingLoader(importlib.abc.Loader):
    def __init__(self, loader: Any) -> None:
        self.loader = loader

    def create_module(self, spec: Any) -> Any:
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        module.__loader__ = module.__spec__.loader = self.loader  # type: ignore[union-attr]
        self.loader.exec_module(module)
        _on_lightning_loaded(module)


_HOOK = _LightningImportHook()


def _choose_base() -> None:
    """Pick the base for this process's state (at import; tests call it to reset)."""
    if _SETTING == "1":
        _use_base(_import_lightning_base())
    elif _SETTING == "auto" and _loaded_lightning_base() is not None:
        _adopt_loaded_lightning()
    else:
        _use_base(PlainDataModule)
    if _HOOK not in sys.meta_path:  # watches for Lightning being imported later
        sys.meta_path.insert(0, _HOOK)


_SETTING = lightning_setting()
_choose_base()
