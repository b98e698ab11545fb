"""Static spec of ``svhn`` (plain data: no torch, no datamodule import).

Checksums: md5 as published by torchvision (``torchvision.datasets.svhn.SVHN``), sha256
and sizes as published by TensorFlow Datasets; counts from the dataset homepage.
"""

from __future__ import annotations

from dmzoo.core.spec import DataModuleSpec, Feature, Resource, Split

HOME = "http://ufldl.stanford.edu/housenumbers/"
SOURCE = ("md5 as published by torchvision (torchvision.datasets.svhn.SVHN); sha256 and size "
          "as published by TensorFlow Datasets (tensorflow_datasets/url_checksums/svhn_cropped.txt)")
CLASSES = tuple(str(d) for d in range(10))
#: part -> (file, md5, number of images, sha256, size in bytes)
FILES = {
    "train": ("train_32x32.mat", "e26dedcc434d2e4c54c9b2d4a06d8373", 73257,
              "435e94d69a87fde4fd4d7f3dd208dfc32cb6ae8af2240d066de1df7508d083b8", 182040794),
    "test": ("test_32x32.mat", "eb5a983be6a315427106f1b164d9cef3", 26032,
             "cdce80dfb2a2c4c6160906d0bd7c68ec5a99d7ca4831afa54f09182025b6a75b", 64275384),
    "extra": ("extra_32x32.mat", "a93ce644f1a588dc4d68dda5feec44a7", 531131,
              "a133a4beb38a00fcdda90c9489e0c04f900b660ce8a316a5e854838379a71eb3", 1329278602),
}

SVHN = DataModuleSpec(
    name="svhn", version="1.0.0", cls="dmzoo.plugins.vision.svhn.datamodule:SVHNDataModule",
    task="image-classification", fixture="dmzoo.plugins.vision.svhn.datamodule:fixture",
    tags=("vision", "image-classification", "color", "digits"),
    supervised_keys=("image", "label"),
    summary="Street View House Numbers: 32x32 colour crops of digits 0-9.",
    description=(
        "SVHN, format 2 (cropped digits), read from the upstream MATLAB v5 .mat files with "
        "scipy.io.loadmat (no unpickling). Labels 0-9 (upstream stores the digit 0 as 10). "
        "extra=True joins the 531,131 less difficult 'extra' images to the training split "
        "(the validation split is always carved from the 73,257 upstream training images). "
        "prepare_data() downloads all three files (the extra file is about 1.3 GB) and "
        "converts them once. Bolts-style constructor (data_dir, val_split=0.1, batch_size=32, "
        "num_workers, normalize, seed, shuffle, pin_memory, drop_last, augment, *_transforms); "
        "mean/std from the upstream training images. augment=True: random translation by up "
        "to 4 pixels (zero padding 4 + random 32x32 crop), no flip, since mirrored digits are "
        "other shapes."),
    homepage=HOME,
    license="Non-commercial use only (dataset homepage)",
    citation="Y. Netzer, T. Wang, A. Coates, A. Bissacco, B. Wu and A. Y. Ng. Reading Digits "
             "in Natural Images with Unsupervised Feature Learning. NIPS Workshop on Deep "
             "Learning and Unsupervised Feature Learning, 2011.",
    splits=tuple(Split(part, n) for part, (_, _, n, _, _) in FILES.items()),
    features=(
        Feature("image", shape=(3, 32, 32), dtype="uint8", description="pixels 0-255, channels first"),
        Feature("label", shape=(), dtype="int64", classes=CLASSES),
    ),
    resources=tuple(Resource(filename=f, urls=(HOME + f,), md5=md5, sha256=sha, size=size,
                             checksum_source=SOURCE) for f, md5, _, sha, size in FILES.values()),
    release_notes={"1.0.0": "First release: train/test, optional extra, labels 0-9."},
)
