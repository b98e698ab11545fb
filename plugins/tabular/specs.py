"""Static specs of the tabular plugin (plain data: no torch, pandas or scikit-learn import).

Split counts of the bundled tables are dmzoo's defaults (``val_split=0.1`` of the
rows left after ``test_split=0.2``, seed 0, stratified for classification);
``tests/test_tabular_builtin.py`` checks them against the real loaders.
"""

from __future__ import annotations

from dmzoo.core.spec import DataModuleSpec, Feature, Resource, Split

MODULE = "dmzoo.plugins.tabular"
UCI_LICENSE = "CC BY 4.0 (UCI Machine Learning Repository)"
BUNDLED_NOTE = (
    " Offline: the copy bundled with scikit-learn is used (install the 'tabular' extra). "
    "There is no official split: train/val/test are dmzoo's seeded, stratified defaults."
)
ADULT_CHECKSUMS = (
    "UCI publishes no checksum for the Adult files. The sha256 and size recorded here are those "
    "pinned by several independent public projects that download this exact URL (the md5 is the "
    "one listed by CatBoost's and other dataset loaders); they agree with each other but are not "
    "an upstream publication. dmzoo verifies size and sha256 on every download and every import."
)


# Every loader yields ``({"x_num": ..., "x_cat": ...}, y)``: both input keys always
# (a table without categorical columns has ``x_cat`` of width 0).
SUPERVISED_KEYS = (("x_num", "x_cat"), "y")


def _features(num: int | None, cat: int | None, classes: tuple[str, ...] = (),
              regression: bool = False, target_dtype: str | None = None) -> tuple[Feature, ...]:
    """The batch structure; ``None`` widths (and dtype) are known only after ``setup()``."""
    return (
        Feature("x_num", shape=(num,), dtype="float32",
                description="numerical columns, train-median imputed and standardised"),
        Feature("x_cat", shape=(cat,), dtype="int64",
                description="ordinal codes: 0 missing, 1 unseen, 2.. categories"),
        Feature("y", dtype=target_dtype or ("float32" if regression else "int64"),
                classes=classes, description="target"),
    )


def _splits(train: int, val: int, test: int) -> tuple[Split, ...]:
    return (Split("train", train), Split("val", val), Split("test", test))


def _bundled(name: str, cls: str, *, summary: str, description: str, homepage: str,
             license: str, citation: str, splits: tuple[Split, ...], features: tuple[Feature, ...],
             regression: bool = False, tags: tuple[str, ...] = ()) -> DataModuleSpec:
    return DataModuleSpec(
        name=name,
        version="1.0.0",
        cls=f"{MODULE}.bundled:{cls}",
        summary=summary,
        description=description + BUNDLED_NOTE,
        homepage=homepage,
        license=license,
        citation=citation,
        task="tabular-regression" if regression else "tabular-classification",
        tags=("tabular", "bundled", "offline", *tags),
        splits=splits,
        features=features,
        supervised_keys=SUPERVISED_KEYS,
        release_notes={"1.0.0": "First release."},
    )


