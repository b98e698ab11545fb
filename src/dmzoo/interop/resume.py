"""Save and restore a plain PyTorch training loop mid-epoch: loader, data, model, optimizer::

    loader = dm.train_dataloader()
    load_training_state("run.pt", loader=loader, datamodule=dm, model=model, optim=optim)
    for epoch in range(epochs):              # (a resumed loader finishes its epoch first)
        for step, batch in enumerate(loader):
            ...
            if step % 100 == 0:
                save_training_state("run.pt", loader=loader, datamodule=dm,
                                    model=model, optim=optim)

The loader's ``state_dict()`` says where it is in which epoch (a few numbers); the
datamodule's says which data (spec, split fingerprint), so a resume against other data
is refused before anything is restored. The file is replaced atomically: a run killed
while saving keeps the previous state.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..core.errors import DataFormatError

FORMAT = 1


def training_state(*, loader: Any, datamodule: Any = None, **stateful: Any) -> dict[str, Any]:
    """One dict with every ``state_dict()``: the loader's, the datamodule's, and each of
    ``stateful`` (model, optimizer, scheduler, scaler...) under its keyword."""
    return {"format": FORMAT, "loader": loader.state_dict(),
            "datamodule": datamodule.state_dict() if datamodule is not None else None,
            "objects": {name: obj.state_dict() for name, obj in stateful.items()}}


def restore_training_state(state: dict[str, Any], *, loader: Any, datamodule: Any = None,
                           **stateful: Any) -> None:
    """Load what :func:`training_state` saved into the same kinds of objects: the
    datamodule first (it refuses other data), then the loader, then ``stateful``."""
    objects = state.get("objects") if isinstance(state, dict) else None
    if not isinstance(objects, dict) or state.get("format") != FORMAT or "loader" not in state:
        raise DataFormatError("not a dmzoo training state (save it with "
                              "dmzoo.interop.save_training_state)")
    missing = sorted(set(stateful) - set(objects))
    if missing:
        raise DataFormatError(f"the training state holds no {', '.join(missing)} (it has "
                              f"{', '.join(sorted(objects)) or 'none'}); restore the names it "
                              "was saved with")
    if datamodule is not None and state.get("datamodule") is not None:
        datamodule.load_state_dict(state["datamodule"])
    loader.load_state_dict(state["loader"])
    for name, obj in stateful.items():
        obj.load_state_dict(objects[name])


def save_training_state(path: str | Path, *, loader: Any, datamodule: Any = None,
                        **stateful: Any) -> Path:
    """Write :func:`training_state` to ``path`` atomically (temporary file, then rename)."""
    # deferred: torch is heavy; importing this module must not load it
    import torch

    path = Path(path)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    torch.save(training_state(loader=loader, datamodule=datamodule, **stateful), partial)
    os.replace(partial, path)
    return path


def load_training_state(path: str | Path, *, loader: Any, datamodule: Any = None,
                        **stateful: Any) -> bool:
    """Restore from ``path`` if it exists (True), else leave everything fresh (False).

    The file is unpickled: load only files your own runs wrote, as with ``torch.load``.
    """
    # deferred: torch is heavy; importing this module must not load it
    import torch

    path = Path(path)
    if not path.is_file():
        return False
    state = torch.load(path, map_location="cpu", weights_only=False)
    restore_training_state(state, loader=loader, datamodule=datamodule, **stateful)
    return True
