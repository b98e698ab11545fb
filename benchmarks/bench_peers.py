"""dmzoo against the loaders people use today, each measured in this one run, as ratios.

Three measurements, each peer only where its library is installed (otherwise one line
says it was skipped), interleaved repeats, medians:

* ``mnist``: one shuffled, normalised MNIST training epoch (60,000 x 28 x 28, batches of
  128, float32 ``(x, y)`` in the loop) with dmzoo (``num_workers`` 0), the physical
  floor (numpy ``take`` of the epoch's rows into a preallocated float buffer, normalised
  in place: no loader at all), torchvision ``MNIST`` + ``DataLoader(num_workers=2)``,
  Hugging Face ``datasets`` (``with_format("torch")`` + ``DataLoader(num_workers=2)``,
  and its fastest idiom: batched slices of the formatted dataset), and LitData
  (``StreamingDataset`` + ``StreamingDataLoader``, 0 and 2 workers).
* ``startup``: a fresh process from the first import to the first MNIST batch.
* ``csv``: a 1M-row CSV (numerical columns with holes, string categories, a binary
  label) to the end of one training epoch (batches of 512): dmzoo ``tabular`` vs the
  pipeline users write by hand (pandas ``read_csv`` + scikit-learn split, impute, scale,
  ordinal-encode + ``TensorDataset`` + ``DataLoader``) vs ``datasets.load_dataset("csv")``
  + encoding ``map`` + ``with_format("torch")`` + ``DataLoader``.

The data are generated in the upstream formats (no internet)::

    python benchmarks/bench_peers.py [--only mnist startup csv] [--repeat 3] [--rows 1000000]
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import importlib.util
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

MEAN, STD = 0.1307, 0.3081
BATCH = 128


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


# -- data ---------------------------------------------------------------------------------
def mnist_data(workdir: Path) -> dict[str, Path]:
    """Full-size MNIST files once: dmzoo's prepared cache, torchvision's raw files, arrays."""
    import numpy as np

    import dmzoo
    from dmzoo.core import storage
    from dmzoo.plugins.vision.mnist.datamodule import MNISTDataModule

    paths = {"dmzoo": workdir / "dmzoo", "tv": workdir / "tv", "npz": workdir / "mnist.npz",
             "hf": workdir / "hf", "litdata": workdir / "litdata"}
    table = workdir / "checksums.tsv"
    os.environ["DMZOO_CHECKSUMS"] = str(table)
    if (workdir / "ready").exists():
        return paths
    files = MNISTDataModule.upstream_files(n_train=60000, n_test=10000, level=0)
    upstream = workdir / "upstream"
    raw = paths["tv"] / "MNIST" / "raw"
    for folder in (upstream, raw):
        folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for name, blob in files.items():
        (upstream / name).write_bytes(blob)
        (raw / name[:-3]).write_bytes(gzip.decompress(blob))  # torchvision reads these
        lines.append(f"mnist/{name}\t{len(blob)}\t{hashlib.sha256(blob).hexdigest()}")
    table.write_text("\n".join(lines) + "\n")
    with storage.import_from(upstream):
        dmzoo.load_datamodule("mnist", data_dir=str(paths["dmzoo"])).prepare_data()
    images = np.frombuffer(gzip.decompress(files["train-images-idx3-ubyte.gz"]), np.uint8,
                           offset=16).reshape(-1, 28, 28)
    labels = np.frombuffer(gzip.decompress(files["train-labels-idx1-ubyte.gz"]), np.uint8,
                           offset=8)
    np.savez(paths["npz"], images=images, labels=labels)
    if have("datasets"):
        import datasets

        features = datasets.Features({"image": datasets.Array2D((28, 28), "uint8"),
                                      "label": datasets.Value("int64")})
        datasets.Dataset.from_dict({"image": images, "label": labels.astype(np.int64)},
                                   features=features).save_to_disk(str(paths["hf"]))
    if have("litdata"):
        import litdata

        litdata.optimize(fn=_litdata_item, inputs=list(range(len(labels))),
                         output_dir=str(paths["litdata"]), chunk_bytes="16MB", num_workers=1,
                         verbose=False, start_method="fork")
    (workdir / "ready").write_text("ok")
    return paths


_NPZ: dict = {}


def _litdata_item(i: int) -> dict:
    import numpy as np

    if not _NPZ:
        data = np.load(os.environ["BENCH_PEERS_NPZ"])
        _NPZ.update(images=data["images"], labels=data["labels"])
    return {"image": _NPZ["images"][i], "label": int(_NPZ["labels"][i])}


# -- MNIST epoch per peer: each returns a callable that runs one epoch, giving rows seen --------
def normalise(x):
    return (x.float().div_(255) - MEAN) / STD


def dmzoo_epoch(paths: dict[str, Path]) -> Callable[[], int]:
    import dmzoo

    dm = dmzoo.load_datamodule("mnist", data_dir=str(paths["dmzoo"]), batch_size=BATCH,
                               val_split=0, normalize=True)
    dm.setup("fit")
    loader = dm.train_dataloader()
    return lambda: sum(len(y) for x, y in loader)


def floor_epoch(paths: dict[str, Path]) -> Callable[[], int]:
    """The physical floor (``bench_vision.FloorEpoch``): no loader, preallocated buffers."""
    import numpy as np
    from bench_vision import FloorEpoch

    data = np.load(paths["npz"])
    floor = FloorEpoch(data["images"][:, None], data["labels"], [MEAN], [STD], BATCH)
    return lambda: sum(len(y) for x, y in floor)


def torchvision_epoch(paths: dict[str, Path], workers: int = 2) -> Callable[[], int]:
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    t = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MEAN,), (STD,))])
    ds = datasets.MNIST(str(paths["tv"]), train=True, transform=t, download=False)
    loader = DataLoader(ds, batch_size=BATCH, shuffle=True, num_workers=workers,
                        persistent_workers=workers > 0)
    return lambda: sum(len(y) for x, y in loader)


def hf_loader_epoch(paths: dict[str, Path], workers: int = 2) -> Callable[[], int]:
    import datasets
    from torch.utils.data import DataLoader

    ds = datasets.load_from_disk(str(paths["hf"])).with_format("torch")
    loader = DataLoader(ds, batch_size=BATCH, shuffle=True, num_workers=workers,
                        persistent_workers=workers > 0)
    return lambda: sum(len(normalise(b["image"])) for b in loader)


def hf_slices_epoch(paths: dict[str, Path]) -> Callable[[], int]:
    import datasets
    import numpy as np

    ds = datasets.load_from_disk(str(paths["hf"])).with_format("torch")
    epoch = [0]

    def run() -> int:
        order = np.random.default_rng(epoch[0]).permutation(len(ds))
        epoch[0] += 1
        n = 0
        for i in range(0, len(order), BATCH):
            batch = ds[order[i:i + BATCH]]
            n += len(normalise(batch["image"]))
        return n

    return run


def litdata_epoch(paths: dict[str, Path], workers: int) -> Callable[[], int]:
    import litdata

    ds = litdata.StreamingDataset(str(paths["litdata"]), shuffle=True)
    loader = litdata.StreamingDataLoader(ds, batch_size=BATCH, num_workers=workers)
    return lambda: sum(len(normalise(b["image"])) for b in loader)


def mnist_peers(paths: dict[str, Path]) -> dict[str, Callable[[], Callable[[], int]] | str]:
    peers: dict[str, Callable[[], Callable[[], int]] | str] = {
        "dmzoo (num_workers=0)": lambda: dmzoo_epoch(paths),
        "floor: numpy take + in-place normalise": lambda: floor_epoch(paths),
    }
    peers["torchvision MNIST + DataLoader(num_workers=2)"] = (
        (lambda: torchvision_epoch(paths)) if have("torchvision") else "torchvision not installed")
    hf = have("datasets")
    peers["datasets with_format(torch) + DataLoader(num_workers=2)"] = (
        (lambda: hf_loader_epoch(paths)) if hf else "datasets not installed")
    peers["datasets with_format(torch), batched slices"] = (
        (lambda: hf_slices_epoch(paths)) if hf else "datasets not installed")
    for workers in (0, 2):
        peers[f"LitData StreamingDataLoader(num_workers={workers})"] = (
            (lambda w=workers: litdata_epoch(paths, w)) if have("litdata")
            else "litdata not installed")
    return peers


def bench_mnist(workdir: Path, repeat: int, rows: int) -> list[tuple[str, float, str]]:
    paths = mnist_data(workdir)
    peers = mnist_peers(paths)
    runs = {name: make() for name, make in peers.items() if callable(make)}
    for run in runs.values():  # warm-up: page cache, workers, lazy imports
        assert run() == 60000
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():  # interleaved
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return _table(times, peers, "dmzoo (num_workers=0)", "MNIST epoch")


# -- start-up --------------------------------------------------------------------------------
STARTUP = {
    "dmzoo": """
