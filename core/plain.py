"""The DataModule base when Lightning is not used: the few methods dmzoo's own code calls.

Lightning's ``LightningDataModule`` is the base whenever Lightning is installed (see
:mod:`dmzoo.core.datamodule`); this class only lets a dmzoo datamodule, and a user's
subclass written for Lightning, run in a plain PyTorch loop without it: the data hooks
(``prepare_data``, the batch-transfer trio) and ``save_hyperparameters`` / ``hparams``.
Nothing here mirrors Lightning's private attributes: no instance ever changes base.
"""

from __future__ import annotations

import copy
import inspect
import types
from argparse import Namespace
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import InvalidArgumentError
from .transfer import move_to_device


class AttributeDict(dict):
    """A dict whose keys also read as attributes: ``dm.hparams.batch_size``."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(f"no hyperparameter {key!r}; saved: {sorted(self)}") from None

    def __setattr__(self, key: str, value: Any) -> None:
        self[key] = value


class PlainDataModule:
    """Lightning's DataModule hooks that plain loops use, without Lightning."""

    def __init__(self) -> None:
        self.trainer: Any = None
        self.prepare_data_per_node = True  # read by dmzoo.interop.distributed.prepare_once

    def prepare_data(self) -> None:
        """Download and write data to disk; runs once per node (or once in total)."""

    def on_before_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        return batch

    def transfer_batch_to_device(self, batch: Any, device: Any, dataloader_idx: int) -> Any:
        return move_to_device(batch, device)

    def on_after_batch_transfer(self, batch: Any, dataloader_idx: int) -> Any:
        return batch

    def save_hyperparameters(
        self,
        *args: Any,
        ignore: str | Iterable[str] | None = None,
        frame: types.FrameType | None = None,
        logger: bool = True,  # Lightning's signature; there is no logger without it
    ) -> None:
        """Store the ``__init__`` arguments (or those named, or one dict) in :attr:`hparams`.

        Every enclosing ``__init__`` of this object (a subclass calling
        ``super().__init__``) counts; the most derived class wins a shared name.
        """
        if frame is None:
            frame = inspect.currentframe().f_back  # type: ignore[union-attr]
        ignored = {ignore} if isinstance(ignore, str) else set(ignore or ())
        init_args = {k: v for k, v in init_arguments(self, frame).items() if k not in ignored}
        if not args:
            chosen = init_args
        elif len(args) == 1 and isinstance(args[0], (Mapping, Namespace)):
            chosen = dict(vars(args[0]) if isinstance(args[0], Namespace) else args[0])
        elif all(isinstance(a, str) for a in args):
            unknown = [a for a in args if a not in init_args]
            if unknown:
                raise InvalidArgumentError(
                    f"save_hyperparameters({', '.join(map(repr, args))}): {', '.join(unknown)} "
                    f"{'is' if len(unknown) == 1 else 'are'} not an __init__ argument of "
                    f"{type(self).__name__}; available: {', '.join(init_args) or '(none)'}"
                )
            chosen = {a: init_args[a] for a in args}
        else:
            raise InvalidArgumentError(
                "save_hyperparameters() takes argument names (str), or one dict/Namespace; "
                f"got {', '.join(type(a).__name__ for a in args)}"
            )
        self.hparams.update(chosen)
        for key in ignored:
            self.hparams.pop(key, None)
        self._initial_hparams = copy.deepcopy(self.hparams)

    @property
    def hparams(self) -> AttributeDict:
        """Saved hyperparameters (mutable)."""
        return self.__dict__.setdefault("_saved_hparams", AttributeDict())

    @property
    def hparams_initial(self) -> AttributeDict:
        """A copy of the hyperparameters as first saved."""
        return copy.deepcopy(self.__dict__.get("_initial_hparams", AttributeDict()))


def init_arguments(obj: Any, frame: types.FrameType | None) -> dict[str, Any]:
    """Arguments of each ``__init__`` of ``obj`` running on the stack, starting at ``frame``."""
    found: list[dict[str, Any]] = []
    while frame is not None and frame.f_code.co_name == "__init__":
        init = _init_running(obj, frame)
        if init is None:
            break
        found.append(_arguments(init, frame.f_locals))
        frame = frame.f_back
    merged: dict[str, Any] = {}
    for args in found:  # innermost (base) first, so the most derived class wins
        merged.update(args)
    return merged


def _init_running(obj: Any, frame: types.FrameType) -> Any:
    """The ``__init__`` of a class of ``obj`` that ``frame`` executes, for ``obj`` itself."""
    for klass in type(obj).__mro__:
        init = klass.__dict__.get("__init__")
        init = inspect.unwrap(init) if init is not None else None
        code = getattr(init, "__code__", None)
        if code is frame.f_code:
            first = code.co_varnames[0] if code.co_argcount else None
            return init if first and frame.f_locals.get(first) is obj else None
    return None


def _arguments(init: Any, local_vars: Mapping[str, Any]) -> dict[str, Any]:
    params = list(inspect.signature(init).parameters.values())[1:]  # drop self
    out: dict[str, Any] = {}
    for p in params:
        if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name in local_vars:
            out[p.name] = local_vars[p.name]
        elif p.kind is p.VAR_KEYWORD:
            out.update(local_vars.get(p.name, {}))
    return out
