"""``dmzoo demo [NAME]``: the first command a user runs, offline, in seconds.

It lists the registry, loads a datamodule (``digits`` by default: real data bundled
with scikit-learn, so no network is needed), prepares it behind a progress bar,
trains a small model for a few epochs with a plain PyTorch loop (no Lightning
needed), prints loss, validation score and the split fingerprint, and writes a
PNG of real samples.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from ..core.errors import InvalidArgumentError
from ..core.options import accepted_parameters
from ..registry import get_registry, load_datamodule
from ..registry.loading import import_class
from .output import human_size, print_table

DEFAULT_NAME = "digits"
DEFAULT_OUT = "dmzoo-demo.png"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="train a small model on a bundled dataset, offline, in seconds")
    p.add_argument("name", nargs="?", default=DEFAULT_NAME,
                   help=f"datamodule to demo (default: {DEFAULT_NAME}, bundled, no download)")
    p.add_argument("--epochs", type=int, default=5, help="training epochs (default: 5)")
    p.add_argument("--batch-size", type=int, default=64, help="batch size (default: 64)")
    p.add_argument("--seed", type=int, default=0, help="split and training seed (default: 0)")
    p.add_argument("--out", default=DEFAULT_OUT, help=f"sample-grid PNG to write (default: {DEFAULT_OUT})")
    p.add_argument("--data-dir", help="dataset cache folder (downloaded datamodules only)")
    p.add_argument("--quiet", action="store_true",
                   help="no progress bar (also off with DMZOO_QUIET=1 or when stderr is not a terminal)")
    p.set_defaults(handler=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    if args.epochs < 1 or args.batch_size < 1:
        raise InvalidArgumentError("--epochs and --batch-size must be at least 1")
    registry = get_registry()
    specs = registry.default_specs()
    spec = registry.resolve(args.name)  # fail on a bad name before importing torch
    print(f"dmzoo demo: {len(specs)} datamodule(s) installed")
    print_table(["NAME", "VERSION", "TASK", "DOWNLOAD"],
                [[s.qualified_name, s.version, s.task,
                  human_size(s.download_size) if s.resources else "bundled"] for s in specs])
    print(f"\nusing {spec.ref}: {spec.summary}")

    started = time.perf_counter()
    dm = _load(spec, args)
    print(_describe(dm))
    fp = _fingerprint(dm)
    print(f"split fingerprint: {fp}")
    _train(dm, args)
    path = _picture(dm, spec, args.out)
    print(f"wrote sample grid: {path}")
    print(f"done in {time.perf_counter() - started:.1f} s")
    return 0


# -- steps ---------------------------------------------------------------------------------
def _load(spec: Any, args: argparse.Namespace) -> Any:
    # deferred: tqdm and core.storage load for `demo` only, not at CLI start-up
    from tqdm.auto import tqdm

    from ..core.storage.prepare import auto_quiet

    names, var_kw = accepted_parameters(import_class(spec))
    wanted = {"batch_size": args.batch_size, "seed": args.seed, "data_dir": args.data_dir}
    kwargs = {k: v for k, v in wanted.items() if (k in names or var_kw) and v is not None}
    with tqdm(total=3, desc=f"preparing {spec.name}", unit="step", disable=auto_quiet(True if args.quiet else None),
              file=sys.stderr, leave=True) as bar:
        bar.set_postfix_str("load")
        dm = load_datamodule(spec.ref, **kwargs)
        bar.update(1)
        for label, step in (("prepare_data", dm.prepare_data), ("setup", lambda: dm.setup("fit"))):
            bar.set_postfix_str(label)
            step()
            bar.update(1)
    return dm


def _describe(dm: Any) -> str:
    meta = getattr(dm, "metadata", None)
    sizes = dm.split_sizes() if hasattr(dm, "split_sizes") else {}
    parts = [f"{k} {v:,}" for k, v in sizes.items()]
    line = "rows: " + ", ".join(parts) if parts else f"datamodule: {type(dm).__name__}"
    if isinstance(meta, dict):
        line += (f"; features: {meta['num_numerical']} numerical, {meta['num_categorical']} "
                 f"categorical; task: {meta['task']}")
        if meta.get("num_classes"):
            line += f" ({meta['num_classes']} classes)"
    return line


def _fingerprint(dm: Any) -> str:
    fp = getattr(dm, "split_fingerprint", None)
    if fp is None:
        fp = dm.state_dict().get("split_fingerprint")
    return str(fp)


def _unpack(batch: Any) -> tuple[Any, Any, Any]:
    """``(numbers, codes or None, y)`` from an ``(inputs, target)`` batch: a tensor input is
    flattened into numbers; in a dict of inputs, float tensors are numbers and integer
    tensors categorical codes (each column embedded)."""
    # deferred: torch is heavy; importing this module must not load it
    import torch

    inputs, y = batch
    if not isinstance(inputs, dict):
        return inputs.float().flatten(1), None, y
    numbers = [v.flatten(1) for v in inputs.values() if v.is_floating_point()]
    codes = [v.flatten(1) for v in inputs.values() if not v.is_floating_point()]
    x_num = torch.cat(numbers, dim=1) if numbers else torch.zeros(len(y), 0)
    x_cat = torch.cat(codes, dim=1) if codes else None
    return x_num, (x_cat if x_cat is not None and x_cat.shape[1] else None), y


def _build_net(n_num: int, cardinalities: list[int], n_out: int, hidden: int = 64) -> Any:
    """The demo model; torch is imported here, only when the demo trains."""
    # deferred: torch is heavy; importing this module must not load it
    import torch
    from torch import nn

    class DemoNet(nn.Module):
        """Embeddings for categorical codes, concatenated with numbers, then an MLP."""

        def __init__(self) -> None:
            super().__init__()
            embeddings = [nn.Embedding(c, min(8, (c + 1) // 2)) for c in cardinalities]
            self.embeddings = nn.ModuleList(embeddings)
            width = n_num + sum(e.embedding_dim for e in embeddings)
            self.mlp = nn.Sequential(nn.Linear(width, hidden), nn.ReLU(),
                                     nn.Linear(hidden, hidden), nn.ReLU(),
                                     nn.Linear(hidden, n_out))

        def forward(self, x_num: torch.Tensor, x_cat: torch.Tensor | None) -> torch.Tensor:
            parts = [x_num]
            if x_cat is not None and len(self.embeddings):
                parts += [emb(x_cat[:, i]) for i, emb in enumerate(self.embeddings)]
            return self.mlp(torch.cat(parts, dim=1))

    return DemoNet()


def _train(dm: Any, args: argparse.Namespace) -> None:
    # deferred: torch is heavy; importing this module must not load it
    import torch

    torch.manual_seed(args.seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a tiny MLP: threads cost more than they bring
    try:
        _fit(dm, args)
    finally:
        torch.set_num_threads(threads)


def _fit(dm: Any, args: argparse.Namespace) -> None:
    # deferred: torch is heavy; importing this module must not load it
    import torch

    train, val = dm.train_dataloader(), dm.val_dataloader()
    x_num, x_cat, y = _unpack(next(iter(train)))
    regression = y.is_floating_point()
    n_out = 1 if regression else int(getattr(dm, "num_classes", None) or len(dm.classes))
    cards = list(getattr(dm, "cardinalities", [])) if x_cat is not None else []
    model = _build_net(x_num.shape[1], cards, n_out)
    step = _MomentumSGD(list(model.parameters()))
    loss_fn = torch.nn.MSELoss() if regression else torch.nn.CrossEntropyLoss()
    metric = "val_rmse" if regression else "val_acc"
    print(f"training a {sum(p.numel() for p in model.parameters()):,}-parameter MLP on CPU "
          f"for {args.epochs} epoch(s)")
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        model.train()
        total, count = 0.0, 0
        for batch in train:
            x_num, x_cat, y = _unpack(batch)
            out = model(x_num, x_cat)
            loss = loss_fn(out.squeeze(1), y.float()) if regression else loss_fn(out, y.long())
            loss.backward()
            step()
            total += loss.item() * len(y)
            count += len(y)
        score = _evaluate(model, val, regression)
        print(f"epoch {epoch}/{args.epochs}  train_loss {total / max(count, 1):.4f}  "
              f"{metric} {score:.4f}  ({time.perf_counter() - t0:.2f} s)")


class _MomentumSGD:
    """SGD with momentum, by hand: any ``torch.optim`` optimizer imports ``torch._dynamo``,
    which costs seconds of start-up, more than this whole demo trains."""

    def __init__(self, params: list, lr: float = 0.05, momentum: float = 0.9) -> None:
        # deferred: torch is heavy; importing this module must not load it
        import torch

        self.params, self.lr, self.momentum = params, lr, momentum
        self.velocity = [torch.zeros_like(p) for p in params]

    def __call__(self) -> None:
        # deferred: torch is heavy; importing this module must not load it
        import torch

        with torch.no_grad():
            for p, v in zip(self.params, self.velocity, strict=True):
                if p.grad is not None:
                    v.mul_(self.momentum).add_(p.grad)
                    p.sub_(v, alpha=self.lr)
                    p.grad = None


def _evaluate(model: Any, loader: Any, regression: bool) -> float:
    # deferred: torch is heavy; importing this module must not load it
    import torch

    model.eval()
    err, hits, n = 0.0, 0, 0
    with torch.no_grad():
        for batch in loader:
            x_num, x_cat, y = _unpack(batch)
            out = model(x_num, x_cat)
            if regression:
                err += float(((out.squeeze(1) - y.float()) ** 2).sum())
            else:
                hits += int((out.argmax(1) == y).sum())
            n += len(y)
    if n == 0:
        return float("nan")
    return (err / n) ** 0.5 if regression else hits / n


def _picture(dm: Any, spec: Any, out: str) -> str:
    """The datamodule's own sample grid, or for a plain table its first rows and class balance."""
    if hasattr(dm, "plot"):
        dm.plot(n=16, split="train", path=out)
        return out
    # deferred: matplotlib is heavy and optional; only the picture needs it
    from matplotlib.figure import Figure

    rows = dm.preview(8)
    columns = list(rows[0])[:7]
    fig = Figure(figsize=(11, 4.5))
    ax = fig.add_subplot(1, 2 if hasattr(dm, "class_counts") else 1, 1)
    ax.set_axis_off()
    cells = [[_short(r[c]) for c in columns] for r in rows]
    table = ax.table(cellText=cells, colLabels=[_short(c) for c in columns], loc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    ax.set_title(f"{spec.name}: first rows (real data)")
    counts = dm.class_counts("train") if hasattr(dm, "class_counts") else {}
    if counts:
        bx = fig.add_subplot(1, 2, 2)
        bx.bar([_short(k) for k in counts], list(counts.values()))
        bx.set_title("train rows per class")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    return out


def _short(value: Any, width: int = 12) -> str:
    text = f"{value:.3g}" if isinstance(value, float) else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"
