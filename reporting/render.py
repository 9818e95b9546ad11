"""Render a submission's findings in every report format, in the submitter's language.

All formats come from the same findings (plus a small summary), so that the warehouse's
`validation_findings` table and the reports always say the same thing:
- `report.json`: machine-readable, stable field names, every finding as data (rule, location,
  value, `params`), rendered from the catalogue in English (`message`, `hint`, `location`) and
  in the report language (`*_localised`);
- `report.html`: one self-contained page (no network), status and counts at the top, findings
  per rule, then the listing (capped), the changes against the data already held;
- `findings.csv`: every finding, in the report language, safe to open in a spreadsheet;
- `annotated.xlsx` (Excel submissions): the submitter's workbook with the findings on its cells;
- `message.eml`: the e-mail to the submission's contact (not sent): a notice with the link to the
  report in the submitters' portal, or with the reports attached (`ReportSummary.notice`).
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import uuid
from dataclasses import dataclass, field
from functools import cache
from glob import escape as glob_escape
from pathlib import Path

from markupsafe import Markup, escape

from reporting.notice import Notice
from reporting.safe import neutralise_formula
from schemas import i18n, messages
from schemas.catalogue import CATALOGUE
from schemas.countries import country_name
from schemas.findings import Finding, counts_by_rule, severity_counts
from schemas.history import change_counts

HTML_LISTING_CAP = 500  # the page lists this many findings; report.json and findings.csv have all
HTML_CHANGES_CAP = 300
# A file the readers refused (a zip bomb, a file over any limit) is never opened again here.
REFUSED_FILE_RULES = ("unreadable-file", "limit-exceeded")
CSV_FIELDS = ["rule", "severity", "location", "source", "line", "column", "cell", "value",
              "message", "hint"]

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
    language: str = i18n.DEFAULT_LANGUAGE
    contact_email: str | None = None
    institution: str | None = None
    changes: list[dict] | None = None  # against the data held; None when not compared
    compared_with: list[str] = field(default_factory=list)
    source_path: str | None = None  # the submitted file, for the annotated workbook
    file_format: str | None = None
    source_cells: int = 0  # cells of the workbook's sheets, as the reader scanned them
    # openpyxl holds a whole workbook in memory (about 1 KB per cell): beyond this many cells
    # (Limits.annotated_cells), no annotated copy; findings.csv still gives every cell
    max_annotated_cells: int | None = None
    # what message.eml carries: the portal link, the reports attached (reporting/notice.py)
    notice: Notice = Notice()


def report_data(summary: ReportSummary, findings: list[Finding]) -> dict:
    """The report as data: stable field names, every finding."""
    language = i18n.language_or_default(summary.language)
    records = []
    for finding in findings:
        record = finding.to_dict()
        record["location"] = messages.render_location(finding.location)
        record["message"] = messages.render_message(finding, marked=False)  # marks as quotation marks
        record["hint"] = messages.render_hint(finding, marked=False)
        record["location_localised"] = messages.render_location(finding.location, language)
        record["message_localised"] = messages.render_message(finding, language, marked=False)
        record["hint_localised"] = messages.render_hint(finding, language, marked=False)
        record["value_localised"] = messages.render_value(finding, language)
        record["column_localised"] = messages.finding_column(finding, language)
        records.append(record)
    errors, warnings = severity_counts(findings)  # the cells counted beyond those listed included
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
        "language": language,
        "loaded": summary.loaded,
        "rows": summary.rows,
        "supersedes": summary.supersedes,
        "note": _note(summary.note, i18n.DEFAULT_LANGUAGE),
        "note_key": summary.note if summary.note and i18n.known(f"ui.{summary.note}") else None,
        "stats": {
            "errors": errors,
            "warnings": warnings,
            "by_rule": [
                {"rule": code, "severity": severity, "count": n,
                 "title": CATALOGUE[code].title if code in CATALOGUE else code}
                for code, severity, n in counts_by_rule(findings)
            ],
        },
        "annotated_skipped": _annotated_skipped(summary, findings),
        "findings": records,
        "changes": summary.changes,
        "compared_with": summary.compared_with,
    }


def write_reports(report_dir: str | Path, summary: ReportSummary, findings: list[Finding],
                  extra: dict | None = None) -> Path:
    """Write every format into `report_dir`; returns the folder. `extra` adds sections to
    report.json (the published import's figures, under `import`).

    The formats are written into a hidden folder next to `report_dir` that then takes its
    place: a full disk, a killed process or an unwritable folder never leaves a 0-byte or
    half-written report under the final name, so a report folder that exists is complete
    (`report_complete`), and one that is missing is written again by the next run."""
    report_dir = Path(report_dir)
    report_dir.parent.mkdir(parents=True, exist_ok=True)
    _remove_leftovers(report_dir)
    staging = report_dir.with_name(f".{report_dir.name}.{uuid.uuid4().hex[:8]}{_WRITING}")
    try:
        staging.mkdir()
        data = report_data(summary, findings) | (extra or {})
        (staging / "report.json").write_text(
            json.dumps(data, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        (staging / "report.html").write_text(render_html(data, findings), encoding="utf-8")
        write_findings_csv(staging / "findings.csv", data["findings"])
        if _can_annotate(summary, findings):
            from reporting.annotate import annotate_workbook  # openpyxl (0.3 s): only when used

            annotate_workbook(summary.source_path, staging / "annotated.xlsx", findings, data["language"])
        if summary.contact_email:
            from reporting.mail import build_message

            message = build_message(data, findings, staging, to=summary.contact_email,
                                    notice=summary.notice)
            (staging / "message.eml").write_bytes(bytes(message))
        _replace_folder(staging, report_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return report_dir


# hidden folders next to a report folder: one being written, one being replaced
_WRITING, _REPLACED = ".writing", ".replaced"


def report_complete(report_dir: str | Path) -> bool:
    """Whether `report_dir` holds a whole report. Reports are swapped in complete; a folder
    from before that (or edited by hand) counts only with report.json readable and
    report.html not empty."""
    report_dir = Path(report_dir)
    page, data = report_dir / "report.html", report_dir / "report.json"
    try:
        if page.stat().st_size == 0:
            return False
        json.loads(data.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return True


def _replace_folder(staging: Path, report_dir: Path) -> None:
    """Put the complete `staging` folder in the place of `report_dir` (two renames: a crash
    between them leaves no report folder, which the next run writes again)."""
    if report_dir.exists():
        replaced = report_dir.with_name(f".{report_dir.name}.{uuid.uuid4().hex[:8]}{_REPLACED}")
        os.replace(report_dir, replaced)
        os.replace(staging, report_dir)
        shutil.rmtree(replaced, ignore_errors=True)
    else:
        os.replace(staging, report_dir)


def _remove_leftovers(report_dir: Path) -> None:
    """Hidden folders of a write that a killed process or a full disk cut short."""
    for suffix in (_WRITING, _REPLACED):
        for leftover in report_dir.parent.glob(f".{glob_escape(report_dir.name)}.*{suffix}"):
            shutil.rmtree(leftover, ignore_errors=True)


def _can_annotate(summary: ReportSummary, findings: list[Finding]) -> bool:
    """A workbook that was read, and small enough for openpyxl to load without trouble (a file
    the readers refused, e.g. a zip bomb, is never opened again here)."""
    if not summary.source_path or summary.file_format != "xlsx" or not findings:
        return False  # nothing to show on the workbook
    if any(f.rule in REFUSED_FILE_RULES for f in findings):
        return False
    return _annotated_skipped(summary, findings) is None


def _annotated_skipped(summary: ReportSummary, findings: list[Finding]) -> dict | None:
    """{cells, allowed} when a workbook with findings is too big for an annotated copy."""
    if (summary.file_format == "xlsx" and findings and summary.max_annotated_cells is not None
            and summary.source_cells > summary.max_annotated_cells):
        return {"cells": summary.source_cells, "allowed": summary.max_annotated_cells}
    return None


def write_findings_csv(path: Path, records: list[dict]) -> None:
    """UTF-8 with a BOM so that Excel shows Arabic and Chinese; formulas neutralised."""
    with path.open("w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_FIELDS)
        for record in records:
            row = dict(record, message=record["message_localised"], hint=record["hint_localised"],
                       location=record["location_localised"], value=record["value_localised"],
                       column=record.get("column_localised", record.get("column")))
            writer.writerow([neutralise_formula(row.get(name)) for name in CSV_FIELDS])


def render_html(data: dict, findings: list[Finding]) -> str:
    language = data.get("language") or i18n.DEFAULT_LANGUAGE

    def t(key: str, count: float | None = None, **values) -> str:
        return i18n.ui(key, language, count=count, **values)

    def number(value) -> str:
        if isinstance(value, (int, float)):
            return i18n.format_number(value, language)
        return "" if value is None else str(value)

    # the page shows a finding's `code` marks as <code>: its texts rendered from the finding
    # (report.json's texts, for a report read back without them, have quotation marks instead)
    if len(findings) == len(data["findings"]):
        records = [dict(record, message_localised=messages.render_message(finding, language),
                        hint_localised=messages.render_hint(finding, language))
                   for record, finding in zip(data["findings"], findings)]
    else:
        records = list(data["findings"])
    first_hint = {}  # a rule's hint as its first finding gives it (placeholders filled)
    for record in records:
        first_hint.setdefault(record["rule"], record["hint_localised"])
    records.sort(key=lambda r: (r["severity"] != "error", r["source"] or "", r["line"] or 0))
    rules = [{"code": r["rule"], "severity": r["severity"], "count": number(r["count"]),
              "title": messages.rule_title(r["rule"], language),
              "hint": first_hint.get(r["rule"]) or messages.rule_hint(r["rule"], language)}
             for r in data["stats"]["by_rule"]]
    changes = data.get("changes")
    change_rows = [dict(c, breakdown_text=messages.changes_breakdown_text(c["table"], c["breakdown"], language),
                        table_title=i18n.table_title(c["table"], language),
                        old_text=number(c.get("old")), new_text=number(c.get("new")))
                   for c in (changes or [])[:HTML_CHANGES_CAP]]
    rows = [t("rows_loaded" if data["loaded"] else "rows_read", count=n,
              table=i18n.table_title(table, language), n=n) for table, n in data["rows"].items()]
    country = country_name(data["country"], language) if data.get("country") else None
    errors, warnings = data["stats"]["errors"], data["stats"]["warnings"]
    return _template().render(
        report=data,
        lang=language,
        language_name=i18n.code_label("language", language, language),
        direction="rtl" if language in i18n.RIGHT_TO_LEFT else "ltr",
        t=t,
        label=lambda key, value: i18n.label_value(t(key), value, language),
        colon=i18n.COLONS.get(language, ":"),
        number=number,
        country=country,
        errors=number(errors), errors_word=t("errors", count=errors),
        warnings=number(warnings), warnings_word=t("warnings", count=warnings),
        listed=lambda items: i18n.format_list(list(items), language),
        marks=lambda text: code_spans(text, language),
        direction_of=text_direction,
        status_text=t(f"status.{data['status']}") if i18n.known(f"ui.status.{data['status']}") else data["status"],
        severity=lambda code: messages.severity(code, language),
        rules=rules,
        findings=records[:HTML_LISTING_CAP],
        total_findings=len(records),
        cap=HTML_LISTING_CAP,
        rows=rows,
        changes=changes,
        change_rows=change_rows,
        changes_cap=HTML_CHANGES_CAP,
        counts=change_counts(changes or []),
        annotated_skipped=_annotated_skipped_text(data.get("annotated_skipped"), language),
        years=_years(data),
        received=i18n.format_timestamp(data.get("received_at"), language),
        note_text=_note(data.get("note_key") or data.get("note"), language),
    )


def _annotated_skipped_text(skipped: dict | None, language: str) -> str | None:
    if not skipped:
        return None
    return i18n.ui("annotated_skipped", language, count=skipped["cells"], cells=skipped["cells"],
                   allowed=skipped["allowed"])


def _note(note: str | None, language: str) -> str | None:
    """A note is either a UI key (`note_validated_only`), said in the language, or free text."""
    if note and i18n.known(f"ui.{note}"):
        return i18n.ui(note, language)
    return note


def _years(data: dict) -> str:
    return i18n.format_years(data.get("year_from"), data.get("year_to"))


@cache
def _template():
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(
        loader=PackageLoader("reporting", "templates"),
        autoescape=select_autoescape(["html", "j2"], default_for_string=True, default=True),
    )
    return environment.get_template("report.html.j2")


_TICKED = re.compile(r"`([^`]+)`")


def code_spans(text, language: str = i18n.DEFAULT_LANGUAGE) -> Markup:
    """Escape a message, then show its `marked` parts (a column, a typed value) between the
    language's quotation marks, each isolated (`<bdi>`: a Latin value reads right in Arabic)
    and styled as `q`."""
    start, end = i18n.QUOTES.get(language, i18n.QUOTES[i18n.DEFAULT_LANGUAGE])
    return Markup(_TICKED.sub(lambda m: f'{start}<bdi class="q" dir="{text_direction(m.group(1))}">'
                                        f'{m.group(1)}</bdi>{end}',
                              str(escape("" if text is None else text))))


def text_direction(text) -> str:
    """`auto` (by its first letter), or `ltr` for a text without letters: `-120` stays `-120`
    in an Arabic page."""
    return "auto" if any(character.isalpha() for character in str(text)) else "ltr"
