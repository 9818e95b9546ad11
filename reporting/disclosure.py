"""Statistical disclosure control for a release: every table of one drafting pack, protected
and audited together.

Cells. Every published figure has a cell key (`cell_key`: measure, area, year, sex, age,
form...), built from the data by the table that shows it. The same key in two tables is one
figure (a country's female victims in the sex/age table and in the SDG table; a total shown
twice): one variable of the model, protected and audited once for the whole release. Two cells
with one key but different values are refused (`ValueError`): the link would be false.

What a reader (the attacker) knows: every published figure of the release; every additive
relation of every table (a total is the sum of its parts), together; that counts are
non-negative; that `<5` means 1 to 4; `x` means any count >= 0. Some relations involve figures
published nowhere (the females of unknown age inside "female"): they are unpublished cells of
the model, always hidden, never protected themselves.

Protection (the rule, stated once): for each sensitive cell, a count of 1 to 4 persons, the
attacker's feasible interval (its min and max over the linear program above) must contain
[1, 4]: the release tells nothing about it beyond `<5`. In tau-ARGUS terms: upper protection
level 4 - value, lower protection level value - 1, i.e. to the band's edges; a narrower interval
("at most 2") would be a partial disclosure of a very small group. A cell hidden as `x`
(secondary) needs no protection of its own, but must not be exactly determined.

Secondary suppression (`protect_release`): a mixed-integer program (HiGHS, scipy's `milp`), a
binary per publishable cell (hide it as `x`) and per small cell (show it as `x` instead of `<5`,
when its own 1-4 bounds are what gives it away: four `<5` parts of a `<5` total), minimising the
information lost: (value + 1) per hidden cell, times (1 + the number of relations it is the
total of) since readers need totals; 1 for a small cell shown as `x`. The exact model needs the
attacker's subproblems (Fischetti and Salazar), so it is solved by cutting planes: start with
the necessary condition of each relation holding a small cell (the other hidden cells of that
relation can absorb the move to 1 and to 4), solve, run the attacker's LP for every small cell,
and for each one still narrowed add the cut its LP's dual gives (weak duality: the interval's
reach is at most the sum of each hidden cell's slack times its reduced cost), then solve again;
before each MILP, rounds of the same cuts at the LP relaxation's fractional answers (cheap).
Bounded by `time_limit`; past it, every cell linked through relations to a small count is
hidden as `x` (then the feasible set is a cone through the true values: every interval is
[0, inf), proven safe, costly), and the result says so. A limit of the model, stated: the
attacker is the LP one (tau-ARGUS's); one who also reasons in whole numbers is met by the
audit's rule that no hidden cell may have a single whole number left.

The audit (`audit_release`), run on every release before anything is written: from what is
published only (displays and relations, not the values), the min and max of every suppressed
cell over the attacker's LP of all tables together (HiGHS via `linprog`), as tau-ARGUS's audit
and sdcTable's `attack()` do. `check_audit` fails the release (`DisclosureError`) if a count
of 1 to 4 is shown, any sensitive cell's interval does not contain [1, 4], or any suppressed
cell is exactly determined (one whole number left in its interval).
Internal analyst tables are not passed through here: they keep exact values.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

SMALL_MIN, SMALL_MAX = 1, 4
SMALL_LABEL = "<5"        # primary suppression, as in UNODC's published data
SECONDARY_LABEL = "x"     # hidden so that no `<5` cell can be narrowed
DEFAULT_TIME_LIMIT = 120.0  # seconds of solver time for one release (setting `suppression_seconds`)
TOLERANCE = 1e-6
Relation = tuple[int, list[int]]  # (position of the total, positions of its parts) in one table
KeyRelation = tuple[str, list[str]]  # the same, by cell key, across the release


class DisclosureError(Exception):
    """A release about to be published would reveal a suppressed value."""


def cell_key(measure: str, **dimensions) -> str:
    """The identity of a published figure, from its data: `measure=victims|area=NGA|sex=female|
    year=2022`. Dimensions at their total are passed as None and left out, so a total has the
    same key whichever table shows it."""
    given = sorted((name, _escaped(value)) for name, value in dimensions.items() if value is not None)
    return "|".join([f"measure={_escaped(measure)}", *(f"{name}={value}" for name, value in given)])


def _escaped(value) -> str:
    """A value as text that cannot run into the next one (area names come from grouping files)."""
    return str(value).replace("\\", "\\\\").replace("|", "\\|").replace("=", "\\=")


@dataclass
class TableCells:
    """One table of a release: `frame` has a row per cell with its `key` and exact `count`
    (NaN: not reported, shown empty, its relations dropped); `relations` by position."""
    name: str
    frame: pd.DataFrame
    relations: list[Relation] = field(default_factory=list)


@dataclass
class ProtectedTable:
    name: str
    frame: pd.DataFrame                # the cells with `display` and `status` columns added
    relations: list[Relation] = field(default_factory=list)

    @property
    def suppressed(self) -> int:
        return int(self.frame["status"].isin(["primary", "secondary"]).sum())


@dataclass
class SolverReport:
    seconds: float
    iterations: int          # MILP solves of the cutting-plane loop
    cuts: int
    outcome: str             # "optimal", "no small cell linked", or "time limit: fallback"
    objective: float


@dataclass
class Release:
    """The protected tables of a release and what the audit needs besides their displays."""
    tables: list[ProtectedTable]
    relations: list[KeyRelation]                 # every relation, by key, deduplicated
    unpublished: dict[str, float]                # cells in relations that no table shows: key -> count
    solver: SolverReport | None = None

    def table(self, name: str) -> ProtectedTable:
        return next(t for t in self.tables if t.name == name)


# ------------------------------------------------------------------ relations of one table

def additive_relations(frame: pd.DataFrame, dimension: str, total_code: str,
                       other_columns: Sequence[str]) -> list[Relation]:
    """For every combination of `other_columns`, the `total_code` cell of `dimension` is the sum
    of that dimension's other cells."""
    relations = []
    positions = pd.Series(range(len(frame)), index=frame.index)
    groups = frame.groupby(list(other_columns), sort=False, dropna=False) if other_columns else [(None, frame)]
    for _, group in groups:
        is_total = group[dimension] == total_code
        if is_total.sum() == 1 and (~is_total).any():
            relations.append((int(positions[group.index[is_total]].iloc[0]),
                              [int(p) for p in positions[group.index[~is_total]]]))
    return relations


