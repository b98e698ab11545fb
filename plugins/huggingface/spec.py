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
        "dm = dmzoo.load_datamodule('huggingface', path='ylecun/mnist', image_size=28, mode='L') "
        "or path='scikit-learn/iris', label_key='Species'; a local folder or files work too: "
        "path='imagefolder', data_dir='photos/' (datasets' own builders), path='csv', "
        "data_files='t.csv', or a folder written by save_to_disk. Needs pip install "
        "'dmzoo[hf]'. Download, auth and caching stay those of the datasets library. Splits: "
        "train; validation (or valid, val, dev, eval...); test (or testing); a missing "
        "validation/test split is cut from train (seeded, stratified, fingerprinted). The image "
        "and label columns come from the features (an Image, a ClassLabel) or image_key= / "
        "label_key=. Image datasets are decoded once into the image_folder uint8 cache (keyed "
        "by the datasets fingerprints and options) and served on the vision fast path "
        "(image_size=(H, W) required; augment, normalize, workers, pin_memory as image_folder). "
        "Tables (no Image column) go through the tabular preprocessing, fitted on train and "
        "kept in state_dict(); batches as the tabular datamodule. Other feature types (audio, "
        "sequences, nested) are refused with an error naming them."
    ),
    features=(Feature("inputs", description="image pixels or tabular features"),
              Feature("label", dtype="int64", description="ClassLabel index (or the target)")),
    license="(the dataset's own)",
    homepage="https://huggingface.co/docs/datasets",
    release_notes={"1.0.0": "First release; tested offline on local imagefolder, csv, parquet "
                            "and save_to_disk data (the Hub path is datasets' own)."},
)
