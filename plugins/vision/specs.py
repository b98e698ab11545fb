"""Static specs of the vision datamodules (plain data: no torch, no datamodule import).

Checksums are only ones with a citable source, and each resource says which:
- MNIST family ``.gz`` files: md5 as published by torchvision (``torchvision.datasets.mnist``).
- decompressed MNIST files (``Alternate``, for ``dmzoo prepare mnist --from DIR``): sha256
  of the file decompressed from the official ``.gz`` (the one whose md5 torchvision
  publishes), computed by dmzoo at release; accepted under torchvision's names
  (``train-images-idx3-ubyte``) and the original archive names (``train-images.idx3-ubyte``).
- CIFAR binary archives: md5 as published by the dataset authors on
  https://www.cs.toronto.edu/~kriz/cifar.html (torchvision only lists the pickle archives,
  which dmzoo never uses so that nothing downloaded is unpickled).
Sizes are given only where the published files were measured (the MNIST files in
``shared/data/mnist``) or are consistently reported; a size is only an early check, the
digest is what verifies a file.
"""

from __future__ import annotations

from typing import Any

from dmzoo.core.spec import Alternate, DataModuleSpec, Feature, Resource, Split

from .emnist.spec import EMNIST
from .image_folder.spec import IMAGE_FOLDER
from .stl10.spec import STL10
from .svhn.spec import SVHN

VERSION = "1.0.0"
MODULE = "dmzoo.plugins.vision.datamodules"
FIXTURE = "dmzoo.plugins.vision.fixtures:fixture"

TORCHVISION_MD5 = "md5 as published by torchvision (torchvision.datasets.mnist)"
DECOMPRESSED_SHA256 = ("sha256 of the file decompressed from the official .gz (whose md5 "
                       "torchvision publishes), computed by dmzoo at release")
CIFAR_MD5 = "md5 as published by the dataset authors (https://www.cs.toronto.edu/~kriz/cifar.html)"

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot")
KMNIST_CLASSES = ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
CIFAR100_CLASSES = (
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle",
    "bottle", "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle",
    "caterpillar", "cattle", "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch",
    "crab", "crocodile", "cup", "dinosaur", "dolphin", "elephant", "flatfish", "forest", "fox",
    "girl", "hamster", "house", "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion",
    "lizard", "lobster", "man", "maple_tree", "motorcycle", "mountain", "mouse", "mushroom",
    "oak_tree", "orange", "orchid", "otter", "palm_tree", "pear", "pickup_truck", "pine_tree",
    "plain", "plate", "poppy", "porcupine", "possum", "rabbit", "raccoon", "ray", "road",
    "rocket", "rose", "sea", "seal", "shark", "shrew", "skunk", "skyscraper", "snail", "snake",
    "spider", "squirrel", "streetcar", "sunflower", "sweet_pepper", "table", "tank",
    "telephone", "television", "tiger", "tractor", "train", "trout", "tulip", "turtle",
    "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
)
CIFAR100_COARSE_CLASSES = (
    "aquatic_mammals", "fish", "flowers", "food_containers", "fruit_and_vegetables",
    "household_electrical_devices", "household_furniture", "insects", "large_carnivores",
    "large_man-made_outdoor_things", "large_natural_outdoor_scenes",
    "large_omnivores_and_herbivores", "medium_mammals", "non-insect_invertebrates", "people",
    "reptiles", "small_mammals", "trees", "vehicles_1", "vehicles_2",
)

# The four IDX files of the MNIST family: (file stem, split, kind).
IDX_FILES = (
    ("train-images-idx3-ubyte", "train", "images"),
    ("train-labels-idx1-ubyte", "train", "labels"),
    ("t10k-images-idx3-ubyte", "test", "images"),
    ("t10k-labels-idx1-ubyte", "test", "labels"),
)

MNIST_DECOMPRESSED_SHA256 = {
    "train-images-idx3-ubyte": ("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db", 47040016),
    "train-labels-idx1-ubyte": ("65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5", 60008),
    "t10k-images-idx3-ubyte": ("0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7", 7840016),
    "t10k-labels-idx1-ubyte": ("ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2", 10008),
}


