"""The import report of a published dataUNODC export, in the submission reports' formats.

`write_reports` renders the findings as usual (report.json, report.html); the import's own
figures (rows read, loaded, quarantined by reason, countries resolved, repeated keys, parts
against totals: `schemas.dataunodc.ImportStats`) go into the summary's note and under
`import` in report.json.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from reporting.render import ReportSummary, write_reports
from schemas.catalogue import CATALOGUE
from warehouse.load import now

if TYPE_CHECKING:
    from schemas.dataunodc import ImportStats, PreparedExport
    from warehouse.dataunodc import ImportOutcome


def import_figures(stats: ImportStats, *, export_date, seconds: float | None = None, status: str,
                   import_id: str, supersedes: list[str] | None = None) -> dict:
    """What report.json says under `import`: the stats plus the outcome."""
    figures = {"import_id": import_id, "export_date": str(export_date), "status": status,
               **asdict(stats)}
    if seconds is not None:
        figures["seconds"] = round(seconds, 2)
    if supersedes is not None:
        figures["supersedes"] = supersedes
    return figures


def note(stats: ImportStats, export_date) -> str:
    """The report's note, in English (the import report is the data team's)."""
    quarantined = ", ".join(f"{CATALOGUE[rule].title.lower()} {n:,}"
                            for rule, n in stats.quarantined_by_reason.items())
    repeated = stats.repeated_keys
    lines = [
        f"Published dataUNODC export dated {export_date}: {stats.rows_read:,} rows read, "
        f"{stats.rows_loaded:,} loaded, {stats.rows_quarantined:,} quarantined"
        + (f" ({quarantined})" if quarantined else "") + ".",
        f"Repeated keys: {repeated.summed_keys:,} summed ({repeated.summed_rows:,} rows), "
        f"{repeated.exact_duplicate_rows:,} exact duplicate rows, "
        f"{repeated.conflicting_keys:,} conflicting keys.",
    ]
    for item, label in ((stats.citizenship, "Citizenship"),
                        (stats.repatriation, "Country of repatriation")):
        if item.rows:
            lines.append(
                f"{label}: {item.rows_country:,} of {item.rows:,} rows "
                f"({item.share_resolved_to_country:.1%}) resolved to a country, "
                f"{item.rows_unknown + item.rows_abroad:,} unknown or abroad, "
                f"{item.rows_unresolved:,} unresolved ({item.texts_unresolved:,} of "
                f"{item.texts:,} distinct texts).")
    lines.append(f"Parts exceeding their total in the published data: "
                 f"{stats.parts_exceed_total_cases:,} cases. Every figure is in report.json "
                 "under `import`.")
    return " ".join(lines)


def write_import_report(report_dir: str | Path, prepared: PreparedExport, outcome: ImportOutcome,
                        seconds: float) -> Path:
    """The import's report: its findings in every format, its figures in the note and under
    `import` in report.json."""
    export, stats = prepared.export, prepared.stats
    figures = import_figures(stats, export_date=export.export_date, seconds=seconds,
                             status=outcome.status, import_id=outcome.import_id,
                             supersedes=outcome.supersedes)
    summary = ReportSummary(
        submission_id=outcome.import_id, file_name=export.file_name, sha256=export.sha256,
        status="accepted_with_warnings" if prepared.country_findings else "accepted",
        year_from=(stats.years or [None])[0], year_to=(stats.years or [None, None])[1],
        received_at=now().isoformat(timespec="seconds"),
        rows=outcome.rows_loaded, loaded=True, supersedes=outcome.supersedes,
        note=note(stats, export.export_date))
    return write_reports(report_dir, summary, prepared.findings, extra={"import": figures})
