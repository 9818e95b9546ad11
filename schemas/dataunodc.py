"""The typed contracts of the published dataUNODC import, between its layers.

`transforms.dataunodc` reads and prepares an export into these; `warehouse.dataunodc` loads a
`PreparedExport`, `reporting.dataunodc` reports its `ImportStats` (report.json serialises them
with `dataclasses.asdict`). Data only: no reading, no rules.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from schemas.findings import Finding, TableFrame


@dataclass
class ExportFile:
    """What `read_export` found: the rows as text, where they are, and the export's date."""

    path: str
    file_name: str
    sha256: str
    size_bytes: int
    file_format: str  # xlsx or csv
    sheet: str | None
    header_line: int
    export_date: dt.date | None
    export_date_from: str | None  # preamble, file name, option
    rows: pd.DataFrame  # our column names (transforms.dataunodc.COLUMNS), text or NA, plus LINE
    frame: TableFrame  # for findings: sheet or file name and each column's position


@dataclass(frozen=True)
class CountryFinding:
    """A finding and the country whose pseudo-submission it belongs to (None: the import's)."""

    country: str | None
    finding: Finding


@dataclass(frozen=True)
class UnresolvedText:
    text: str
    country: str
    rows: int


@dataclass(frozen=True)
class Resolution:
    """How the free-text countries of one dimension (citizenship, repatriation) resolved."""

    rows: int = 0
    rows_country: int = 0
    rows_nationals: int = 0
    rows_unknown: int = 0
    rows_abroad: int = 0
    rows_unresolved: int = 0
    share_resolved_to_country: float | None = None
    texts: int = 0
    texts_resolved: int = 0
    texts_unresolved: int = 0
    unresolved: tuple[UnresolvedText, ...] = ()


@dataclass(frozen=True)
class RepeatedKeys:
    """How repeated keys were settled; `by_reason`: keys summed by SUM_* reason."""

    summed_keys: int = 0
    summed_rows: int = 0
    exact_duplicate_rows: int = 0
    conflicting_keys: int = 0
    conflicting_rows: int = 0
    other_forms_exceeding_keys: int = 0  # Other forms rows more than their total leaves: none loaded
    by_reason: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class PartsExceedingTotal:
    """Totals of one table and dimension whose parts exceed them."""

    cases: int
    exact_figures_only: int  # the total and every part exact (no `<5`)
    would_fit_if_suppressed_could_be_0: int


@dataclass(frozen=True)
class ImportStats:
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    quarantined_by_reason: dict[str, int]
    fact_rows: dict[str, int]
    countries: int
    years: list[int] | None
    citizenship: Resolution
    repatriation: Resolution
    repeated_keys: RepeatedKeys
    parts_exceed_total: dict[str, PartsExceedingTotal]  # by "<table>: <dimension>"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def parts_exceed_total_cases(self) -> int:
        return sum(item.cases for item in self.parts_exceed_total.values())


@dataclass
class PreparedExport:
    export: ExportFile
    tables: dict[str, pd.DataFrame]  # warehouse columns + `country` + `source_line`
    country_findings: list[CountryFinding]
    stats: ImportStats

    @property
    def findings(self) -> list[Finding]:
        return [item.finding for item in self.country_findings]
