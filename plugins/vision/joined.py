"""Training caches with a second part that joins training only on request.

SVHN's ``extra`` images and STL-10's ``unlabeled`` images are stored in the same
``train_*.npy`` files, after the upstream training rows (``meta.json`` counts them under
``counts[JOINED]``), so joining them costs no copy: it only adds row indices. The
validation split is always carved from the upstream training rows, so it is the same
with or without the joined part.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from .base import VisionDataModule


class JoinedTrainDataModule(VisionDataModule):
    """Base for datamodules whose train cache ends with an optional part (see module doc)."""

    ROWS_FOLLOW_SPEC = False  # options change the cached row counts

    #: the key of the optional part in ``meta.json``'s counts (``"extra"``, ``"unlabeled"``)
    JOINED: ClassVar[str] = ""

    def _join(self) -> bool:
        """Whether the optional part joins the training split (the subclass's option)."""
        raise NotImplementedError

    @property
    def num_train(self) -> int:
        """Upstream training rows (before the validation cut), without the optional part."""
        if self._cache is not None:
            return len(self._cache["train"]["labels"]) - int(self._meta["counts"][self.JOINED])  # type: ignore[index]
        return super().num_train

    def train_val_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """``(train_rows, val_rows)``; the optional part's rows follow the training rows."""
        if self._split is None:
            train, val = super().train_val_rows()
            if self._join():
                total = len(self._load()["train"]["labels"])
                train = np.concatenate([train, np.arange(self.num_train, total, dtype=train.dtype)])
            self._split = (train, val)
        return self._split
