"""The greedy secondary suppression the drafting pack used until the release-wide integer
program replaced it (reporting/disclosure.py), kept here only to measure the two side by side
(benchmarks/suppression.py). Not for publication: it protects each table on its own and only
against exact recovery (a `<5` narrowed to "1 or 2" passed it).

Greedy: after primary suppression, run the attacker (linear algebra on the table's relations
and interval propagation of the 1-4 bounds); while a hidden cell is recovered, hide one more
cell of its relations (inner cells before totals, fewest hidden, smallest), then give back
the extra cells not needed, largest first. Verbatim from reporting/disclosure.py at 3886cb4.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

SMALL_MIN, SMALL_MAX = 1, 4
SMALL_LABEL = "<5"
SECONDARY_LABEL = "x"
Relation = tuple[int, list[int]]


class DisclosureError(Exception):
    """The greedy method could not protect a cell."""


@dataclass(frozen=True)
class Disclosure:
    position: int
    value: float
    method: str


@dataclass
class GreedyTable:
    name: str
    frame: pd.DataFrame  # the cells with `display` and `status` columns added
    relations: list[Relation]


# ------------------------------------------------------------------ the attack

def attacker_view(display: Iterable[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What a reader knows of each cell: its value if published, else bounds."""
    display = [str(d) for d in display]
    # An empty cell (nothing reported) is unknown, without bounds.
    known = np.array([d not in (SMALL_LABEL, SECONDARY_LABEL, "") for d in display])
    values = np.array([float(d.replace(",", "")) if k else np.nan for d, k in zip(display, known)])
    low = np.where(known, values, np.where([d == SMALL_LABEL for d in display], SMALL_MIN, 0.0))
    high = np.where(known, values, np.where([d == SMALL_LABEL for d in display], SMALL_MAX, np.inf))
    return values, low.astype(float), high.astype(float)


def find_disclosures(display: Sequence[str], relations: Sequence[Relation]) -> list[Disclosure]:
    """Every hidden cell whose exact value follows from the published cells and relations."""
    values, low, high = attacker_view(display)
    hidden = np.isnan(values)
    suppressed = {i for i, d in enumerate(display) if str(d) in (SMALL_LABEL, SECONDARY_LABEL)}
    found: dict[int, Disclosure] = {}
    for position, value in _linear_recoveries(values, hidden, relations).items():
        found[position] = Disclosure(position, value, "linear")
    for position, value in _interval_recoveries(low, high, hidden, relations).items():
        found.setdefault(position, Disclosure(position, value, "bounds"))
    return sorted((d for d in found.values() if d.position in suppressed), key=lambda d: d.position)


def _equations(values, hidden, relations):
    """Each relation as (coefficients over hidden cells, right-hand side): total - parts = 0."""
    equations = []
    for total, parts in relations:
        coefficients: dict[int, float] = {}
        constant = 0.0
        for position, sign in [(total, 1.0)] + [(p, -1.0) for p in parts]:
            if hidden[position]:
                coefficients[position] = coefficients.get(position, 0.0) + sign
            else:
                constant -= sign * values[position]
        if coefficients:
            equations.append((coefficients, constant))
    return equations


def _linear_recoveries(values, hidden, relations) -> dict[int, float]:
    equations = _equations(values, hidden, relations)
    recovered = {}
    for component in _components(equations):
        unknowns = sorted({p for i in component for p in equations[i][0]})
        column = {p: j for j, p in enumerate(unknowns)}
        matrix = np.zeros((len(component), len(unknowns)))
        rhs = np.zeros(len(component))
        for row, i in enumerate(component):
            for position, coefficient in equations[i][0].items():
                matrix[row, column[position]] = coefficient
            rhs[row] = equations[i][1]
        for position, value in _determined(matrix, rhs).items():
            recovered[unknowns[position]] = value
    return recovered