def hierarchy_relations(frame: pd.DataFrame, column: str, parent_of: dict[str, str],
                        other_columns: Sequence[str]) -> list[Relation]:
    """Areas inside larger areas: the cell of a parent area is the sum of its children's cells
    (for every combination of `other_columns`)."""
    relations = []
    positions = pd.Series(range(len(frame)), index=frame.index)
    for _, group in frame.groupby(list(other_columns), sort=False, dropna=False):
        by_area = {area: int(positions[index]) for area, index in zip(group[column], group.index)}
        children: dict[str, list[int]] = {}
        for area, position in by_area.items():
            parent = parent_of.get(area)
            if parent is not None and parent in by_area:
                children.setdefault(parent, []).append(position)
        relations.extend((by_area[parent], parts) for parent, parts in children.items())
    return relations


# ------------------------------------------------------------------ the release's cells

@dataclass
class _Model:
    keys: list[str]
    values: np.ndarray            # exact counts
    shown: np.ndarray             # bool: published by some table (False: unpublished cell)
    relations: list[tuple[int, list[int]]]
    matrix: sparse.csr_matrix     # a row per relation: +1 total, -1 parts

    @property
    def sensitive(self) -> np.ndarray:
        return self.shown & (self.values >= SMALL_MIN) & (self.values <= SMALL_MAX)


def _relation_matrix(relations, size: int) -> sparse.csr_matrix:
    rows, columns, data = [], [], []
    for row, (total, parts) in enumerate(relations):
        rows.append(row), columns.append(total), data.append(1.0)
        for part in parts:
            rows.append(row), columns.append(part), data.append(-1.0)
    return sparse.csr_matrix((data, (rows, columns)), shape=(len(relations), size))


