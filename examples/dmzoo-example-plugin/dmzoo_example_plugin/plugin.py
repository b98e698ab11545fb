"""Entry point of the plugin: static specs only (no torch, no datamodule import).

Listing (``dmzoo list``) imports this module in every process that uses dmzoo,
so it must stay cheap; classes and fixtures are named by ``"module:attr"`` strings.
"""

from __future__ import annotations

from dmzoo import DataModuleSpec, Feature, Resource, Split, hookimpl

_MOONS = dict(
    name="moons",
    namespace="example",
    cls="dmzoo_example_plugin.moons:MoonsDataModule",
    summary="Two interleaving half circles, generated with a fixed seed.",
    description="A 2-D binary classification toy set (the classic 'two moons'), generated "
                "on the fly: no download. 800 training and 200 validation points.",
    homepage="https://en.wikipedia.org/wiki/Moons_dataset",
    license="CC0-1.0",
    task="tabular-classification",
    tags=("synthetic", "2d", "example"),
    splits=(Split("train", 800), Split("val", 200)),
    features=(Feature("x", (2,), "float32", description="point coordinates"),
              Feature("y", (), "int64", classes=("upper", "lower"))),
    supervised_keys=("x", "y"),
    fixture="dmzoo_example_plugin.fixtures:moons_fixture",
    release_notes={
        "1.0.0": "First release: 1,000 points, 800 train / 200 val.",
        "1.1.0": "Adds a predict split: a 20x20 grid over the plane, to plot decision "
                 "boundaries. Train and val records are unchanged.",
    },
)

POINTS_SHA256 = "4f1ec50302af02257484014e81430c341490c882c76fd89617945a1b3a324aec"

POINTS = DataModuleSpec(
    name="points",
    version="1.0.0",
    namespace="example",
    cls="dmzoo_example_plugin.points:PointsDataModule",
    summary="240 labelled 2-D points in three shapes, downloaded as one CSV file.",
    description="Shows a plugin whose data is downloaded and verified by dmzoo's storage "
                "layer. example.org is a documentation domain: serve the file yourself "
                "(DMZOO_MIRROR) or import it with "
                "'dmzoo prepare example/points --from examples/dmzoo-example-plugin/upstream'.",
    homepage="https://example.org/dmzoo-example-plugin",
    license="CC0-1.0",
    task="tabular-classification",
    tags=("2d", "example", "download"),
    splits=(Split("train", 192), Split("val", 48)),
    features=(Feature("x", (2,), "float32"),
              Feature("y", (), "int64", classes=("circle", "square", "triangle"))),
    supervised_keys=("x", "y"),
    resources=(Resource("points.csv", urls=("https://example.org/dmzoo-example-plugin/points.csv",),
                        sha256=POINTS_SHA256, size=5303,
                        checksum_source="sha256 computed by the plugin author at release"),),
    fixture="dmzoo_example_plugin.fixtures:points_fixture",
    release_notes={"1.0.0": "First release."},
)


@hookimpl
def dmzoo_datamodule_specs() -> list[DataModuleSpec]:
    return [
        DataModuleSpec(version="1.0.0", **_MOONS),
        DataModuleSpec(version="1.1.0", default_kwargs={"predict_grid": 20}, **_MOONS),
        POINTS,
    ]
