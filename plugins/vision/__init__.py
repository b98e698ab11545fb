"""Vision datamodules: MNIST family, CIFAR, EMNIST, SVHN, STL-10 and ``image_folder``.

Each family lives in one folder (``mnist/``, ``cifar/``, ``emnist/``...): a plain-data
``spec.py`` (listed in ``plugin.SPECS`` with one line) and a ``datamodule.py`` holding the
classes, the upstream reader and the fixture writer. ``base.py`` is their shared base.
"""
