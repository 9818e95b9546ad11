"""Parts against totals: the categories of a dimension against that dimension's `total` row.

One rule for the submissions (exact counts, `schemas.validate`) and for the published
dataUNODC export (counts known only within bounds, `<5` being 1 to 4:
`transforms.dataunodc`). Pure computation on a frame: no findings; the callers make their own
findings of the rows returned.

A total fails when its parts add up to more than it can be (the smallest sum of the parts
exceeds the largest total), or, when the breakdown is complete (every category given), when
the parts cannot add up to it (the sums' bounds and the total's bounds do not meet). Rows
absent are no evidence: a part that is not given counts for nothing.

Two executions of this one rule, held equal by property tests (tests/test_totals_executions.py):
numpy over integer codes of the key (`_failing_numpy`), and SQL in a private in-memory DuckDB
over the frame's Arrow columns (`_failing_duckdb`). `failing_totals` runs DuckDB only from
`duckdb_rows` rows on: measured on 2 cores (benchmarks/rules.py, docs/operations.md), numpy
was faster at every size up to 1M rows, so by default it is never chosen.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa

from schemas.codelists import TOTAL
from schemas.findings import LINE
from schemas.keys import KeyCodes, combined_codes, distinct_per_group, key_codes

# From how many rows `failing_totals` runs in DuckDB (None: never; see the module's docstring).
DUCKDB_ROWS: int | None = None


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
    codes: Mapping[str, KeyCodes] | None = None,
    duckdb_rows: int | None = DUCKDB_ROWS,
) -> list[FailingTotal]:
    """The `total` rows of each of `dimensions` in `frame` that fail against their parts.

    `key` are the columns of a cell (the dimensions among them): the parts of a total are the
    rows with the same values in the other key columns (NA matching NA) and a category of the
    dimension other than `total` and `not_parts[dimension]`. Counts are between `low` and
    `high` (the same column for exact counts). `complete[dimension]` is the number of
    categories that makes a breakdown complete (absent or None: never complete). The answer
    is by dimension, then in the frame's order. `codes`: the key columns' `schemas.keys.key_codes`, when the
    caller has them already. `duckdb_rows`: from how many rows the DuckDB execution runs.
    """
    high = high or low
    if frame.empty:
        return []
    not_parts = {d: set(v) for d, v in (not_parts or {}).items()}
    complete = dict(complete or {})
    if duckdb_rows is not None and len(frame) >= duckdb_rows:
        return _failing_duckdb(frame, key, dimensions, low, high, not_parts, complete, line)
    return _failing_numpy(frame, key, dimensions, low, high, not_parts, complete, line, codes)


def _failing_numpy(frame, key, dimensions, low, high, not_parts, complete, line,
                   codes) -> list[FailingTotal]:
    lows = frame[low].to_numpy(dtype="float64", na_value=np.nan)
    highs = lows if high == low else frame[high].to_numpy(dtype="float64", na_value=np.nan)
    lines = frame[line].to_numpy()
    codes = codes if codes is not None else key_codes(frame, key)
    failing: list[FailingTotal] = []
    for dimension in dimensions:
        failing += _failing(dimension, frame[dimension], codes, key, lows, highs, lines,
                            not_parts.get(dimension, set()), complete.get(dimension))
    return failing


def _failing(dimension, column: pd.Series, codes, key, lows, highs, lines, not_parts,
             complete) -> list[FailingTotal]:
    # which rows are totals and which parts, decided once per distinct value, not per row
    categories = codes[dimension].codes
    values = codes[dimension].values
    total_code = np.array([isinstance(v, str) and v == TOTAL for v in values])
    part_code = ~total_code & ~np.array([not pd.isna(v) and v in not_parts for v in values], dtype=bool)
    is_total, is_part = total_code[categories], part_code[categories]
    if not is_total.any() or not is_part.any():
        return []
    # One integer per combination of the other key columns: sums and counts per group are
    # then bincounts, with no join; only failing totals are looked at one by one.
    group, groups = combined_codes([codes[c].codes for c in key if c != dimension])
    part_groups = group[is_part]
    parts_low = np.bincount(part_groups, weights=lows[is_part], minlength=groups)
    parts_high = parts_low if highs is lows else np.bincount(part_groups, weights=highs[is_part],
                                                             minlength=groups)
    has_parts = np.bincount(part_groups, minlength=groups) > 0
    total_rows = np.flatnonzero(is_total & has_parts[group])
    total_groups = group[total_rows]
    sums_low, sums_high = parts_low[total_groups], parts_high[total_groups]
    exceeds = sums_low > highs[total_rows]
    failing = exceeds.copy()
    if complete:
        n_parts = distinct_per_group(part_groups, groups, categories[is_part])
        failing |= (n_parts[total_groups] == complete) & (
            (sums_low > highs[total_rows]) | (sums_high < lows[total_rows]))
    if not failing.any():
        return []
    # the parts of each group, in the frame's order, found by one stable sort
    part_rows = np.flatnonzero(is_part)
    order = np.argsort(part_groups, kind="stable")
    part_rows, sorted_groups = part_rows[order], part_groups[order]
    found = []
    for row, exceeded in zip(total_rows[failing], exceeds[failing]):
        g = group[row]
        members = part_rows[np.searchsorted(sorted_groups, g, "left"):np.searchsorted(sorted_groups, g, "right")]
        found.append(FailingTotal(
            dimension=dimension, row=int(row), line=int(lines[row]),
            parts_sum=int(round(parts_low[g])), parts_sum_high=int(round(parts_high[g])),
            parts=sorted(str(v) for v in column.take(members).to_numpy()),
            parts_inexact=int((lows[members] != highs[members]).sum()), exceeds=bool(exceeded),
            part_rows=tuple(int(r) for r in members)))
    return found


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
    codes = key_codes(frame, key)
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
        group, groups = combined_codes([codes[c].codes for c in key if c != dimension])
        has_total = np.bincount(group[is_total], minlength=groups) > 0
        has_parts = np.bincount(group[is_part], minlength=groups) > 0
        totals = np.flatnonzero(is_total & has_parts[group])
        if not len(totals):  # totals and parts, but never of the same cell: nothing links them
            continue
        parts = np.flatnonzero(is_part & has_total[group])
        whole = np.zeros(groups, dtype=bool)
        wanted = (complete or {}).get(dimension)
        if wanted:
            whole = distinct_per_group(group[is_part], groups, codes[dimension].codes[is_part]) == wanted
        found.append(Breakdowns(dimension, totals, group[totals], parts, group[parts], whole))
    return found


def _failing_duckdb(frame, key, dimensions, low, high, not_parts, complete,
                    line) -> list[FailingTotal]:
    """The same rule as `_failing_numpy`, as SQL over the frame's Arrow columns (not copied)."""
    import duckdb  # only this execution needs it

    names = {c: f"k{i}" for i, c in enumerate(key)}  # any column name, safely quoted
    table = pa.table({**{names[c]: _arrow(frame[c]) for c in key},
                      "lo": _arrow(frame[low]), "hi": _arrow(frame[high]),
                      "pos": pa.array(np.arange(len(frame), dtype="int64"))})
    lines = frame[line].to_numpy()
    found: list[FailingTotal] = []
    with duckdb.connect() as connection:
        connection.register("cells", table)
        for dimension in dimensions:
            rows = connection.execute(*_failing_sql(
                names[dimension], [names[c] for c in key if c != dimension],
                sorted(not_parts.get(dimension, ())), complete.get(dimension))).fetchall()
            column = frame[dimension]
            for row, low_sum, high_sum, exceeded, members, inexact in rows:
                found.append(FailingTotal(
                    dimension=dimension, row=row, line=int(lines[row]),
                    parts_sum=int(round(low_sum)), parts_sum_high=int(round(high_sum)),
                    parts=sorted(str(v) for v in column.take(members).to_numpy()),
                    parts_inexact=inexact, exceeds=bool(exceeded), part_rows=tuple(members)))
    return found


