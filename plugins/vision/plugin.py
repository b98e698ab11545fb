"""Entry point of the first-party vision plugin: specs only, nothing heavy imported.

Each dataset family is one folder (plain-data ``spec.py`` + ``datamodule.py`` with the
class, the upstream reader and the fixture writer) and one line below.
"""

from __future__ import annotations

from dmzoo import hookimpl
from dmzoo.core.spec import DataModuleSpec

from .cifar.spec import CIFAR10, CIFAR100
from .emnist.spec import EMNIST
from .image_folder.spec import IMAGE_FOLDER
from .mnist.spec import FASHION_MNIST, KMNIST, MNIST
from .stl10.spec import STL10
from .svhn.spec import SVHN

SPECS: list[DataModuleSpec] = [MNIST, FASHION_MNIST, KMNIST, CIFAR10, CIFAR100, EMNIST, SVHN, STL10,
                               IMAGE_FOLDER]


@hookimpl
def dmzoo_datamodule_specs() -> list[DataModuleSpec]:
    return list(SPECS)
