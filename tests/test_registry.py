"""Names, versions, aliases, kwargs validation and in-process registration."""

from __future__ import annotations

import warnings

import pytest

import dmzoo
from dmzoo.core.errors import (
    AmbiguousNameError,
    DataModuleNotFoundError,
    InvalidArgumentError,
    InvalidNameError,
    InvalidVersionError,
    SpecError,
    VersionNotFoundError,
)
from dmzoo.registry import Registry, get_registry, parse_ref, reset_registry


@pytest.fixture(autouse=True)
def fresh_registry():
    reset_registry()
    yield
    reset_registry()


def spec(name="blobs", version="1.0.0", namespace="lab", **kw):
    kw.setdefault("cls", "dmzoo_test_plugin.toy:ToyDataModule")
    return dmzoo.DataModuleSpec(name=name, version=version, namespace=namespace, **kw)


# -- reference grammar ------------------------------------------------------------------
@pytest.mark.parametrize(
    "ref, ns, name, specifier",
    [
        ("mnist", None, "mnist", None),
        ("dmzoo/mnist", "dmzoo", "mnist", None),
        ("dmzoo/mnist@1.0.0", "dmzoo", "mnist", "==1.0.0"),
        ("mnist@>=1,<2", None, "mnist", "<2,>=1"),
        ("Fashion-MNIST@1.*", None, "fashion_mnist", "==1.*"),
        ("My-Lab/Some-Data", "my_lab", "some_data", None),
    ],
)
def test_parse_ref(ref, ns, name, specifier):
    parsed = parse_ref(ref)
    assert (parsed.namespace, parsed.name) == (ns, name)
    assert (str(parsed.specifier) if parsed.specifier else None) == specifier


@pytest.mark.parametrize("ref", ["", "a/b/c", "/mnist", "mnist@", "1mnist", "mn ist"])
def test_bad_names_are_rejected(ref):
    with pytest.raises((InvalidNameError, InvalidVersionError)):
        parse_ref(ref)


@pytest.mark.parametrize("version", ["not a version", ">=>1", "1.0.0.."])
def test_bad_version_syntax(version):
    with pytest.raises(InvalidVersionError, match="PEP 440"):
        parse_ref("mnist", version)


def test_version_given_twice_is_an_error():
    with pytest.raises(InvalidNameError, match="already pins"):
        parse_ref("mnist@1.0.0", "1.0.0")


# -- versions through the installed acme plugin -----------------------------------------
def test_installed_plugin_is_discovered_without_registration():
    assert "acme/toy" in dmzoo.list_datamodules()
    assert get_registry().default_version("acme", "toy").plugin == "dmzoo-test-plugin"


def test_default_is_highest_stable_version():
    assert dmzoo.get_spec("toy").version == "1.1.0"  # 2.0.0rc1 is a pre-release


@pytest.mark.parametrize(
    "ref, version, expected",
    [
        ("acme/toy@1.0.0", None, "1.0.0"),
        ("toy@>=1,<2", None, "1.1.0"),
        ("toy", "1.*", "1.1.0"),
        ("toy", "1.0.*", "1.0.0"),
        ("toy@>=2.0.0rc1", None, "2.0.0rc1"),  # only a pre-release matches: take it
        ("TOY", None, "1.1.0"),
    ],
)
def test_version_resolution(ref, version, expected):
    assert dmzoo.get_spec(ref, version=version).version == expected


def test_missing_version_lists_available():
    with pytest.raises(VersionNotFoundError, match=r"available: 1\.0\.0, 1\.1\.0, 2\.0\.0rc1"):
        dmzoo.get_spec("toy@3.0.0")


def test_unknown_name_suggests_close_matches():
    with pytest.raises(DataModuleNotFoundError, match="did you mean 'toy'"):
        dmzoo.get_spec("tyo")
    with pytest.raises(DataModuleNotFoundError, match="no datamodule named 'nope/toy'"):
        dmzoo.get_spec("nope/toy")
    assert isinstance(DataModuleNotFoundError("x"), dmzoo.DmzooError)


def test_deprecated_alias_warns_with_new_name():
    with pytest.warns(DeprecationWarning, match="'toy_legacy' is deprecated; use 'acme/toy'"):
        assert dmzoo.get_spec("toy-legacy").qualified_name == "acme/toy"


def test_is_datamodule():
    assert dmzoo.is_datamodule("acme/toy")
    assert not dmzoo.is_datamodule("toy@9")
    assert not dmzoo.is_datamodule("nope")


def test_list_filters():
    # other installed plugins may also provide a "blobs" (the new-plugin scaffold does):
    # check what the filters keep and drop, not the exact catalog
    dmzoo.register_datamodule(spec(name="blobs", task="tabular-regression"))
    by_name = dmzoo.list_datamodules("blob*")
    assert "lab/blobs" in by_name and all(n.split("/")[1].startswith("blob") for n in by_name)
    by_namespace = dmzoo.list_datamodules("lab/*")
    assert "lab/blobs" in by_namespace and all(n.startswith("lab/") for n in by_namespace)
    assert "lab/blobs" in dmzoo.list_datamodules(task="tabular-regression")
    assert "lab/blobs" not in dmzoo.list_datamodules(task="tabular-classification")
    assert "lab/blobs" not in dmzoo.list_datamodules(namespace="acme")
    assert dmzoo.list_datamodules("zzz*") == []


