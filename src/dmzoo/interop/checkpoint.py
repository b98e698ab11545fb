"""Which data a run was trained on, and the same datamodule rebuilt from a checkpoint.

A Lightning checkpoint already holds the datamodule's ``state_dict`` (under its
class ``__qualname__``; the dmzoo base puts the spec's namespace, name and
version there, subclasses add a ``split_fingerprint``) and its hparams
(``datamodule_hyper_parameters``). :class:`~dmzoo.interop.DmzooDataRecord`
adds a ``"dmzoo"`` entry with all of it in one place. Either is enough for
:func:`datamodule_from_checkpoint`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..core.errors import DataFormatError
from ..registry import load_datamodule

_IDENTITY = ("namespace", "name", "version")


def data_record(datamodule: Any) -> dict[str, Any]:
    """Spec identity, class, hparams, state and split fingerprint of a dmzoo datamodule."""
    spec = getattr(datamodule, "spec", None)
    if spec is None:
        raise DataFormatError(f"{type(datamodule).__name__} has no dmzoo spec; build it with "
                              "dmzoo.load_datamodule(...), or name its spec in the class's SPEC")
    state = dict(datamodule.state_dict())
    cls = type(datamodule)
    return {
        "ref": spec.ref,
        **{key: getattr(spec, key) for key in _IDENTITY},
        "class": f"{cls.__module__}:{cls.__qualname__}",
        "split_fingerprint": state.get("split_fingerprint"),
        "hparams": constructor_hparams(getattr(datamodule, "hparams", {}) or {}),
        "state": state,
    }


def constructor_hparams(hparams: Mapping[str, Any]) -> dict[str, Any]:
    """Saved hparams minus what LightningCLI adds (``_class_path``, ``_instantiator``)."""
    return {k: v for k, v in hparams.items() if not str(k).startswith("_")}


def _is_state(value: Any) -> bool:
    spec = value.get("spec") if isinstance(value, Mapping) else None
    return isinstance(spec, Mapping) and all(k in spec for k in _IDENTITY)


def read_record(checkpoint: Mapping[str, Any]) -> dict[str, Any]:
    """The dmzoo record of a loaded checkpoint (from the callback, or Lightning's own keys)."""
    record = checkpoint.get("dmzoo")
    if isinstance(record, Mapping) and _is_state(record.get("state")):
        return dict(record)
    states = [v for v in checkpoint.values() if _is_state(v)]
    if not states:
        raise DataFormatError(
            "the checkpoint holds no dmzoo datamodule state (no entry with a 'spec'); it was "
            "trained without a dmzoo datamodule, or saved without Trainer(datamodule=...)")
    state = dict(states[0])
    return {**{k: state["spec"][k] for k in _IDENTITY},
            "ref": "{namespace}/{name}@{version}".format(**state["spec"]),
            "split_fingerprint": state.get("split_fingerprint"),
            "hparams": constructor_hparams(checkpoint.get("datamodule_hyper_parameters") or {}),
            "state": state}


def datamodule_from_checkpoint(checkpoint: str | Path | Mapping[str, Any], **overrides: Any) -> Any:
    """Rebuild the exact datamodule (name, version, arguments, splits) a checkpoint used.

    ``overrides`` replace saved arguments (e.g. ``data_dir=`` on another machine);
    one that changes the splits makes ``load_state_dict`` raise ``SplitMismatchError``.
    A checkpoint file is a pickle: load only checkpoints you trust, as with Lightning.
    """
    if isinstance(checkpoint, Mapping):
        record = read_record(checkpoint)
    else:
        # deferred: torch is heavy; a record passed as a mapping needs none
        import torch

        record = read_record(torch.load(checkpoint, map_location="cpu", weights_only=False))
    datamodule = load_datamodule(f"{record['namespace']}/{record['name']}@{record['version']}",
                                 **{**constructor_hparams(record["hparams"]), **overrides})
    datamodule.load_state_dict(dict(record["state"]))
    return datamodule
