"""EMNIST: the six splits of the extended MNIST handwritten characters."""
