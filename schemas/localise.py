"""Which cells to change: error localisation of totals, in the Fellegi–Holt sense.

When the parts of a breakdown exceed their total, or a complete breakdown does not add up to
it, marking the total alone tells the submitter only where the trouble shows. A cell is in a
constraint of every dimension (a victims count is a part of its sex total, of its age total,
of its form total ...), so the cells linked by totals form a block, and the smallest set of
cells whose change makes the whole block consistent says where the mistake most probably is.
That is Fellegi and Holt's principle, as Statistics Netherlands' `errorlocate` implements it:

    integer x_i >= 0, binary z_i, x_i within the cell's bounds unless z_i = 1,
    every total >= the sum of its parts (= for a complete breakdown),
    minimise sum z_i                     (every cell weighs 1: no cell is trusted more)

solved with `scipy.optimize.milp` (HiGHS). One cell is looked for first, directly: it must be
in every constraint that fails on its own, and with it alone free the block must be
consistent (a one-variable program per candidate); these are then all the minimal sets, found
in milliseconds where proving with the integer program that no other single cell does took
seconds on a block of a thousand cells. Otherwise ties are never settled silently: after each
optimum a no-good cut (sum of that set's z_i <= its size - 1) excludes it and the program is
solved again while the optimum stays the same, up to `MAX_ALTERNATIVES` sets (and whether
there are more). With a set fixed, each of its cells' values is then a range (the smallest
and the largest value it can take with the other cells of the set free, each solved for
itself), one value when the block determines it; `to` is one consistent choice (for a single
cell, the value of its range nearest to what was given).

A submitted count is exact (its bounds equal); a published one may be known only within
bounds (`<5` is 1 to 4), which the program takes as they are. A block larger than
`MAX_BLOCK_CELLS`, or a table whose solves take longer than its time bound, gets no
localisation (the caller says what it said before). Pure computation: no findings here.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array, csr_array, diags_array, eye_array, hstack, vstack
from scipy.sparse.csgraph import connected_components

from schemas.totals import breakdowns

MAX_BLOCK_CELLS = 10_000  # cells of one block; a larger one is not solved (a year of victims
# with 40 citizenships, every sex, age and form given, is 9,240 cells)
MAX_ALTERNATIVES = 5  # minimal sets listed; more are said to exist, not listed

SOLVED, TOO_LARGE, TIMED_OUT = "solved", "too-large", "timed-out"
INFEASIBLE = np.empty(0)  # what `_run` answers when no solution exists (every set cut off)


@dataclass(frozen=True)
class CellChange:
    """One cell of a minimal set: its frame position, and what it may become."""

    row: int
    to: int  # a value consistent with the other changes of its set
    low: int  # the smallest value it can take (the other cells of the set free)
    high: int | None  # the largest; None: no upper bound


@dataclass(frozen=True)
class Localisation:
    """The outcome for one block of linked cells."""

    status: str  # SOLVED, TOO_LARGE or TIMED_OUT
    cells: int  # cells of the block
    alternatives: tuple[tuple[CellChange, ...], ...] = ()  # each a minimal set, ties all listed
    more: bool = False  # more minimal sets exist than are listed
    seconds: float = 0.0  # solver time spent on the block


@dataclass(frozen=True)
class _Constraint:
    total: int  # index within the block
    parts: tuple[int, ...]
    equal: bool


def localise_totals(
    frame: pd.DataFrame,
    key: Sequence[str],
    dimensions: Sequence[str],
    low: str,
    high: str | None = None,
    *,
    failing_rows: Iterable[int],
    seconds: float,
    not_parts: Mapping[str, Iterable[str]] | None = None,
    complete: Mapping[str, int | None] | None = None,
    max_cells: int = MAX_BLOCK_CELLS,
    max_alternatives: int = MAX_ALTERNATIVES,
) -> dict[int, Localisation]:
    """For each failing total (a frame position from `schemas.totals.failing_totals`), the
    localisation of the block it belongs to (totals of one block share one object).

    The constraints are those of `schemas.totals.breakdowns` with the same arguments; counts
    are between `low` and `high`. `seconds` bounds the solver's time for the whole table:
    a block still unsolved when it runs out is TIMED_OUT.
    """
    failing_rows = sorted({int(r) for r in failing_rows})
    if not failing_rows:
        return {}
    high = high or low
    lows = frame[low].to_numpy(dtype="float64", na_value=np.nan)
    highs = lows if high == low else frame[high].to_numpy(dtype="float64", na_value=np.nan)
    linked = breakdowns(frame, key, dimensions, not_parts=not_parts, complete=complete)
    block_of = _blocks(len(frame), linked)
    deadline = time.perf_counter() + seconds
    found: dict[int, Localisation] = {}
    for block in pd.unique(block_of[failing_rows]):
        rows = np.flatnonzero(block_of == block)
        if len(rows) > max_cells:
            result = Localisation(TOO_LARGE, len(rows))
        else:
            constraints = _block_constraints(rows, linked)
            result = _solve(lows[rows], highs[rows], constraints, deadline, max_alternatives)
            result = _in_frame_positions(result, rows)
        for row in failing_rows:
            if block_of[row] == block:
                found[row] = result
    return found


def _blocks(n: int, linked: list) -> np.ndarray:
    """Each row's block: the connected components of the graph linking each total to its
    parts, in every dimension."""
    sources, targets = [], []
    for item in linked:
        groups = int(max(item.total_groups.max(), item.part_groups.max())) + 1
        first_total = np.full(groups, -1, dtype="int64")
        first_total[item.total_groups[::-1]] = item.totals[::-1]  # the last write wins: the first total
        sources += [first_total[item.part_groups], first_total[item.total_groups]]
        targets += [item.parts, item.totals]  # parts, and any repeated total, to the group's total
    if not sources:
        return np.arange(n)
    graph = coo_array((np.ones(sum(len(s) for s in sources)),
                       (np.concatenate(sources), np.concatenate(targets))), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _block_constraints(rows: np.ndarray, linked: list) -> list[_Constraint]:
    index = {int(row): i for i, row in enumerate(rows)}
    constraints = []
    for item in linked:
        inside = np.isin(item.totals, rows)
        if not inside.any():
            continue
        parts_by_group: dict[int, list[int]] = {}
        in_block = np.isin(item.parts, rows)  # a block holds all the parts of its totals
        for row, group in zip(item.parts[in_block], item.part_groups[in_block]):
            parts_by_group.setdefault(int(group), []).append(index[int(row)])
        for row, group in zip(item.totals[inside], item.total_groups[inside]):
            constraints.append(_Constraint(index[int(row)], tuple(parts_by_group[int(group)]),
                                           bool(item.complete[group])))
    return constraints


def _in_frame_positions(result: Localisation, rows: np.ndarray) -> Localisation:
    """The result with frame positions, its sets in the frame's order (not the solver's)."""
    alternatives = sorted((tuple(CellChange(int(rows[c.row]), c.to, c.low, c.high) for c in changes)
                           for changes in result.alternatives),
                          key=lambda changes: [c.row for c in changes])
    alternatives = tuple(alternatives)
    return Localisation(result.status, result.cells, alternatives, result.more, result.seconds)


def _solve(lows: np.ndarray, highs: np.ndarray, constraints: list[_Constraint], deadline: float,
           max_alternatives: int) -> Localisation:
    """The minimal sets of one block (indices within it), ties enumerated by no-good cuts."""
    started = time.perf_counter()
    n = len(lows)
    # x_i - up_i z_i <= high_i and x_i + down_i z_i >= low_i: a cell leaves its bounds only
    # when z_i = 1. The tightest big Ms make the relaxation strong: a count goes down at most
    # to 0 (down_i = low_i); up, never beyond every count of the block added up.
    ceiling = float(np.nansum(highs)) + 1.0
    up = ceiling - highs
    down = np.maximum(lows, 0.0)
    sums = _sum_rows(n, constraints)
    link = LinearConstraint(hstack([sums, csr_array((len(constraints), n))]).tocsr(),
                            [0.0] * len(constraints),
                            [0.0 if c.equal else np.inf for c in constraints])
    identity = eye_array(n, format="csr")
    kept = LinearConstraint(vstack([hstack([identity, -diags_array(up)]),
                                    hstack([identity, diags_array(down)])]).tocsr(),
                            np.concatenate([np.full(n, -np.inf), lows]),
                            np.concatenate([highs, np.full(n, np.inf)]))
    objective = np.concatenate([np.zeros(n), np.ones(n)])
    bounds = Bounds(np.zeros(2 * n), np.concatenate([np.full(n, ceiling), np.ones(n)]))
    singles = _single_cells(lows, highs, constraints, link, deadline)
    if singles is None:
        return Localisation(TIMED_OUT, n, seconds=time.perf_counter() - started)
    if singles:  # one cell explains it: these are all the minimal sets
        return Localisation(SOLVED, n, tuple(singles[:max_alternatives]), len(singles) > max_alternatives,
                            time.perf_counter() - started)
    cuts: list[np.ndarray] = []
    alternatives: list[tuple[CellChange, ...]] = []
    best = None
    while True:
        x = _run(objective, [link, kept, *_cut_constraints(cuts, n)], bounds, deadline)
        if x is None:
            return Localisation(TIMED_OUT, n, seconds=time.perf_counter() - started)
        if x is INFEASIBLE:  # every minimal set is cut off
            break
        values = np.round(x[:n])
        changed = np.flatnonzero((values < lows) | (values > highs))
        if best is None:
            best = len(changed)
        if len(changed) > best or best == 0:
            break
        if len(alternatives) == max_alternatives:
            return Localisation(SOLVED, n, tuple(alternatives), True, time.perf_counter() - started)
        ranges = _ranges(lows, highs, link, changed, deadline)
        if ranges is None or ranges is INFEASIBLE:  # (never infeasible: x is a solution)
            return Localisation(TIMED_OUT, n, seconds=time.perf_counter() - started)
        alternatives.append(tuple(CellChange(int(i), int(values[i]), low, high)
                                  for i, (low, high) in zip(changed, ranges)))
        cut = np.zeros(n)
        cut[changed] = 1.0
        cuts.append(cut)
    return Localisation(SOLVED, n, tuple(alternatives), False, time.perf_counter() - started)


def _single_cells(lows, highs, constraints, link, deadline) -> list[tuple[CellChange]] | None:
    """Every set of one cell that makes the block consistent, found directly (proving with
    the integer program that no other single cell does can take far longer): a cell in every
    constraint that fails on its own, whose range with it alone free is not empty. Its new
    value is the one nearest to what was given. None when the time ran out."""
    failing = [c for c in constraints if _fails_alone(c, lows, highs)]
    if not failing:
        return []
    candidates = set.intersection(*({c.total, *c.parts} for c in failing))
    found = []
    for i in sorted(candidates):
        ranges = _ranges(lows, highs, link, [i], deadline)
        if ranges is None:
            return None
        if ranges is INFEASIBLE:
            continue
        [(low, high)] = ranges
        to = high if high is not None and lows[i] > high else low
        found.append((CellChange(int(i), int(to), low, high),))
    return found


def _fails_alone(constraint: _Constraint, lows: np.ndarray, highs: np.ndarray) -> bool:
    parts = list(constraint.parts)
    return bool(lows[parts].sum() > highs[constraint.total]
                or (constraint.equal and highs[parts].sum() < lows[constraint.total]))


def _sum_rows(n: int, constraints: list[_Constraint]) -> csr_array:
    """One row per constraint: the total minus its parts."""
    rows, columns, values = [], [], []
    for i, constraint in enumerate(constraints):
        rows.append(i), columns.append(constraint.total), values.append(1.0)
        rows += [i] * len(constraint.parts)
        columns += list(constraint.parts)
        values += [-1.0] * len(constraint.parts)
    return csr_array((values, (rows, columns)), shape=(len(constraints), n))


def _cut_constraints(cuts: list[np.ndarray], n: int) -> list[LinearConstraint]:
    """No-good cuts: at least one cell of each set already found stays as it is."""
    if not cuts:
        return []
    matrix = hstack([csr_array((len(cuts), n)), csr_array(np.vstack(cuts))]).tocsr()
    return [LinearConstraint(matrix, -np.inf, np.array([cut.sum() - 1 for cut in cuts]))]


def _ranges(lows, highs, link, changed, deadline):
    """With only the cells of `changed` free, the smallest and largest value each can take
    ([(low, high or None)]); INFEASIBLE when they cannot make the block consistent; None when
    the time ran out."""
    n = len(lows)
    free = np.zeros(n, dtype=bool)
    free[changed] = True
    ceiling = 4.0 * (float(np.nansum(highs)) + 1.0)  # reached: no upper bound
    bounds = Bounds(np.concatenate([np.where(free, 0.0, lows), np.zeros(n)]),
                    np.concatenate([np.where(free, ceiling, highs), np.zeros(n)]))
    found = []
    for i in changed:
        objective = np.zeros(2 * n)
        objective[i] = 1.0
        smallest = _run(objective, [link], bounds, deadline)
        largest = _run(-objective, [link], bounds, deadline)
        if smallest is None or largest is None:
            return None
        if smallest is INFEASIBLE or largest is INFEASIBLE:
            return INFEASIBLE
        top = int(round(largest[i]))
        found.append((int(round(smallest[i])), None if top >= ceiling else top))
    return found


def _run(objective, constraints, bounds, deadline) -> np.ndarray | None:
    """One integer program within the time left: its solution; `INFEASIBLE`; None when it
    is not solved in time."""
    left = deadline - time.perf_counter()
    if left <= 0:
        return None
    result = milp(objective, constraints=constraints, bounds=bounds,
                  integrality=np.ones(len(objective)), options={"time_limit": left})
    if result.status == 2:
        return INFEASIBLE
    return result.x if result.status == 0 else None
