"""The DataModule contract on both bases (plain and Lightning's), without a Trainer.

The base is chosen once per process, so every semantic test runs on Lightning's base
here and again, in a subprocess with ``DMZOO_LIGHTNING=0``, on the plain one
(:func:`test_the_contract_holds_on_the_plain_base`).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import textwrap
from collections import namedtuple
from pathlib import Path

import pytest
import torch
from torch.utils.data import (
    DataLoader,
    Dataset,
    IterableDataset,
    TensorDataset,
)

import dmzoo
from dmzoo.core import datamodule as dm_module
from dmzoo.core.datamodule import DataModule, PlainDataModule
from dmzoo.core.epochs import EpochSampler
from dmzoo.core.errors import (
    DmzooError,
    InvalidArgumentError,
    InvalidSettingError,
    InvalidStageError,
    MissingHookError,
    SpecMismatchError,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def base():
    """The base this process chose (Lightning's, or the plain one under DMZOO_LIGHTNING=0)."""
    return DataModule.__bases__[0]


@pytest.mark.slow
def test_the_contract_holds_on_the_plain_base():
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", __file__,
         "-m", "not slow", "-k", "not lightning_setting"],
        capture_output=True, text=True, env={**os.environ, "DMZOO_LIGHTNING": "0"}, cwd=REPO,
        timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout and "failed" not in proc.stdout


def test_this_process_uses_lightnings_base(base):
    """Lightning is installed here (the test extra): ``auto`` picked its class."""
    if os.environ.get("DMZOO_LIGHTNING", "auto") in ("0", "false", "no", "off"):
        assert base is PlainDataModule
    else:
        import lightning.pytorch as pl

        assert base is pl.LightningDataModule


