"""A table's key as integers: each key column as codes, combinations of them as one code.

Read by the parts-against-totals rule (`schemas.totals`) and the duplicate-key rule
(`schemas.validate`), which on a submission share one computation of the codes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


class KeyCodes(NamedTuple):
    """A key column as integer codes from 0, and the value each code stands for (NA included:
    equal values, NA too, share a code)."""

    codes: np.ndarray
    values: list


def key_codes(frame: pd.DataFrame, key: Sequence[str]) -> dict[str, KeyCodes]:
    """The key columns of `frame` as codes (computed once, read by every dimension)."""
    return {c: _codes(frame[c]) for c in key}


def _codes(column: pd.Series) -> KeyCodes:
    if isinstance(column.dtype, pd.StringDtype) and column.dtype.storage == "pyarrow":
        # Arrow's own hashing of its strings: `pd.factorize` took twice as long at 1M rows
        encoded = pc.dictionary_encode(pa.array(column), null_encoding="encode")
        if isinstance(encoded, pa.ChunkedArray):
            encoded = encoded.combine_chunks()
        return KeyCodes(encoded.indices.to_numpy(zero_copy_only=False).astype("int64"),
                        encoded.dictionary.to_pylist())
    codes, values = pd.factorize(column, use_na_sentinel=False)
    return KeyCodes(codes.astype("int64"), list(values))


def combined_codes(columns: list[np.ndarray]) -> tuple[np.ndarray, int]:
    """One integer per distinct combination of the columns' codes, and a bound on them."""
    if not columns:
        raise ValueError("a total needs at least one other key column")
    widths = [int(column.max()) + 1 for column in columns]
    if math.prod(widths) <= _dense_limit(len(columns[0])):
        # mixed radix: no hashing at all, and the bincounts stay small
        combined = np.zeros(len(columns[0]), dtype="int64")
        for column, width in zip(columns, widths):
            combined *= width
            combined += column
        return combined, math.prod(widths)
    combined = np.zeros(len(columns[0]), dtype="int64")
    for column, width in zip(columns, widths):
        combined = combined * width + column
        combined = pd.factorize(combined)[0].astype("int64")  # stays below the row count
    return combined, int(combined.max()) + 1


def _dense_limit(rows: int) -> int:
    return 4 * rows + 4096


def distinct_per_group(group: np.ndarray, groups: int, categories: np.ndarray) -> np.ndarray:
    """How many distinct categories each group has."""
    if not len(group):
        return np.zeros(groups, dtype="int64")
    width = int(categories.max()) + 1
    if groups * width <= _dense_limit(len(group)):
        seen = np.zeros(groups * width, dtype=bool)
        seen[group * width + categories] = True
        return seen.reshape(groups, width).sum(axis=1)
    pairs = pd.unique(group * width + categories)  # distinct (group, category)
    return np.bincount(pairs // width, minlength=groups)


def has_duplicates(codes: Sequence[KeyCodes]) -> bool:
    """Two rows with the same key, none of the key's columns NA (numpy)."""
    if not len(codes[0].codes):
        return False
    na = np.zeros(len(codes[0].codes), dtype=bool)
    for column in codes:
        na |= np.array([pd.isna(v) for v in column.values], dtype=bool)[column.codes]
    group, groups = combined_codes([column.codes for column in codes])
    return bool((np.bincount(group[~na], minlength=groups) > 1).any())


def has_duplicates_duckdb(frame: pd.DataFrame, key: Sequence[str]) -> bool:
    """`has_duplicates`, as SQL over the frame's Arrow columns in a private DuckDB."""
    import duckdb  # only this execution needs it

    names = [f"k{i}" for i in range(len(key))]
    table = pa.table({name: pa.array(frame[c], from_pandas=True) for name, c in zip(names, key)})
    with duckdb.connect() as connection:
        connection.register("cells", table)
        rows = connection.execute(
            f"SELECT 1 FROM cells WHERE {' AND '.join(f'{n} IS NOT NULL' for n in names)} "
            f"GROUP BY {', '.join(names)} HAVING count(*) > 1 LIMIT 1").fetchall()
    return bool(rows)
