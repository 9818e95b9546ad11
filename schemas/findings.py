"""Findings, and the frames they point into.

A `TableFrame` is one submitted table as strings, with each row's physical line in the
submitter's file and each column's letter (Excel) or position (CSV), so that a finding can say
`victims!F12` or `victims.csv, line 12, column 6` exactly as the submitter sees it.
"""

from __future__ import annotations

import string
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from schemas.catalogue import ERROR, WARNING, rule

LINE = "_line"  # the physical line (1-based, header counted) of a row in its sheet or file


@dataclass
class TableFrame:
    table: str
    source: str  # sheet name (Excel) or file name (CSV) as the submitter named it
    kind: str  # "sheet" or "csv"
    data: pd.DataFrame  # canonical column names, string values, plus LINE
    column_positions: dict[str, int] = field(default_factory=dict)  # 1-based column index
    header_labels: dict[str, str] = field(default_factory=dict)  # canonical -> as written
    header_line: int = 1

    def cell(self, column: str | None, line: int | None) -> str | None:
        """`F12` for a sheet; `line 12, column 6` for a CSV file."""
        position = self.column_positions.get(column) if column else None
        if self.kind == "sheet":
            letter = column_letter(position) if position else None
            if letter and line:
                return f"{letter}{line}"
            return letter or (str(line) if line else None)
        parts = []
        if line:
            parts.append(f"line {line}")
        if position:
            parts.append(f"column {position}")
        return ", ".join(parts) or None


def column_letter(position: int) -> str:
    """1 -> A, 27 -> AA (Excel's column names)."""
    letters = ""
    while position > 0:
        position, remainder = divmod(position - 1, 26)
        letters = string.ascii_uppercase[remainder] + letters
    return letters


@dataclass
class Finding:
    rule: str
    severity: str
    table: str | None
    source: str | None  # sheet or file as the submitter named it
    line: int | None
    column: str | None
    cell: str | None  # `F12`, or `line 12, column 6`
    value: str | None
    message: str
    hint: str
    # the values the message was filled with, so a report can say it again in another language
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def location(self) -> str:
        if self.source and self.cell:
            return f"{self.source}!{self.cell}" if "line" not in self.cell else f"{self.source}, {self.cell}"
        return self.source or self.table or ""

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["location"] = self.location
        return record


def make_finding(
    code: str,
    *,
    frame: TableFrame | None = None,
    table: str | None = None,
    line: int | None = None,
    column: str | None = None,
    value: Any = None,
    **details: Any,
) -> Finding:
    """Build a finding from the catalogue, pointing at a cell of `frame` when given."""
    entry = rule(code)
    table = table or (frame.table if frame else None)
    text_value = None if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    fields = {"value": text_value or "", "column": column or "", "table": table or "", **details}
    fields.setdefault("detail", "")
    fields.setdefault("limit", "")
    cell = frame.cell(column, line) if frame else None
    return Finding(
        rule=code,
        severity=entry.severity,
        table=table,
        source=frame.source if frame else table,
        line=line,
        column=column,
        cell=cell,
        value=text_value,
        message=entry.message.format_map(_Blank(fields)),
        hint=entry.hint.format_map(_Blank(fields)),
        params={key: _plain(item) for key, item in fields.items()},
    )


def _plain(item: Any) -> Any:
    """A JSON-friendly copy of a message value (numpy integers and the like become int/str)."""
    if isinstance(item, (str, int, float, bool)) or item is None:
        return item
    if isinstance(item, (list, tuple)):
        return [_plain(part) for part in item]
    try:
        return int(item) if float(item).is_integer() else str(item)
    except (TypeError, ValueError):
        return str(item)


class _Blank(dict):
    """format_map helper: a placeholder with no value renders empty, never raises."""

    def __missing__(self, key: str) -> str:
        return ""


def outcome(findings: list[Finding]) -> str:
    severities = {f.severity for f in findings}
    if ERROR in severities:
        return "rejected"
    if WARNING in severities:
        return "accepted_with_warnings"
    return "accepted"


def counts_by_rule(findings: list[Finding]) -> list[tuple[str, str, int]]:
    """(rule, severity, count), errors first, most frequent first."""
    counter = Counter((f.rule, f.severity) for f in findings)
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
