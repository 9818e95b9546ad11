"""Findings, and the frames they point into.

A `TableFrame` is one submitted table as strings, with each row's physical line in the
submitter's file and each column's position, so that a finding can point at `victims!F12` or at
`victims.csv`, line 12, column 6, exactly as the submitter sees it.

A `Finding` is data, never prose: the rule's code, where it points (a `Location`), the cell's
text as submitted, and the rule's parameters (codes, column keys, numbers). Every language,
English included, is rendered from the catalogue when a report is written
(`schemas.messages`).
"""

from __future__ import annotations

import string
from collections import Counter
from dataclasses import dataclass, field, replace
from numbers import Number
from typing import Any

import pandas as pd

from schemas.catalogue import ERROR, WARNING, rule
from schemas.personal_data import holds_personal_data

LINE = "_line"  # the column of a frame that holds each row's physical line (1-based, header counted)

SHEET, CSV = "sheet", "csv"  # the kinds of file a table is read from


@dataclass
class TableFrame:
    table: str
    source: str  # sheet name (Excel) or file name (CSV) as the submitter named it
    kind: str  # SHEET or CSV
    data: pd.DataFrame  # canonical column names, string values, plus LINE
    column_positions: dict[str, int] = field(default_factory=dict)  # 1-based column index
    header_labels: dict[str, str] = field(default_factory=dict)  # canonical -> as written
    header_line: int = 1

    def location(self, line: int | None = None, column: str | None = None) -> Location:
        return Location(table=self.table, source=self.source, kind=self.kind, line=line,
                        column=column, position=self.column_positions.get(column) if column else None)


def column_letter(position: int) -> str:
    """1 -> A, 27 -> AA (Excel's column names)."""
    letters = ""
    while position > 0:
        position, remainder = divmod(position - 1, 26)
        letters = string.ascii_uppercase[remainder] + letters
    return letters


@dataclass(frozen=True)
class Location:
    """Where a finding points, as data; rendered per language and file kind by schemas.messages."""

    table: str | None = None  # the table's key (`victims`), or None for the file as a whole
    source: str | None = None  # the sheet or file as the submitter named it
    kind: str | None = None  # SHEET or CSV; None when the finding is about the whole file
    line: int | None = None  # physical line, 1-based, header counted
    column: str | None = None  # the column's key, or the header as written when not a known column
    position: int | None = None  # the column's 1-based position in the sheet or file

    @property
    def cell(self) -> str | None:
        """The Excel reference (`F12`) of a cell of a sheet; None for CSV files."""
        if self.kind != SHEET or not self.position or not self.line:
            return None
        return f"{column_letter(self.position)}{self.line}"


@dataclass
class Finding:
    rule: str
    severity: str
    location: Location
    value: str | None = None  # the cell's text as submitted
    params: dict[str, Any] = field(default_factory=dict)  # codes, keys and numbers, JSON-ready

    # the location's parts, read everywhere findings are sorted, grouped or matched to cells
    @property
    def table(self) -> str | None:
        return self.location.table

    @property
    def source(self) -> str | None:
        return self.location.source

    @property
    def line(self) -> int | None:
        return self.location.line

    @property
    def column(self) -> str | None:
        return self.location.column

    @property
    def cell(self) -> str | None:
        return self.location.cell

    def to_dict(self) -> dict[str, Any]:
        """The finding as data (report.json, the warehouse)."""
        where = self.location
        return {"rule": self.rule, "severity": self.severity, "table": where.table,
                "source": where.source, "file_kind": where.kind, "line": where.line,
                "column": where.column, "column_position": where.position, "cell": where.cell,
                "value": self.value, "params": self.params}

    @classmethod
    def from_dict(cls, record: dict[str, Any]) -> Finding:
        """The inverse of `to_dict` (findings read back from the warehouse)."""
        location = Location(table=record.get("table"), source=record.get("source"),
                            kind=record.get("file_kind"), line=_int(record.get("line")),
                            column=record.get("column"), position=_int(record.get("column_position")))
        return cls(record["rule"], record["severity"], location, record.get("value"),
                   dict(record.get("params") or {}))


def _int(value: Any) -> int | None:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else int(value)