import dmzoo
dm = dmzoo.load_datamodule("mnist", data_dir=sys.argv[1] + "/dmzoo", batch_size=128, normalize=True)
dm.setup("fit"); x, y = next(iter(dm.train_dataloader()))
""",
    "torchvision": """
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
t = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
ds = datasets.MNIST(sys.argv[1] + "/tv", train=True, transform=t, download=False)
x, y = next(iter(DataLoader(ds, batch_size=128, shuffle=True)))
""",
    "datasets": """
import datasets
from torch.utils.data import DataLoader
ds = datasets.load_from_disk(sys.argv[1] + "/hf").with_format("torch")
b = next(iter(DataLoader(ds, batch_size=128, shuffle=True)))
""",
    "litdata": """
import litdata
ds = litdata.StreamingDataset(sys.argv[1] + "/litdata", shuffle=True)
b = next(iter(litdata.StreamingDataLoader(ds, batch_size=128)))
""",
}


def fresh_seconds(code: str, *args: str, env: dict[str, str] | None = None) -> float:
    """Seconds from a fresh interpreter's start line to the end of ``code``."""
    from bench_vision import fresh

    timed = "import sys, time; t0 = time.perf_counter()\n" + code + \
        "\nprint(time.perf_counter() - t0)"
    return float(fresh(timed, *args, env=env))


