"""The ingestion flow: discover, read, validate, load and report every submission in an inbox.

The work itself is in plain functions (transforms, schemas, warehouse, reporting); the tasks
only call them. Tasks are not cached: inputs are files whose identity is their sha256, and the
warehouse register already makes a rerun load nothing twice.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import opaque

from reporting.render import ReportSummary, report_details, write_reports
from schemas.findings import ParsedSubmission, make_finding
from schemas.history import HistoryCheck, check_against_history, submitted_country
from schemas.validate import ValidationResult, validate_submission
from transforms.prepare import discover, prepare_submission
from transforms import inbox as inbox_files
from warehouse import load as warehouse
from warehouse import snapshot as analyst_publish
from warehouse.history import held_figures


@dataclass
class SubmissionOutcome:
    file_name: str
    submission_id: str | None
    status: str  # accepted, accepted_with_warnings, rejected, duplicate, failed, deferred
    rows_loaded: int
    errors: int
    warnings: int
    report: str | None
    note: str = ""


# The run's one connection per warehouse file. Opening a DuckDB file and closing it (which
# checkpoints) cost about 30 ms, three times per submission; the run holds the ingestion lock,
# so it keeps one connection from start to finish instead. Tasks still take `db_path`: called
# outside a run, they open and close their own.
_RUN_CONNECTIONS: dict[str, "_RunConnection"] = {}


class _RunConnection:
    def __init__(self, db_path: str):
        self.db_path = db_path
        self._connection: duckdb.DuckDBPyConnection | None = None

    def get(self) -> duckdb.DuckDBPyConnection:
        if self._connection is None:
            self._connection = warehouse.connect(self.db_path)
        return self._connection

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except duckdb.Error:
                pass


@contextmanager
def _warehouse(db_path: str):
    """The run's connection to `db_path` (a fresh one after any DuckDB error, so that a retry
    starts clean), or outside a run a connection of its own, closed afterwards."""
    shared = _RUN_CONNECTIONS.get(db_path)
    if shared is None:
        connection = warehouse.connect(db_path)
        try:
            yield connection
        finally:
            connection.close()
        return
    try:
        yield shared.get()
    except duckdb.Error:
        shared.close()
        raise


@task(name="discover", cache_policy=NO_CACHE)
def discover_task(inbox: str) -> list[str]:
    return [str(path) for path in discover(inbox)]


@task(name="read", cache_policy=NO_CACHE)
def read_task(path: str) -> ParsedSubmission:
    return prepare_submission(path)


@task(name="validate", cache_policy=NO_CACHE)
def validate_task(parsed: ParsedSubmission) -> ValidationResult:
    return validate_submission(parsed)


@task(name="load", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def load_task(db_path: str, record: warehouse.SubmissionRecord, result: ValidationResult) -> warehouse.LoadOutcome:
    with _warehouse(db_path) as connection:
        return warehouse.load_submission(connection, record, result.tables, result.findings)


@task(name="compare-with-history", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def history_task(db_path: str, result: ValidationResult) -> HistoryCheck:
    """The submission's figures against those the warehouse holds for its country."""
    with _warehouse(db_path) as connection:
        held = held_figures(connection, submitted_country(result))
    info = result.info or {}
    return check_against_history(result.tables, result.frames, held, result.findings,
                                 info.get("year_from"), info.get("year_to"))


@task(name="report", cache_policy=NO_CACHE)
def report_task(report_dir: str, summary: ReportSummary, result: ValidationResult) -> str:
    return str(write_reports(report_dir, summary, result.findings))


@dataclass(frozen=True)
class InboxOptions:
    """How a run treats the inbox (flows/settings.py documents each)."""

    inbox: str
    archive_dir: str = "var/archive"
    move_processed: bool = False
    settle_seconds: float = 2.0


