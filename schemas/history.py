"""Rules against history: a submission's figures next to those the warehouse already holds.

The warehouse hands over what it holds for the submitting country as one plain DataFrame
(`warehouse.history.held_figures`): one row per held cell, with the columns `table`, `year`,
the breakdown columns of that table, `count` and `submission_id`. Nothing here reads the
warehouse; the flow (or `glotip validate --db`) passes the frame in.

Two warnings ask the submitter to confirm a figure; both show both numbers:
- `differs-from-history`: a cell far from the figure held for the same year and breakdown;
- `jump-in-series`: a table's grand total far from the previous year's (submitted or held).
A resubmission also gets the list of what changed against the data it replaces, and two
more checks on the whole of it:
- `replaces-most-figures`: it differs from the figures held in most of the cells both have
  (a workbook marked with another country's code, say). It is held for the data team's
  confirmation (`glotip release` / `glotip reject`) instead of replacing them (`hold`).
- `year-without-rows`: its reporting period covers a year held for the country, but it has no
  rows for that year: once loaded, that year has no current figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from schemas import codelists as cl
from schemas.findings import LINE, Finding, TableFrame, make_finding
from schemas.tables import FACT_TABLES, TABLES

HISTORY_TABLES = ("victims", "offenders", "repatriated")  # tables with one count per breakdown
# "Far": at least this many persons apart AND at least this ratio apart (either way).
FAR_MIN_DIFFERENCE = 10
FAR_RATIO = 2.0
JUMP_MIN_DIFFERENCE = 20
JUMP_RATIO = 3.0
SUPPRESSED_TEXT = "<5"  # how a held published value below 5 is shown among the changes
# Held for confirmation: at least this many cells in common with the figures held, and more
# than this share of them different. A correction changes a few cells; a file of another
# country, or of another table layout, changes nearly all of them.
HOLD_MIN_COMPARABLE = 10
HOLD_SHARE = 0.5


@dataclass
class Change:
    table: str
    year: int
    breakdown: dict[str, str]  # column -> code, the table's key without the year
    kind: str  # added, removed, changed
    old: int | str | None  # `<5`: a published value below 5
    new: int | None
    held_from: str | None  # the submission the old figure came from
    line: int | None = None  # where the new figure is in the submitter's file

    def to_dict(self) -> dict:
        return {"table": self.table, "year": self.year, "breakdown": self.breakdown,
                "kind": self.kind, "old": self.old, "new": self.new,
                "held_from": self.held_from, "line": self.line}


@dataclass
class HistoryCheck:
    findings: list[Finding] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    compared_with: list[str] = field(default_factory=list)  # submissions whose figures were held
    comparable: int = 0  # cells (year and breakdown) both submitted and held with exact counts
    differing: int = 0  # of those, the cells whose counts differ
    hold: bool = False  # replaces most of the figures held: load only once the data team confirms


CHANGE_KINDS = ("changed", "added", "removed")


def change_counts(changes: Iterable[Change | dict]) -> dict[str, int]:
    """How many cells a submission changes, adds and removes against the figures held: the
    counts of the report's table of changes and of the ingest summary, from the same list."""
    kinds = [c["kind"] if isinstance(c, dict) else c.kind for c in changes]
    return {kind: kinds.count(kind) for kind in CHANGE_KINDS}


def breakdown_columns(table: str) -> list[str]:
    return [c for c in TABLES[table].key if c != "year"]