def _release_cells(tables: Sequence[TableCells], unpublished: Mapping[str, float],
                   extra_relations: Sequence[KeyRelation]) -> tuple[_Model, list[KeyRelation]]:
    """One variable per cell key of the release; every table's relations over them."""
    index: dict[str, int] = {}
    values: list[float] = []
    shown: list[bool] = []
    origin: dict[str, str] = {}

    def cell(key: str, value: float, table: str, published: bool) -> int:
        if key in index:
            i = index[key]
            if abs(values[i] - value) > TOLERANCE:
                raise ValueError(f"cell {key} is {values[i]:g} in {origin[key]} but {value:g} in {table}: "
                                 "one key must be one figure")
            shown[i] = shown[i] or published
            return i
        index[key], origin[key] = len(values), table
        values.append(float(value)), shown.append(published)
        return index[key]

    key_relations: list[KeyRelation] = []
    for table in tables:
        keys, counts = list(table.frame["key"]), table.frame["count"].astype("float64").to_numpy()
        missing = {p for p, c in enumerate(counts) if np.isnan(c)}
        for position, (key, count) in enumerate(zip(keys, counts)):
            if position not in missing:
                cell(key, count, table.name, True)
        for total, parts in table.relations:
            if total not in missing and not missing & set(parts):  # a missing cell breaks its relations
                key_relations.append((keys[total], [keys[p] for p in parts]))
    for key, value in unpublished.items():
        cell(key, value, "unpublished cells", False)
    key_relations += list(extra_relations)
    unique: dict[tuple, KeyRelation] = {}
    for total, parts in key_relations:
        unique.setdefault((total, tuple(sorted(parts))), (total, list(parts)))
    key_relations = list(unique.values())
    unknown = {k for t, ps in key_relations for k in (t, *ps) if k not in index}
    if unknown:
        raise ValueError(f"relations name cells no table holds: {sorted(unknown)[:3]}")
    relations = [(index[t], [index[p] for p in ps]) for t, ps in key_relations]
    values_array = np.array(values, dtype=float)
    for (total, parts), (total_key, _) in zip(relations, key_relations):
        if abs(values_array[total] - values_array[parts].sum()) > TOLERANCE:
            raise ValueError(f"{total_key} is {values_array[total]:g}, not the sum of its parts "
                             f"({values_array[parts].sum():g}): the attacker's relations must hold")
    model = _Model(list(index), values_array, np.array(shown, dtype=bool), relations,
                   _relation_matrix(relations, len(values)))
    return model, key_relations


# ------------------------------------------------------------------ the attacker's LP

