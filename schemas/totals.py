"""Parts against totals: the categories of a dimension against that dimension's `total` row.

One rule for the submissions (exact counts, `schemas.validate`) and for the published
dataUNODC export (counts known only within bounds, `<5` being 1 to 4:
`transforms.dataunodc`). Pure computation on a frame: no DuckDB, no findings; the callers
make their own findings of the rows returned.

A total fails when its parts add up to more than it can be (the smallest sum of the parts
exceeds the largest total), or, when the breakdown is complete (every category given), when
the parts cannot add up to it (the sums' bounds and the total's bounds do not meet). Rows
absent are no evidence: a part that is not given counts for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from schemas.codelists import TOTAL
from schemas.findings import LINE

# The columns of `failing_totals`' answer, one row per failing total.
RESULT_COLUMNS = ["row", "line", "parts_sum", "parts_sum_high", "parts", "parts_inexact",
                  "exceeds"]


def failing_totals(
    frame: pd.DataFrame,
    key: Sequence[str],
    dimension: str,
    low: str,
    high: str | None = None,
    *,
    not_parts: Iterable[str] = (),
    complete: int | None = None,
    line: str = LINE,
) -> pd.DataFrame:
    """The `total` rows of `dimension` in `frame` that fail against their parts.

    `key` are the columns of a cell (the dimension among them): the parts of a total are the
    rows with the same values in the other key columns (NA matching NA) and a category of the
    dimension other than `total` and `not_parts`. Counts are between `low` and `high` (the
    same column for exact counts). `complete` is the number of categories that makes a
    breakdown complete (None: never complete).

    One row per failing total, in the frame's order: `row` (its position in `frame`), `line`,
    `parts_sum` (the smallest sum of its parts), `parts_sum_high` (the largest), `parts` (the
    part categories, sorted), `parts_inexact` (how many parts are known only within bounds)
    and `exceeds` (True: the parts exceed the total; False: a complete breakdown that does not
    add up to it).
    """
    high = high or low
    empty = pd.DataFrame({column: pd.Series(dtype="object") for column in RESULT_COLUMNS})
    if frame.empty or dimension not in frame.columns:
        return empty
    values = frame[dimension]
    is_total = (values == TOTAL).to_numpy(dtype=bool, na_value=False)
    is_part = ~is_total & ~values.isin(list(not_parts)).to_numpy(dtype=bool)
    if not is_total.any() or not is_part.any():
        return empty
    lows = frame[low].to_numpy(dtype="float64", na_value=np.nan)
    highs = lows if high == low else frame[high].to_numpy(dtype="float64", na_value=np.nan)
    # One integer per combination of the other key columns (NA a value of its own): sums and
    # counts per group are then bincounts, with no join; only failing totals are looked at
    # one by one.
    codes = {c: pd.factorize(frame[c], use_na_sentinel=False)[0].astype("int64") for c in key}
    group = _combined_codes([codes[c] for c in key if c != dimension])
    groups = int(group.max()) + 1
    parts_low = np.bincount(group[is_part], weights=lows[is_part], minlength=groups)
    parts_high = np.bincount(group[is_part], weights=highs[is_part], minlength=groups)
    has_parts = np.bincount(group[is_part], minlength=groups) > 0
    total_rows = np.flatnonzero(is_total & has_parts[group])
    total_groups = group[total_rows]
    sums_low, sums_high = parts_low[total_groups], parts_high[total_groups]
    exceeds = sums_low > highs[total_rows]
    failing = exceeds.copy()
    if complete:
        categories = codes[dimension]
        width = int(categories.max()) + 1
        pairs = pd.unique(group[is_part] * width + categories[is_part])  # distinct (group, category)
        n_parts = np.bincount(pairs // width, minlength=groups)
        failing |= (n_parts[total_groups] == complete) & (
            (sums_low > highs[total_rows]) | (sums_high < lows[total_rows]))
    if not failing.any():
        return empty
    rows = total_rows[failing]
    in_failing = is_part & np.isin(group, group[rows])
    part_groups = group[in_failing]
    names = pd.Series(values.to_numpy()[in_failing]).groupby(part_groups).agg(lambda s: sorted(s))
    inexact = pd.Series(lows[in_failing] != highs[in_failing]).groupby(part_groups).sum()
    failing_groups = group[rows]
    return pd.DataFrame({
        "row": rows,
        "line": frame[line].to_numpy()[rows].astype("int64"),
        "parts_sum": np.round(parts_low[failing_groups]).astype("int64"),
        "parts_sum_high": np.round(parts_high[failing_groups]).astype("int64"),
        "parts": names.reindex(failing_groups).to_list(),
        "parts_inexact": inexact.reindex(failing_groups).to_numpy().astype("int64"),
        "exceeds": exceeds[failing],
    })


def _combined_codes(columns: list[np.ndarray]) -> np.ndarray:
    """One integer per distinct combination of the columns' codes, numbered from 0."""
    if not columns:
        raise ValueError("a total needs at least one other key column")
    combined = np.zeros(len(columns[0]), dtype="int64")
    for column in columns:
        combined = combined * (int(column.max()) + 1) + column
        combined = pd.factorize(combined)[0].astype("int64")  # stays below the row count
    return combined
