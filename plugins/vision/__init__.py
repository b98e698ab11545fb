"""Vision datamodules: MNIST family, CIFAR, EMNIST, SVHN and STL-10.

EMNIST, SVHN and STL-10 each live in one folder (``emnist/``, ``svhn/``, ``stl10/``): a
plain-data ``spec.py`` (listed by ``specs.SPECS`` with one line) and a ``datamodule.py``
holding the class, the upstream reader and the fixture writer.
"""
