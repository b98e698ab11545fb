"""Static spec of ``emnist`` (plain data: no torch, no datamodule import).

One spec for the six upstream splits: ``dmzoo.load_datamodule("emnist", split="letters")``.
Counts and classes per split from G. Cohen et al. (arXiv:1702.05373, Table II) and
torchvision's ``EMNIST``; checksums: md5 as published by torchvision
(``torchvision.datasets.mnist.EMNIST``), sha256 and size as published by TensorFlow
Datasets (``tensorflow_datasets/url_checksums/emnist.txt``).
"""

from __future__ import annotations

import string

from dmzoo.core.spec import DataModuleSpec, Feature, Resource, Split

_MERGED = set("cijklmopsuvwxyz")  # lowercase letters merged into their uppercase class
BYCLASS_CLASSES = tuple(string.digits + string.ascii_uppercase + string.ascii_lowercase)
BYMERGE_CLASSES = tuple(c for c in BYCLASS_CLASSES if c not in _MERGED)

#: split -> (train count, test count, class names); ``letters`` labels 1-26 become 0-25
SPLITS: dict[str, tuple[int, int, tuple[str, ...]]] = {
    "byclass": (697932, 116323, BYCLASS_CLASSES),
    "bymerge": (697932, 116323, BYMERGE_CLASSES),
    "balanced": (112800, 18800, BYMERGE_CLASSES),
    "letters": (124800, 20800, tuple(string.ascii_lowercase)),
    "digits": (240000, 40000, tuple(string.digits)),
    "mnist": (60000, 10000, tuple(string.digits)),
}
DEFAULT_SPLIT = "balanced"
ARCHIVE = "gzip.zip"


def _counts() -> str:
    return "; ".join(f"{name}: {tr:,} train / {te:,} test, {len(c)} classes"
                     for name, (tr, te, c) in SPLITS.items())


EMNIST = DataModuleSpec(
    name="emnist", version="1.0.0", cls="dmzoo.plugins.vision.emnist.datamodule:EMNISTDataModule",
    task="image-classification", fixture="dmzoo.plugins.vision.emnist.datamodule:fixture",
    tags=("vision", "image-classification", "grayscale", "characters", "digits"),
    supervised_keys=("image", "label"),
    summary="Handwritten digits and letters, 28x28 grayscale, in six splits (MNIST format).",
    description=(
        "EMNIST, derived from NIST Special Database 19 and converted to the MNIST format. "
        "split= 'byclass', 'bymerge', 'balanced' (default), 'letters', 'digits' or 'mnist' "
        f"({_counts()}). Images are returned upright (upstream stores them transposed). "
        "'letters' merges upper and lower case into 26 classes a-z (upstream labels 1-26, "
        "here 0-25); 'bymerge'/'balanced' merge the 15 letters whose cases look alike "
        "(c i j k l m o p s u v w x y z) into the uppercase class. "
        "Splits and counts listed below are those of the default split. Bolts-style "
        "constructor (data_dir, val_split=0.1, batch_size=32, num_workers, normalize, seed, "
        "shuffle, pin_memory, drop_last, augment, *_transforms); mean/std per split from its "
        "training images. augment=True: random translation by up to 2 pixels (zero padding "
        "2 + random 28x28 crop), no flip, as for the MNIST family. prepare_data() converts "
        "all six splits from the one archive."),
    homepage="https://www.nist.gov/itl/products-and-services/emnist-dataset",
    license="No explicit license upstream (NIST Special Database 19 derivative; see homepage)",
    citation="G. Cohen, S. Afshar, J. Tapson and A. van Schaik. EMNIST: an extension of MNIST "
             "to handwritten letters. International Joint Conference on Neural Networks "
             "(IJCNN), 2017. arXiv:1702.05373.",
    splits=(Split("train", SPLITS[DEFAULT_SPLIT][0]), Split("test", SPLITS[DEFAULT_SPLIT][1])),
    features=(
        Feature("image", shape=(1, 28, 28), dtype="uint8", description="pixels 0-255, upright"),
        Feature("label", shape=(), dtype="int64", classes=SPLITS[DEFAULT_SPLIT][2],
                description="classes of the chosen split (balanced shown)"),
    ),
    resources=(Resource(
        filename=ARCHIVE,
        urls=("https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip",
              "https://www.itl.nist.gov/iaui/vip/cs_links/EMNIST/gzip.zip",
              "https://rds.westernsydney.edu.au/Institutes/MARCS/BENS/EMNIST/emnist-gzip.zip"),
        md5="58c8d27c78d21e728a6bc7b3cc06412e",
        sha256="fb9bb67e33772a9cc0b895e4ecf36d2cf35be8b709693c3564cea2a019fcda8e",
        size=561753746,
        checksum_source="md5 as published by torchvision (torchvision.datasets.mnist.EMNIST); "
                        "sha256 and size as published by TensorFlow Datasets "
                        "(tensorflow_datasets/url_checksums/emnist.txt)",
    ),),
    release_notes={"1.0.0": "First release: all six splits from gzip.zip, upright images."},
)