def make_finding(
    code: str,
    *,
    frame: TableFrame | None = None,
    table: str | None = None,
    line: int | None = None,
    column: str | None = None,
    value: Any = None,
    **params: Any,
) -> Finding:
    """A finding of catalogue rule `code`, pointing at a cell of `frame` when given.

    `params` fill the rule's message: codes, column keys, numbers, lists and mappings of them,
    never text already written for a reader.

    Every finding passes here, so here nothing that holds personal data is kept to be echoed
    (reports, report.json, validation_findings, logs, the annotated workbook): a submitted
    text (`value`, a text parameter) that the screen of `schemas.personal_data` flags is
    dropped and the finding marked `withheld`, whatever the rule.
    """
    entry = rule(code)
    text_value = None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    params = {key: plain(item) for key, item in params.items()}
    withheld = bool(params.get("withheld"))
    if text_value is not None and not isinstance(value, Number) and holds_personal_data(text_value):
        text_value, withheld = None, True
    for key, item in params.items():
        if _holds_personal_data(item):
            params[key], withheld = None, True
    if frame is not None:
        location = frame.location(line, column)
        headers = _headers_named(frame, column, params)
        if headers:
            params["headers"] = headers
    else:  # a table or the file as a whole, not one of its cells
        location = Location(table=table, source=table, line=line, column=column)
    if withheld:
        params["withheld"] = True
        if column is not None and column == value:  # a header as written (`unknown-column`)
            location = replace(location, column=None)
    return Finding(rule=code, severity=entry.severity, location=location, value=text_value,
                   params=params)


def _headers_named(frame: TableFrame, column: str | None, params: dict[str, Any]) -> dict[str, str]:
    """{column key: its header as the submitter's sheet has it} for the columns a finding names
    (its own, and any in its parameters) whose header is not the key itself: the reports name
    them so (`schemas.messages.column_name`)."""
    named = {column} if column else set()
    for item in params.values():
        if isinstance(item, str):
            named.add(item)
        elif isinstance(item, list):
            named.update(part for part in item if isinstance(part, str))
        elif isinstance(item, dict):
            named.update(item)
    return {key: label for key, label in frame.header_labels.items()
            if key in named and label and label != key}


def _holds_personal_data(item: Any) -> bool:
    """Whether a (JSON-ready) parameter holds a text the screen flags, at any depth."""
    if isinstance(item, str):
        return holds_personal_data(item)
    if isinstance(item, dict):
        return any(_holds_personal_data(part) for part in item.values())
    if isinstance(item, list):
        return any(_holds_personal_data(part) for part in item)
    return False


def plain(item: Any) -> Any:
    """A JSON-ready copy of a parameter (numpy integers become int, and so on)."""
    if isinstance(item, (str, bool)) or item is None:
        return item
    if isinstance(item, (int, float)):
        return int(item) if isinstance(item, int) or float(item).is_integer() else float(item)
    if isinstance(item, dict):
        return {str(key): plain(value) for key, value in item.items()}
    if isinstance(item, (list, tuple, set, frozenset)):
        return [plain(part) for part in item]
    try:
        number = float(item)
    except (TypeError, ValueError):
        return str(item)
    return int(number) if number.is_integer() else number


# The finding that counts the cells of a rule beyond those listed, by the rule's severity.
MORE_FINDINGS = {ERROR: "more-errors", WARNING: "more-warnings"}


def capped(findings: list[Finding], per_rule: int) -> list[Finding]:
    """The first `per_rule` findings of each rule on each column of each table, in order, and
    for each rule with more, one `more-errors` / `more-warnings` finding at the end that counts
    the rest (`unlisted`) and names the rule (`of_rule`). Findings about no cell (a table, the
    file) are all kept. A list capped already comes back the same: its counts carry over."""
    listed: Counter = Counter()
    unlisted: Counter = Counter()
    anchors: dict[tuple, Finding] = {}
    kept = []
    for finding in findings:
        if finding.rule in MORE_FINDINGS.values():
            key = (finding.table, finding.params["of_rule"], finding.column)
            unlisted[key] += int(finding.params["unlisted"])
            anchors.setdefault(key, finding)
            continue
        if finding.line is None:
            kept.append(finding)
            continue
        key = (finding.table, finding.rule, finding.column)
        anchors.setdefault(key, finding)
        if listed[key] < per_rule:
            listed[key] += 1
            kept.append(finding)
        else:
            unlisted[key] += 1
    kept += [more_finding(anchors[key], key[1], count, listed[key]) for key, count in unlisted.items()]
    return kept


