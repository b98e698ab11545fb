"""Write a ``.npy`` file block by block, so a large split is never held whole in memory.

The shape is declared up front (the header comes first), each block is appended as it
is decoded, and closing checks that exactly the declared number of rows arrived. The
result is an ordinary ``.npy`` file that ``np.load(mmap_mode="r")`` maps.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np


class NpyRows:
    """``with NpyRows(path, (n, *row_shape), dtype) as out: out.write(block) ...``"""

    def __init__(self, path: str | Path, shape: tuple[int, ...], dtype: Any) -> None:
        self.path, self.shape, self.dtype = Path(path), tuple(int(d) for d in shape), np.dtype(dtype)
        self.rows = 0
        self._file = open(self.path, "wb")  # noqa: SIM115 - closed in __exit__
        np.lib.format.write_array_header_1_0(self._file, {
            "descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False,
            "shape": self.shape})

    def write(self, block: np.ndarray) -> None:
        """Append rows (any memory layout; written in C order)."""
        if block.shape[1:] != self.shape[1:] or block.dtype != self.dtype:
            raise ValueError(f"{self.path.name}: block {block.shape} {block.dtype} does not fit "
                             f"rows of {self.shape[1:]} {self.dtype}")
        if self.rows + len(block) > self.shape[0]:
            raise ValueError(f"{self.path.name}: more than the declared {self.shape[0]} rows")
        self._file.write(np.ascontiguousarray(block).data)
        self.rows += len(block)

    def __enter__(self) -> NpyRows:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._file.close()
        if kind is None and self.rows != self.shape[0]:
            raise ValueError(f"{self.path.name}: {self.rows} rows written, "
                             f"{self.shape[0]} declared")
