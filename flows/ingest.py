"""The ingestion flow: every submission in an inbox, through the one per-submission sequence.

The sequence itself is `pipeline.submission.ingest_entry`; this flow only orchestrates it: it
marks itself alive, opens the run's warehouse session, runs the steps of the sequence
(`_run_step`), records the run and publishes the analysts' snapshot. The steps are plain
calls, retried here where they can fail for a passing reason and each logged with its
duration; a load holds a turn of the `glotip-load` limit. They are not Prefect tasks: a task
run costs the Prefect server CPU on the run's own two cores (about 35 ms a task run), and a
task per step, six per submission, made the scheduled run of 193 submissions (benchmarks/run.py)
take twice as long. Only listing the inbox and publishing are tasks.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.settings import get_current_settings
from prefect.utilities.annotations import opaque

from flows.concurrency import LOAD_CONCURRENCY_LIMIT, LoadTurns
from pipeline import submission as sequence
from reporting.notice import DEFAULT_PORTAL_URL, Notice
from schemas.printable import printable
from transforms import inbox as inbox_files
from transforms.isolated import start_reader_server
from transforms.prepare import discover
from warehouse import load as loader
from warehouse import locks, snapshot
from warehouse.session import Warehouse

SERIALISED_STEPS = frozenset({"load"})  # run holding a turn of the `glotip-load` limit


@dataclass(frozen=True)
class Retries:
    """How a step that can fail for a passing reason is tried again: after each of `delays`
    (seconds), if `applies` to what it raised."""

    delays: tuple[float, ...] = ()
    applies: Callable[[Exception], bool] = lambda problem: True


# Retries of the steps that can fail for a passing reason. A file still being copied in gets
# three more looks, 2 + 4 + 8 s apart, then waits for the next run: bounded, so one slow copy
# never holds up the schedule. The warehouse steps retry a lock or I/O error twice.
_RETRIES = {
    "receive": Retries((2, 4, 8), lambda problem: type(problem) is inbox_files.FileStillBeingWritten),
    "compare-with-history": Retries((2, 10)),
    "load": Retries((2, 10)),
}
# How far the run is, for a caller running the flow in-process (`glotip ingest` draws its
# progress bar from it): records of a plain logger, not Prefect's (they do not depend on
# Prefect's log level, nor fill its log), each with a `progress` attribute: {"entries": n} once
# the inbox is listed, then {"started": name} and {"finished": name, "status": ...} per entry.
# Without a handler (a worker, the schedule) they are dropped at once.
PROGRESS_LOGGER = "glotip.ingest.progress"


def _progress(**step) -> None:
    logging.getLogger(PROGRESS_LOGGER).info("%s", step, extra={"progress": step})


def _run_step(name: str, function, *args, entry: str, loads: LoadTurns = LoadTurns(False)):
    """Run one step of the sequence for the inbox entry named `entry`, as a plain call; a load
    holding a turn of `loads`. Retried as `_RETRIES` says; logged with its duration (a load's,
    once it has its turn)."""
    retries = _RETRIES.get(name, Retries())
    logger = get_run_logger()
    tries = 0
    while True:
        try:
            with loads.turn() if name in SERIALISED_STEPS else nullcontext():
                started = time.perf_counter()
                result = function(*args)
        except Exception as problem:
            if tries == len(retries.delays) or not retries.applies(problem):
                raise
            delay = retries.delays[tries]
            tries += 1
            # its type only: the message may quote the file's own name
            logger.warning("%s: %s failed (%s); try %d of %d in %s s", printable(entry), name,
                           type(problem).__name__, tries + 1, len(retries.delays) + 1, delay)
            time.sleep(delay)
            continue
        logger.info("%s: %s in %.3f s", printable(entry), name, time.perf_counter() - started)
        return result


def _discover(inbox: str) -> list[Path]:
    return task(discover, name="discover", cache_policy=NO_CACHE)(inbox)


@task(name="publish-for-analysts", cache_policy=NO_CACHE)
def publish_task(warehouse: Warehouse) -> dict[str, str]:
    """Read-only snapshot and Parquet files for analysts (warehouse/snapshot.py), in one turn
    at the warehouse (no other run writes while it is copied); the session is closed after."""
    with warehouse.turn():
        return snapshot.publish(warehouse)


@flow(name="ingest_submissions", log_prints=True)
def ingest_submissions(inbox: str, db_path: str, reports_dir: str, archive_dir: str,
                       move_processed: bool = False, settle_seconds: float = 2.0,
                       warehouse_wait_seconds: float = 120.0, limits: dict | None = None,
                       portal_url: str = DEFAULT_PORTAL_URL, attach_report: bool = False) -> list[dict]:
    """Ingest every submission in `inbox` into the warehouse at `db_path`, archiving each file
    as received under `archive_dir` (every folder it writes to is named by its caller).

    Runs on one warehouse go side by side (several workers, a run by hand during the schedule):
    each entry is handled by the run that claims it; the warehouse file is held for one step at
    a time, waiting up to `warehouse_wait_seconds` for its turn, so that runs read and validate
    in parallel; loads also take turns through the `glotip-load` concurrency limit.
    `move_processed` removes each entry from the inbox once its outcome is recorded (off for the
    demo: sample_submissions/ is never emptied). `limits`: the `[limits]` settings
    (schemas/limits.py) as a mapping; the defaults when None. Each report's message.eml links
    to it at `portal_url` (the submitters' portal) and attaches it only with `attach_report`.
    """
    options = sequence.InboxOptions(str(inbox), str(reports_dir), str(archive_dir),
                                    move_processed, settle_seconds,
                                    sequence.Limits(**(limits or {})),
                                    Notice(str(portal_url), bool(attach_report)))
    run_id = _new_run_id()
    alive = locks.run_marker(db_path, run_id)  # held while this run lives
    try:
        alive.try_acquire()  # a new run id: nobody else has it
    except OSError as problem:  # the warehouse's folder is read-only or full
        return _warehouse_unavailable(run_id, options, db_path, problem)
    try:
        return _ingest_inbox(run_id, options, db_path, warehouse_wait_seconds)
    finally:
        alive.release()


def _new_run_id() -> str:
    return f"run-{loader.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def _ingest_inbox(run_id: str, options: sequence.InboxOptions, db_path: str,
                  wait_seconds: float) -> list[dict]:
    """The run itself, on one warehouse session, each warehouse step in its own turn."""
    logger = get_run_logger()
    with Warehouse(db_path, wait_seconds=wait_seconds) as warehouse:
        try:
            with warehouse.turn() as connection:
                interrupted = loader.mark_interrupted_runs(
                    connection, lambda other: locks.run_is_alive(db_path, other))
                loader.start_run(connection, run_id, options.inbox, flow_run.get_id())
        except sequence.WAREHOUSE_ERRORS as problem:  # held too long, read-only, disk full
            return _warehouse_unavailable(run_id, options, db_path, problem)
        if interrupted:
            logger.warning("earlier run(s) %s stopped before finishing; this run completes their work",
                           ", ".join(interrupted))
        start_reader_server()  # warming up while the inbox is listed
        entries = _discover(options.inbox)
        _progress(entries=len(entries))
        loads = LoadTurns.for_this_run()
        if not loads.limit_in_force and get_current_settings().api.url:
            logger.info("the server has no %r concurrency limit: loads do not take turns through "
                        "it (create it once: prefect gcl create %s --limit 1)",
                        LOAD_CONCURRENCY_LIMIT, LOAD_CONCURRENCY_LIMIT)
        outcomes = [_ingest_one(path, warehouse, options, run_id, loads) for path in entries]
        counts = sequence.counts(outcomes)
        summary = run_summary_markdown(run_id, options.inbox, outcomes, counts)
        try:
            with warehouse.turn() as connection:
                loader.finish_run(connection, run_id, counts, summary)
        except sequence.WAREHOUSE_ERRORS as problem:  # the next run marks it `interrupted`
            logger.error("the run's own record could not be written: %s",
                         printable(sequence.warehouse_problem(problem, db_path)))
        _log_summary(run_id, counts, summary)
        try:
            published = publish_task(opaque(warehouse))
            logger.info("published for analysts: %s", published)
        except Exception as problem:  # noqa: BLE001 - the load stands; analysts keep the last snapshot
            logger.error("publishing the analysts' snapshot failed: %s", problem)
    return [sequence.as_row(o) | {"run_id": run_id} for o in outcomes]


def _log_summary(run_id: str, counts: dict, summary: str) -> None:
    logger = get_run_logger()
    logger.info("run %s: %s", run_id, counts)
    logger.info("%s", summary)
    create_markdown_artifact(markdown=summary, key="ingestion-summary",
                             description=f"Ingestion run {run_id}")


def _warehouse_unavailable(run_id: str, options: sequence.InboxOptions, db_path: str,
                           problem: Exception) -> list[dict]:
    """The warehouse cannot be opened for writing: nothing is read, archived or recorded; every
    entry is listed as failed with the reason, and stays in the inbox for the next run."""
    reason = sequence.warehouse_problem(problem, db_path)
    get_run_logger().error("run %s did nothing: %s", run_id, printable(reason))
    note = f"{reason}; nothing was read or recorded: the entry stays in the inbox for the next run"
    outcomes = [sequence.Outcome(path.name, None, "failed", note=note)
                for path in _discover(options.inbox)]
    counts = sequence.counts(outcomes)
    summary = run_summary_markdown(run_id, options.inbox, outcomes, counts,
                                   headline=f"Nothing done: {printable(reason)}. This run is not "
                                            "recorded in `ingestion_runs`.")
    _log_summary(run_id, counts, summary)
    return [sequence.as_row(o) | {"run_id": run_id} for o in outcomes]


def _ingest_one(path: Path, warehouse: Warehouse, options: sequence.InboxOptions, run_id: str,
                loads: LoadTurns) -> sequence.Outcome:
    logger = get_run_logger()
    name = sequence.entry_name(path)
    _progress(started=name)
    step = partial(_run_step, entry=name, loads=loads)
    try:
        outcome = sequence.ingest_entry(path, warehouse, options, run_id=run_id, step=step)
    except Exception as problem:  # noqa: BLE001 - one broken submission never stops the others
        note = f"{type(problem).__name__}: {problem}".replace(path.name, name)
        logger.error("%s: failed: %s", printable(name), printable(note))
        _progress(finished=name, status="failed")
        return sequence.Outcome(name, None, "failed", note=note)
    log = logger.warning if outcome.status in ("deferred", "failed") or outcome.report_pending else logger.info
    log("%s: %s, %d rows loaded, %d errors, %d warnings%s", printable(name), outcome.status,
        outcome.rows_loaded, outcome.errors, outcome.warnings,
        f" ({printable(outcome.note)})" if outcome.note else "")
    _progress(finished=name, status=outcome.status)
    return outcome


def run_summary_markdown(run_id: str, inbox: str, outcomes: list[sequence.Outcome],
                         counts: dict, headline: str | None = None) -> str:
    """The run's summary as the Prefect UI, the log and `ingestion_runs.summary` show it. File
    names and notes are made printable: a name with a newline cannot forge a line."""
    lines = [f"# Ingestion run {run_id}", ""]
    if headline:
        lines += [headline, ""]
    pending = counts.get("reports_pending", 0)
    lines += [f"Inbox `{printable(inbox)}`: {counts.get('files_seen', 0)} entries, "
              + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())
                          if status not in ("files_seen", "rows_loaded", "reports_pending"))
              + f"; {counts.get('rows_loaded', 0)} rows loaded."
              + (f" {pending} report(s) could not be written; the next run writes them." if pending else ""),
              "",
              "| file | submission | status | rows loaded | errors | warnings | resubmission | note |",
              "|---|---|---|---:|---:|---:|---|---|"]
    for o in outcomes:
        cells = [o.file_name, o.submission_id or "-", o.status, str(o.rows_loaded), str(o.errors),
                 str(o.warnings), sequence.resubmission_text(o), o.note]
        lines.append("| " + " | ".join(printable(c).replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
