"""The MNIST family: mnist, fashion_mnist, kmnist (four IDX files each)."""