# -- ambiguity ---------------------------------------------------------------------------
def test_ambiguous_bare_name(monkeypatch):
    dmzoo.register_datamodule(spec(name="toy", namespace="lab"))
    with pytest.raises(AmbiguousNameError, match="acme/toy, lab/toy"):
        dmzoo.get_spec("toy")
    assert dmzoo.get_spec("lab/toy").namespace == "lab"
    monkeypatch.setenv("DMZOO_PREFER", "lab")
    assert dmzoo.get_spec("toy").namespace == "lab"
    monkeypatch.setenv("DMZOO_PREFER", "elsewhere,acme")
    assert dmzoo.get_spec("toy").namespace == "acme"


# -- in-process registration ----------------------------------------------------------------
def test_register_rejects_invalid_and_duplicate_specs():
    with pytest.raises(SpecError, match="name 'bad name'.*version 'x'"):
        dmzoo.register_datamodule(spec(name="bad name", version="x"))
    dmzoo.register_datamodule(spec())
    with pytest.raises(SpecError, match="already registered"):
        dmzoo.register_datamodule(spec())
    replaced = dmzoo.register_datamodule(spec(summary="new"), replace=True)
    assert dmzoo.get_spec("lab/blobs").summary == "new" == replaced.summary


def test_registered_plugin_object_is_used():
    class Plugin:
        @dmzoo.hookimpl
        def dmzoo_datamodule_specs(self):
            return [spec(name="from_object")]

    dmzoo.register_plugin(Plugin(), name="object-plugin")
    assert dmzoo.get_spec("from_object").plugin == "object-plugin"


def test_registry_without_discovery_is_empty():
    assert Registry(discover=False).datamodule_keys() == []


def test_spec_roundtrips_through_dict():
    original = get_registry().default_version("acme", "toy")
    clone = dmzoo.DataModuleSpec.from_dict(original.to_dict())
    assert clone == original
    with pytest.raises(SpecError, match="unknown spec field"):
        dmzoo.DataModuleSpec.from_dict({**original.to_dict(), "colour": "red"})


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"resources": (dmzoo.Resource("a.gz", ("http://x/a.gz",)),)}, "needs a sha256 or md5"),
        ({"resources": (dmzoo.Resource("../a", ("http://x",), md5="0" * 32),)}, "plain file name"),
        ({"resources": (dmzoo.Resource("a", (), sha256="0" * 64),)}, "has no URL"),
        ({"resources": (dmzoo.Resource("a", ("u",), md5="XYZ"),)}, "not a lowercase hex"),
        ({"task": "astrology"}, "task 'astrology' must be one of"),
        ({"cls": "no_colon"}, "must be a 'package.module:ClassName'"),
        ({"splits": (dmzoo.Split("train", -1),)}, "non-negative"),
        ({"release_notes": {"soon": "x"}}, "release note key 'soon'"),
    ],
)
def test_spec_validation_messages(kwargs, message):
    with pytest.raises(SpecError, match=message):
        spec(**kwargs).validate()


# -- loading -------------------------------------------------------------------------------
def test_load_applies_defaults_and_observers():
    from dmzoo_test_plugin import hooks

    hooks.CREATED.clear()
    dm = dmzoo.load_datamodule("acme/toy@2.0.0rc1", batch_size=4)
    assert (dm.n, dm.dim, dm.batch_size) == (80, 3, 4)  # default_kwargs of 2.0.0rc1 + user kwarg
    assert dm.spec.version == "2.0.0rc1"
    assert hooks.CREATED == ["acme/toy@2.0.0rc1"]
    assert dict(dm.hparams)["dim"] == 3


def test_unknown_kwarg_lists_accepted_parameters():
    with pytest.raises(InvalidArgumentError, match=r"'batchsize' \(did you mean 'batch_size'\?\).*accepted: n, dim, batch_size, seed"):
        dmzoo.load_datamodule("acme/toy", batchsize=3)


def test_observer_failure_does_not_stop_the_load():
    class Noisy:
        @dmzoo.hookimpl
        def dmzoo_datamodule_created(self, spec, datamodule):
            raise RuntimeError("observer broke")

    dmzoo.register_plugin(Noisy(), name="noisy")
    with pytest.warns(dmzoo.registry.DmzooPluginWarning, match="noisy.*observer broke"):
        dm = dmzoo.load_datamodule("acme/toy")
    assert dm.n == 80


def test_class_that_cannot_be_imported_names_spec_and_plugin():
    dmzoo.register_datamodule(spec(name="ghost", cls="not_a_module_anywhere:Ghost"))
    with pytest.raises(dmzoo.errors.PluginError, match="cannot import 'not_a_module_anywhere:Ghost' for lab/ghost@1.0.0"):
        dmzoo.load_datamodule("ghost")


def test_nothing_built_when_kwargs_are_wrong():
    from dmzoo_test_plugin import hooks

    hooks.CREATED.clear()
    with warnings.catch_warnings(), pytest.raises(InvalidArgumentError, match="multiple values|unexpected|accepted"):
        dmzoo.load_datamodule("acme/toy", n=1, dim=2, nn=3)
    assert hooks.CREATED == []
