"""The import report of a published dataUNODC export, in the submission reports' formats.

`write_reports` renders the findings as usual (report.json, report.html); the import's own
figures (rows read, loaded, quarantined by reason, countries resolved, repeated keys, parts
against totals) go into the summary's note and under `import` in report.json.
"""

from __future__ import annotations

import json
from pathlib import Path

from reporting.render import ReportSummary, write_reports
from schemas.catalogue import CATALOGUE

def import_figures(stats: dict, *, export_date, seconds: float | None = None, status: str,
                   import_id: str, supersedes: list[str] | None = None) -> dict:
    """What report.json says under `import`: the stats plus the outcome."""
    figures = {"import_id": import_id, "export_date": str(export_date), "status": status, **stats}
    if seconds is not None:
        figures["seconds"] = round(seconds, 2)
    if supersedes is not None:
        figures["supersedes"] = supersedes
    return figures


def note(stats: dict, export_date) -> str:
    quarantined = ", ".join(f"{CATALOGUE[rule].title.lower()} {n:,}"
                            for rule, n in stats["quarantined_by_reason"].items())
    repeated = stats["repeated_keys"]
    parts = sum(item["cases"] for item in stats["parts_exceed_total"].values())
    lines = [
        f"Published dataUNODC export dated {export_date}: {stats['rows_read']:,} rows read, "
        f"{stats['rows_loaded']:,} loaded, {stats['rows_quarantined']:,} quarantined"
        + (f" ({quarantined})" if quarantined else "") + ".",
        f"Repeated keys: {repeated['summed_keys']:,} summed ({repeated['summed_rows']:,} rows), "
        f"{repeated['exact_duplicate_rows']:,} exact duplicate rows, "
        f"{repeated['conflicting_keys']:,} conflicting keys.",
    ]
    for key, label in (("citizenship", "Citizenship"), ("repatriation", "Country of repatriation")):
        item = stats[key]
        if item["rows"]:
            lines.append(
                f"{label}: {item['rows_country']:,} of {item['rows']:,} rows "
                f"({item['share_resolved_to_country']:.1%}) resolved to a country, "
                f"{item['rows_unknown'] + item['rows_abroad']:,} unknown or abroad, "
                f"{item['rows_unresolved']:,} unresolved ({item['texts_unresolved']:,} of "
                f"{item['texts']:,} distinct texts).")
    lines.append(f"Parts exceeding their total in the published data: {parts:,} cases. "
                 "Every figure is in report.json under `import`.")
    return " ".join(lines)


def write_import_report(report_dir: str | Path, summary: ReportSummary, findings: list,
                        figures: dict) -> Path:
    report_dir = write_reports(report_dir, summary, findings)
    path = Path(report_dir) / "report.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["import"] = figures
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    return report_dir
