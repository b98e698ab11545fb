"""Static specs of the MNIST family (plain data: no torch, no datamodule import).

Checksums: the ``.gz`` files' md5 as published by torchvision (``torchvision.datasets.mnist``);
the decompressed MNIST files (``Alternate``, for ``dmzoo prepare mnist --from DIR``): sha256
of the file decompressed from the official ``.gz`` (the one whose md5 torchvision
publishes), computed by dmzoo at release; accepted under torchvision's names
(``train-images-idx3-ubyte``) and the original archive names (``train-images.idx3-ubyte``).
Sizes are given only where the published files were measured (``shared/data/mnist``) or are
consistently reported; a size is only an early check, the digest is what verifies a file.
"""

from __future__ import annotations

from dmzoo.core.spec import Alternate, Resource, Split

from ..shared_spec import COMMON_VISION_KWARGS_DOC, image_features, vision_spec

MODULE = "dmzoo.plugins.vision.mnist.datamodule"
TORCHVISION_MD5 = "md5 as published by torchvision (torchvision.datasets.mnist)"
DECOMPRESSED_SHA256 = ("sha256 of the file decompressed from the official .gz (whose md5 "
                       "torchvision publishes), computed by dmzoo at release")

MNIST_CLASSES = tuple(str(d) for d in range(10))
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot")
KMNIST_CLASSES = ("o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo")
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


MNIST = vision_spec(
    "mnist", f"{MODULE}:MNISTDataModule", ("grayscale", "digits"),
    summary="70,000 28x28 grayscale handwritten digits (0-9).",
    description="The MNIST database of handwritten digits: 60,000 training and 10,000 test "
                "images. " + COMMON_VISION_KWARGS_DOC,
    homepage="http://yann.lecun.com/exdb/mnist/",
    license="No explicit license upstream; commonly redistributed under CC BY-SA 3.0",
    citation="Y. LeCun, L. Bottou, Y. Bengio and P. Haffner. Gradient-based learning applied "
             "to document recognition. Proceedings of the IEEE, 86(11):2278-2324, 1998.",
    splits=(Split("train", 60000), Split("test", 10000)),
    features=image_features((1, 28, 28), MNIST_CLASSES),
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

FASHION_MNIST = vision_spec(
    "fashion_mnist", f"{MODULE}:FashionMNISTDataModule", ("grayscale", "clothing"),
    summary="70,000 28x28 grayscale Zalando article images in 10 classes.",
    description="Fashion-MNIST, a drop-in replacement for MNIST with clothing images. "
                + COMMON_VISION_KWARGS_DOC,
    homepage="https://github.com/zalandoresearch/fashion-mnist",
    license="MIT",
    citation="H. Xiao, K. Rasul and R. Vollgraf. Fashion-MNIST: a Novel Image Dataset for "
             "Benchmarking Machine Learning Algorithms. arXiv:1708.07747, 2017.",
    aliases=("fashionmnist",),
    splits=(Split("train", 60000), Split("test", 10000)),
    features=image_features((1, 28, 28), FASHION_MNIST_CLASSES),
    resources=_idx_resources(
        ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
         "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"),
        ("8d4fb7e6c68d591d4c3dfef9ec88bf0d", "25c81989df183df01b3e8a0aad5dffbe",
         "bef4ecab320f06d8554ea6380940ec79", "bb300cfdad3c16e7a12a480ee83cd310"),
        (26421880, 29515, 4422102, 5148),
    ),
    release_notes={"1.0.0": "First release."},
)

KMNIST = vision_spec(
    "kmnist", f"{MODULE}:KMNISTDataModule", ("grayscale", "characters"),
    summary="70,000 28x28 grayscale cursive Japanese (Kuzushiji) characters, 10 classes.",
    description="Kuzushiji-MNIST: one character for each of the 10 rows of Hiragana. "
                + COMMON_VISION_KWARGS_DOC,
    homepage="https://github.com/rois-codh/kmnist",
    license="CC BY-SA 4.0",
    citation="T. Clanuwat, M. Bober-Irizar, A. Kitamoto, A. Lamb, K. Yamamoto and D. Ha. "
             "Deep Learning for Classical Japanese Literature. arXiv:1812.01718, 2018.",
    splits=(Split("train", 60000), Split("test", 10000)),
    features=image_features((1, 28, 28), KMNIST_CLASSES),
    resources=_idx_resources(
        ("http://codh.rois.ac.jp/kmnist/dataset/kmnist/",),
        ("bdb82020997e1d708af4cf47b453dcf7", "e144d726b3acfaa3e44228e80efcd344",
         "5c965bf0a639b31b8f53240b1b52f4d7", "7320c461ea6c1c855c0b718fb2a4b134"),
        (None, None, None, None),
    ),
    release_notes={"1.0.0": "First release."},
)
