"""The sequence that handles one submission, written once.

    receive (settle, archive) -> find in the register -> assess (read, validate)
        -> compare with history -> record and load -> report -> (remove from the inbox)

Every caller goes through these functions: the Prefect flow (each step retried and logged),
`glotip validate` (no load), the benchmark (each step timed) and the tests. A caller decides how
a step runs by passing `step`: a function `step(name, function, *args)` that calls
`function(*args)`, directly (`call`), with retries and a log line (flows/ingest.py) or under a
clock (benchmarks/run.py). The order of the steps and what passes between them is
only here.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import duckdb

from reporting.notice import BY_HAND, Notice
from reporting.render import ReportSummary, report_complete, write_reports
from schemas.catalogue import ERROR
from schemas.findings import (MORE_FINDINGS, Finding, ParsedSubmission, capped, make_finding, outcome,
                             severity_counts)
from schemas.history import HistoryCheck, change_counts, check_against_history
from schemas.limits import Limits
from schemas.messages import render_message
from schemas.personal_data import shown_file_name
from schemas.submission import SubmissionDetails
from schemas.validate import ValidationResult, validate_submission
from transforms import inbox as inbox_files
from transforms.prepare import prepare_submission
from transforms.readers import LimitExceeded
from warehouse import load as loader
from warehouse import locks, register
from warehouse.history import empty_history, held_figures
from warehouse.session import Warehouse

Step = Callable[..., Any]  # step(name, function, *args) -> function(*args)


def call(name: str, function: Callable, *args: Any) -> Any:
    """Run a step as a plain function call."""
    return function(*args)


# Failures that are not the submission's: out of memory, the warehouse locked or unwritable, a
# full disk or a folder we cannot write. Such an entry is never recorded as final: it is
# `failed` in the run summary, stays in the inbox and is taken again by the next run.
TRANSIENT_ERRORS = (MemoryError, OSError, duckdb.IOException, duckdb.OutOfMemoryException,
                    duckdb.FatalException,  # DuckDB after a failed write: the file is reopened
                    duckdb.InterruptException, duckdb.TransactionException,
                    duckdb.ConnectionException, duckdb.ResourceInUseException,
                    duckdb.PermissionException)
WAREHOUSE_ERRORS = (duckdb.Error, OSError)  # opening or writing the warehouse file


def threads_exhausted(problem: BaseException) -> bool:
    """Python's "can't start new thread": out of memory (address space) or of threads, met by
    the thread pools of pyarrow and DuckDB; as transient as a MemoryError."""
    return isinstance(problem, RuntimeError) and "can't start new thread" in str(problem)


def why_failed(problem: BaseException, doing: str, warehouse_path: str | Path | None = None) -> str:
    """A sentence for the run summary: what failed, while doing what, and what to do."""
    if isinstance(problem, (MemoryError, duckdb.OutOfMemoryException)):
        detail = f" ({problem})" if str(problem) else ""
        return f"out of memory while {doing}{detail}; free memory (or process it alone) and rerun"
    if isinstance(problem, duckdb.Error):
        return warehouse_problem(problem, warehouse_path)
    if isinstance(problem, OSError):
        return inbox_files.describe_os_error(problem, doing)
    return f"{type(problem).__name__} while {doing}: {problem}"


def warehouse_problem(problem: BaseException, warehouse_path: str | Path | None) -> str:
    """What a DuckDB error on the warehouse file means for the person who reads the summary."""
    text = str(problem).strip().splitlines()[0] if str(problem).strip() else type(problem).__name__
    where = f"the warehouse {warehouse_path}"
    if "lock" in text.lower():
        return (f"{where} is held open by another process ({text}): an analyst's session, a "
                "`glotip sql --live` or another command; close it (analysts read the snapshot) and rerun")
    if any(word in text.lower() for word in ("permission denied", "read-only", "read only")):
        return f"{where} cannot be written ({text}): give the pipeline write access to it and rerun"
    if "no space" in text.lower() or "disk is full" in text.lower() or "file too large" in text.lower():
        return f"{where} could not be written: the disk is full ({text}); free space and rerun"
    return f"{where} could not be read or written ({text})"


@dataclass
class Assessment:
    """One file read and validated: what the rules found; nothing compared or loaded yet."""

    parsed: ParsedSubmission
    result: ValidationResult
    limits: Limits = Limits()  # those it was read within (the report's annotated copy too)

    @property
    def details(self) -> SubmissionDetails:
        return self.result.details or SubmissionDetails()

    @property
    def findings(self) -> list[Finding]:
        return self.result.findings

    @property
    def submission_id(self) -> str:
        return loader.submission_id_for(self.details, self.parsed.sha256, self.parsed.path)


@dataclass
class Outcome:
    """What happened to one inbox entry (or one validated file), as the run summary lists it."""

    file_name: str
    submission_id: str | None
    # accepted, accepted_with_warnings, held, rejected, validated..., duplicate, completed (an
    # earlier run recorded it but stopped before its report, written now), failed, deferred,
    # skipped (another run on the same warehouse is handling it)
    status: str
    rows_loaded: int = 0
    errors: int = 0
    warnings: int = 0
    report: str | None = None  # the report folder
    note: str = ""
    report_pending: bool = False  # recorded and loaded, but its report could not be written
    findings: list[Finding] = field(default_factory=list, repr=False)
    supersedes: list[str] = field(default_factory=list)  # the submissions whose figures it replaces
    # cells changed, added and removed against the figures held (the report's table of
    # changes, counted); None when nothing was held to compare with
    changes: dict[str, int] | None = None


@dataclass(frozen=True)
class InboxOptions:
    """How a run treats its inbox and where it writes (pipeline/settings.py documents each)."""

    inbox: str
    reports_dir: str
    archive_dir: str
    move_processed: bool = False
    settle_seconds: float = 2.0
    limits: Limits = Limits()  # what any one file may take (schemas/limits.py)
    notice: Notice = Notice()  # what message.eml carries: the portal link, the report attached


# -- the steps ----------------------------------------------------------------------------------

def read_file(path: str | Path, limits: Limits, start_method: str = "forkserver") -> ParsedSubmission:
    """Read within `limits` (a workbook in a child process, started by `start_method`:
    transforms/isolated.py) and normalise."""
    return prepare_submission(path, limits, start_method)


def validate_parsed(parsed: ParsedSubmission, limits: Limits = Limits()) -> Assessment:
    return Assessment(parsed, validate_submission(parsed, limits), limits)


def assess_file(path: str | Path, step: Step = call, limits: Limits = Limits(),
                start_method: str = "forkserver") -> Assessment:
    """Read and validate one file (nothing else), within `limits`; a workbook's reader is
    started by `start_method` (transforms/isolated.py)."""
    return step("validate", validate_parsed, step("read", read_file, str(path), limits, start_method), limits)


def compare_with_history(assessment: Assessment, warehouse: Warehouse | None) -> HistoryCheck:
    """The submission's figures against those the warehouse holds for its country. Not for a
    file with more errors than are listed (`capped`): it is rejected, and which of its rows are
    in error is no longer known row by row, so nothing of it is compared."""
    if any(f.rule == MORE_FINDINGS[ERROR] for f in assessment.findings):
        return HistoryCheck()
    country = assessment.details.valid_country
    held = empty_history()
    if warehouse is not None and country is not None:
        try:
            with warehouse.turn() as connection:
                held = held_figures(connection, country)
        except duckdb.CatalogException:  # a warehouse file without its views yet: nothing held
            held = empty_history()
    details = assessment.details
    return check_against_history(assessment.result.tables, assessment.result.frames, held,
                                 assessment.findings, details.year_from, details.year_to)


def record_and_load(warehouse: Warehouse, record: loader.SubmissionRecord,
                    assessment: Assessment, findings: list[Finding]) -> loader.LoadOutcome:
    """Register the submission and its findings, and load its rows if it passed: one
    transaction, all or nothing."""
    with warehouse.turn() as connection:
        return loader.load_submission(connection, record, assessment.result.tables, findings)


def write_report(report_dir: str | Path, summary: ReportSummary, findings: list[Finding]) -> str:
    return str(write_reports(report_dir, summary, findings))


def write_report_after_load(report_dir: str | Path, summary: ReportSummary,
                            findings: list[Finding]) -> tuple[str | None, str | None]:
    """The report of a submission already recorded: (its folder, None), or (None, why not)."""
    try:
        return write_report(report_dir, summary, findings), None
    except Exception as problem:  # noqa: BLE001 - the load stands whatever stops the report
        return None, why_failed(problem, "writing the report")


def find_in_register(warehouse: Warehouse, sha256: str) -> tuple[str, str] | None:
    with warehouse.turn() as connection:
        return loader.find_by_sha256(connection, sha256)


# -- the sequences ------------------------------------------------------------------------------

def process(assessment: Assessment, warehouse: Warehouse | None, *, reports_dir: str | Path,
            run_id: str | None = None, load: bool = True, language: str | None = None,
            received_at: dt.datetime | None = None, source_path: str | None = None,
            step: Step = call, notice: Notice | None = None) -> Outcome:
    """Compare an assessed file with history, record and load it (when `load`), and write its
    report. Without `load` nothing is written to the warehouse (`glotip validate`); with no
    `warehouse`, nothing is compared either.

    `notice`: what the report's message.eml carries (reporting/notice.py). When None: loaded,
    the link to the portal at its default address; not loaded, nothing is in the portal's
    register, so no link and the report attached (`BY_HAND`)."""
    if notice is None:
        notice = Notice() if load else BY_HAND
    history = step("compare-with-history", compare_with_history, assessment, warehouse)
    # history warnings: stored and reported alike, and listed within the same limit
    findings = capped([*assessment.findings, *history.findings], assessment.limits.findings_per_rule)
    errors, warnings = severity_counts(findings)
    received_at = received_at or loader.now()
    status = outcome(findings)
    if history.hold and status in loader.LOADED_STATUSES:
        status = loader.HELD  # staged, not current, until the data team releases it
    record = loader.record_for(
        assessment.parsed.sha256, assessment.parsed.file_name, assessment.parsed.file_format,
        assessment.parsed.size_bytes, assessment.details, status, errors, warnings,
        received_at=received_at, run_id=run_id, report_root=reports_dir,
        path=assessment.parsed.path)
    if load:
        if warehouse is None:
            raise ValueError("loading needs a warehouse session")
        loaded = step("load", record_and_load, warehouse, record, assessment, findings)
        if loaded.already_recorded:  # by another run, between our look at the register and now
            return Outcome(assessment.parsed.file_name, loaded.submission_id, "duplicate",
                           report=record.report_dir,
                           note=f"same file recorded meanwhile by another run as "
                                f"{loaded.submission_id} ({loaded.status}); that run writes its report")
        status, rows, supersedes = loaded.status, loaded.rows_loaded, loaded.supersedes
    else:
        status, rows, supersedes = record.status, {}, []
    held = status == loader.HELD
    staged = sum(rows.values())
    # a rejected file replaces nothing (and its rows in error were not compared)
    changes = change_counts(history.changes) if history.compared_with and status != "rejected" else None

    def summary() -> ReportSummary:
        return report_summary(assessment, findings, status=status, history=history,
                              received_at=received_at if load else None, rows_loaded=rows,
                              supersedes=supersedes,
                              note=None if load else "note_validated_only", language=language,
                              source_path=source_path, loaded=False if held else None,
                              notice=notice)

    if not load:
        report = step("report", write_report, record.report_dir, summary(), findings)
        return Outcome(assessment.parsed.file_name, record.submission_id, status, 0,
                       record.errors, record.warnings, report, findings=findings, changes=changes)
    # recorded and loaded: a report that cannot be made or written now does not undo that, and
    # the counts say what was loaded; the next run finds the file in the register and writes it
    try:
        report, problem = step("report", write_report_after_load, record.report_dir, summary(), findings)
    except Exception as failure:  # noqa: BLE001 - the summary itself could not be made
        report, problem = None, why_failed(failure, "preparing the report")
    notes = [f"{staged} rows held until `glotip release` or `glotip reject`"] if held else []
    if problem:
        notes.append(f"{'recorded and loaded' if staged else 'recorded'}, but {problem}; the next "
                     "run writes the report")
    return Outcome(assessment.parsed.file_name, record.submission_id, status,
                   0 if held else staged, record.errors, record.warnings, report, findings=findings,
                   note="; ".join(notes), report_pending=problem is not None,
                   supersedes=list(supersedes), changes=changes)


def ingest_entry(path: str | Path, warehouse: Warehouse, options: InboxOptions, *,
                 run_id: str, step: Step = call) -> Outcome:
    """One inbox entry: claim, settle, archive, check the register, assess, compare, load,
    report, clean.

    Runs on one warehouse may go side by side: the run that claims an entry handles it, and any
    other leaves it (`skipped`). The warehouse file is held only for the steps that read or
    write it (`Warehouse.turn`), so reading and validating go on in parallel.

    The raw file is archived before anything reads it, and what is read is the archived copy,
    so the sha256 in the register is that of the bytes validated. The inbox entry is removed
    (when asked) only once the register and the report both hold the outcome.

    The entry's name is shown as `entry_name` says (the run summary, the logs), and so in every
    note that quotes it.
    """
    received_name = Path(path).name
    name = entry_name(path)
    claim = locks.entry_claim(warehouse.path, path)
    try:
        claimed = claim.try_acquire()
    except OSError as problem:  # the warehouse's folder cannot be written
        return Outcome(name, None, "failed", note=_retried(why_failed(problem, "claiming the entry")))
    if not claimed:
        return Outcome(name, None, "skipped", note="another run on this warehouse is handling it")
    try:
        if not os.path.lexists(path):
            return Outcome(name, None, "skipped",
                           note="no longer in the inbox: handled by another run, or removed")
        result = _ingest_entry(path, name, warehouse, options, run_id=run_id, step=step)
    finally:
        claim.release()
    if name != received_name:
        result.note = result.note.replace(received_name, name)
    return result


def entry_name(path: str | Path) -> str:
    """An inbox entry's name as the run summary and the logs show it: `(withheld).xlsx` when
    the name itself holds personal data."""
    return shown_file_name(Path(path).name)


def _ingest_entry(path: str | Path, name: str, warehouse: Warehouse, options: InboxOptions, *,
                  run_id: str, step: Step) -> Outcome:
    try:
        inbox_files.check_size(path, options.limits)  # from metadata: a plain call, not a task
        archived = step("receive", receive, str(path), options.settle_seconds, options.archive_dir)
    except LimitExceeded as problem:
        return refuse_unreceived(path, problem, options)
    except inbox_files.FileStillBeingWritten as problem:
        still = make_finding("file-still-being-written", name=name)
        return Outcome(name, None, "deferred", note=f"{render_message(still)} ({problem})")
    except inbox_files.NotARegularSubmission as problem:
        return Outcome(name, None, "failed", note=str(problem))
    except TRANSIENT_ERRORS as problem:
        return Outcome(name, None, "failed", note=_retried(why_failed(problem, "archiving the file as received")))
    try:
        existing = find_in_register(warehouse, archived.sha256)
        if existing:
            result = finish_received(archived.path, existing, warehouse, options.reports_dir, step,
                                     options.limits, options.notice)
        else:
            assessment = assess_file(archived.path, step, options.limits)
            result = process(assessment, warehouse, reports_dir=options.reports_dir, run_id=run_id,
                             source_path=str(archived.path), step=step, notice=options.notice)
    except TRANSIENT_ERRORS as problem:  # nothing recorded (a load is one transaction)
        return Outcome(name, None, "failed", note=_retried(why_failed(problem, "processing it", warehouse.path)))
    except RuntimeError as problem:
        if not threads_exhausted(problem):
            raise
        return Outcome(name, None, "failed", note=_retried(why_failed(MemoryError(
            "no thread could be started"), "processing it")))
    result.file_name = name
    if options.move_processed and not result.report_pending:  # kept until its report is written
        try:
            inbox_files.remove_from_inbox(path, options.inbox)
        except OSError as problem:  # recorded already: the next run sees a duplicate
            result.note = inbox_files.describe_os_error(problem, "removing it from the inbox")
    return result


def _retried(why: str) -> str:
    return f"{why}; nothing was recorded: the entry stays in the inbox and the next run takes it again"


def receive(path: str, settle_seconds: float, archive_dir: str) -> inbox_files.ArchivedFile:
    """Once the entry has settled, archive it as received (`ingest_entry` has refused an entry
    over `file_bytes` before, from its size alone)."""
    inbox_files.check_entry(path)
    inbox_files.check_settled(path, settle_seconds)
    return inbox_files.archive_raw(path, archive_dir)


def refuse_unreceived(path: str | Path, problem: LimitExceeded, options: InboxOptions) -> Outcome:
    """An entry over `file_bytes`: not hashed, not archived, not recorded in the register. It
    stays in the inbox (even with `move_processed`: nothing else holds it) and gets a report
    naming the limit in `<reports>/refused-<digest of its path>/` (never its name); each run
    reports it again until it is replaced or removed."""
    path = Path(path)
    name = entry_name(path)
    parsed = ParsedSubmission(path=str(path), file_name=name, sha256="", file_format="unknown",
                              size_bytes=int(problem.actual), read_findings=[problem.finding()])
    assessment = validate_parsed(parsed, options.limits)
    summary = report_summary(assessment, assessment.findings, status="rejected", history=None,
                             received_at=None, rows_loaded=None, supersedes=[],
                             note="note_refused_unreceived")  # nothing read: no contact, no e-mail
    # the same entry gets the same folder every run
    report = write_report(Path(options.reports_dir) / assessment.submission_id, summary, assessment.findings)
    return Outcome(name, None, "rejected", errors=len(assessment.findings), report=report,
                   note=render_message(problem.finding()), findings=assessment.findings)


def finish_received(archived_path: str | Path, existing: tuple[str, str], warehouse: Warehouse,
                    reports_dir: str | Path, step: Step = call, limits: Limits = Limits(),
                    notice: Notice = Notice()) -> Outcome:
    """A file already in the register: nothing is loaded again. If the run that recorded it
    stopped before writing its report, the report is written now, with the findings the
    register holds for it (history warnings included), so it says what the first run found."""
    submission_id, status = existing
    report_dir = Path(reports_dir) / submission_id
    if report_complete(report_dir):
        return Outcome(Path(archived_path).name, submission_id, "duplicate", report=str(report_dir),
                       note=f"same file already received as {submission_id} ({status})")
    report, problem = report_from_register(
        archived_path, submission_id, warehouse, reports_dir, step, limits, status=status,
        rows_loaded=None, supersedes=[], loaded=status in loader.LOADED_STATUSES, notice=notice)
    if problem:
        return Outcome(Path(archived_path).name, submission_id, "duplicate", report_pending=True,
                       note=f"recorded as {submission_id} ({status}) by an earlier run; its report "
                       f"is still missing: {problem}; the next run writes it")
    return Outcome(Path(archived_path).name, submission_id, "completed", report=report,
                   note=f"recorded as {submission_id} ({status}) by an earlier run that stopped "
                   "before its report; the report is written now")


def decide_held(submission_id: str, release: bool, warehouse: Warehouse, reports_dir: str | Path,
                archive_dir: str | Path, step: Step = call, limits: Limits = Limits(),
                notice: Notice = Notice()) -> Outcome:
    """The data team's decision on a held submission (`glotip release` / `glotip reject`), then
    its report written again, so that the submitter reads the decision (its message.eml as
    `notice` says)."""
    with warehouse.turn() as connection:
        decided = loader.decide_held(connection, submission_id, release=release, at=loader.now())
        sha256, file_name = loader.file_of(connection, submission_id)
    archived = inbox_files.archived_copy(archive_dir, sha256)
    report, problem = None, f"no archived copy of {sha256} under {archive_dir}"
    if archived is not None:
        report, problem = report_from_register(
            archived, submission_id, warehouse, reports_dir, step, limits, status=decided.status,
            rows_loaded=decided.rows_loaded, supersedes=decided.supersedes, loaded=release,
            note="note_released" if release else "note_held_rejected", notice=notice)
    return Outcome(file_name, submission_id, decided.status, sum(decided.rows_loaded.values()),
                   report=report, report_pending=problem is not None,
                   note=f"the decision is recorded, but the report was not written again: {problem}"
                   if problem else "")


def report_from_register(archived_path: str | Path, submission_id: str, warehouse: Warehouse,
                         reports_dir: str | Path, step: Step, limits: Limits, *, status: str,
                         rows_loaded: dict[str, int] | None, supersedes: list[str], loaded: bool,
                         note: str | None = None, notice: Notice = Notice()) -> tuple[str | None, str | None]:
    """A recorded submission's report written again: its archived file read again (validation is
    deterministic) with the findings the register holds for it, history warnings included.
    (its folder, None), or (None, why not)."""
    assessment = assess_file(archived_path, step, limits)
    with warehouse.turn() as connection:
        findings = register.stored_findings(connection, submission_id)
    summary = report_summary(assessment, findings, status=status, history=None, received_at=None,
                             rows_loaded=rows_loaded, supersedes=supersedes, note=note,
                             source_path=str(archived_path), loaded=loaded, notice=notice)
    return step("report", write_report_after_load, Path(reports_dir) / submission_id, summary, findings)


def report_summary(assessment: Assessment, findings: list[Finding], *, status: str,
                   history: HistoryCheck | None, received_at: dt.datetime | None,
                   rows_loaded: dict[str, int] | None, supersedes: list[str],
                   note: str | None = None, language: str | None = None,
                   source_path: str | None = None, loaded: bool | None = None,
                   notice: Notice = Notice()) -> ReportSummary:
    """What a report says about the submission besides its findings."""
    details, parsed = assessment.details, assessment.parsed
    rows = rows_loaded or {name: len(frame) for name, frame in assessment.result.tables.items()}
    email_ok = details.contact_email is not None and not any(
        f.column == "contact_email" and f.table == "submission" for f in findings)
    compared = bool(history and history.compared_with)
    return ReportSummary(
        submission_id=assessment.submission_id, file_name=parsed.file_name, sha256=parsed.sha256,
        status=status, country=details.valid_country, year_from=details.year_from,
        year_to=details.year_to,
        received_at=received_at.isoformat(timespec="seconds") if received_at else None,
        rows=rows, loaded=bool(rows_loaded) if loaded is None else loaded, supersedes=supersedes,
        note=note, language=language or details.language,
        contact_email=details.contact_email if email_ok else None,
        institution=details.institution,
        changes=[change.to_dict() for change in history.changes] if compared else None,
        compared_with=list(history.compared_with) if compared else [],
        source_path=source_path or parsed.path, file_format=parsed.file_format,
        source_cells=parsed.cells, max_annotated_cells=assessment.limits.annotated_cells,
        notice=notice)


def counts(outcomes: list[Outcome]) -> dict[str, int]:
    """Entries per status, with `files_seen`, `rows_loaded` and `reports_pending`, for the run's
    register row and summary."""
    totals = {"files_seen": len(outcomes), "rows_loaded": sum(o.rows_loaded for o in outcomes)}
    for o in outcomes:
        totals[o.status] = totals.get(o.status, 0) + 1
    pending = sum(o.report_pending for o in outcomes)
    if pending:
        totals["reports_pending"] = pending
    return totals


def complete(outcomes: list[Outcome]) -> bool:
    """Whether nothing is left for the next run: no entry failed, no report is missing."""
    return not any(o.status == "failed" or o.report_pending for o in outcomes)


def as_row(o: Outcome) -> dict[str, Any]:
    return {"file_name": o.file_name, "submission_id": o.submission_id, "status": o.status,
            "rows_loaded": o.rows_loaded, "errors": o.errors, "warnings": o.warnings,
            "report": o.report, "note": o.note, "report_pending": o.report_pending,
            "supersedes": list(o.supersedes), "changes": o.changes,
            "resubmission": resubmission_text(o)}


def resubmission_text(o: Outcome) -> str:
    """What the data team reads of a resubmission in the run summary: `supersedes FRA-1a2b3c4d5e6f;
    3 cells changed, 1 added, 0 removed`; empty for a submission with nothing held before."""
    parts = []
    if o.supersedes:
        parts.append(f"supersedes {', '.join(o.supersedes)}")
    if o.changes is not None:
        parts.append(f"{o.changes['changed']} cells changed, {o.changes['added']} added, "
                     f"{o.changes['removed']} removed")
    return "; ".join(parts)