def _arrow(column: pd.Series) -> pa.Array:
    return pa.array(column, from_pandas=True)


def _failing_sql(dimension: str, others: list[str], not_parts: list[str],
                 complete: int | None) -> tuple[str, list]:
    """The failing totals of one dimension: position, the parts' sums, exceeds, the parts'
    positions and how many of them are inexact, in the frame's order."""
    if not others:
        raise ValueError("a total needs at least one other key column")
    group = ", ".join(others)
    same = " AND ".join(f"p.{c} IS NOT DISTINCT FROM t.{c}" for c in others)  # NA matches NA
    excluded = f" AND ({dimension} IS NULL OR NOT list_contains(?::VARCHAR[], {dimension}))" if not_parts else ""
    params: list = [TOTAL, TOTAL] + ([not_parts] if not_parts else [])
    # a sum with an NA in it is NA (numpy's NaN): it then fails no comparison
    whole = "count(DISTINCT d) + max((d IS NULL)::INTEGER)"  # NA is a category of its own
    incomplete = "g.categories = ? AND g.low_sum > m.hi OR g.categories = ? AND g.high_sum < m.lo"
    if complete:
        params += [complete, complete]
    sql = f"""
        WITH marked AS (
            SELECT pos, {group}, {dimension} AS d, lo::DOUBLE AS lo, hi::DOUBLE AS hi,
                   coalesce({dimension} = ?, false) AS is_total,
                   NOT coalesce({dimension} = ?, false){excluded} AS is_part
            FROM cells),
        g AS (
            SELECT {group},
                   if(count(lo) = count(*), sum(lo), NULL) AS low_sum,
                   if(count(hi) = count(*), sum(hi), NULL) AS high_sum,
                   {whole} AS categories
            FROM marked WHERE is_part GROUP BY {group}),
        t AS (
            SELECT m.pos, {", ".join(f"m.{c}" for c in others)}, m.lo, m.hi,
                   g.low_sum, g.high_sum, coalesce(g.low_sum > m.hi, false) AS exceeds
            FROM marked m JOIN g ON {" AND ".join(f"m.{c} IS NOT DISTINCT FROM g.{c}" for c in others)}
            WHERE m.is_total AND (g.low_sum > m.hi{" OR " + incomplete if complete else ""}))
        SELECT t.pos, any_value(t.low_sum), any_value(t.high_sum), any_value(t.exceeds),
               list(p.pos ORDER BY p.pos),
               count(*) FILTER (WHERE NOT coalesce(p.lo = p.hi, false))::INTEGER
        FROM t JOIN marked p ON p.is_part AND {same}
        GROUP BY t.pos ORDER BY t.pos"""
    return sql, params
