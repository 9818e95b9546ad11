"""A self-check and a submission, as plain functions the web app calls (in a worker thread).

A self-check is the ingestion's own sequence (pipeline/submission.py) with `load=False`: the
same reader in its child process within the same limits, the same rules, the same comparison
with the figures held (read from the analysts' snapshot, which an ingestion never holds
locked), the same report folder. Nothing is written to the warehouse.
"""

from __future__ import annotations

import json
import re
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from pipeline import submission as sequence
from pipeline.settings import Settings
from schemas.personal_data import shown_file_name
from warehouse.session import Warehouse
from warehouse.snapshot_files import snapshot_path

# held: no error, but it replaces most figures held; the run holds it for the data team's
# confirmation, so it may be submitted like any file that passed
PASSING = ("accepted", "accepted_with_warnings", "held")
DOWNLOADS = {  # what a report folder offers, and as what
    "annotated.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "findings.csv": "text/csv; charset=utf-8",
    "report.json": "application/json",
    "report.html": "text/html; charset=utf-8",
}


@dataclass(frozen=True)
class CheckResult:
    status: str  # accepted, accepted_with_warnings, rejected; failed (ours: try again)
    sha256: str | None = None
    file_country: str | None = None
    errors: int = 0
    warnings: int = 0
    report_dir: str | None = None
    problem: str | None = None  # why it failed, for the data team's log (never shown)


def run_check(path: Path, report_root: Path, settings: Settings, language: str) -> CheckResult:
    """Validate the uploaded file at `path` as an ingestion would, without loading it, and
    write its report (in `language`) under `report_root`."""
    warehouse = None
    try:
        # forkserver: this is a threaded server, and forking a process with threads is unsafe
        assessment = sequence.assess_file(path, limits=settings.limits, start_method="forkserver")
        warehouse = figures_held(settings.db)
        outcome = sequence.process(assessment, warehouse, reports_dir=report_root, load=False,
                                   language=language, source_path=str(path))
    except sequence.TRANSIENT_ERRORS as problem:
        return CheckResult("failed", problem=sequence.why_failed(problem, "checking the file"))
    finally:
        if warehouse is not None:
            warehouse.close()
    return CheckResult(outcome.status, assessment.parsed.sha256 or None, assessment.details.valid_country,
                       outcome.errors, outcome.warnings, outcome.report)


def figures_held(db: str | Path) -> Warehouse | None:
    """The analysts' snapshot of the warehouse, read-only, to compare a file with the figures
    held; None when none is published yet."""
    path = snapshot_path(db)
    return Warehouse(path, read_only=True) if path.exists() else None


def submit(upload: Path, inbox: str | Path, shown_name: str, country: str, check_id: str) -> str:
    """Put a checked file into the inbox for the next scheduled run; returns the entry's name:
    the name the user gave it, in letters, digits, `.`, `-` and `_` only, then the check's id
    (two submissions of `PHL_2022.xlsx` never meet).

    Written under a hidden name and renamed: the run never sees half a file (it skips hidden
    entries, and waits for an entry to settle)."""
    inbox = Path(inbox)
    inbox.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(shown_name).stem)[:80].lstrip("._-~")
    if not stem or stem.startswith("withheld"):  # nothing left, or a name withheld as personal data
        stem = f"{country}_portal"
    name = f"{stem}_{check_id}{upload.suffix.lower()}"
    partial = inbox / f".{name}.partial"
    shutil.copyfile(upload, partial)
    os.replace(partial, inbox / name)
    return name


def offers(report_dir: str | Path | None, name: str) -> bool:
    """Whether a report folder holds `name` for download (an annotated workbook is written for
    a workbook with findings only)."""
    return bool(report_dir) and name in DOWNLOADS and (Path(report_dir) / name).is_file()


def report_json(report_dir: str | Path | None) -> dict | None:
    if not report_dir:
        return None
    path = Path(report_dir) / "report.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


REGISTER_COLUMNS = ("submission_id, country, year_from, year_to, file_name, sha256, received_at, status, "
                    "errors, warnings, rows_loaded, supersedes, superseded_by, report_dir")


def register_rows(db: str | Path, country: str | None = None, *, submission_id: str | None = None,
                  sha256: list[str] | None = None, limit: int = 200) -> list[dict]:
    """Member States' submissions in the register, newest first, as the latest snapshot holds
    them: of `country` (None: every country), the one with `submission_id`, or those of the
    files whose `sha256` is listed (one query for a page's checks). Empty when no snapshot is
    published yet."""
    path = snapshot_path(db)
    if not path.exists():
        return []
    import duckdb

    conditions, parameters = ["source = 'member_state'"], []
    for column, value in (("country", country), ("submission_id", submission_id)):
        if value is not None:
            conditions.append(f"{column} = ?")
            parameters.append(value)
    if sha256 is not None:
        conditions.append("list_contains(?, sha256)")
        parameters.append(sha256)
    with duckdb.connect(str(path), read_only=True) as connection:
        cursor = connection.execute(
            f"SELECT {REGISTER_COLUMNS} FROM submissions WHERE {' AND '.join(conditions)} "
            f"ORDER BY load_seq DESC LIMIT {int(limit)}", parameters)
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row)) for row in cursor.fetchall()]
    for row in rows:
        row["file_name"] = shown_file_name(row["file_name"])
        row["shown_status"] = "superseded" if row["superseded_by"] else row["status"]
    return rows
