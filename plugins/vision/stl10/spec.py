"""Static spec of ``stl10`` (plain data: no torch, no datamodule import).

Checksums: md5 as published by torchvision (``torchvision.datasets.stl10.STL10``), sha256
and size as published by TensorFlow Datasets; counts and classes from the dataset homepage.
"""

from __future__ import annotations

from dmzoo.core.spec import DataModuleSpec, Feature, Resource, Split

ARCHIVE = "stl10_binary.tar.gz"
CLASSES = ("airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck")
COUNTS = {"train": 5000, "test": 8000, "unlabeled": 100000}

STL10 = DataModuleSpec(
    name="stl10", version="1.0.0", cls="dmzoo.plugins.vision.stl10.datamodule:STL10DataModule",
    task="image-classification", fixture="dmzoo.plugins.vision.stl10.datamodule:fixture",
    tags=("vision", "image-classification", "color", "self-supervised"),
    supervised_keys=("image", "label"),
    summary="96x96 colour images in 10 classes, plus 100,000 unlabeled images.",
    description=(
        "STL-10, read as a stream from the upstream binary archive (nothing extracted, "
        "nothing unpickled; images are returned upright, upstream stores them column-major). "
        "5,000 labelled training and 8,000 test images; unlabeled=True joins the 100,000 "
        "unlabeled images (label -1) to the training split for self-supervised use (the "
        "validation split is always carved from the labelled training images). "
        "Bolts-style constructor (data_dir, val_split=0.1, batch_size=32, num_workers, "
        "normalize, seed, shuffle, pin_memory, drop_last, augment, *_transforms); mean/std "
        "from the labelled training images. augment=True: random resized crop to 96 px "
        "(scale 0.08-1, ratio 3/4-4/3, as torchvision's RandomResizedCrop) + horizontal flip, "
        "on whole batches. The upstream 10 training folds are not exposed."),
    homepage="https://cs.stanford.edu/~acoates/stl10/",
    license="No explicit license upstream (images from ImageNet)",
    citation="A. Coates, H. Lee and A. Y. Ng. An Analysis of Single Layer Networks in "
             "Unsupervised Feature Learning. AISTATS, 2011.",
    splits=tuple(Split(name, n) for name, n in COUNTS.items()),
    features=(
        Feature("image", shape=(3, 96, 96), dtype="uint8", description="pixels 0-255, upright"),
        Feature("label", shape=(), dtype="int64", classes=CLASSES,
                description="-1 for the unlabeled images"),
    ),
    resources=(Resource(
        filename=ARCHIVE,
        urls=("http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz",),
        md5="91f7769df0f17e558f3565bffb0c7dfb",
        sha256="f31fd99273a1acb8609c8db427cebb1de3f71de77758cdc0e22956e1289b9866",
        size=2640397119,
        checksum_source="md5 as published by torchvision (torchvision.datasets.stl10.STL10); "
                        "sha256 and size as published by TensorFlow Datasets "
                        "(tensorflow_datasets/url_checksums/stl10.txt)",
    ),),
    release_notes={"1.0.0": "First release: train/test, unlabeled on request, streamed archive."},
)
