"""The ingestion flow: discover, read, validate, load and report every submission in an inbox.

The work itself is in plain functions (transforms, schemas, warehouse, reporting); the tasks
only call them. Tasks are not cached: inputs are files whose identity is their sha256, and the
warehouse register already makes a rerun load nothing twice.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from reporting.render import ReportSummary, write_reports
from schemas.findings import ParsedSubmission
from schemas.validate import ValidationResult, validate_submission
from transforms.prepare import discover, prepare_submission
from transforms.readers import sha256_of
from warehouse import load as warehouse


@dataclass
class SubmissionOutcome:
    file_name: str
    submission_id: str | None
    status: str  # accepted, accepted_with_warnings, rejected, duplicate, failed
    rows_loaded: int
    errors: int
    warnings: int
    report: str | None
    note: str = ""


@task(name="discover", cache_policy=NO_CACHE)
def discover_task(inbox: str) -> list[str]:
    return [str(path) for path in discover(inbox)]


@task(name="check-already-received", cache_policy=NO_CACHE)
def already_received_task(db_path: str, path: str) -> tuple[str, str] | None:
    connection = warehouse.connect(db_path)
    try:
        return warehouse.find_by_sha256(connection, sha256_of(Path(path)))
    finally:
        connection.close()


@task(name="read", cache_policy=NO_CACHE)
def read_task(path: str) -> ParsedSubmission:
    return prepare_submission(path)


@task(name="validate", cache_policy=NO_CACHE)
def validate_task(parsed: ParsedSubmission) -> ValidationResult:
    return validate_submission(parsed)


@task(name="load", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def load_task(db_path: str, record: warehouse.SubmissionRecord, result: ValidationResult) -> warehouse.LoadOutcome:
    connection = warehouse.connect(db_path)
    try:
        return warehouse.load_submission(connection, record, result.tables, result.findings)
    finally:
        connection.close()


@task(name="report", cache_policy=NO_CACHE)
def report_task(report_dir: str, summary: ReportSummary, result: ValidationResult) -> str:
    return str(write_reports(report_dir, summary, result.findings))


def _ingest_one(path: str, db_path: str, reports_dir: str, run_id: str) -> SubmissionOutcome:
    logger = get_run_logger()
    name = Path(path).name
    existing = already_received_task(db_path, path)
    if existing:
        logger.info("%s: already received as %s (%s); not loaded again", name, *existing)
        return SubmissionOutcome(name, existing[0], "duplicate", 0, 0, 0,
                                 str(Path(reports_dir) / existing[0]),
                                 f"same file already received as {existing[0]} ({existing[1]})")
    parsed = read_task(path)
    result = validate_task(parsed)
    record = warehouse.record_for(parsed, result, received_at=warehouse.now(), run_id=run_id,
                                  report_root=reports_dir)
    outcome = load_task(db_path, record, result)
    summary = ReportSummary(
        submission_id=record.submission_id, file_name=name, sha256=parsed.sha256,
        status=outcome.status, country=record.country, year_from=record.year_from,
        year_to=record.year_to, received_at=record.received_at.isoformat(timespec="seconds"),
        rows=outcome.rows_loaded or {t: len(df) for t, df in result.tables.items()},
        loaded=bool(outcome.rows_loaded), supersedes=outcome.supersedes)
    report = report_task(record.report_dir, summary, result)
    logger.info("%s: %s, %d rows loaded, %d errors, %d warnings", name, outcome.status,
                sum(outcome.rows_loaded.values()), record.errors, record.warnings)
    return SubmissionOutcome(name, record.submission_id, outcome.status,
                             sum(outcome.rows_loaded.values()), record.errors, record.warnings, report)


@flow(name="ingest_submissions", log_prints=True)
def ingest_submissions(inbox: str, db_path: str, reports_dir: str) -> list[dict]:
    """Ingest every submission in `inbox` into the warehouse at `db_path`."""
    logger = get_run_logger()
    run_id = f"run-{warehouse.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    connection = warehouse.connect(db_path)
    try:
        warehouse.start_run(connection, run_id, str(inbox), flow_run.get_id())
    finally:
        connection.close()
    outcomes: list[SubmissionOutcome] = []
    for path in discover_task(str(inbox)):
        try:
            outcomes.append(_ingest_one(path, db_path, reports_dir, run_id))
        except Exception as problem:  # noqa: BLE001 - one broken submission never stops the others
            logger.error("%s: failed: %s", Path(path).name, problem)
            outcomes.append(SubmissionOutcome(Path(path).name, None, "failed", 0, 0, 0, None,
                                              f"{type(problem).__name__}: {problem}"))
    counts = {"files_seen": len(outcomes), "rows_loaded": sum(o.rows_loaded for o in outcomes)}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    connection = warehouse.connect(db_path)
    try:
        warehouse.finish_run(connection, run_id, counts)
    finally:
        connection.close()
    logger.info("run %s: %s", run_id, counts)
    return [asdict(o) | {"run_id": run_id} for o in outcomes]
