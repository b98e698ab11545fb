"""Entry point: static specs only (importing this module must not import torch)."""

from dmzoo import DataModuleSpec, Feature, Split, hookimpl

CREATED: list[str] = []

_COMMON = dict(
    namespace="acme",
    cls="dmzoo_test_plugin.toy:ToyDataModule",
    summary="Gaussian blobs, a toy classification set for tests.",
    description="Two-class points drawn from two Gaussians with a fixed seed.",
    homepage="https://example.org/acme/toy",
    license="CC0-1.0",
    citation="@misc{acme_toy, title={Toy blobs}, year={2026}}",
    task="tabular-classification",
    tags=("toy", "synthetic"),
    features=(Feature("x", (2,), "float32"), Feature("y", (), "int64", classes=("a", "b"))),
    supervised_keys=("x", "y"),
    release_notes={"1.0.0": "First release.", "1.1.0": "Adds a predict split.",
                   "2.0.0": "Different records: 3 features."},
)


@hookimpl
def dmzoo_datamodule_specs():
    return [
        DataModuleSpec(name="toy", version="1.0.0", splits=(Split("train", 64), Split("test", 16)),
                       default_kwargs={"n": 80}, **_COMMON),
        DataModuleSpec(name="toy", version="1.1.0", splits=(Split("train", 64), Split("test", 16)),
                       default_kwargs={"n": 80}, aliases=("toy_legacy",), **_COMMON),
        DataModuleSpec(name="toy", version="2.0.0rc1", splits=(Split("train", 64), Split("test", 16)),
                       default_kwargs={"n": 80, "dim": 3}, **_COMMON),
    ]


@hookimpl
def dmzoo_datamodule_created(spec, datamodule):
    CREATED.append(spec.ref)