def more_finding(anchor: Finding, of_rule: str, unlisted: int, listed: int) -> Finding:
    """The finding that counts `unlisted` cells of rule `of_rule` beyond the `listed` ones, where
    `anchor` (one of them) is: the sheet or file as named, the column and its position."""
    more = make_finding(MORE_FINDINGS[rule(of_rule).severity], table=anchor.table,
                        column=anchor.column, of_rule=of_rule, unlisted=unlisted, listed=listed)
    more.location = replace(anchor.location, line=None)
    if "headers" in anchor.params:
        more.params["headers"] = anchor.params["headers"]
    return more


@dataclass
class Listing:
    """Findings made as they are found, within `per_rule` for each rule on each column of a
    table: beyond it a cell is only counted (no finding is built: a million bad cells took
    minutes and gigabytes) and remembered, so that no later rule lists it either (one finding
    per cell). One per submission, passed explicitly to the rules that can fail on many cells."""

    per_rule: int
    listed: Counter = field(default_factory=Counter)
    unlisted: Counter = field(default_factory=Counter)
    anchors: dict[tuple, Finding] = field(default_factory=dict)
    counted_cells: dict[tuple, set] = field(default_factory=dict)  # (table, column) -> lines

    def lists(self, table: str, rule_code: str, column: str, line: int) -> bool:
        """Whether to make this cell's finding; False: it is counted instead."""
        key = (table, rule_code, column)
        if self.listed[key] < self.per_rule:
            self.listed[key] += 1
            return True
        self.unlisted[key] += 1
        self.counted_cells.setdefault((table, column), set()).add(line)
        return False

    def made(self, finding: Finding) -> Finding:
        """A listed finding, remembered as where its rule's count will point."""
        self.anchors.setdefault((finding.table, finding.rule, finding.column), finding)
        return finding

    def counted(self, table: str | None, line: int | None, column: str | None) -> bool:
        """Whether the cell was counted (not listed) under a rule already."""
        lines = self.counted_cells.get((table, column))
        return lines is not None and line in lines

    def more_findings(self) -> list[Finding]:
        return [more_finding(self.anchors[key], key[1], count, self.listed[key])
                for key, count in self.unlisted.items()]


def severity_counts(findings: list[Finding]) -> tuple[int, int]:
    """(errors, warnings), the cells counted but not listed (`capped`) included."""
    errors = warnings = 0
    for finding in findings:
        count = int(finding.params["unlisted"]) if finding.rule in MORE_FINDINGS.values() else 1
        if finding.severity == ERROR:
            errors += count
        elif finding.severity == WARNING:
            warnings += count
    return errors, warnings


def outcome(findings: list[Finding]) -> str:
    severities = {f.severity for f in findings}
    if ERROR in severities:
        return "rejected"
    if WARNING in severities:
        return "accepted_with_warnings"
    return "accepted"


def counts_by_rule(findings: list[Finding]) -> list[tuple[str, str, int]]:
    """(rule, severity, count), errors first, most frequent first; the cells of a rule counted
    but not listed (`capped`) are counted with their rule."""
    counter: Counter = Counter()
    for f in findings:
        if f.rule in MORE_FINDINGS.values():
            counter[(f.params["of_rule"], f.severity)] += int(f.params["unlisted"])
        else:
            counter[(f.rule, f.severity)] += 1
    return sorted(
        ((code, severity, n) for (code, severity), n in counter.items()),
        key=lambda item: (item[1] != ERROR, -item[2], item[0]),
    )


@dataclass
class ParsedSubmission:
    """What a reader made of one submitted file: its tables, and what it could not read."""

    path: str
    file_name: str
    sha256: str
    file_format: str  # "xlsx", "csv-folder", "csv-zip", "csv", or "unknown"
    size_bytes: int
    tables: dict[str, TableFrame] = field(default_factory=dict)
    read_findings: list[Finding] = field(default_factory=list)
    cells: int = 0  # cells of a workbook's sheets (their extents), as the reader scanned them
    reader_peak_bytes: int | None = None  # peak memory of the child process that read it, if any