def _determined(matrix: np.ndarray, rhs: np.ndarray, tolerance: float = 1e-9) -> dict[int, float]:
    """Columns of `matrix @ x = rhs` whose value every solution shares, with that value.

    Gauss-Jordan elimination with plain numpy row operations: LAPACK (SVD, lstsq) would do, but
    its thread pool made it a hundred times slower on a busy two-core machine (measured)."""
    augmented = np.column_stack([matrix, rhs]).astype(float)
    rows, columns = matrix.shape
    pivots = []
    row = 0
    for column in range(columns):
        if row == rows:
            break
        candidate = row + int(np.argmax(np.abs(augmented[row:, column])))
        if abs(augmented[candidate, column]) < tolerance:
            continue
        augmented[[row, candidate]] = augmented[[candidate, row]]
        augmented[row] /= augmented[row, column]
        factors = augmented[:, column].copy()
        factors[row] = 0.0
        augmented -= np.outer(factors, augmented[row])
        pivots.append((row, column))
        row += 1
    pivot_columns = {column for _, column in pivots}
    free = [c for c in range(columns) if c not in pivot_columns]
    determined = {}
    for pivot_row, column in pivots:
        # x_column + (free variables) = value: fixed only if no free variable is in its row.
        if not free or np.abs(augmented[pivot_row, free]).max() < tolerance:
            determined[column] = float(round(augmented[pivot_row, -1], 6))
    return determined