# -- small datamodules ---------------------------------------------------------------
def tensors(n=20, features=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    return TensorDataset(torch.randn(n, features, generator=g), torch.randint(0, 2, (n,), generator=g))


class Toy(DataModule):
    """Defines train and val only; records the stages it was set up for."""

    def __init__(self, batch_size: int = 4, n: int = 20, scale: float = 1.0):
        super().__init__()
        self.save_hyperparameters()
        self.stages: list = []

    def setup(self, stage=None):
        self.stages.append(stage)
        self.data = tensors(self.hparams.n)

    def teardown(self, stage=None):
        self.stages.append(("teardown", stage))

    def train_dataloader(self):
        return DataLoader(self.data, batch_size=self.hparams.batch_size)

    def val_dataloader(self):
        return DataLoader(self.data, batch_size=self.hparams.batch_size)


class Child(Toy):
    def __init__(self, depth: int = 2, **kwargs):
        super().__init__(**kwargs)
        self.save_hyperparameters()


class Stream(IterableDataset):
    def __iter__(self):
        return iter(range(6))


class Seq:
    """Map-style dataset that is not a torch Dataset (e.g. a HF dataset)."""

    def __len__(self):
        return 5

    def __getitem__(self, i):
        return i


class WithBatchSize(DataModule):
    def __init__(self, batch_size: int = 1, tag: str = ""):
        super().__init__()
        self.batch_size, self.tag = batch_size, tag


class WithKwargs(DataModule):
    def __init__(self, **kwargs):
        super().__init__()
        self.kwargs = kwargs


class WithNeither(DataModule):
    def __init__(self, tag: str = ""):
        super().__init__()
        self.tag = tag


def register(cls, version="1.0.0", name="ctoy", **kw):
    spec = dmzoo.DataModuleSpec(name=name, version=version, namespace="lab",
                                cls=f"{cls.__module__}:{cls.__qualname__}", **kw)
    return dmzoo.register_datamodule(spec)


# -- lifecycle and hooks ---------------------------------------------------------------
def test_exported_and_lightning_attributes(base):
    assert dmzoo.DataModule is DataModule
    dm = Toy()
    assert isinstance(dm, base)
    assert dm.prepare_data_per_node is True
    assert dm.trainer is None
    assert dm.prepare_data() is None


def test_missing_hook_names_hook_and_class(base):
    dm = Toy()
    for hook in ("test_dataloader", "predict_dataloader"):
        with pytest.raises(MissingHookError, match=rf"Toy\.{hook}\(\) is not defined") as err:
            getattr(dm, hook)()
        assert "from_datasets" in str(err.value)
        assert isinstance(err.value, DmzooError)
    dm.setup("fit")
    assert isinstance(dm.train_dataloader(), DataLoader)


@pytest.mark.parametrize("stage", ["train", "val", "FIT", "", 3])
def test_bad_stage_is_a_clear_error(base, stage):
    dm = Toy()
    for hook in ("setup", "teardown"):
        with pytest.raises(InvalidStageError, match="expected one of 'fit', 'validate'"):
            getattr(dm, hook)(stage)
        with pytest.raises(InvalidStageError):
            getattr(dm, hook)(stage=stage)
    assert dm.stages == []  # the subclass hook never ran
    with pytest.raises(InvalidStageError, match="did you mean 'fit'"):
        DataModule().setup("train")


def test_good_stages_reach_the_subclass(base):
    dm = Toy()
    for stage in ("fit", "validate", "test", "predict", None):
        dm.setup(stage)
    dm.teardown(stage="fit")
    assert dm.stages == ["fit", "validate", "test", "predict", None, ("teardown", "fit")]


# -- from_datasets -------------------------------------------------------------------
def test_from_datasets_forwards_only_what_init_takes(base):
    a = WithBatchSize.from_datasets(tensors(), batch_size=5, num_workers=0, tag="x")
    assert (a.batch_size, a.tag) == (5, "x")
    b = WithKwargs.from_datasets(tensors(), batch_size=6, num_workers=0, extra=1)
    assert b.kwargs == {"extra": 1, "batch_size": 6, "num_workers": 0}
    c = WithNeither.from_datasets(tensors(), batch_size=7, tag="y")
    assert c.tag == "y" and not hasattr(c, "batch_size")
    assert c.train_dataloader().batch_size == 7
    with pytest.raises(TypeError):  # a real constructor error is not swallowed
        WithNeither.from_datasets(tensors(), nope=1)


def test_from_datasets_loaders(base):
    dm = DataModule.from_datasets(
        train_dataset=tensors(10), val_dataset=[tensors(4), Seq()],
        test_dataset={"a": tensors(3), "b": Stream()}, predict_dataset=(d for d in [tensors(2)]),
        batch_size=2,
    )
    train = dm.train_dataloader()
    assert isinstance(train.sampler, EpochSampler) and train.sampler.shuffle
    assert train.batch_size == 2 and callable(train.state_dict)  # resumable mid-epoch
    val = dm.val_dataloader()
    assert [v.sampler.shuffle for v in val] == [False, False]
    assert [len(v) for v in val] == [2, 3]
    test = dm.test_dataloader()
    assert set(test) == {"a", "b"}
    assert [b.tolist() for b in test["b"]] == [[0, 1], [2, 3], [4, 5]]
    assert len(dm.predict_dataloader()) == 1


def test_from_datasets_iterable_never_shuffles(base):
    dm = DataModule.from_datasets(train_dataset=Stream(), batch_size=3)
    assert [b.tolist() for b in dm.train_dataloader()] == [[0, 1, 2], [3, 4, 5]]
    with pytest.raises(MissingHookError, match="val_dataloader"):
        dm.val_dataloader()


@pytest.mark.parametrize("bad, why", [(5, "got int"), ([], "empty"), ([tensors(), 3], "int"),
                                      ({"a": "text"}, "str"), ("text", "got str")])
def test_from_datasets_rejects_bad_input(base, bad, why):
    with pytest.raises(InvalidArgumentError, match=rf"from_datasets\(val_dataset=.*{why}"):
        DataModule.from_datasets(train_dataset=tensors(), val_dataset=bad)


# -- hparams -------------------------------------------------------------------------
def test_save_hyperparameters_captures_init_args(base):
    dm = Toy(batch_size=8)
    assert dict(dm.hparams) == {"batch_size": 8, "n": 20, "scale": 1.0}
    assert dm.hparams.batch_size == 8
    dm.hparams.batch_size = 2
    assert dm.hparams_initial["batch_size"] == 8  # the initial copy does not follow edits


def test_save_hyperparameters_through_super_and_kwargs(base):
    dm = Child(depth=3, batch_size=16)
    assert dict(dm.hparams) == {"batch_size": 16, "n": 20, "scale": 1.0, "depth": 3}


def test_save_hyperparameters_selection_ignore_and_mapping(base):
    class Pick(DataModule):
        def __init__(self, a=1, b=2, c=3, **rest):
            super().__init__()
            self.save_hyperparameters("a", "c")

    class Ignore(DataModule):
        def __init__(self, a=1, b=2, transform=None, **rest):
            super().__init__()
            self.save_hyperparameters(ignore=["transform"])

    class Given(DataModule):
        def __init__(self, config=None):
            super().__init__()
            self.save_hyperparameters(config)

    assert dict(Pick(c=9).hparams) == {"a": 1, "c": 9}
    assert dict(Ignore(b=5, transform=abs, z=1).hparams) == {"a": 1, "b": 5, "z": 1}
    assert dict(Given({"lr": 0.1}).hparams) == {"lr": 0.1}
    assert dict(Given(argparse.Namespace(lr=0.2)).hparams) == {"lr": 0.2}
    assert DataModule().hparams == {} and DataModule().hparams_initial == {}


def test_save_hyperparameters_unknown_name_plain():
    class Bad(PlainDataModule):
        def __init__(self, a=1):
            super().__init__()
            self.save_hyperparameters("b")

    with pytest.raises(InvalidArgumentError, match="'b'.* not an __init__ argument.*available: a"):
        Bad()


# -- spec attachment and state_dict ----------------------------------------------------
def test_a_directly_built_class_has_the_spec_it_names(base):
    register(Toy, "1.0.0")  # registering never makes the registry a route to the spec
    assert Toy().spec is None and Toy().state_dict() == {}

    class Named(Toy):
        SPEC = dmzoo.DataModuleSpec(name="named", version="1.2.0", namespace="lab",
                                    cls=f"{__name__}:Named")

    dm = Named()
    assert dm.spec is Named.SPEC
    assert dm.state_dict() == {"spec": {"namespace": "lab", "name": "named", "version": "1.2.0"}}
    assert Toy().spec is None


def test_spec_from_load_datamodule_is_the_requested_version(base):
    register(Toy, "1.0.0", default_kwargs={"n": 6})
    register(Toy, "1.1.0")
    dm = dmzoo.load_datamodule("lab/ctoy@1.0.0", batch_size=3)
    assert dm.spec.version == "1.0.0" and dm.hparams.n == 6 and dm.hparams.batch_size == 3


class Outer(Toy):
    """Builds another datamodule while being built itself."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = Toy()


def test_only_the_requested_class_gets_the_loading_spec(base):
    register(Outer, "1.0.0", name="outer")
    outer = dmzoo.load_datamodule("lab/outer")
    assert outer.spec.ref == "lab/outer@1.0.0" and outer.inner.spec is None


def test_state_dict_round_trip_and_mismatches(base):
    register(Toy, "1.0.0")
    state = dmzoo.load_datamodule("lab/ctoy@1.0.0").state_dict()
    fresh = dmzoo.load_datamodule("lab/ctoy@1.0.0")
    fresh.load_state_dict(state)  # same spec: silent
    register(Toy, "1.3.0")
    with pytest.warns(UserWarning, match=r"made with lab/ctoy@1.0.0; resuming with lab/ctoy@1.3.0"):
        dmzoo.load_datamodule("lab/ctoy@1.3.0").load_state_dict(state)
    register(Toy, "2.0.0")
    with pytest.raises(SpecMismatchError, match=r"lab/ctoy@1.0.0.*lab/ctoy@2.0.0.*load_datamodule"):
        dmzoo.load_datamodule("lab/ctoy@2.0.0").load_state_dict(state)
    other = {"spec": {"namespace": "lab", "name": "other", "version": "1.0.0"}}
    with pytest.raises(SpecMismatchError, match="lab/other@1.0.0"):
        fresh.load_state_dict(other)
    with pytest.raises(InvalidArgumentError, match="takes the dict saved by state_dict"):
        fresh.load_state_dict(["spec"])
    with pytest.raises(InvalidArgumentError, match="'spec' must be the dict"):
        fresh.load_state_dict({"spec": "lab/ctoy@1.0.0"})


def test_state_dict_without_spec(base):
    dm = Toy()
    dm.load_state_dict({})
    with pytest.warns(UserWarning, match="has no spec; not checked"):
        dm.load_state_dict({"spec": {"namespace": "lab", "name": "ctoy", "version": "1.0.0"}})


class Stateful(Toy):
    def state_dict(self):
        return {**super().state_dict(), "cursor": self.cursor}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.cursor = state["cursor"]


def test_subclass_extends_state(base):
    register(Stateful, "1.0.0", name="stateful")
    dm = dmzoo.load_datamodule("lab/stateful")
    dm.cursor = 7
    again = dmzoo.load_datamodule("lab/stateful")
    again.load_state_dict(dm.state_dict())
    assert again.cursor == 7 and again.state_dict()["spec"]["name"] == "stateful"


# -- pickling ------------------------------------------------------------------------
def test_pickle_round_trip_drops_the_trainer(base):
    register(Toy, "1.0.0")
    dm = dmzoo.load_datamodule("lab/ctoy", batch_size=2)
    dm.setup("fit")
    dm.trainer = lambda: None  # stands for an unpicklable Trainer
    copy = pickle.loads(pickle.dumps(dm))
    assert copy.trainer is None and dm.trainer is not None
    assert copy.spec == dm.spec and copy.hparams == dm.hparams
    assert torch.equal(next(iter(copy.train_dataloader()))[0], next(iter(dm.train_dataloader()))[0])


def test_pickle_from_datasets(base):
    dm = WithBatchSize.from_datasets(tensors(6), val_dataset={"x": tensors(4)}, batch_size=3)
    copy = pickle.loads(pickle.dumps(dm))
    assert len(copy.train_dataloader()) == 2 and len(copy.val_dataloader()["x"]) == 2


class Scaled(Dataset):
    """A dataset whose transform is a datamodule method: workers must unpickle the datamodule."""

    def __init__(self, dm):
        self.dm = dm

    def __len__(self):
        return 4

    def __getitem__(self, i):
        return self.dm.transform(i)


class WorkerDM(Toy):
    def transform(self, i):
        return torch.tensor(float(i) * self.hparams.scale)


@pytest.mark.slow
def test_spawn_worker_unpickles_the_datamodule():
    dm = WorkerDM(scale=2.0)
    loader = DataLoader(Scaled(dm), batch_size=4, num_workers=1, multiprocessing_context="spawn")
    assert next(iter(loader)).tolist() == [0.0, 2.0, 4.0, 6.0]


# -- batch transfer ------------------------------------------------------------------
Pair = namedtuple("Pair", "x y")


def test_transfer_keeps_nested_structure(base):
    class Marked(Toy):
        def on_before_batch_transfer(self, batch, dataloader_idx):
            return {**batch, "before": dataloader_idx}

        def on_after_batch_transfer(self, batch, dataloader_idx):
            return {**batch, "after_device": batch["pair"].x.device.type}

    batch = {"pair": Pair(torch.ones(2), [torch.zeros(1), (torch.ones(1), "label")]), "n": 3}
    moved = Marked().batch_to_device(batch, torch.device("meta"), dataloader_idx=1)
    assert isinstance(moved["pair"], Pair)
    assert moved["pair"].x.device.type == "meta"
    inner = moved["pair"].y
    assert isinstance(inner, list) and isinstance(inner[1], tuple)
    assert inner[0].is_meta and inner[1][0].is_meta and inner[1][1] == "label"
    assert (moved["n"], moved["before"], moved["after_device"]) == (3, 1, "meta")
    assert batch["pair"].x.device.type == "cpu"  # the input is not modified


# -- display -------------------------------------------------------------------------
def test_repr_and_str(base):
    register(Toy, "1.0.0")
    dm = dmzoo.load_datamodule("lab/ctoy", batch_size=4, n=10)
    assert repr(dm) == ("<Toy | lab/ctoy@1.0.0 | train: defined (call setup() for sizes) | "
                        "val: defined (call setup() for sizes)>")
    dm.setup("fit")
    assert "train: 3 batches of 4 (10 examples)" in repr(dm)
    text = str(dm)
    assert text.splitlines()[0] == "Toy (lab/ctoy@1.0.0)"
    assert "hparams: batch_size=4, n=10, scale=1.0" in text
    assert "predict: not defined" in text and "val:     3 batches of 4 (10 examples)" in text
    dm.teardown()
    assert "call setup()" in repr(dm)
    both = DataModule.from_datasets(tensors(4), test_dataset=[tensors(2), Stream()], batch_size=2)
    assert repr(both) == ("<DataModule | train: 2 batches of 2 (4 examples) | "
                          "test: [1 batch of 2 (2 examples), DataLoader of 2]>")


# -- settings and running without Lightning ----------------------------------------------
@pytest.mark.parametrize("value, expected", [("", "auto"), ("AUTO", "auto"), ("1", "1"),
                                             ("true", "1"), ("0", "0"), ("off", "0")])
def test_lightning_setting(monkeypatch, value, expected):
    monkeypatch.setenv("DMZOO_LIGHTNING", value)
    assert dm_module.lightning_setting() == expected


def test_lightning_setting_rejects_garbage(monkeypatch):
    monkeypatch.setenv("DMZOO_LIGHTNING", "maybe")
    with pytest.raises(InvalidSettingError, match="DMZOO_LIGHTNING='maybe'.*'auto'.*'1'.*'0'"):
        dm_module.lightning_setting()


PLAIN_LOOP = textwrap.dedent("""
    import json, sys
    {prelude}
    import torch
    from torch.utils.data import TensorDataset
    import dmzoo

    class Regression(dmzoo.DataModule):
        def __init__(self, batch_size=8):
            super().__init__()
            self.save_hyperparameters()

        def setup(self, stage=None):
            g = torch.Generator().manual_seed(0)
            x = torch.randn(64, 3, generator=g)
            self.train = TensorDataset(x, x @ torch.tensor([1.0, -2.0, 0.5]))

        def train_dataloader(self):
            return torch.utils.data.DataLoader(self.train, batch_size=self.hparams.batch_size)

    torch.manual_seed(0)
    dm = Regression()
    dm.prepare_data()
    dm.setup("fit")
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(3):
        for batch in dm.train_dataloader():
            x, y = dm.batch_to_device(batch, "cpu")
            loss = torch.nn.functional.mse_loss(model(x).squeeze(1), y)
            opt.zero_grad(); loss.backward(); opt.step()
            losses.append(loss.item())
    print(json.dumps({{"base": dmzoo.DataModule.__bases__[0].__module__,
                      "lightning_loaded": sorted(m for m in ("lightning", "pytorch_lightning")
                                                 if m in sys.modules),
                      "steps": len(losses), "first": losses[0], "last": losses[-1]}}))
""")

HIDE_LIGHTNING = """
class Hide:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("lightning", "pytorch_lightning"):
            raise ImportError(f"{name} hidden for this test")
sys.meta_path.insert(0, Hide())
"""


def run_python(code, **env):
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env}, cwd=REPO, timeout=120)
    return proc


@pytest.mark.parametrize("setting, hide, base", [
    ("0", False, "dmzoo.core.plain"),  # opted out: Lightning installed but never imported
    ("auto", True, "dmzoo.core.plain"),  # Lightning not installed
    pytest.param("auto", False, "lightning.pytorch.core.datamodule", marks=pytest.mark.slow),
])
def test_a_plain_pytorch_loop_runs_on_either_base(setting, hide, base):
    code = PLAIN_LOOP.format(prelude=HIDE_LIGHTNING if hide else "")
    proc = run_python(code, DMZOO_LIGHTNING=setting)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["base"] == base
    assert out["lightning_loaded"] == ([] if base == "dmzoo.core.plain" else ["lightning"])
    assert out["steps"] == 24 and out["last"] < out["first"] / 10


CHOICE = textwrap.dedent("""
    import json, pickle, sys
    {prelude}
    hooks = list(sys.meta_path)
    import dmzoo
    dmzoo.list_datamodules()
    light = [m for m in ("torch", "lightning", "pytorch_lightning") if m in sys.modules]
    from dmzoo.core.plain import PlainDataModule

    class Mine(dmzoo.DataModule):
        def __init__(self, n=3):
            super().__init__()
            self.save_hyperparameters()

    dm = Mine()
    import lightning.pytorch, pytorch_lightning  # importing either later changes nothing
    print(json.dumps({{"light_after_list": light, "meta_path_same": sys.meta_path == hooks,
                      "base": dmzoo.DataModule.__bases__[0].__module__,
                      "state": sorted(vars(Mine())), "hparams": dict(dm.hparams),
                      "pickles": type(pickle.loads(pickle.dumps(dm))).__mro__[2].__module__}}))
""")


@pytest.mark.slow
def test_the_base_is_chosen_once_and_import_order_does_not_matter():
    states = []
    for prelude, base, setting in [("", "lightning.pytorch.core.datamodule", "1"),
                                   ("", "lightning.pytorch.core.datamodule", "auto"),
                                   ("import lightning.pytorch",
                                    "lightning.pytorch.core.datamodule", "auto"),
                                   ("import pytorch_lightning",
                                    "pytorch_lightning.core.datamodule", "auto")]:
        proc = run_python(CHOICE.format(prelude=prelude), DMZOO_LIGHTNING=setting)
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout.strip().splitlines()[-1])
        if not prelude:
            assert out["light_after_list"] == []  # import dmzoo and listing: no torch
        assert out["meta_path_same"] and out["base"] == base == out["pickles"]
        assert out["hparams"] == {"n": 3}
        states.append(out["state"])
    assert len(set(map(tuple, states))) == 1  # same instance state, whatever came first
    plain = json.loads(run_python(CHOICE.format(prelude=""), DMZOO_LIGHTNING="0")
                       .stdout.strip().splitlines()[-1])
    assert plain["base"] == "dmzoo.core.plain" == plain["pickles"]
    assert plain["hparams"] == {"n": 3} and plain["light_after_list"] == []
    assert {"trainer", "prepare_data_per_node", "_dmzoo_stages"} <= set(plain["state"])
