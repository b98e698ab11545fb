"""STL-10: 96x96 colour images, labelled and unlabeled, from the binary archive."""