def _components(equations) -> list[list[int]]:
    """Groups of equations linked by shared hidden cells (solved separately: small matrices)."""
    parent = list(range(len(equations)))

    def root(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first_equation_of: dict[int, int] = {}
    for i, (coefficients, _) in enumerate(equations):
        for position in coefficients:
            if position in first_equation_of:
                parent[root(i)] = root(first_equation_of[position])
            else:
                first_equation_of[position] = i
    groups: dict[int, list[int]] = {}
    for i in range(len(equations)):
        groups.setdefault(root(i), []).append(i)
    return list(groups.values())


def _interval_recoveries(low, high, hidden, relations, max_rounds: int = 50) -> dict[int, float]:
    low, high = low.tolist(), high.tolist()  # plain floats: these loops are over a few cells
    inf = float("inf")
    for _ in range(max_rounds):
        changed = False
        for total, parts in relations:
            # total = sum(parts): bound the total by the parts, and each part by the rest.
            sum_low = sum(low[p] for p in parts)
            finite_high = [high[p] for p in parts if high[p] != inf]
            unbounded = len(parts) - len(finite_high)
            sum_high = sum(finite_high)
            total_low, total_high = max(low[total], sum_low), min(high[total], inf if unbounded else sum_high)
            if (total_low, total_high) != (low[total], high[total]):
                low[total], high[total], changed = total_low, total_high, True
            for part in parts:
                part_unbounded = high[part] == inf
                others_high = inf if unbounded - part_unbounded else sum_high - (0.0 if part_unbounded else high[part])
                part_low = max(low[part], low[total] - others_high)
                part_high = min(high[part], high[total] - (sum_low - low[part]))
                if (part_low, part_high) != (low[part], high[part]):
                    low[part], high[part], changed = part_low, part_high, True
        if not changed:
            break
    return {int(p): low[p] for p in np.flatnonzero(hidden) if low[p] == high[p]}


# ------------------------------------------------------------------ protection

def primary_display(counts: pd.Series) -> list[str]:
    """UNODC's own rule alone: 1-4 shown as `<5`, everything else as is."""
    return [SMALL_LABEL if SMALL_MIN <= c <= SMALL_MAX else _text(c) for c in counts]


def protect(name: str, frame: pd.DataFrame, relations: list[Relation], count: str = "count",
            totals: Iterable[int] = ()) -> GreedyTable:
    """Primary and secondary suppression of `frame[count]` (exact, non-negative integers;
    missing values are shown empty and take no part). `totals` are the positions of margins,
    hidden only when no inner cell can do (readers need the totals)."""
    counts = frame[count].astype("float64").to_numpy()
    if np.any(np.isnan(counts)):
        # A missing cell breaks every relation it is in: drop those relations.
        missing = set(np.flatnonzero(np.isnan(counts)).tolist())
        relations = [(t, ps) for t, ps in relations if t not in missing and not missing & set(ps)]
    status = np.where((counts >= SMALL_MIN) & (counts <= SMALL_MAX), "primary", "published").astype(object)
    # How many relations a cell is the total of: the more, the more readers need it.
    margins: dict[int, int] = {t: 1 for t in totals}
    for t, _ in relations:
        margins[t] = margins.get(t, 0) + 1
    # Cells linked by no relation cannot reveal each other: protect each linked block alone
    # (small blocks keep the repeated attack cheap).
    for cells, block_relations in _blocks(relations):
        local = {cell: i for i, cell in enumerate(cells)}
        local_relations = [(local[t], [local[p] for p in ps]) for t, ps in block_relations]
        local_counts, local_status = counts[cells], status[cells]
        local_margins = {local[c]: weight for c, weight in margins.items() if c in local}
        while True:
            leaks = find_disclosures(_display(local_counts, local_status), local_relations)
            if not leaks:
                break
            # One extra cell per leaked cell in this round, skipping leaks whose relations already
            # got one (the give-back pass trims any excess).
            touched: set[int] = set()
            for leak in leaks:
                if leak.position in touched:
                    continue
                candidate = _secondary_candidate(leak.position, local_counts, local_status,
                                                 local_relations, local_margins)
                if candidate is None:
                    raise DisclosureError(f"{name}: cannot protect cell {cells[leak.position]}: "
                                          "every cell of its relations is already hidden")
                local_status[candidate] = "secondary"
                touched |= {c for t, ps in local_relations if candidate == t or candidate in ps for c in (t, *ps)}
        _give_back(local_counts, local_status, local_relations)
        status[cells] = local_status
    protected = frame.copy()
    protected["display"] = _display(counts, status)
    protected["status"] = status
    return GreedyTable(name, protected, list(relations))


def _give_back(counts, status, relations) -> None:
    """Greedy choices over-protect: publish again, largest first, each extra cell whose
    hiding turned out not to be needed."""
    for cell in sorted(np.flatnonzero(status == "secondary"), key=lambda c: -counts[c]):
        # A `<5` cell that was shown as `x` goes back to `<5`, never to its value.
        status[cell] = "primary" if SMALL_MIN <= counts[cell] <= SMALL_MAX else "published"
        if find_disclosures(_display(counts, status), relations):
            status[cell] = "secondary"


def _blocks(relations: Sequence[Relation]) -> list[tuple[list[int], list[Relation]]]:
    """Relations grouped into blocks that share no cell, with each block's cells."""
    parent: dict[int, int] = {}

    def root(cell):
        parent.setdefault(cell, cell)
        while parent[cell] != cell:
            parent[cell] = parent[parent[cell]]
            cell = parent[cell]
        return cell

    for total, parts in relations:
        for part in parts:
            parent[root(part)] = root(total)
    blocks: dict[int, tuple[set[int], list[Relation]]] = {}
    for total, parts in relations:
        cells, members = blocks.setdefault(root(total), (set(), []))
        cells.update([total, *parts])
        members.append((total, parts))
    return [(sorted(cells), members) for cells, members in blocks.values()]


def _secondary_candidate(position, counts, status, relations, margins) -> int | None:
    """The cell to hide next, among the cells of the relations of the leaked cell: the published
    cell that is the total of the fewest relations (inner cells first: readers need totals), in
    the relation with the fewest hidden cells, non-zero, smallest. Failing that, a `<5` cell shown as `x` instead (its 1-4 bounds can be what pins the
    others: four `<5` parts of a `<5` total are all 1). Failing that, the relations one step
    further out."""
    seen_relations: set[int] = set()
    frontier = {position}
    while frontier:
        level = [i for i, (t, ps) in enumerate(relations)
                 if i not in seen_relations and (t in frontier or frontier & set(ps))]
        if not level:
            return None
        seen_relations.update(level)
        cells_by_relation = [[relations[i][0], *relations[i][1]] for i in level]
        hidden_in = {}
        for cells in cells_by_relation:
            hidden = sum(status[c] != "published" for c in cells)
            for c in cells:
                hidden_in[c] = min(hidden_in.get(c, hidden), hidden)
        published = [c for c in hidden_in if status[c] == "published"]
        if published:
            # Inner cells before margins (readers need totals), then the relation with the fewest
            # hidden cells, then non-zero, then the smallest.
            return min(published, key=lambda c: (margins.get(c, 0), hidden_in[c], counts[c] < SMALL_MIN, counts[c]))
        shown_small = [c for c in hidden_in if status[c] == "primary"]
        if shown_small:
            return max(shown_small, key=lambda c: (margins.get(c, 0), counts[c]))
        frontier = {c for cells in cells_by_relation for c in cells}
    return None


def _display(counts, status) -> list[str]:
    return [SMALL_LABEL if s == "primary" else SECONDARY_LABEL if s == "secondary" else _text(c)
            for c, s in zip(counts, status)]


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(int(value))
