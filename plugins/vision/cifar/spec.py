"""Static specs of CIFAR-10 and CIFAR-100 (plain data: no torch, no datamodule import).

Checksums: the binary archives' md5 as published by the dataset authors on
https://www.cs.toronto.edu/~kriz/cifar.html (torchvision only lists the pickle archives,
which dmzoo never uses so that nothing downloaded is unpickled).
"""

from __future__ import annotations

from dmzoo.core.spec import Feature, Resource, Split

from ..shared_spec import COMMON_VISION_KWARGS_DOC, image_features, vision_spec

MODULE = "dmzoo.plugins.vision.cifar.datamodule"
CIFAR_MD5 = "md5 as published by the dataset authors (https://www.cs.toronto.edu/~kriz/cifar.html)"

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

CIFAR_CITATION = ("A. Krizhevsky. Learning Multiple Layers of Features from Tiny Images. "
                  "Technical report, University of Toronto, 2009.")

CIFAR10 = vision_spec(
    "cifar10", f"{MODULE}:CIFAR10DataModule", ("color",),
    summary="60,000 32x32 colour images in 10 classes.",
    description="CIFAR-10, read from the upstream binary archive (no pickles). "
                + COMMON_VISION_KWARGS_DOC + " augment=True: random crop 32 (padding 4) + "
                "horizontal flip, on whole batches.",
    homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
    license="No explicit license upstream",
    citation=CIFAR_CITATION,
    aliases=("cifar_10",),
    splits=(Split("train", 50000), Split("test", 10000)),
    features=image_features((3, 32, 32), CIFAR10_CLASSES),
    resources=(Resource(
        filename="cifar-10-binary.tar.gz",
        urls=("https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",),
        md5="c32a1d4ab5d03f1284b67883e8d87530",
        size=170052171,
        checksum_source=CIFAR_MD5,
    ),),
    release_notes={"1.0.0": "First release: binary archive parsing, uint8 cache."},
)

CIFAR100 = vision_spec(
    "cifar100", f"{MODULE}:CIFAR100DataModule", ("color",),
    summary="60,000 32x32 colour images in 100 fine (or 20 coarse) classes.",
    description="CIFAR-100, read from the upstream binary archive (no pickles). "
                "label_type='fine' (default, 100 classes) or 'coarse' (20 superclasses). "
                + COMMON_VISION_KWARGS_DOC,
    homepage="https://www.cs.toronto.edu/~kriz/cifar.html",
    license="No explicit license upstream",
    citation=CIFAR_CITATION,
    aliases=("cifar_100",),
    splits=(Split("train", 50000), Split("test", 10000)),
    features=(*image_features((3, 32, 32), CIFAR100_CLASSES),
              Feature("coarse_label", shape=(), dtype="int64", classes=CIFAR100_COARSE_CLASSES)),
    resources=(Resource(
        filename="cifar-100-binary.tar.gz",
        urls=("https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",),
        md5="03b5dce01913d631647c71ecec9e9cb8",
        checksum_source=CIFAR_MD5,
    ),),
    release_notes={"1.0.0": "First release: binary archive parsing, fine and coarse labels."},
)