def bench_startup(workdir: Path, repeat: int, rows: int) -> list[tuple[str, float, str]]:
    mnist_data(workdir)
    peers: dict[str, Callable | str] = {
        name: (lambda c=code: c) if name == "dmzoo" or have(name) else f"{name} not installed"
        for name, code in STARTUP.items()}
    times: dict[str, list[float]] = {name: [] for name, p in peers.items() if callable(p)}
    for _ in range(repeat):
        for name in times:  # dmzoo as a plain loop, like the others (no Lightning import)
            env = {"DMZOO_LIGHTNING": "0"} if name == "dmzoo" else None
            times[name].append(fresh_seconds(STARTUP[name], str(workdir), env=env))
    return _table(times, peers, "dmzoo", "start-up to first batch")


# -- the 1M-row CSV -------------------------------------------------------------------------------
NUMERIC = [f"num{i}" for i in range(6)]
CATEGORIES = ["cat_small", "cat_mid", "cat_big"]


def csv_dmzoo(path: Path) -> int:
    """A cold run: a new empty cache, so nothing comes from a warm start."""
    import dmzoo

    before = os.environ.get("DMZOO_HOME")
    with tempfile.TemporaryDirectory() as home:
        os.environ["DMZOO_HOME"] = home
        try:
            dm = dmzoo.load_datamodule("tabular", data=str(path), target="label",
                                       batch_size=512)
            dm.prepare_data()
            dm.setup("fit")
            return sum(len(y) for _, y in dm.train_dataloader())
        finally:
            if before is None:
                os.environ.pop("DMZOO_HOME")
            else:
                os.environ["DMZOO_HOME"] = before


