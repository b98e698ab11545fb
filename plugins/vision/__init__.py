"""Vision datamodules: MNIST family and CIFAR."""