# A file still being copied in gets three more looks, 2 + 4 + 8 s apart, then waits for the
# next run: bounded, so one slow copy never holds up the schedule.
@task(name="receive", cache_policy=NO_CACHE, retries=3, retry_delay_seconds=[2, 4, 8],
      retry_condition_fn=lambda task, run, state: type(
          state.result(raise_on_failure=False)) is inbox_files.FileStillBeingWritten)
def receive_task(path: str, settle_seconds: float, archive_dir: str) -> inbox_files.ArchivedFile:
    """Once the entry has settled, archive it as received (one task: each costs a round trip)."""
    inbox_files.check_entry(path)
    inbox_files.check_settled(path, settle_seconds)
    return inbox_files.archive_raw(path, archive_dir)


@task(name="find-in-register", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def find_received_task(db_path: str, sha256: str) -> tuple[str, str] | None:
    with _warehouse(db_path) as connection:
        return warehouse.find_by_sha256(connection, sha256)


def _ingest_one(path: str, db_path: str, reports_dir: str, run_id: str,
                options: InboxOptions | None = None) -> SubmissionOutcome:
    """One inbox entry: settle, archive, check the register, read, validate, load, report, clean.

    The raw file is archived before anything reads it, and what is read is the archived copy,
    so the sha256 in the register is that of the bytes validated. The inbox entry is removed
    (when asked) only once the register and the report both hold the outcome.
    """
    logger = get_run_logger()
    options = options or InboxOptions(inbox=str(Path(path).parent))
    name = Path(path).name
    try:
        archived = receive_task(path, options.settle_seconds, options.archive_dir)
    except inbox_files.FileStillBeingWritten as problem:
        note = make_finding("file-still-being-written", detail=name).message
        logger.warning("%s: %s (%s)", name, note, problem)
        return SubmissionOutcome(name, None, "deferred", 0, 0, 0, None, note)
    except inbox_files.NotARegularSubmission as problem:
        logger.error("%s: not read: %s", name, problem)
        return SubmissionOutcome(name, None, "failed", 0, 0, 0, None, str(problem))
    except OSError as problem:
        note = inbox_files.describe_os_error(problem, "archiving the file as received")
        logger.error("%s: %s", name, note)
        return SubmissionOutcome(name, None, "failed", 0, 0, 0, None, note)
    try:
        outcome = _validate_and_load(archived, name, db_path, reports_dir, run_id)
    except duckdb.IOException as problem:
        note = (f"the warehouse {db_path} could not be written ({problem}); the file stays in "
                "the inbox and is retried by the next run")
        logger.error("%s: %s", name, note)
        return SubmissionOutcome(name, None, "failed", 0, 0, 0, None, note)
    except OSError as problem:
        note = inbox_files.describe_os_error(problem, "writing the report")
        logger.error("%s: %s", name, note)
        return SubmissionOutcome(name, None, "failed", 0, 0, 0, None, note)
    if options.move_processed:
        try:
            inbox_files.remove_from_inbox(path, options.inbox)
            logger.info("%s: removed from the inbox (archived as %s)", name, archived.path)
        except OSError as problem:  # recorded already: the next run sees a duplicate
            outcome.note = inbox_files.describe_os_error(problem, "removing it from the inbox")
            logger.warning("%s: %s", name, outcome.note)
    return outcome


# The submission's objects are passed `opaque`: Prefect still links each task to the one whose
# result it takes (the run graph is unchanged) but does not walk their findings and frames.
def _validate_and_load(archived: inbox_files.ArchivedFile, name: str, db_path: str,
                       reports_dir: str, run_id: str) -> SubmissionOutcome:
    logger = get_run_logger()
    # a plain call, not a task run: one indexed lookup on the run's connection, which a user
    # sees anyway in the outcome (`duplicate`) and the log; a task run cost as much again
    existing = find_received_task.fn(db_path, archived.sha256)
    if existing:
        report_dir = Path(reports_dir) / existing[0]
        if not (report_dir / "report.html").exists():
            # the earlier run died between the load and the report: finish its job
            _write_missing_report(archived, report_dir, existing)
            logger.info("%s: report of %s written (the run that loaded it stopped before)",
                        name, existing[0])
        logger.info("%s: already received as %s (%s); not loaded again", name, *existing)
        return SubmissionOutcome(name, existing[0], "duplicate", 0, 0, 0, str(report_dir),
                                 f"same file already received as {existing[0]} ({existing[1]})")
    parsed = read_task(str(archived.path))
    result = validate_task(opaque(parsed))
    history = history_task(db_path, opaque(result))
    result.findings.extend(history.findings)  # warnings: stored and reported like the others
    record = warehouse.record_for(parsed, result, received_at=warehouse.now(), run_id=run_id,
                                  report_root=reports_dir)
    outcome = load_task(db_path, opaque(record), opaque(result))
    summary = ReportSummary(
        submission_id=record.submission_id, file_name=name, sha256=parsed.sha256,
        status=outcome.status, country=record.country, year_from=record.year_from,
        year_to=record.year_to, received_at=record.received_at.isoformat(timespec="seconds"),
        rows=outcome.rows_loaded or {t: len(df) for t, df in result.tables.items()},
        loaded=bool(outcome.rows_loaded), supersedes=outcome.supersedes,
        **report_details(parsed, result, history, str(archived.path)))
    report = report_task(record.report_dir, opaque(summary), opaque(result))
    logger.info("%s: %s, %d rows loaded, %d errors, %d warnings", name, outcome.status,
                sum(outcome.rows_loaded.values()), record.errors, record.warnings)
    return SubmissionOutcome(name, record.submission_id, outcome.status,
                             sum(outcome.rows_loaded.values()), record.errors, record.warnings, report)


def _write_missing_report(archived: inbox_files.ArchivedFile, report_dir: Path,
                          existing: tuple[str, str]) -> None:
    """Validation is deterministic: re-validating the archived file gives the same findings."""
    parsed = read_task(str(archived.path))
    result = validate_task(opaque(parsed))
    record = warehouse.record_for(parsed, result, received_at=warehouse.now(), run_id=None,
                                  report_root=report_dir.parent)
    summary = ReportSummary(
        submission_id=existing[0], file_name=parsed.file_name, sha256=parsed.sha256,
        status=existing[1], country=record.country, year_from=record.year_from,
        year_to=record.year_to, rows={t: len(df) for t, df in result.tables.items()},
        loaded=existing[1] in warehouse.LOADED_STATUSES,
        **report_details(parsed, result, None, str(archived.path)))
    report_task(str(report_dir), opaque(summary), opaque(result))


@task(name="publish-for-analysts", cache_policy=NO_CACHE)
def publish_task(db_path: str) -> dict[str, str]:
    """Read-only snapshot and Parquet files for analysts (warehouse/snapshot.py)."""
    return analyst_publish.publish(db_path, warehouse.connect)


@flow(name="ingest_submissions", log_prints=True)
def ingest_submissions(inbox: str, db_path: str, reports_dir: str, archive_dir: str = "var/archive",
                       move_processed: bool = False, settle_seconds: float = 2.0,
                       lock_wait_seconds: float = 0.0) -> list[dict]:
    """Ingest every submission in `inbox` into the warehouse at `db_path`.

    One run at a time per warehouse: a second run waits up to `lock_wait_seconds` for the
    first, then exits without touching anything. `move_processed` removes each entry from the
    inbox once its outcome is recorded (off for the demo: sample_submissions/ is never emptied).
    """
    logger = get_run_logger()
    lock = inbox_files.IngestionLock(db_path)
    try:
        lock.acquire(wait_seconds=lock_wait_seconds)
    except inbox_files.IngestionAlreadyRunning as problem:
        logger.warning("%s: %s", db_path, problem)
        create_markdown_artifact(markdown=f"# Ingestion skipped\n\n{db_path}: {problem}\n",
                                 key="ingestion-summary", description="Ingestion skipped")
        return []
    try:
        options = InboxOptions(str(inbox), archive_dir, move_processed, settle_seconds)
        return _ingest_inbox(options, db_path, reports_dir)
    finally:
        lock.release()


def _ingest_inbox(options: InboxOptions, db_path: str, reports_dir: str) -> list[dict]:
    """The run itself, under the ingestion lock."""
    logger = get_run_logger()
    inbox = options.inbox
    run_id = f"run-{warehouse.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    shared = _RUN_CONNECTIONS[db_path] = _RunConnection(db_path)
    try:
        outcomes, counts, summary = _ingest_entries(options, db_path, reports_dir, run_id)
    finally:
        del _RUN_CONNECTIONS[db_path]
        shared.close()  # checkpointed: the snapshot below copies a complete file
    logger.info("run %s: %s", run_id, counts)
    logger.info("%s", summary)
    create_markdown_artifact(markdown=summary, key="ingestion-summary",
                             description=f"Ingestion run {run_id}")
    try:
        published = publish_task(db_path)
        logger.info("published for analysts: %s", published)
    except Exception as problem:  # noqa: BLE001 - the load stands; analysts keep the last snapshot
        logger.error("publishing the analysts' snapshot failed: %s", problem)
    return [asdict(o) | {"run_id": run_id} for o in outcomes]


def _ingest_entries(options: InboxOptions, db_path: str, reports_dir: str, run_id: str):
    """Every inbox entry, one after the other, on the run's connection to the warehouse."""
    logger = get_run_logger()
    inbox = options.inbox
    with _warehouse(db_path) as connection:
        interrupted = warehouse.mark_interrupted_runs(connection)  # we hold the lock: they died
        warehouse.start_run(connection, run_id, str(inbox), flow_run.get_id())
    if interrupted:
        logger.warning("earlier run(s) %s stopped before finishing; this run completes their work",
                       ", ".join(interrupted))
    outcomes: list[SubmissionOutcome] = []
    # One entry after the other. Reading and validating the next entry in a second thread
    # while this one loads was tried: no gain on 2 cores (the work holds the GIL), so not kept.
    for path in discover_task(str(inbox)):
        try:
            outcomes.append(_ingest_one(path, db_path, reports_dir, run_id, options))
        except Exception as problem:  # noqa: BLE001 - one broken submission never stops the others
            logger.error("%s: failed: %s", Path(path).name, problem)
            outcomes.append(SubmissionOutcome(Path(path).name, None, "failed", 0, 0, 0, None,
                                              f"{type(problem).__name__}: {problem}"))
    counts = {"files_seen": len(outcomes), "rows_loaded": sum(o.rows_loaded for o in outcomes)}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    summary = run_summary_markdown(run_id, inbox, outcomes, counts)
    with _warehouse(db_path) as connection:
        warehouse.finish_run(connection, run_id, counts, summary)
    return outcomes, counts, summary


def run_summary_markdown(run_id: str, inbox: str, outcomes: list[SubmissionOutcome],
                         counts: dict) -> str:
    """The run's summary as the Prefect UI, the log and `ingestion_runs.summary` show it."""
    lines = [f"# Ingestion run {run_id}", "",
             f"Inbox `{inbox}`: {counts.get('files_seen', 0)} entries, "
             + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())
                         if status not in ("files_seen", "rows_loaded"))
             + f"; {counts.get('rows_loaded', 0)} rows loaded.", "",
             "| file | submission | status | rows loaded | errors | warnings | note |",
             "|---|---|---|---:|---:|---:|---|"]
    for o in outcomes:
        cells = [o.file_name, o.submission_id or "-", o.status, str(o.rows_loaded), str(o.errors),
                 str(o.warnings), o.note]
        lines.append("| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |")
    return "\n".join(lines) + "\n"
