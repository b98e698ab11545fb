"""Static spec of ``huggingface`` (plain data: neither datasets nor torch imported)."""

from __future__ import annotations

from dmzoo.core.spec import DataModuleSpec, Feature

HUGGINGFACE = DataModuleSpec(
    name="huggingface",
    version="1.0.0",
    cls="dmzoo.plugins.huggingface.datamodule:HuggingFaceDataModule",
    task="other",
    fixture="dmzoo.plugins.huggingface.datamodule:fixture",
    tags=("generic", "huggingface", "hub", "image-classification", "tabular", "your-data"),
    summary="A Hugging Face dataset (Hub or local) as a dmzoo datamodule: images or tables.",
    description=(
        "import dmzoo; dm = dmzoo.load_datamodule('huggingface', path='ylecun/mnist', "
        "image_size=28, mode='L')\n\n"
        "dm = dmzoo.load_datamodule('huggingface', path='scikit-learn/iris', "
        "label_key='Species')\n\n"
        "dm = dmzoo.load_datamodule('huggingface', path='csv', data_files='sales.csv', "
        "label_key='churned')  # or path='photos/', or a save_to_disk folder\n\n"
        "Needs pip install 'dmzoo[hf]'. path, name, data_files, revision and cache_dir go to "
        "datasets.load_dataset (load_from_disk for a save_to_disk folder): Hub download, auth "
        "and caching stay the datasets library's own. Splits: train; validation (or valid, "
        "val, dev, eval...); test (or testing); a missing validation/test split is cut from "
        "train (seeded, stratified, fingerprinted).\n\n"
        "The image and label columns come from the features (an Image, a ClassLabel) or "
        "image_key= / label_key=; class names from the ClassLabel. Image datasets are decoded "
        "once into the image_folder uint8 cache (keyed by the datasets fingerprints and the "
        "options; image_size required) and served on the vision fast path. Tables (no Image "
        "column) go through the tabular preprocessing, fitted on train and kept in "
        "state_dict(). Other feature types (audio, sequences, nested) are refused with an "
        "error naming them. Tested offline on local imagefolder, csv and save_to_disk data."
    ),
    features=(Feature("inputs", description="image pixels or tabular features"),
              Feature("label", dtype="int64", description="ClassLabel index (or the target)")),
    license="(the dataset's own)",
    homepage="https://huggingface.co/docs/datasets",
    release_notes={"1.0.0": "First release; tested offline on local imagefolder, csv, parquet "
                            "and save_to_disk data (the Hub path is datasets' own)."},
)
