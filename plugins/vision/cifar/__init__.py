"""CIFAR-10 and CIFAR-100, read from the upstream binary archives."""