def _original_name(stem: str) -> str:
    """``train-images-idx3-ubyte`` -> ``train-images.idx3-ubyte`` (name inside the original archives)."""
    head, _, tail = stem.rpartition("-idx")
    return f"{head}.idx{tail}"


def _idx_resources(mirrors: tuple[str, ...], md5s: tuple[str, ...],
                   sizes: tuple[int | None, ...], alternates: bool = False) -> tuple[Resource, ...]:
    out = []
    for (stem, _, _), md5, size in zip(IDX_FILES, md5s, sizes, strict=True):
        alts: tuple[Alternate, ...] = ()
        if alternates:
            sha, raw_size = MNIST_DECOMPRESSED_SHA256[stem]
            alts = (Alternate(filenames=(stem, _original_name(stem)), sha256=sha, size=raw_size),)
        source = TORCHVISION_MD5 + (f"; alternates: {DECOMPRESSED_SHA256}" if alternates else "")
        out.append(Resource(filename=f"{stem}.gz", urls=tuple(m + f"{stem}.gz" for m in mirrors),
                            md5=md5, size=size, checksum_source=source, alternates=alts))
    return tuple(out)


def _image_features(shape: tuple[int, int, int], classes: tuple[str, ...]) -> tuple[Feature, ...]:
    return (
        Feature("image", shape=shape, dtype="uint8", description="pixels 0-255, channels first"),
        Feature("label", shape=(), dtype="int64", classes=classes),
    )


COMMON_VISION_KWARGS_DOC = (
    "Bolts-style constructor: data_dir, val_split (default 0.1 of train), batch_size (32), "
    "num_workers, normalize, seed (42), shuffle, pin_memory, drop_last, augment, "
    "train_transforms/val_transforms/test_transforms (torchvision, per sample)."
)


def _vision_spec(name: str, class_name: str, tags: tuple[str, ...], **fields: Any) -> DataModuleSpec:
    """A vision spec: the fields all five share, plus this dataset's own."""
    return DataModuleSpec(
        name=name, version=VERSION, cls=f"{MODULE}:{class_name}", task="image-classification",
        fixture=FIXTURE, tags=("vision", "image-classification", *tags),
        supervised_keys=("image", "label"), **fields)

MNIST = _vision_spec(
    "mnist", "MNISTDataModule", ("grayscale", "digits"),
    summary="70,000 28x28 grayscale handwritten digits (0-9).",
    description="The MNIST database of handwritten digits: 60,000 training and 10,000 test "
                "images. " + COMMON_VISION_KWARGS_DOC,
    homepage="http://yann.lecun.com/exdb/mnist/",
    license="No explicit license upstream; commonly redistributed under CC BY-SA 3.0",
    citation="Y. LeCun, L. Bottou, Y. Bengio and P. Haffner. Gradient-based learning applied "
             "to document recognition. Proceedings of the IEEE, 86(11):2278-2324, 1998.",
    splits=(Split("train", 60000), Split("test", 10000)),
    features=_image_features((1, 28, 28), MNIST_CLASSES),
    resources=_idx_resources(
        ("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/",
         "https://storage.googleapis.com/cvdf-datasets/mnist/"),
        ("f68b3c2dcbeaaa9fbdd348bbdeb94873", "d53e105ee54ea40749a09fcbcd1e9432",
         "9fb629c4189551a2d022fa330f9573f3", "ec29112dd5afa0611ce80d1b7f02629c"),
        (9912422, 28881, 1648877, 4542),
        alternates=True,
    ),
    release_notes={"1.0.0": "First release: IDX parsing, uint8 cache, seeded validation split."},
)

FASHION_MNIST = _vision_spec(
    "fashion_mnist", "FashionMNISTDataModule", ("grayscale", "clothing"),
    summary="70,000 28x28 grayscale Zalando article images in 10 classes.",
    description="Fashion-MNIST, a drop-in replacement for MNIST with clothing images. "
                + COMMON_VISION_KWARGS_DOC,
    homepage="https://github.com/zalandoresearch/fashion-mnist",
    license="MIT",
    citation="H. Xiao, K. Rasul and R. Vollgraf. Fashion-MNIST: a Novel Image Dataset for "
             "Benchmarking Machine Learning Algorithms. arXiv:1708.07747, 2017.",
    aliases=("fashionmnist",),
    splits=(Split("train", 60000), Split("test", 10000)),
    features=_image_features((1, 28, 28), FASHION_MNIST_CLASSES),
    resources=_idx_resources(
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
         "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"),
        ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
         "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"),
        (26421880, 29515, 4422102, 5148),
    ),
    release_notes={"1.0.0": "First release."},
)

