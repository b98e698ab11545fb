"""Static spec of UCI ``adult`` (plain data)."""

from __future__ import annotations

from dmzoo.core.spec import DataModuleSpec, Resource

from ..spec import SUPERVISED_KEYS, UCI_LICENSE, features, splits

MODULE = "dmzoo.plugins.tabular.adult.datamodule"
ADULT_CHECKSUMS = (
    "UCI publishes no checksum for the Adult files. The sha256 and size recorded here are those "
    "pinned by several independent public projects that download this exact URL (the md5 is the "
    "one listed by CatBoost's and other dataset loaders); they agree with each other but are not "
    "an upstream publication. dmzoo verifies size and sha256 on every download and every import."
)

ADULT = DataModuleSpec(
    name="adult",
    version="1.0.0",
    cls=f"{MODULE}:AdultDataModule",
    summary="UCI Adult census income: 48,842 people, mixed numerical/categorical, missing values.",
    description=(
        "Predict whether income exceeds 50K USD/year from 1994 US census data (Kohavi & Becker). "
        "6 numerical and 8 categorical columns; '?' marks missing values. The official test file "
        "is the test split; val is a stratified 10% of the training file. " + ADULT_CHECKSUMS
    ),
    homepage="https://archive.ics.uci.edu/dataset/2/adult",
    license=UCI_LICENSE,
    citation=("@inproceedings{kohavi1996scaling, title={Scaling up the accuracy of Naive-Bayes "
              "classifiers: a decision-tree hybrid}, author={Kohavi, Ron}, booktitle={KDD}, "
              "pages={202--207}, year={1996}}"),
    task="tabular-classification",
    tags=("tabular", "download", "census", "missing-values", "categorical"),
    splits=splits(29305, 3256, 16281),
    features=features(6, 8, ("<=50K", ">50K")),
    supervised_keys=SUPERVISED_KEYS,
    fixture=f"{MODULE}:fixture",
    resources=(
        Resource(
            filename="adult.data",
            urls=("https://archive.ics.uci.edu/ml/machine-learning-databases/adult/adult.data",),
            sha256="5b00264637dbfec36bdeaab5676b0b309ff9eb788d63554ca0a249491c86603d",
            md5="5d7c39d7b8804f071cdd1f2a7c460872",
            size=3974305,
            checksum_source=ADULT_CHECKSUMS,
        ),
        Resource(
            filename="adult.test",
            urls=("https://archive.ics.uci.edu/ml/machine-learning-databases/adult/adult.test",),
            sha256="a2a9044bc167a35b2361efbabec64e89d69ce82d9790d2980119aac5fd7e9c05",
            md5="35238206dfdf7f1fe215bbb874adecdc",
            size=2003153,
            checksum_source=ADULT_CHECKSUMS,
        ),
    ),
    release_notes={"1.0.0": "First release."},
)