SPECS: list[DataModuleSpec] = [
    DataModuleSpec(
        name="tabular",
        version="1.0.0",
        cls=f"{MODULE}.datamodule:TabularDataModule",
        summary="Any table (CSV, Parquet, DataFrame, numpy) as a datamodule with train-only preprocessing.",
        description=(
            "Generic tabular datamodule: load_datamodule('tabular', data='train.csv', target='label'). "
            "Reads CSV/Parquet with pyarrow; infers the task and column types (logged); splits "
            "with a seed (stratified for classification); fits standardisation, imputation, "
            "ordinal and label encodings on the training split only and keeps them in state_dict(). "
            "Batches are ({'x_num': float32[B, n], 'x_cat': int64[B, m]}, y[B]): y is int64 "
            "class codes for a classification, float32 for a regression."
        ),
        task="other",
        tags=("tabular", "generic", "csv", "parquet"),
        features=_features(None, None, target_dtype="int64 or float32"),
        supervised_keys=SUPERVISED_KEYS,
        fixture=f"{MODULE}.datamodule:tabular_fixture",
        license="(your data)",
        release_notes={"1.0.0": "First release."},
    ),
    _bundled(
        "iris", "IrisDataModule",
        summary="Fisher's iris flowers: 150 rows, 4 measurements, 3 species.",
        description="Sepal and petal length and width (cm) of 150 irises of three species.",
        homepage="https://archive.ics.uci.edu/dataset/53/iris",
        license=UCI_LICENSE,
        citation=("@article{fisher1936iris, title={The use of multiple measurements in taxonomic "
                  "problems}, author={Fisher, R. A.}, journal={Annals of Eugenics}, volume={7}, "
                  "number={2}, pages={179--188}, year={1936}}"),
        splits=_splits(108, 12, 30),
        features=_features(4, 0, ("setosa", "versicolor", "virginica")),
    ),
    _bundled(
        "wine", "WineDataModule",
        summary="UCI wine recognition: 178 wines, 13 chemical measurements, 3 cultivars.",
        description="Chemical analysis of wines grown in one region of Italy from three cultivars.",
        homepage="https://archive.ics.uci.edu/dataset/109/wine",
        license=UCI_LICENSE,
        citation=("@misc{wine109, title={Wine}, author={Aeberhard, S. and Forina, M.}, "
                  "howpublished={UCI Machine Learning Repository}, year={1991}, "
                  "doi={10.24432/C5PC7J}}"),
        splits=_splits(128, 14, 36),
        features=_features(13, 0, ("class_0", "class_1", "class_2")),
    ),
    _bundled(
        "breast_cancer", "BreastCancerDataModule",
        summary="Wisconsin diagnostic breast cancer: 569 tumours, 30 features, malignant/benign.",
        description="Features computed from digitised images of fine needle aspirates of breast masses.",
        homepage="https://archive.ics.uci.edu/dataset/17/breast+cancer+wisconsin+diagnostic",
        license=UCI_LICENSE,
        citation=("@misc{breast_cancer17, title={Breast Cancer Wisconsin (Diagnostic)}, "
                  "author={Wolberg, W. and Mangasarian, O. and Street, N. and Street, W.}, "
                  "howpublished={UCI Machine Learning Repository}, year={1995}, "
                  "doi={10.24432/C5DW2B}}"),
        splits=_splits(409, 46, 114),
        features=_features(30, 0, ("malignant", "benign")),
    ),
    _bundled(
        "diabetes", "DiabetesDataModule",
        summary="Diabetes progression: 442 patients, 10 baseline variables (regression).",
        description=("Age, sex, BMI, blood pressure and six serum measurements of 442 patients; "
                     "target: disease progression one year after baseline. Original (unscaled) units."),
        homepage="https://www4.stat.ncsu.edu/~boos/var.select/diabetes.html",
        license="as redistributed with scikit-learn (BSD-3-Clause); data from Efron et al. (2004)",
        citation=("@article{efron2004lars, title={Least angle regression}, author={Efron, B. and "
                  "Hastie, T. and Johnstone, I. and Tibshirani, R.}, journal={Annals of Statistics}, "
                  "volume={32}, number={2}, pages={407--499}, year={2004}}"),
        splits=_splits(319, 35, 88),
        features=_features(10, 0, regression=True),
        regression=True,
    ),
    _bundled(
        "digits", "DigitsDataModule",
        summary="Handwritten digits: 1,797 images of 8x8 pixels, classes 0-9 (also a tiny image set).",
        description=("UCI optical recognition of handwritten digits (the 8x8 test set): 64 pixel "
                     "intensities 0-16 per image. plot() draws real samples."),
        homepage="https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits",
        license=UCI_LICENSE,
        citation=("@misc{digits80, title={Optical Recognition of Handwritten Digits}, "
                  "author={Alpaydin, E. and Kaynak, C.}, howpublished={UCI Machine Learning "
                  "Repository}, year={1998}, doi={10.24432/C50P49}}"),
        splits=_splits(1294, 144, 359),
        features=_features(64, 0, tuple(str(i) for i in range(10))),
        tags=("image",),
    ),
    DataModuleSpec(
        name="adult",
        version="1.0.0",
        cls=f"{MODULE}.downloads:AdultDataModule",
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
        splits=_splits(29305, 3256, 16281),
        features=_features(6, 8, ("<=50K", ">50K")),
        supervised_keys=SUPERVISED_KEYS,
        fixture=f"{MODULE}.downloads:adult_fixture",
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
    ),
    DataModuleSpec(
        name="california_housing",
        version="1.0.0",
        cls=f"{MODULE}.downloads:CaliforniaHousingDataModule",
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
        splits=_splits(14861, 1651, 4128),
        features=_features(8, 0, regression=True),
        supervised_keys=SUPERVISED_KEYS,
        fixture=f"{MODULE}.downloads:california_housing_fixture",
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
    ),
]
