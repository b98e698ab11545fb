"""Turn what a user hands the tabular datamodule into one pandas DataFrame.

Accepted: a CSV/TSV/Parquet path (or a list of them, concatenated), a pandas
DataFrame, a mapping of column name to array, or a ``(X, y)`` pair of numpy
arrays. Files are read by pyarrow (multi-threaded C++, no Python row loop);
string columns arrive dictionary-encoded (pandas ``category``), which keeps
memory low and makes the later ordinal encoding a cheap code remap.

Text is decoded as UTF-8 unless ``encoding=`` names the CSV/TSV file's encoding; text
that does not decode is a :class:`DataFormatError` suggesting ``encoding=``, never a
column of Python ``bytes`` (whose class names would read ``"b'oui'"``).
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

from dmzoo.core.errors import DataFormatError, DataNotFoundError, InvalidArgumentError

CSV_SUFFIXES = {".csv": ",", ".tsv": "\t", ".txt": ","}
PARQUET_SUFFIXES = {".parquet", ".pq"}
COMPRESSED = {".gz", ".bz2", ".zst", ".lz4"}
# pyarrow's defaults plus the markers real tables use for "unknown".
DEFAULT_NA = ("", "NA", "N/A", "n/a", "NaN", "nan", "NULL", "null", "None", "#N/A", "-nan")
XY_TARGET = "y"
MIN_BLOCK, MAX_BLOCK = 1 << 20, 4 << 20
# Arrow's default pool (mimalloc in the wheels) made the first read of a process slower
# here (1M rows, medians of 6 fresh processes: 0.80 s vs 0.50 s with the system
# allocator); the memory is handed to numpy/pandas anyway.
POOL = pa.system_memory_pool()


def is_path_like(obj: Any) -> bool:
    return isinstance(obj, (str, os.PathLike))


def is_path_list(obj: Any) -> bool:
    """A non-empty list or tuple of paths (files to read and concatenate)."""
    return isinstance(obj, (list, tuple)) and bool(obj) and all(is_path_like(p) for p in obj)


def describe(obj: Any) -> str:
    """A short, JSON-safe description of a data source (for hparams and logs)."""
    if is_path_like(obj):
        return str(obj)
    if is_path_list(obj):
        return ", ".join(str(p) for p in obj)
    if isinstance(obj, pd.DataFrame):
        return f"<DataFrame {obj.shape[0]}x{obj.shape[1]}>"
    return f"<{type(obj).__name__}>"


def check_encoding(encoding: str | None) -> str | None:
    """``encoding`` when Python knows it; an :class:`InvalidArgumentError` otherwise."""
    if encoding is None:
        return None
    try:
        codecs.lookup(encoding)
    except (LookupError, TypeError, ValueError):
        raise InvalidArgumentError(f"encoding={str(encoding)[:40]!r} is not a text encoding "
                                   "Python knows; e.g. 'utf-8', 'latin-1' or 'cp1252'") from None
    return encoding


def to_frame(data: Any, *, na_values: Sequence[str] = (), encoding: str | None = None,
             what: str = "data") -> pd.DataFrame:
    """Read or wrap ``data`` as a DataFrame; raise :class:`DataFormatError` if it cannot be.

    ``encoding``: the text encoding of CSV/TSV files (default UTF-8)."""
    if data is None:
        raise DataFormatError(f"{what} is missing: pass a CSV/Parquet path, a DataFrame or (X, y)")
    if is_path_like(data):
        frame = read_table(Path(data), na_values, encoding)
    elif isinstance(data, pd.DataFrame):
        frame = data.reset_index(drop=True)
    elif isinstance(data, tuple) and len(data) == 2 and all(_is_array(a) for a in data):
        frame = _from_xy(*data)
    elif isinstance(data, Mapping):
        try:
            frame = pd.DataFrame({str(k): np.asarray(v) for k, v in data.items()})
        except ValueError as exc:
            raise DataFormatError(f"{what}: columns of a mapping must have equal lengths ({exc})") from None
    elif is_path_list(data):
        frame = _concat([read_table(Path(p), na_values, encoding) for p in data], data)
    else:
        raise DataFormatError(
            f"{what} of type {type(data).__name__} is not supported; pass a CSV/Parquet path "
            "(or a list of paths), a pandas DataFrame, a dict of columns or a (X, y) tuple of arrays"
        )
    if frame.shape[0] == 0:
        raise DataFormatError(f"{what} ({describe(data)}) has no rows; check the file or filter")
    if frame.shape[1] == 0:
        raise DataFormatError(f"{what} ({describe(data)}) has no columns")
    return frame


def read_table(path: Path, na_values: Sequence[str] = (), encoding: str | None = None
               ) -> pd.DataFrame:
    """Read one CSV/TSV/Parquet file with pyarrow; any parse failure names the file.

    ``encoding`` (CSV/TSV only; default UTF-8) is transcoded by pyarrow while reading."""
    if not path.is_file():
        raise DataNotFoundError(f"data file {str(path)!r} does not exist; "
                                "pass the path of an existing CSV/Parquet file")
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] in COMPRESSED
    if compressed:
        suffixes = suffixes[:-1]
    kind = suffixes[-1] if suffixes else ""
    size = path.stat().st_size
    if size == 0:
        raise DataFormatError(f"{path} is empty (0 bytes); expected a header line and rows")
    markers = [*DEFAULT_NA, *(str(v) for v in na_values)]
    text_nulls: Sequence[str] = ()  # Parquet marks its nulls itself
    try:
        if kind in PARQUET_SUFFIXES:
            table = pq.read_table(path)
        elif kind in CSV_SUFFIXES:
            table = pcsv.read_csv(
                # A plain file is memory-mapped: its blocks are parsed in place, not first
                # copied into fresh memory (a new process's read: 25% faster, measured).
                path if compressed else pa.memory_map(str(path)),
                read_options=pcsv.ReadOptions(block_size=block_size(size),
                                              encoding=check_encoding(encoding) or "utf8"),
                parse_options=pcsv.ParseOptions(delimiter=CSV_SUFFIXES[kind]),
                convert_options=pcsv.ConvertOptions(
                    null_values=markers,
                    # Text columns keep their markers: checking every cell against them
                    # costs 15% of the read; arrow_to_frame checks each distinct value.
                    strings_can_be_null=False,
                    # text arrives as codes + dictionary: cheap to store and to encode
                    auto_dict_encode=True,
                    auto_dict_max_cardinality=2**31 - 1,
                ),
                memory_pool=POOL,
            )
            text_nulls = markers
        else:
            raise DataFormatError(
                f"{path}: unknown file type {kind or '(no suffix)'!r}; use .csv, .tsv, "
                ".parquet (optionally compressed, e.g. .csv.gz), or load it into a DataFrame"
            )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise
        hint = ""
        if "conversion error" in str(exc):
            hint = ("; a column that starts numeric has text further down: fix those values, "
                    "or add the marker to na_values=[...]")
        raise DataFormatError(f"{path} does not parse as {kind.lstrip('.')}: {exc}{hint}") from None
    try:
        names = list(table.column_names)
    except UnicodeDecodeError:
        raise DataFormatError(f"{path}: the header is not {encoding or 'UTF-8'} text; is this "
                              f"really a {kind} file? If so, {ENCODING_HINT}") from None
    _check_names(names, path)
    _check_text(table, path, parquet=kind in PARQUET_SUFFIXES, encoding=encoding)
    return arrow_to_frame(table, text_nulls)


ENCODING_HINT = "pass the file's encoding, e.g. encoding='latin-1' (or 'cp1252')"


def _check_text(table: pa.Table, path: Path, *, parquet: bool, encoding: str | None) -> None:
    """Refuse binary columns: text that did not decode (CSV) or bytes stored as such (Parquet)."""
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if not (pa.types.is_binary(kind) or pa.types.is_large_binary(kind)):
            continue
        if parquet:
            raise DataFormatError(f"{path}: column {name!r} holds bytes, not text; store it as "
                                  "a UTF-8 string column, or load the table into a DataFrame")
        raise DataFormatError(f"{path}: column {name!r} is not {encoding or 'UTF-8'} text "
                              f"(e.g. {_undecodable(column, encoding)!r}); {ENCODING_HINT}")


def _undecodable(column: pa.ChunkedArray, encoding: str | None) -> bytes:
    """The first value of a binary column that does not decode (for the error message)."""
    for chunk in column.chunks:
        values = chunk.dictionary if pa.types.is_dictionary(chunk.type) else chunk
        for value in values.to_pylist():
            try:
                value.decode(encoding or "utf-8")
            except (AttributeError, UnicodeDecodeError):
                return value[:40] if isinstance(value, bytes) else b""
    return b""


def block_size(file_bytes: int) -> int:
    """CSV parse block: at least 4 per core, within 1-4 MiB (pyarrow's default: 1 MiB).

    Every block brings its own dictionary per text column, to be merged afterwards:
    on a 90 MiB file, 4 MiB blocks made the read and conversion 5-10% faster."""
    per_core = file_bytes // (4 * (os.cpu_count() or 1))
    return int(min(max(per_core, MIN_BLOCK), MAX_BLOCK))


def arrow_to_frame(table: pa.Table, text_nulls: Sequence[str] = ()) -> pd.DataFrame:
    """Arrow → pandas with text as categoricals (no per-row Python objects).

    Text and floats, most of a real table, are converted here directly: codes plus one
    unified dictionary, NaN for nulls. On a million rows that is 3x cheaper than
    ``Table.to_pandas``, which still converts every other type. Text equal to one of
    ``text_nulls`` becomes missing (checked once per distinct value)."""
    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = pc.dictionary_encode(column, memory_pool=POOL)
        columns.append(column)
    table = pa.table(columns, names=table.column_names).unify_dictionaries(POOL)
    frame = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        kind = column.type
        if pa.types.is_dictionary(kind) and column.num_chunks and not column.chunk(0).dictionary.null_count:
            frame[name] = _categorical(column, text_nulls)
        elif pa.types.is_floating(kind) or pa.types.is_null(kind):  # null: a column with no value
            column = pc.cast(column, pa.float64()) if pa.types.is_null(kind) else column
            frame[name] = column.to_numpy()  # one copy: chunks joined, nulls as NaN
        else:
            frame[name] = column.to_pandas()
    return pd.DataFrame(frame, copy=False)


def _categorical(column: pa.ChunkedArray, text_nulls: Sequence[str]) -> pd.Categorical | np.ndarray:
    """A dictionary column (one dictionary for all chunks) as a pandas Categorical."""
    codes = np.concatenate([(pc.fill_null(chunk.indices, -1) if chunk.null_count else chunk.indices)
                            .to_numpy() for chunk in column.chunks])
    labels = column.chunk(0).dictionary.to_pandas()
    missing = labels.isin(text_nulls).to_numpy() if len(text_nulls) else np.zeros(len(labels), bool)
    if missing.any():  # drop the markers from the labels; their codes become -1
        remap = np.append(np.where(missing, -1, np.cumsum(~missing) - 1), -1)
        codes, labels = np.take(remap, codes, mode="wrap"), labels[~missing]
        if not len(labels):  # nothing but markers: a column with no value
            return np.full(len(codes), np.nan)
    return pd.Categorical.from_codes(codes, categories=labels)


def _check_names(names: list[str], path: Path) -> None:
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise DataFormatError(f"{path}: duplicate column name(s) {dup}; rename them in the header")
    if any(not n.strip() for n in names):
        raise DataFormatError(f"{path}: a column has an empty name; is the first line a header?")


def _concat(frames: list[pd.DataFrame], paths: Sequence[Any]) -> pd.DataFrame:
    first = list(frames[0].columns)
    for frame, path in zip(frames[1:], paths[1:], strict=False):
        if list(frame.columns) != first:
            raise DataFormatError(
                f"{path} has columns {list(frame.columns)}, but {paths[0]} has {first}; "
                "every file must have the same header"
            )
    # Categoricals from different files have different dictionaries: union them.
    for col in first:
        if any(isinstance(f[col].dtype, pd.CategoricalDtype) for f in frames):
            parts = [pd.Categorical(f[col].astype("object")) for f in frames]
            cats = pd.api.types.union_categoricals(parts).categories
            for f, part in zip(frames, parts, strict=True):
                f[col] = part.set_categories(cats)
    return pd.concat(frames, ignore_index=True)


def _is_array(obj: Any) -> bool:
    return isinstance(obj, (np.ndarray, pd.Series)) or hasattr(obj, "__array__")


def _from_xy(x: Any, y: Any) -> pd.DataFrame:
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim != 2:
        raise DataFormatError(f"X must be 2-D (rows, features); got shape {x.shape}")
    if y.ndim != 1 or len(y) != len(x):
        raise DataFormatError(f"y must be 1-D with one value per row of X; got {y.shape} for X {x.shape}")
    frame = pd.DataFrame(x, columns=[f"x{i}" for i in range(x.shape[1])])
    frame[XY_TARGET] = y
    return frame