def check_against_history(
    tables: dict[str, pd.DataFrame],
    frames: dict[str, TableFrame],
    history: pd.DataFrame | None,
    existing: list[Finding],
    year_from: int | None = None,
    year_to: int | None = None,
) -> HistoryCheck:
    """Findings and changes for typed submitted `tables` against the `history` frame."""
    check = HistoryCheck()
    if history is None or history.empty:
        return check
    taken = {(f.table, f.line, f.column) for f in existing if f.line is not None}
    bad_lines = {(f.table, f.line) for f in existing if f.severity == "error" and f.line}
    held_years: dict[int, set[str]] = {}  # year in the period -> submissions holding figures
    for table in HISTORY_TABLES:
        columns = breakdown_columns(table)
        submitted = tables.get(table)
        held = history[history["table"] == table]
        if held.empty and (submitted is None or submitted.empty):
            continue
        if submitted is None:  # a table left out this time: its held figures are replaced too
            submitted = pd.DataFrame({c: pd.Series(dtype="object") for c in ["year", *columns, "count", LINE]})
        if not {"year", *columns, "count"} <= set(submitted.columns):
            continue  # a required column is missing: the table has its error, nothing to compare
        held = held.dropna(subset=["year"]).astype({"year": "int64"})
        held = held.drop_duplicates(["year", *columns])
        # a published `<5` has no exact count: listed among the changes, never compared
        suppressed = held[held["count"].isna()][["year", *columns, "submission_id"]]
        held = held[held["count"].notna()][["year", *columns, "count", "submission_id"]]
        held = held.astype({"count": "int64"})
        new = submitted[submitted["count"].notna()][["year", *columns, "count", LINE]]
        new = new[new["year"].notna()].astype({"year": "int64", "count": "int64"})
        new = new.rename(columns={LINE: "line"})
        frame = frames.get(table)
        for finding in _far_from_held(table, frame, new, held, columns, taken, bad_lines):
            taken.add((finding.table, finding.line, finding.column))
            check.findings.append(finding)
        for finding in _jumps(table, frame, new, held, columns, taken, bad_lines):
            taken.add((finding.table, finding.line, finding.column))
            check.findings.append(finding)
        years = set(new["year"])
        if year_from is not None and year_to is not None:
            years |= set(range(int(year_from), int(year_to) + 1))
        lines_in_error = [line for name, line in bad_lines if name == table]
        valid = new[~new["line"].isin(lines_in_error)]  # rows in error are not data
        in_common = valid.merge(held[held["year"].isin(years)], on=["year", *columns],
                                suffixes=("", "_held"))
        check.comparable += len(in_common)
        check.differing += int((in_common["count"] != in_common["count_held"]).sum())
        for year, group in pd.concat([held, suppressed]).groupby("year")["submission_id"]:
            if int(year) in years:
                held_years.setdefault(int(year), set()).update(group)
        check.changes.extend(_changes(table, valid, held[held["year"].isin(years)], columns,
                                      suppressed[suppressed["year"].isin(years)]))
        check.compared_with.extend(held[held["year"].isin(years)]["submission_id"].unique())
        check.compared_with.extend(suppressed[suppressed["year"].isin(years)]["submission_id"].unique())
    check.compared_with = sorted(set(check.compared_with))
    check.findings.extend(_years_without_rows(tables, held_years, year_from, year_to))
    if check.comparable >= HOLD_MIN_COMPARABLE and check.differing > HOLD_SHARE * check.comparable:
        check.hold = True
        check.findings.append(make_finding(
            "replaces-most-figures", differing=check.differing, comparable=check.comparable,
            held_from=check.compared_with))
    return check


def _years_without_rows(tables: dict[str, pd.DataFrame], held_years: dict[int, set[str]],
                        year_from: int | None, year_to: int | None) -> list[Finding]:
    """A year of the reporting period held for the country, for which no table has a row."""
    if year_from is None or year_to is None:
        return []
    submitted = set()
    for name, frame in tables.items():
        if name in FACT_TABLES and "year" in frame.columns:
            submitted |= {int(year) for year in frame["year"].dropna().unique()}
    return [make_finding("year-without-rows", table="submission", column="year_from", year=year,
                         year_from=year_from, year_to=year_to, held_from=sorted(held_years[year]))
            for year in range(int(year_from), int(year_to) + 1)
            if year in held_years and year not in submitted]


