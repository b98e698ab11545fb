"""Static specs of the tables bundled with scikit-learn (plain data).

Split counts are dmzoo's defaults (``val_split=0.1`` of the rows left after
``test_split=0.2``, seed 0, stratified for classification);
``tests/test_tabular_builtin.py`` checks them against the real loaders.
"""

from __future__ import annotations

from dmzoo.core.spec import DataModuleSpec, Feature, Split

from ..spec import SUPERVISED_KEYS, UCI_LICENSE, features, splits

MODULE = "dmzoo.plugins.tabular.bundled.datamodule"
BUNDLED_NOTE = (
    " Offline: the copy bundled with scikit-learn is used (install the 'tabular' extra). "
    "There is no official split: train/val/test are dmzoo's seeded, stratified defaults."
)

def _bundled(name: str, cls: str, *, summary: str, description: str, homepage: str,
             license: str, citation: str, splits: tuple[Split, ...], features: tuple[Feature, ...],
             regression: bool = False, tags: tuple[str, ...] = ()) -> DataModuleSpec:
    return DataModuleSpec(
        name=name,
        version="1.0.0",
        cls=f"{MODULE}:{cls}",
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


IRIS = _bundled(
    "iris", "IrisDataModule",
    summary="Fisher's iris flowers: 150 rows, 4 measurements, 3 species.",
    description="Sepal and petal length and width (cm) of 150 irises of three species.",
    homepage="https://archive.ics.uci.edu/dataset/53/iris",
    license=UCI_LICENSE,
    citation=("@article{fisher1936iris, title={The use of multiple measurements in taxonomic "
              "problems}, author={Fisher, R. A.}, journal={Annals of Eugenics}, volume={7}, "
              "number={2}, pages={179--188}, year={1936}}"),
    splits=splits(108, 12, 30),
    features=features(4, 0, ("setosa", "versicolor", "virginica")),
)

WINE = _bundled(
    "wine", "WineDataModule",
    summary="UCI wine recognition: 178 wines, 13 chemical measurements, 3 cultivars.",
    description="Chemical analysis of wines grown in one region of Italy from three cultivars.",
    homepage="https://archive.ics.uci.edu/dataset/109/wine",
    license=UCI_LICENSE,
    citation=("@misc{wine109, title={Wine}, author={Aeberhard, S. and Forina, M.}, "
              "howpublished={UCI Machine Learning Repository}, year={1991}, "
              "doi={10.24432/C5PC7J}}"),
    splits=splits(128, 14, 36),
    features=features(13, 0, ("class_0", "class_1", "class_2")),
)

BREAST_CANCER = _bundled(
    "breast_cancer", "BreastCancerDataModule",
    summary="Wisconsin diagnostic breast cancer: 569 tumours, 30 features, malignant/benign.",
    description="Features computed from digitised images of fine needle aspirates of breast masses.",
    homepage="https://archive.ics.uci.edu/dataset/17/breast+cancer+wisconsin+diagnostic",
    license=UCI_LICENSE,
    citation=("@misc{breast_cancer17, title={Breast Cancer Wisconsin (Diagnostic)}, "
              "author={Wolberg, W. and Mangasarian, O. and Street, N. and Street, W.}, "
              "howpublished={UCI Machine Learning Repository}, year={1995}, "
              "doi={10.24432/C5DW2B}}"),
    splits=splits(409, 46, 114),
    features=features(30, 0, ("malignant", "benign")),
)

DIABETES = _bundled(
    "diabetes", "DiabetesDataModule",
    summary="Diabetes progression: 442 patients, 10 baseline variables (regression).",
    description=("Age, sex, BMI, blood pressure and six serum measurements of 442 patients; "
                 "target: disease progression one year after baseline. Original (unscaled) units."),
    homepage="https://www4.stat.ncsu.edu/~boos/var.select/diabetes.html",
    license="as redistributed with scikit-learn (BSD-3-Clause); data from Efron et al. (2004)",
    citation=("@article{efron2004lars, title={Least angle regression}, author={Efron, B. and "
              "Hastie, T. and Johnstone, I. and Tibshirani, R.}, journal={Annals of Statistics}, "
              "volume={32}, number={2}, pages={407--499}, year={2004}}"),
    splits=splits(319, 35, 88),
    features=features(10, 0, regression=True),
    regression=True,
)

DIGITS = _bundled(
    "digits", "DigitsDataModule",
    summary="Handwritten digits: 1,797 images of 8x8 pixels, classes 0-9 (also a tiny image set).",
    description=("UCI optical recognition of handwritten digits (the 8x8 test set): 64 pixel "
                 "intensities 0-16 per image. plot() draws real samples."),
    homepage="https://archive.ics.uci.edu/dataset/80/optical+recognition+of+handwritten+digits",
    license=UCI_LICENSE,
    citation=("@misc{digits80, title={Optical Recognition of Handwritten Digits}, "
              "author={Alpaydin, E. and Kaynak, C.}, howpublished={UCI Machine Learning "
              "Repository}, year={1998}, doi={10.24432/C50P49}}"),
    splits=splits(1294, 144, 359),
    features=features(64, 0, tuple(str(i) for i in range(10))),
    tags=("image",),
)

BUNDLED = [IRIS, WINE, BREAST_CANCER, DIABETES, DIGITS]
