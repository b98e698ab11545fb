"""The DataModule base class every dmzoo datamodule derives from.

Which base, chosen once
-----------------------
Lightning's ``Trainer`` only accepts a ``LightningDataModule`` (``isinstance`` checks;
``is_overridden`` raises "Expected a parent" otherwise), so when Lightning is installed
``DataModule`` derives from Lightning's class, decided once, when this module is first
imported (``import dmzoo`` and ``dmzoo list`` never import it), by ``DMZOO_LIGHTNING``:

* ``auto`` (default): Lightning's ``LightningDataModule`` if Lightning is installed
  (``pytorch_lightning``'s if that flavour is already imported and ``lightning`` is not,
  else ``lightning.pytorch``, else ``pytorch_lightning``); otherwise :class:`PlainDataModule`.
* ``1``: Lightning is required (``MissingExtraError`` if it cannot be imported).
* ``0``: always the plain base: no Lightning import (its cost is about 3x ``import
  torch``; see ``benchmarks/bench_contract_import.py``), and Lightning's Trainer rejects
  dmzoo datamodules in this process.

The base never changes afterwards, so instances, pickles and type checkers all see
the same class; type checkers are told it is Lightning's (``TYPE_CHECKING``).

The four ``*_dataloader`` defaults raise :class:`MissingHookError` (naming the
hook and class) yet still look "not overridden" to Lightning: their
``__wrapped__`` points at the base's function, which is what ``is_overridden``
compares, so Lightning skips a loop that has no loader.
"""

from __future__ import annotations

import functools
import importlib
import sys
import types
import warnings
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import torch
from packaging.version import InvalidVersion, Version
from torch.utils.data import DataLoader, Dataset, IterableDataset, default_collate

from .errors import (
    InvalidArgumentError,
    InvalidSettingError,
    InvalidStageError,
    MissingExtraError,
    MissingHookError,
    SpecMismatchError,
)
from .fastloader import make_loader
from .options import accepted_parameters
from .plain import PlainDataModule
from .settings import FALSE_SPELLINGS, TRUE_SPELLINGS, env_str

if TYPE_CHECKING:
    from .spec import DataModuleSpec

__all__ = ["DataModule", "PlainDataModule", "attach_spec", "lightning_setting", "STAGES",
           "LOADER_HOOKS"]

STAGES = ("fit", "validate", "test", "predict")
LOADER_HOOKS = ("train_dataloader", "val_dataloader", "test_dataloader", "predict_dataloader")
# Modules defining LightningDataModule, in order of preference.
_LIGHTNING_MODULES = ("lightning.pytorch", "pytorch_lightning")
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
        f"DMZOO_LIGHTNING={raw!r} is not understood; use 'auto' (default: Lightning's "
        "LightningDataModule when Lightning is installed), '1' (require Lightning) or '0' "
        "(never import it)"
    )


def lightning_base(setting: str) -> type | None:
    """Lightning's ``LightningDataModule`` for ``setting``, or None for the plain base."""
    if setting == "0":
        return None
    loaded = [m for m in _LIGHTNING_MODULES if m in sys.modules]
    problems = []
    for module_name in loaded[:1] or _LIGHTNING_MODULES:
        try:
            return importlib.import_module(module_name).LightningDataModule
        except ImportError as exc:
            problems.append(f"{module_name}: {exc}")
    if setting == "auto":
        return None
    raise MissingExtraError(
        "DMZOO_LIGHTNING=1 needs Lightning, which cannot be imported (" + "; ".join(problems)
        + "); pip install 'dmzoo[lightning]', or unset DMZOO_LIGHTNING"
    )


if TYPE_CHECKING:
    from lightning.pytorch import LightningDataModule as _Base
else:
    _Base = lightning_base(lightning_setting()) or PlainDataModule


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


class DataModule(_Base):
    """Base of every dmzoo datamodule; a ``LightningDataModule`` whenever Lightning is used.

    Subclasses define ``__init__`` with their own arguments and call
    ``super().__init__()``, then the hooks they need (``prepare_data``,
    ``setup``, ``train_dataloader``...), and extend ``state_dict`` /
    ``load_state_dict`` with ``super()``.
    """

    #: The spec of a directly built instance (``MyDM()``); None unless a class names one.
    SPEC: ClassVar[DataModuleSpec | None] = None
    _spec: DataModuleSpec | None

    def __init__(self) -> None:
        super().__init__()
        self._dmzoo_stages: set[str | None] = set()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for hook in ("setup", "teardown"):
            fn = cls.__dict__.get(hook)
            if isinstance(fn, types.FunctionType) and not hasattr(fn, "_dmzoo_stage_checked"):
                setattr(cls, hook, _stage_checked(fn, hook))

    # -- spec -----------------------------------------------------------------------
    @property
    def spec(self) -> DataModuleSpec | None:
        """The spec :func:`attach_spec` gave this instance (``load_datamodule`` does), else
        the class's :attr:`SPEC`."""
        return self.__dict__.get("_spec") or type(self).SPEC

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
        names, takes_any = accepted_parameters(cls)
        extra = {k: v for k, v in {"batch_size": batch_size, "num_workers": num_workers}.items()
                 if takes_any or k in names}
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
        hparams = self.hparams
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


def attach_spec(datamodule: DataModule, spec: DataModuleSpec | None) -> DataModule:
    """Give ``datamodule`` the spec it was built for (the exact version): ``dm.spec``."""
    datamodule._spec = spec
    return datamodule


def _ref(saved: Mapping[str, Any]) -> str:
    return f"{saved.get('namespace')}/{saved.get('name')}@{saved.get('version')}"


def _major(version: Any) -> int | None:
    try:
        return Version(str(version)).major
    except InvalidVersion:
        return None


# -- from_datasets helpers ------------------------------------------------------------
def _is_dataset(obj: Any) -> bool:
    if isinstance(obj, Dataset):
        return True
    if isinstance(obj, (str, bytes, Mapping, list, tuple)):
        return False
    return hasattr(obj, "__getitem__") and hasattr(obj, "__len__")


def _as_collection(value: Any, arg: str) -> tuple[str, Any]:
    """``("one", ds)``, ``("list", [ds...])`` or ``("dict", {name: ds})``; bad input fails here."""
    if _is_dataset(value):
        return ("one", value)
    items: dict[Any, Any] | list[Any]
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

# Lightning's is_overridden follows __wrapped__: our defaults count as "not overridden".
for _hook in LOADER_HOOKS:
    if hasattr(_Base, _hook):
        getattr(DataModule, _hook).__wrapped__ = getattr(_Base, _hook)
