"""Static spec of ``california_housing`` (plain data)."""

from __future__ import annotations

from dmzoo.core.spec import DataModuleSpec, Resource

from ..spec import SUPERVISED_KEYS, features, splits

MODULE = "dmzoo.plugins.tabular.california_housing.datamodule"

CALIFORNIA_HOUSING = DataModuleSpec(
    name="california_housing",
    version="1.0.0",
    cls=f"{MODULE}:CaliforniaHousingDataModule",
    summary="California housing (1990 census): 20,640 block groups, 8 features (regression).",
    description=(
        "Median house value per California block group (in 100,000 USD) from income, age, "
        "rooms, bedrooms, population, occupancy and location, derived from the StatLib "
        "archive as scikit-learn documents. No official split: seeded defaults."
    ),
    homepage="https://www.dcc.fc.up.pt/~ltorgo/Regression/cal_housing.html",
    license="CC BY 4.0 (figshare copy used by scikit-learn)",
    citation=("@article{pace1997sparse, title={Sparse spatial autoregressions}, author={Pace, "
              "R. Kelley and Barry, Ronald}, journal={Statistics \\& Probability Letters}, "
              "volume={33}, number={3}, pages={291--297}, year={1997}}"),
    task="tabular-regression",
    tags=("tabular", "download", "census", "regression"),
    splits=splits(14861, 1651, 4128),
    features=features(8, 0, regression=True),
    supervised_keys=SUPERVISED_KEYS,
    fixture=f"{MODULE}:fixture",
    resources=(
        Resource(
            filename="cal_housing.tgz",
            urls=("https://ndownloader.figshare.com/files/5976036",
                  "https://www.dcc.fc.up.pt/~ltorgo/Regression/cal_housing.tgz"),
            sha256="aaa5c9a6afe2225cc2aed2723682ae403280c4a3695a2ddda4ffb5d8215ea681",
            size=441963,
            checksum_source=("sha256 as published in scikit-learn's fetch_california_housing "
                             "(sklearn/datasets/_california_housing.py); size as recorded by "
                             "independent projects pinning the same archive"),
        ),
    ),
    release_notes={"1.0.0": "First release."},
)