KMNIST = _vision_spec(
    "kmnist", "KMNISTDataModule", ("grayscale", "characters"),
    summary="70,000 28x28 grayscale cursive Japanese (Kuzushiji) characters, 10 classes.",
    description="Kuzushiji-MNIST: one character for each of the 10 rows of Hiragana. "
                + COMMON_VISION_KWARGS_DOC,
    homepage="https://github.com/rois-codh/kmnist",
    license="CC BY-SA 4.0",
    citation="T. Clanuwat, M. Bober-Irizar, A. Kitamoto, A. Lamb, K. Yamamoto and D. Ha. "
             "Deep Learning for Classical Japanese Literature. arXiv:1812.01718, 2018.",
    splits=(Split("train", 60000), Split("test", 10000)),
    features=_image_features((1, 28, 28), KMNIST_CLASSES),
    resources=_idx_resources(
        ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
        ("bdb82020997e1d708af4cf47b453dcf7", "e144d726b3acfaa3e44228e80efcd344",
         "5c965bf0a639b31b8f53240b1b52f4d7", "7320c461ea6c1c855c0b718fb2a4b134"),
        (None, None, None, None),
    ),
    release_notes={"1.0.0": "First release."},
)

CIFAR_CITATION = ("A. Krizhevsky. Learning Multiple Layers of Features from Tiny Images. "
                  "Technical report, University of Toronto, 2009.")

CIFAR10 = _vision_spec(
    "cifar10", "CIFAR10DataModule", ("color",),
    summary="60,000 32x32 colour images in 10 classes.",
    description="CIFAR-10, read from the upstream binary archive (no pickles). "
                + COMMON_VISION_KWARGS_DOC + " augment=True: random crop 32 (padding 4) + "
                "horizontal flip, on whole batches.",
    homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
    license="No explicit license upstream",
    citation=CIFAR_CITATION,
    aliases=("cifar_10",),
    splits=(Split("train", 50000), Split("test", 10000)),
    features=_image_features((3, 32, 32), CIFAR10_CLASSES),
    resources=(Resource(
        filename="cifar-10-binary.tar.gz",
        urls=("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",),
        md5="c32a1d4ab5d03f1284b67883e8d87530",
        size=170052171,
        checksum_source=CIFAR_MD5,
    ),),
    release_notes={"1.0.0": "First release: binary archive parsing, uint8 cache."},
)

CIFAR100 = _vision_spec(
    "cifar100", "CIFAR100DataModule", ("color",),
    summary="60,000 32x32 colour images in 100 fine (or 20 coarse) classes.",
    description="CIFAR-100, read from the upstream binary archive (no pickles). "
                "label_type='fine' (default, 100 classes) or 'coarse' (20 superclasses). "
                + COMMON_VISION_KWARGS_DOC,
    homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
    license="No explicit license upstream",
    citation=CIFAR_CITATION,
    aliases=("cifar_100",),
    splits=(Split("train", 50000), Split("test", 10000)),
    features=(*_image_features((3, 32, 32), CIFAR100_CLASSES),
              Feature("coarse_label", shape=(), dtype="int64", classes=CIFAR100_COARSE_CLASSES)),
    resources=(Resource(
        filename="cifar-100-binary.tar.gz",
        urls=("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",),
        md5="03b5dce01913d631647c71ecec9e9cb8",
        checksum_source=CIFAR_MD5,
    ),),
    release_notes={"1.0.0": "First release: binary archive parsing, fine and coarse labels."},
)

SPECS: list[DataModuleSpec] = [MNIST, FASHION_MNIST, KMNIST, CIFAR10, CIFAR100, EMNIST, SVHN, STL10,
                               IMAGE_FOLDER]
