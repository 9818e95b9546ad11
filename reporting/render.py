"""Render a submission's findings as report.json and a self-contained report.html.

Reports are rendered from the findings alone (plus a small summary), so that the warehouse's
`validation_findings` table and the reports always say the same thing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from schemas.catalogue import CATALOGUE
from schemas.findings import Finding, counts_by_rule

HTML_LISTING_CAP = 500  # the page lists this many findings; report.json has them all

STATUS_TEXT = {
    "accepted": "Accepted",
    "accepted_with_warnings": "Accepted with warnings",
    "rejected": "Rejected",
    "duplicate": "Already received",
    "failed": "Failed",
    "validated": "Validated (not loaded)",
}


@dataclass
class ReportSummary:
    submission_id: str
    file_name: str
    sha256: str
    status: str
    country: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    received_at: str | None = None
    rows: dict[str, int] = field(default_factory=dict)  # rows read (or loaded) per table
    loaded: bool = False
    supersedes: list[str] = field(default_factory=list)
    note: str | None = None


def report_data(summary: ReportSummary, findings: list[Finding]) -> dict:
    """The report as data: stable field names, every finding."""
    return {
        "submission_id": summary.submission_id,
        "file_name": summary.file_name,
        "sha256": summary.sha256,
        "status": summary.status,
        "valid": summary.status in ("accepted", "accepted_with_warnings", "validated"),
        "country": summary.country,
        "year_from": summary.year_from,
        "year_to": summary.year_to,
        "received_at": summary.received_at,
        "loaded": summary.loaded,
        "rows": summary.rows,
        "supersedes": summary.supersedes,
        "note": summary.note,
        "stats": {
            "errors": sum(f.severity == "error" for f in findings),
            "warnings": sum(f.severity == "warning" for f in findings),
            "by_rule": [
                {"rule": code, "severity": severity, "count": n, "title": CATALOGUE[code].title}
                for code, severity, n in counts_by_rule(findings)
            ],
        },
        "findings": [f.to_dict() for f in findings],
    }


def write_reports(report_dir: str | Path, summary: ReportSummary, findings: list[Finding]) -> Path:
    report_dir = Path(report_dir)
    report_dir.mkdir(parents=True, exist_ok=True)
    data = report_data(summary, findings)
    (report_dir / "report.json").write_text(
        json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    (report_dir / "report.html").write_text(render_html(data, findings), encoding="utf-8")
    return report_dir


def render_html(data: dict, findings: list[Finding]) -> str:
    listed = sorted(findings, key=lambda f: (f.severity != "error", f.table or "", f.line or 0))
    return _template().render(
        report=data,
        status_text=STATUS_TEXT.get(data["status"], data["status"]),
        rules=[(CATALOGUE[r["rule"]], r["count"]) for r in data["stats"]["by_rule"]],
        findings=listed[:HTML_LISTING_CAP],
        total_findings=len(findings),
        cap=HTML_LISTING_CAP,
    )


@cache
def _template():
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("reporting", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
    )
    return environment.get_template("report.html.j2")
