"""LightningCLI that also takes a dmzoo registry name for ``--data``.

    # train.py
    from dmzoo.interop import DmzooLightningCLI
    DmzooLightningCLI(MyModel)

    python train.py fit --data mnist --data.batch_size 64
    python train.py fit --data dmzoo/mnist@1.0.0          # pinned version
    python train.py fit --data dmzoo.plugins.vision.mnist.datamodule.MNISTDataModule   # class path
    python train.py fit --config run.yaml                 # with  data: mnist
                                                          # or    data: {class_path: mnist, init_args: {...}}

A registry name is replaced by its spec's class path before jsonargparse sees
it, the spec's ``default_kwargs`` become defaults, and the class is built under
that exact spec (version included), like ``load_datamodule`` does. The run also
gets :class:`~dmzoo.interop.DmzooDataRecord`, so logs and checkpoints name the data.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from lightning.pytorch.cli import LightningCLI

from ..core.datamodule import attach_spec
from ..core.spec import DataModuleSpec
from ..registry import get_registry, get_spec, is_datamodule
from ..registry.index import highest, iter_all
from .callback import DmzooDataRecord

_CONFIG_FLAGS = ("--config", "-c")


def _registry_spec(value: Any) -> DataModuleSpec | None:
    """The spec ``value`` names when it is a registry name rather than a class path."""
    if not isinstance(value, str) or not value or value[0] in "{[":
        return None
    looks_like_name = "/" in value or "@" in value
    if not looks_like_name and ("." in value or not is_datamodule(value)):
        return None  # a class path, or a class name jsonargparse resolves itself
    return get_spec(value)  # raises a helpful DmzooError for a mistyped name


def _class_spec(cls: type) -> DataModuleSpec | None:
    """For ``--data`` given as a class path: the highest stable registered version whose
    ``cls`` names ``cls``; None if none, or if several datamodules share the class."""
    path = f"{cls.__module__}:{cls.__qualname__}"
    specs = [s for s in iter_all(get_registry()) if s.cls == path]
    if not specs or len({(s.namespace, s.name) for s in specs}) > 1:
        return None
    return highest(specs)


def _class_path(spec: DataModuleSpec) -> str:
    return spec.cls.replace(":", ".")


def _defaults(spec: DataModuleSpec) -> list[str]:
    return [f"--data.{k}={json.dumps(v)}" for k, v in spec.default_kwargs.items()]


def _rewrite_config(text: str) -> tuple[DataModuleSpec | None, str]:
    """A YAML config with ``data: NAME`` (or ``class_path: NAME``) rewritten to the class."""
    config = yaml.safe_load(text)
    data = config.get("data") if isinstance(config, dict) else None
    name = data.get("class_path") if isinstance(data, dict) else data
    spec = _registry_spec(name)
    if spec is None:
        return None, text
    init_args = dict(spec.default_kwargs)
    if isinstance(data, dict):
        init_args.update(data.get("init_args") or {})
    config["data"] = {"class_path": _class_path(spec), "init_args": init_args}
    return spec, yaml.safe_dump(config)


def resolve_data_args(args: Sequence[str]) -> tuple[DataModuleSpec | None, list[str]]:
    """Rewrite registry names in ``--data`` / config files to class paths; return the spec."""
    out: list[str] = []
    spec: DataModuleSpec | None = None
    items = list(args)
    i = 0
    while i < len(items):
        arg = items[i]
        flag, eq, value = arg.partition("=")
        if flag in ("--data", *_CONFIG_FLAGS) and not eq and i + 1 < len(items):
            value, i = items[i + 1], i + 1
        elif flag not in ("--data", *_CONFIG_FLAGS):
            out.append(arg)
            i += 1
            continue
        if flag == "--data":
            found = _registry_spec(value)
            if found is not None:
                spec, value = found, _class_path(found)
            out += ["--data", value] + (_defaults(found) if found is not None else [])
        else:
            path = Path(value)
            found, text = (_rewrite_config(path.read_text(encoding="utf-8"))
                           if path.is_file() else (None, value))
            spec = found or spec
            out += [flag, text if found is not None else value]
        i += 1
    return spec, out


class DmzooLightningCLI(LightningCLI):
    """:class:`~lightning.pytorch.cli.LightningCLI` with dmzoo names for ``--data``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        cli_args = kwargs.pop("args", None)
        if cli_args is None or isinstance(cli_args, (list, tuple)):
            self.dmzoo_spec, cli_args = resolve_data_args(
                sys.argv[1:] if cli_args is None else cli_args)
        else:
            self.dmzoo_spec = None  # a dict or Namespace config: passed through unchanged
        defaults = dict(kwargs.pop("trainer_defaults", None) or {})
        callbacks = defaults.get("callbacks") or []
        callbacks = list(callbacks) if isinstance(callbacks, (list, tuple)) else [callbacks]
        defaults["callbacks"] = [*callbacks, DmzooDataRecord()]
        super().__init__(*args, **{**kwargs, "args": cli_args, "trainer_defaults": defaults})

    def instantiate_classes(self) -> None:
        super().instantiate_classes()
        datamodule = getattr(self, "datamodule", None)
        if datamodule is None:
            return
        spec = self.dmzoo_spec or (_class_spec(type(datamodule)) if datamodule.spec is None
                                   else None)
        if spec is not None:  # the named spec (exact version), or the one naming the class
            attach_spec(datamodule, spec)
