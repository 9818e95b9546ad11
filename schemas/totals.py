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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from schemas.codelists import TOTAL
from schemas.findings import LINE


@dataclass(frozen=True)
class FailingTotal:
    """A `total` row whose parts it cannot be the sum of."""

    dimension: str
    row: int  # the total's position in the frame
    line: int
    parts_sum: int  # the smallest sum of its parts
    parts_sum_high: int  # the largest
    parts: list[str]  # the part categories, sorted
    parts_inexact: int  # how many parts are known only within bounds
    exceeds: bool  # True: the parts exceed the total; False: a complete breakdown that does not add up
    part_rows: tuple[int, ...] = ()  # the parts' positions in the frame


def failing_totals(
    frame: pd.DataFrame,
    key: Sequence[str],
    dimensions: Sequence[str],
    low: str,
    high: str | None = None,
    *,
    not_parts: Mapping[str, Iterable[str]] | None = None,
    complete: Mapping[str, int | None] | None = None,
    line: str = LINE,
) -> list[FailingTotal]:
    """The `total` rows of each of `dimensions` in `frame` that fail against their parts.

    `key` are the columns of a cell (the dimensions among them): the parts of a total are the
    rows with the same values in the other key columns (NA matching NA) and a category of the
    dimension other than `total` and `not_parts[dimension]`. Counts are between `low` and
    `high` (the same column for exact counts). `complete[dimension]` is the number of
    categories that makes a breakdown complete (absent or None: never complete). The answer
    is by dimension, then in the frame's order.
    """
    high = high or low
    if frame.empty:
        return []
    lows = frame[low].to_numpy(dtype="float64", na_value=np.nan)
    highs = lows if high == low else frame[high].to_numpy(dtype="float64", na_value=np.nan)
    lines = frame[line].to_numpy()
    # each key column as integer codes, once per frame (NA a code of its own)
    codes = {c: pd.factorize(frame[c], use_na_sentinel=False)[0].astype("int64") for c in key}
    failing: list[FailingTotal] = []
    for dimension in dimensions:
        failing += _failing(dimension, frame[dimension], codes, key, lows, highs, lines,
                            set((not_parts or {}).get(dimension, ())),
                            (complete or {}).get(dimension))
    return failing


def _failing(dimension, column: pd.Series, codes, key, lows, highs, lines, not_parts,
             complete) -> list[FailingTotal]:
    is_total = (column == TOTAL).to_numpy(dtype=bool, na_value=False)
    is_part = ~is_total
    if not_parts:
        is_part &= ~column.isin(list(not_parts)).to_numpy(dtype=bool)
    values = column.to_numpy()
    if not is_total.any() or not is_part.any():
        return []
    # One integer per combination of the other key columns: sums and counts per group are
    # then bincounts, with no join; only failing totals are looked at one by one.
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
        return []
    found = []
    for row, exceeded in zip(total_rows[failing], exceeds[failing]):
        members = is_part & (group == group[row])
        found.append(FailingTotal(
            dimension=dimension, row=int(row), line=int(lines[row]),
            parts_sum=int(round(parts_low[group[row]])), parts_sum_high=int(round(parts_high[group[row]])),
            parts=sorted(str(v) for v in values[members]),
            parts_inexact=int((lows[members] != highs[members]).sum()), exceeds=bool(exceeded),
            part_rows=tuple(int(r) for r in np.flatnonzero(members))))
    return found


def _combined_codes(columns: list[np.ndarray]) -> np.ndarray:
    """One integer per distinct combination of the columns' codes, numbered from 0."""
    if not columns:
        raise ValueError("a total needs at least one other key column")
    combined = np.zeros(len(columns[0]), dtype="int64")
    for column in columns:
        combined = combined * (int(column.max()) + 1) + column
        combined = pd.factorize(combined)[0].astype("int64")  # stays below the row count
    return combined


@dataclass(frozen=True)
class Breakdowns:
    """Every total of one dimension with its parts, as frame positions (the constraints that
    `schemas.localise` solves): a total is at least the sum of its parts, and equal to it
    when its breakdown is complete."""

    dimension: str
    totals: np.ndarray  # positions of the `total` rows that have parts
    total_groups: np.ndarray  # the group (combination of the other key columns) of each
    parts: np.ndarray  # positions of the part rows whose group has a total
    part_groups: np.ndarray
    complete: np.ndarray  # by group: every category of the dimension given


def breakdowns(
    frame: pd.DataFrame,
    key: Sequence[str],
    dimensions: Sequence[str],
    *,
    not_parts: Mapping[str, Iterable[str]] | None = None,
    complete: Mapping[str, int | None] | None = None,
) -> list[Breakdowns]:
    """The totals and parts of each of `dimensions`, grouped as `failing_totals` groups them."""
    if frame.empty:
        return []
    codes = {c: pd.factorize(frame[c], use_na_sentinel=False)[0].astype("int64") for c in key}
    found = []
    for dimension in dimensions:
        column = frame[dimension]
        is_total = (column == TOTAL).to_numpy(dtype=bool, na_value=False)
        is_part = ~is_total
        excluded = set((not_parts or {}).get(dimension, ()))
        if excluded:
            is_part &= ~column.isin(list(excluded)).to_numpy(dtype=bool)
        if not is_total.any() or not is_part.any():
            continue
        group = _combined_codes([codes[c] for c in key if c != dimension])
        groups = int(group.max()) + 1
        has_total = np.bincount(group[is_total], minlength=groups) > 0
        has_parts = np.bincount(group[is_part], minlength=groups) > 0
        totals = np.flatnonzero(is_total & has_parts[group])
        if not len(totals):  # totals and parts, but never of the same cell: nothing links them
            continue
        parts = np.flatnonzero(is_part & has_total[group])
        whole = np.zeros(groups, dtype=bool)
        wanted = (complete or {}).get(dimension)
        if wanted:
            categories = codes[dimension]
            width = int(categories.max()) + 1
            pairs = pd.unique(group[is_part] * width + categories[is_part])
            whole = np.bincount(pairs // width, minlength=groups) == wanted
        found.append(Breakdowns(dimension, totals, group[totals], parts, group[parts], whole))
    return found