def _cell_bounds(values: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """What the attacker knows of each cell: state 0 published (its value), 1 `<5` (1 to 4),
    2 hidden (`x` or unpublished: 0 or more)."""
    low = np.where(state == 0, values, np.where(state == 1, SMALL_MIN, 0.0))
    high = np.where(state == 0, values, np.where(state == 1, SMALL_MAX, np.inf))
    return low, high


def _components(model: _Model, hidden: np.ndarray) -> list[tuple[list[int], list[int]]]:
    """Hidden cells grouped by the relations that link them (published cells are constants):
    (cells, relation rows) per group. Each group is an attacker's LP of its own."""
    parent = {int(c): int(c) for c in np.flatnonzero(hidden)}

    def root(c):
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    rows_of: dict[int, list[int]] = {}
    for row, (total, parts) in enumerate(model.relations):
        members = [c for c in (total, *parts) if hidden[c]]
        for c in members[1:]:
            parent[root(c)] = root(members[0])
        if members:
            rows_of.setdefault(members[0], []).append(row)
    groups: dict[int, tuple[list[int], list[int]]] = {}
    for c in parent:
        groups.setdefault(root(c), ([], []))[0].append(c)
    for first, rows in rows_of.items():
        groups[root(first)][1].extend(rows)
    return list(groups.values())


class _ComponentLP:
    """The attacker's linear program over one group of hidden cells: each hidden cell between
    its bounds, every relation touching them with the published cells as constants."""

    def __init__(self, model: _Model, values: np.ndarray, free: np.ndarray, cells: list[int], rows: list[int],
                 low: np.ndarray, high: np.ndarray):
        """`values` of the cells that are not `free` are constants; `cells` (free) between
        `low` and `high`."""
        self.model, self.cells, self.rows = model, cells, rows
        self.low, self.high = low, high
        self.column = {c: j for j, c in enumerate(cells)}
        if rows:
            block = model.matrix[rows]
            self.rhs = -(block[:, ~free] @ values[~free])
            self.a_eq = block[:, cells]
            self.bounds = list(zip(low[cells], high[cells]))

    def extremes(self, target: int) -> list[tuple[float, np.ndarray | None]]:
        """[(min, multipliers), (max, multipliers)] of cell `target`; the multipliers of the
        relations (HiGHS's duals) make a cut."""
        if not self.rows:
            return [(float(self.low[target]), None), (float(self.high[target]), None)]
        answers = []
        for sign in (1.0, -1.0):  # minimise x, then minimise -x
            objective = np.zeros(len(self.cells))
            objective[self.column[target]] = sign
            result = linprog(objective, A_eq=self.a_eq, b_eq=self.rhs, bounds=self.bounds, method="highs")
            if result.status == 3:  # unbounded: no upper bound
                answers.append((np.inf, None))
            elif result.status == 2:  # what is published contradicts the relations
                answers.append((np.nan, None))
            elif result.status != 0:
                raise DisclosureError(f"the attacker's LP for {self.model.keys[target]} failed: {result.message}")
            else:
                answers.append((sign * result.fun, np.asarray(result.eqlin.marginals, dtype=float)))
        return answers


def _component_lps(model: _Model, state: np.ndarray) -> list[_ComponentLP]:
    """The attacker's LPs, in values, for cells in `state` (0 published, 1 `<5`, 2 hidden)."""
    low, high = _cell_bounds(model.values, state)
    free = state != 0
    return [_ComponentLP(model, model.values, free, cells, rows, low, high) for cells, rows in _components(model, free)]


# ------------------------------------------------------------------ secondary suppression

def _slack(values, state_if, direction_up: bool):
    """How far each cell can move up (or down) in a given state."""
    low, high = _cell_bounds(values, state_if)
    return (high - values) if direction_up else (values - low)


def _cut(model: _Model, target: int, up: bool, need: float, multipliers: np.ndarray,
         rows: list[int], choosable: np.ndarray) -> tuple[sparse.csr_matrix, float] | None:
    """The necessary condition that multipliers on relations `rows` give for moving `target` by
    `need` (up or down): sum over cells of min(need, slack x |reduced cost|) >= need, where each
    cell's slack depends on whether it is hidden. As (coefficients on the binaries, right-hand
    side after the constants)."""
    direction = 1.0 if up else -1.0
    reduced = np.zeros(len(model.values))
    reduced[target] = direction
    reduced -= model.matrix[rows].T @ multipliers
    reduced[np.abs(reduced) < 1e-9] = 0.0
    # A cell's state if left as it is (published, `<5`; unpublished cells are hidden anyway)
    # and if hidden as `x`.
    as_is = np.where(~model.shown, 2, np.where(model.sensitive, 1, 0))
    terms = {}
    for hidden, state in ((False, as_is), (True, np.full(len(as_is), 2))):
        rising, falling = _slack(model.values, state, True), _slack(model.values, state, False)
        with np.errstate(invalid="ignore"):
            reach = np.where(reduced > 0, rising * reduced, 0.0) + np.where(reduced < 0, falling * -reduced, 0.0)
        # No single cell needs to count for more than the whole move (coefficient tightening).
        terms[hidden] = np.minimum(np.nan_to_num(reach, nan=0.0, posinf=need), need)
    coefficients = np.where(choosable, terms[True] - terms[False], 0.0)
    rhs = need - float(terms[False].sum())
    if rhs <= TOLERANCE:
        return None  # satisfied whatever is hidden: no condition
    return sparse.csr_matrix(coefficients), rhs


def protect_release(tables: Sequence[TableCells], unpublished: Mapping[str, float] | None = None,
                    extra_relations: Sequence[KeyRelation] = (),
                    time_limit: float = DEFAULT_TIME_LIMIT) -> Release:
    """Primary (`<5`) and optimal secondary (`x`) suppression of all `tables` together."""
    started = time.perf_counter()
    model, key_relations = _release_cells(tables, dict(unpublished or {}), extra_relations)
    sensitive = model.sensitive
    choosable = model.shown.copy()          # a binary per published cell: hide it (`x`)
    weights = np.where(sensitive, 1.0, (model.values + 1.0))
    totals_of = np.zeros(len(model.values))
    for total, _ in model.relations:
        totals_of[total] += 1
    weights = np.where(sensitive, weights, weights * (1.0 + totals_of))
    relations_of: dict[int, list[int]] = {}
    for row, (total, parts) in enumerate(model.relations):
        for c in (total, *parts):
            relations_of.setdefault(c, []).append(row)

    cuts: list[tuple[sparse.csr_matrix, float]] = []  # (coefficients, right-hand side): coefficients @ hide >= rhs
    for s in np.flatnonzero(sensitive):
        for up, need in ((True, SMALL_MAX - model.values[s]), (False, model.values[s] - SMALL_MIN)):
            if need <= 0:
                continue
            for row in relations_of.get(int(s), []):
                coefficient = model.matrix[row, s]
                cut = _cut(model, int(s), up, need, np.array([(1.0 if up else -1.0) / coefficient]), [row],
                           choosable)
                if cut is not None:
                    cuts.append(cut)

    hide = np.zeros(len(model.values), dtype=bool)  # hiding nothing, while no condition asks more
    iterations, proven, objective = 0, True, 0.0
    while True:
        if cuts:
            if time.perf_counter() - started >= time_limit:
                hide, outcome = _fallback(model, hide, sensitive), "time limit: fallback"
                break
            # Cuts at the LP relaxation's fractional answers first: cheap LPs that find most
            # of the cuts the MILP would otherwise meet one solve at a time.
            cuts += _relaxation_cuts(model, weights, cuts, sensitive, choosable, started + time_limit / 2)
            remaining = time_limit - (time.perf_counter() - started)
            iterations += 1
            result = milp(weights, integrality=np.ones(len(weights)), bounds=Bounds(0, choosable.astype(float)),
                          constraints=LinearConstraint(sparse.vstack([c for c, _ in cuts]),
                                                       lb=[r for _, r in cuts], ub=np.inf),
                          options={"time_limit": max(remaining, 1.0), "mip_rel_gap": 0.0})
            if result.x is None:  # no answer in the time left
                hide, outcome = _fallback(model, hide, sensitive), "time limit: fallback"
                break
            hide = np.round(result.x).astype(bool) & choosable
            objective, proven = float(result.fun), result.status == 0
        new_cuts = _separate(model, hide, sensitive, choosable)  # the attacker, always
        if not new_cuts:
            outcome = "optimal" if proven else "protected; time limit before proven optimal"
            break
        cuts += new_cuts
    hide = _publish_determined(model, hide)
    solver = SolverReport(round(time.perf_counter() - started, 3), iterations, len(cuts), outcome, objective)
    return Release(_shown_tables(tables, model, hide), key_relations,
                   {k: float(v) for k, v, shown in zip(model.keys, model.values, model.shown) if not shown}, solver)


def _relaxation_cuts(model, weights, cuts, sensitive, choosable, deadline: float) -> list:
    """Rounds of: solve the LP relaxation, add the cuts its fractional answer violates."""
    added: list = []
    while time.perf_counter() < deadline:
        everything = cuts + added
        relaxed = linprog(weights, A_ub=-sparse.vstack([c for c, _ in everything]),
                          b_ub=-np.array([r for _, r in everything]),
                          bounds=np.column_stack([np.zeros(len(weights)), choosable]), method="highs")
        if relaxed.status != 0:
            break
        new_cuts = _separate_fractional(model, relaxed.x, sensitive, choosable)
        if not new_cuts:
            break
        added += new_cuts
    return added


def _state(model: _Model, hide: np.ndarray) -> np.ndarray:
    state = np.where(model.sensitive, 1, 0)
    return np.where(hide | ~model.shown, 2, state)


def _separate(model: _Model, hide: np.ndarray, sensitive: np.ndarray, choosable: np.ndarray):
    """The attacker's LP for every small cell; a cut for each direction it is narrowed in."""
    cuts = []
    for lp in _component_lps(model, _state(model, hide)):
        for s in lp.cells:
            if not sensitive[s]:
                continue
            (minimum, low_duals), (maximum, high_duals) = lp.extremes(s)
            for up, reached, duals in ((True, maximum, high_duals), (False, minimum, low_duals)):
                edge = SMALL_MAX if up else SMALL_MIN
                if (reached < edge - TOLERANCE) if up else (reached > edge + TOLERANCE):
                    need = abs(edge - model.values[s])
                    cuts.append(_dual_cut(model, s, up, need, duals, lp.rows, choosable, hide.astype(float))
                                or _plain_cut(model, lp.rows, choosable, hide))
    return cuts


def _separate_fractional(model: _Model, hide: np.ndarray, sensitive: np.ndarray, choosable: np.ndarray):
    """Cuts violated by a fractional answer of the LP relaxation: the attacker's LP in moves
    from the true values, each cell's slack a mix of its slack shown and hidden (an unbounded
    slack counted as the largest move any small cell needs, as in the cuts)."""
    as_is = np.where(~model.shown, 2, np.where(sensitive, 1, 0))
    hidden = np.full(len(as_is), 2)
    widest = float(SMALL_MAX - SMALL_MIN)
    up = [np.minimum(_slack(model.values, state, True), widest) for state in (as_is, hidden)]
    down = [np.minimum(_slack(model.values, state, False), widest) for state in (as_is, hidden)]
    share = np.where(choosable, hide, 0.0)
    high = up[0] + share * (up[1] - up[0])
    low = -(down[0] + share * (down[1] - down[0]))
    free = (high > TOLERANCE) | (low < -TOLERANCE)
    cuts = []
    for cells, rows in _components(model, free):
        lp = _ComponentLP(model, np.zeros(len(as_is)), free, cells, rows, low, high)
        for s in cells:
            if not sensitive[s]:
                continue
            (most_down, low_duals), (most_up, high_duals) = lp.extremes(s)
            for is_up, reached, duals, need in ((True, most_up, high_duals, SMALL_MAX - model.values[s]),
                                                (False, -most_down, low_duals, model.values[s] - SMALL_MIN)):
                if need > 0 and reached < need - TOLERANCE:
                    cut = _dual_cut(model, s, is_up, need, duals, rows, choosable, share)
                    if cut is not None:
                        cuts.append(cut)
    return cuts


def _dual_cut(model, s, up, need, duals, rows, choosable, point):
    """The cut of the narrowing LP's multipliers: valid whatever they are (weak duality), and
    violated at `point` (the current choice) with the LP's optimal ones. The sign convention
    of a solver's duals is easy to get wrong: both signs are tried."""
    if duals is not None:
        for multipliers in (-duals, duals):
            cut = _cut(model, s, up, need, multipliers, rows, choosable)
            if cut is not None and float((cut[0] @ point)[0]) < cut[1] - TOLERANCE:
                return cut
    return None


def _plain_cut(model, rows, choosable, hide):
    """One more cell of the relations around the narrowed cell hidden (the last resort)."""
    near = np.zeros(len(model.values), dtype=bool)
    for row in rows:
        total, parts = model.relations[row]
        near[[total, *parts]] = True
    return sparse.csr_matrix(np.where(near & choosable & ~hide, 1.0, 0.0)), 1.0


def _fallback(model: _Model, hide: np.ndarray, sensitive: np.ndarray) -> np.ndarray:
    """Hide every cell related, directly or not, to a small cell: all intervals become [0, inf)."""
    everything = np.ones(len(model.values), dtype=bool)
    linked = np.zeros(len(model.values), dtype=bool)
    for cells, _ in _components(model, everything):
        if sensitive[cells].any() and len(cells) > 1:
            linked[cells] = True
    return (hide | linked) & model.shown


def _publish_determined(model: _Model, hide: np.ndarray) -> np.ndarray:
    """A hidden cell whose value the published cells determine hides nothing: publishing it
    leaves the attacker's feasible set as it is. (An optimal answer has none; a fallback may.)"""
    hide = hide.copy()
    for lp in _component_lps(model, _state(model, hide)):
        for c in lp.cells:
            if hide[c] and not model.sensitive[c]:
                (minimum, _), (maximum, _) = lp.extremes(c)
                if maximum - minimum < TOLERANCE:
                    hide[c] = False
    return hide


def _shown_tables(tables: Sequence[TableCells], model: _Model, hide: np.ndarray) -> list[ProtectedTable]:
    index = {k: i for i, k in enumerate(model.keys)}
    protected = []
    for table in tables:
        frame = table.frame.copy()
        status, display = [], []
        for key, count in zip(frame["key"], frame["count"].astype("float64")):
            if np.isnan(count):
                status.append("missing"), display.append("")
                continue
            i = index[key]
            if hide[i]:
                status.append("secondary"), display.append(SECONDARY_LABEL)
            elif model.sensitive[i]:
                status.append("primary"), display.append(SMALL_LABEL)
            else:
                status.append("published"), display.append(_text(count))
        frame["display"], frame["status"] = display, status
        protected.append(ProtectedTable(table.name, frame, list(table.relations)))
    return protected


def _text(value) -> str:
    return "" if value is None or (isinstance(value, float) and np.isnan(value)) else str(int(value))


# ------------------------------------------------------------------ the audit

def audit_release(release: Release) -> pd.DataFrame:
    """Every suppressed cell's feasible interval over the attacker's LP of the whole release,
    from the published displays and relations only. A row per suppressed cell key: its tables,
    what is shown, `low`, `high` (inf: no upper bound), `sensitive` (shown `<5`, or hidden with
    a count of 1 to 4: the exact counts tell which rule applies, never the interval), and
    `exposed` (the reason it fails, or "")."""
    shown_as: dict[str, str] = {}
    tables_of: dict[str, list[str]] = {}
    exact: dict[str, float] = {}
    for table in release.tables:
        for key, display, count in zip(table.frame["key"], table.frame["display"], table.frame["count"]):
            display = str(display)
            if display == "":
                continue
            tables_of.setdefault(key, []).append(table.name)
            exact[key] = float(count)
            before = shown_as.get(key)
            # The attacker takes the most telling display of a cell shown in several tables.
            if before is None or _rank(display) < _rank(before):
                shown_as[key] = display
    for key in release.unpublished:
        shown_as.setdefault(key, SECONDARY_LABEL)
    keys = list(shown_as)
    index = {k: i for i, k in enumerate(keys)}
    relations = [(index[t], [index[p] for p in ps]) for t, ps in release.relations
                 if t in index and all(p in index for p in ps)]
    state = np.array([0 if _rank(shown_as[k]) == 0 else 1 if shown_as[k] == SMALL_LABEL else 2 for k in keys])
    published = np.array([float(shown_as[k].replace(",", "")) if s == 0 else 0.0 for k, s in zip(keys, state)])
    model = _Model(keys, published, np.ones(len(keys), dtype=bool), relations,
                   _relation_matrix(relations, len(keys)))
    unpublished = set(release.unpublished)
    rows = []
    for lp in _component_lps(model, state):
        for c in lp.cells:
            if keys[c] not in unpublished:
                (minimum, _), (maximum, _) = lp.extremes(c)
                rows.append((keys[c], minimum, maximum))
    small_shown = [(k, s) for k, s in shown_as.items() if _rank(s) == 0
                   and SMALL_MIN <= float(s.replace(",", "")) <= SMALL_MAX]
    frame = pd.DataFrame(rows, columns=["key", "low", "high"])
    frame = pd.concat([frame, pd.DataFrame([(k, float(s), float(s)) for k, s in small_shown],
                                           columns=["key", "low", "high"])], ignore_index=True)
    frame.insert(1, "tables", [", ".join(dict.fromkeys(tables_of[k])) for k in frame["key"]])
    frame.insert(2, "shown", [shown_as[k] for k in frame["key"]])
    # `<5` means 1 to 4 whatever the count column says (a published export's `<5` has none).
    frame["sensitive"] = [shown_as[k] == SMALL_LABEL or SMALL_MIN <= exact[k] <= SMALL_MAX for k in frame["key"]]
    frame["exposed"] = [_exposure(row) for row in frame.itertuples(index=False)]
    frame = frame.astype({"key": str, "tables": str, "shown": str, "low": float, "high": float,
                          "sensitive": bool, "exposed": str})  # typed even when empty
    return frame.sort_values(["exposed", "key"], ascending=[False, True], ignore_index=True)


def _rank(display: str) -> int:
    """0 a number, 1 `<5`, 2 `x`: lower tells the attacker more."""
    return 1 if display == SMALL_LABEL else 2 if display == SECONDARY_LABEL else 0


def _exposure(row) -> str:
    if _rank(row.shown) == 0:
        return "a count of 1 to 4 is shown"
    if np.isnan(row.low) or np.isnan(row.high):
        return "the published figures contradict the relations"
    if row.high != np.inf and math.ceil(row.low - TOLERANCE) >= math.floor(row.high + TOLERANCE):
        return f"determined: {math.ceil(row.low - TOLERANCE)}"
    if row.sensitive and (row.low > SMALL_MIN + TOLERANCE or row.high < SMALL_MAX - TOLERANCE):
        return f"narrowed to [{row.low:g}, {row.high:g}], inside [1, 4]"
    return ""


def check_audit(audit: pd.DataFrame) -> None:
    """Fail the release (DisclosureError) if any cell of the audit is exposed."""
    exposed = audit[audit["exposed"] != ""]
    if len(exposed):
        first = exposed.iloc[0]
        raise DisclosureError(f"{len(exposed)} suppressed cells are exposed, e.g. {first['key']} "
                              f"({first['tables']}): {first['exposed']}")


def audit_summary(audit: pd.DataFrame, solver: SolverReport | None) -> dict:
    """The audit's figures, for the pack's index page and audit file. Published: nothing here
    tells which `x` hides a small count (the `sensitive` column stays internal)."""
    summary = {"suppressed_cells": int(len(audit)), "shown_small": int((audit["shown"] == SMALL_LABEL).sum()),
               "shown_x": int((audit["shown"] == SECONDARY_LABEL).sum()),
               "exposed": int((audit["exposed"] != "").sum())}
    if solver is not None:
        summary["solver"] = {"seconds": solver.seconds, "iterations": solver.iterations, "cuts": solver.cuts,
                             "outcome": solver.outcome}
    return summary


# ------------------------------------------------------------------ two passes over table builders

class ReleaseDraft:
    """The first pass over a release's table builders: collects each table's cells (`table`
    returns a provisional protection, primary only, never published); `protect` then solves
    the release, whose own `table` serves the second pass."""

    def __init__(self) -> None:
        self.tables: list[TableCells] = []

    def table(self, name: str, frame: pd.DataFrame, relations: list[Relation]) -> ProtectedTable:
        self.tables.append(TableCells(name, frame.reset_index(drop=True), list(relations)))
        provisional = frame.reset_index(drop=True).copy()
        counts = provisional["count"].astype("float64")
        provisional["status"] = np.where(counts.between(SMALL_MIN, SMALL_MAX), "primary", "published")
        provisional["display"] = [SMALL_LABEL if s == "primary" else _text(c) for c, s in zip(counts, provisional["status"])]
        return ProtectedTable(name, provisional, list(relations))

    def protect(self, unpublished: Mapping[str, float] | None = None, extra_relations: Sequence[KeyRelation] = (),
                time_limit: float = DEFAULT_TIME_LIMIT) -> Release:
        return protect_release(self.tables, unpublished, extra_relations, time_limit)


def release_table(release: Release, name: str, frame: pd.DataFrame, relations: list[Relation]) -> ProtectedTable:
    """The second pass: the protected table `name`, checked to hold the cells that were solved."""
    protected = release.table(name)
    frame = frame.reset_index(drop=True)
    same = (list(frame["key"]) == list(protected.frame["key"])
            and np.allclose(frame["count"].astype("float64"), protected.frame["count"].astype("float64"), equal_nan=True)
            and [(t, list(ps)) for t, ps in relations] == [(t, list(ps)) for t, ps in protected.relations])
    if not same:
        raise ValueError(f"{name}: the table differs from the one protected")
    return protected


def primary_display(counts: Iterable[float]) -> list[str]:
    """UNODC's own rule alone: 1-4 shown as `<5`, everything else as is."""
    return [SMALL_LABEL if SMALL_MIN <= c <= SMALL_MAX else _text(c) for c in counts]


def published_number(text):
    """A published cell as a number again; `<5` and `x` stay text, an empty cell is None."""
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    text = str(text)
    if text in (SMALL_LABEL, SECONDARY_LABEL) or text == "":
        return text or None
    return int(float(text))


def published_values(series: pd.Series) -> pd.Series:
    """The numbers of a published column; hidden cells (`<5`, `x`) and empty ones are NaN."""
    return pd.to_numeric(series.where(series.map(lambda v: isinstance(v, (int, float, np.integer)))), errors="coerce")
