"""SVHN: Street View House Numbers, cropped digits."""