def _far_from_held(table, frame, new, held, columns, taken, bad_lines) -> list[Finding]:
    joined = new.merge(held, on=["year", *columns], suffixes=("", "_held"))
    findings = []
    for row in joined.to_dict("records"):
        line = int(row["line"])
        if (table, line, "count") in taken or (table, line) in bad_lines:
            continue
        value, previous = int(row["count"]), int(row["count_held"])
        if _far(value, previous, FAR_MIN_DIFFERENCE, FAR_RATIO):
            findings.append(make_finding(
                "differs-from-history", frame=frame, table=table, line=line, column="count",
                value=value, previous=previous, year=int(row["year"]),
                held_from=row["submission_id"]))
    return findings


def _grand_totals(rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Rows where every dimension is `total` (offenders keep one series per stage)."""
    dims = [c for c in columns if c != "stage"]
    mask = pd.Series(True, index=rows.index)
    for column in dims:
        mask &= rows[column] == cl.TOTAL
    return rows[mask]


def _jumps(table, frame, new, held, columns, taken, bad_lines) -> list[Finding]:
    series_key = [c for c in columns if c == "stage"]
    submitted_totals = _grand_totals(new, columns)
    held_totals = _grand_totals(held, columns)
    findings = []
    for row in submitted_totals.to_dict("records"):
        line = int(row["line"])
        if (table, line, "count") in taken or (table, line) in bad_lines:
            continue
        key = {c: row[c] for c in series_key}
        previous_year = int(row["year"]) - 1
        previous = _value_for(submitted_totals, previous_year, key)
        if previous is None:
            previous = _value_for(held_totals, previous_year, key)
        if previous is None:
            continue
        value = int(row["count"])
        if _far(value, previous, JUMP_MIN_DIFFERENCE, JUMP_RATIO):
            change = (value - previous) / previous if previous else None  # None: from zero
            findings.append(make_finding(
                "jump-in-series", frame=frame, table=table, line=line, column="count",
                value=value, year=int(row["year"]), previous=previous,
                previous_year=previous_year, change=change))
    return findings


def _value_for(totals: pd.DataFrame, year: int, key: dict) -> int | None:
    match = totals[totals["year"] == year]
    for column, code in key.items():
        match = match[match[column] == code]
    return int(match["count"].iloc[0]) if len(match) else None


def _missing(value) -> bool:
    return value is None or (not isinstance(value, str) and pd.isna(value))


def _far(value: int, previous: int, min_difference: int, ratio: float) -> bool:
    if abs(value - previous) < min_difference:
        return False
    low, high = sorted((value, previous))
    return low == 0 or high / low >= ratio


def _changes(table, new, held, columns, suppressed=None) -> list[Change]:
    """Cells added, removed and changed, against the held figures of the same years (a held
    published `<5` shows as the old value `<5`)."""
    key = ["year", *columns]
    if suppressed is not None and not suppressed.empty:
        held = pd.concat([held.astype({"count": "object"}), suppressed.assign(count=SUPPRESSED_TEXT)],
                         ignore_index=True)
    merged = new.merge(held, on=key, how="outer", suffixes=("", "_held"), indicator="side")
    changes = []
    for row in merged.to_dict("records"):
        breakdown = {c: str(row[c]) for c in columns}
        held_count = row["count_held"]
        old = None if _missing(held_count) else held_count if held_count == SUPPRESSED_TEXT else int(held_count)
        value = None if pd.isna(row["count"]) else int(row["count"])
        line = None if pd.isna(row["line"]) else int(row["line"])
        held_from = None if pd.isna(row["submission_id"]) else str(row["submission_id"])
        if row["side"] == "left_only":
            kind = "added"
        elif row["side"] == "right_only":
            kind = "removed"
        elif old != value:
            kind = "changed"
        else:
            continue
        changes.append(Change(table, int(row["year"]), breakdown, kind, old, value, held_from, line))
    order = {"changed": 0, "added": 1, "removed": 2}
    changes.sort(key=lambda c: (order[c.kind], c.table, c.year, list(c.breakdown.values())))
    return changes