def csv_by_hand(path: Path) -> int:
    """What users write: pandas + scikit-learn preprocessing + TensorDataset + DataLoader."""
    import numpy as np
    import pandas as pd
    import torch
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.model_selection import train_test_split
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OrdinalEncoder, StandardScaler
    from torch.utils.data import DataLoader, TensorDataset

    frame = pd.read_csv(path)
    y = (frame.pop("label") == "yes").to_numpy(np.int64)
    train_x, _, train_y, _ = train_test_split(frame, y, test_size=0.2, random_state=0)
    prep = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), NUMERIC),
        ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
         CATEGORIES),
    ])
    x = prep.fit_transform(train_x).astype(np.float32)
    loader = DataLoader(TensorDataset(torch.from_numpy(x), torch.from_numpy(train_y)),
                        batch_size=512, shuffle=True)
    return sum(len(yb) for _, yb in loader)


def csv_datasets(path: Path) -> int:
    """``datasets.load_dataset("csv")``, categories encoded with ``map``, torch format."""
    import datasets
    from torch.utils.data import DataLoader

    with tempfile.TemporaryDirectory() as cache:
        ds = datasets.load_dataset("csv", data_files=str(path), split="train", cache_dir=cache)
        ds = ds.class_encode_column("label")
        for column in CATEGORIES:
            ds = ds.class_encode_column(column)
        ds = ds.train_test_split(test_size=0.2, seed=0)["train"].with_format("torch")
        loader = DataLoader(ds, batch_size=512, shuffle=True)
        return sum(len(b["label"]) for b in loader)


def bench_csv(workdir: Path, repeat: int, rows: int) -> list[tuple[str, float, str]]:
    from bench_tabular import generate

    path, small = workdir / f"table-{rows}.csv", workdir / "table-warmup.csv"
    if not path.exists():
        generate(path, rows)
    if not small.exists():
        generate(small, 2000)
    peers: dict[str, Callable | str] = {
        "dmzoo tabular: prepare + setup + 1 epoch": lambda: csv_dmzoo,
        "pandas + scikit-learn + TensorDataset + DataLoader": (
            (lambda: csv_by_hand) if have("sklearn") else "scikit-learn not installed"),
        "datasets.load_dataset(csv) + map + DataLoader": (
            (lambda: csv_datasets) if have("datasets") else "datasets not installed"),
    }
    times: dict[str, list[float]] = {name: [] for name, p in peers.items() if callable(p)}
    for name in times:  # untimed: every import each side needs
        peers[name]()(small)  # type: ignore[operator]
    for _ in range(repeat):
        for name in times:
            start = time.perf_counter()
            peers[name]()(path)  # type: ignore[operator]
            times[name].append(time.perf_counter() - start)
    return _table(times, peers, "dmzoo tabular: prepare + setup + 1 epoch",
                  f"{rows:,}-row CSV to the end of one epoch")


# -- output ---------------------------------------------------------------------------------
def _table(times: dict[str, list[float]], peers: dict, reference: str,
           what: str) -> list[tuple[str, float, str]]:
    rows = []
    ref = statistics.median(times[reference])
    for name, peer in peers.items():
        if not callable(peer):
            rows.append((f"{what}: {name}: skipped ({peer})", float("nan"), ""))
            continue
        med = statistics.median(times[name])
        rows.append((f"{what}: {name}", med, "s"))
        if name != reference:
            rows.append((f"  {name} / dmzoo", med / ref, "x"))
    return rows


BENCHES = {"mnist": bench_mnist, "startup": bench_startup, "csv": bench_csv}


def main() -> None:
    sys.path.insert(0, str(Path(__file__).parent))  # the sibling benchmark modules
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHES), default=list(BENCHES))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the CSV")
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "dmzoo-bench-peers")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DMZOO_QUIET", "1")
    os.environ["BENCH_PEERS_NPZ"] = str(args.workdir / "mnist.npz")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    print(f"{os.cpu_count()} CPU(s); median of {args.repeat} interleaved repeats; ratios are "
          "peer / dmzoo (higher = dmzoo faster)", flush=True)
    for name in args.only:
        for label, value, unit in BENCHES[name](args.workdir, args.repeat, args.rows):
            print(f"{label:<78} {value:9.3f} {unit}" if unit else label, flush=True)


if __name__ == "__main__":
    main()
