"""The import flow of a published dataUNODC GLOTIP export: read, prepare, load, report.

Like flows/ingest.py, the tasks only call plain functions (transforms.dataunodc,
warehouse.dataunodc, reporting.dataunodc). Tasks are not cached: the file's sha256 is its
identity and the warehouse's `published_imports` register makes a second import a no-op. The
large inputs (the export's rows, the prepared tables and ~6,000 findings) are passed `quote`d:
Prefect would otherwise walk every object inside them when it resolves a task's inputs, which
doubled the import's time.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from reporting.dataunodc import import_figures, note, write_import_report
from reporting.render import ReportSummary
from transforms.dataunodc import ExportError, ExportFile, PreparedExport, prepare_export, read_export
from transforms.readers import sha256_of
from warehouse import load as warehouse
from warehouse import dataunodc as loader


@task(name="check-already-imported", cache_policy=NO_CACHE)
def already_imported_task(db_path: str, path: str) -> tuple[str, dt.date] | None:
    connection = warehouse.connect(db_path)
    try:
        return loader.find_import(connection, sha256_of(Path(path)))
    finally:
        connection.close()


@task(name="check-export-date", cache_policy=NO_CACHE)
def already_dated_task(db_path: str, export_date: dt.date) -> list[str]:
    connection = warehouse.connect(db_path)
    try:
        return loader.files_imported_for(connection, export_date)
    finally:
        connection.close()


@task(name="read-export", cache_policy=NO_CACHE)
def read_task(path: str, export_date: dt.date | None) -> ExportFile:
    return read_export(path, export_date)


@task(name="prepare-export", cache_policy=NO_CACHE)
def prepare_task(export: ExportFile) -> PreparedExport:
    return prepare_export(export)


@task(name="load-export", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def load_task(db_path: str, prepared: PreparedExport, force: bool, run_id: str,
              report_dir: str) -> loader.ImportOutcome:
    connection = warehouse.connect(db_path)
    try:
        return loader.load_export(connection, prepared, force=force, run_id=run_id,
                                  flow_run_id=flow_run.get_id(), report_dir=report_dir)
    finally:
        connection.close()


@task(name="report-export", cache_policy=NO_CACHE)
def report_task(report_dir: str, prepared: PreparedExport, outcome: loader.ImportOutcome,
                seconds: float) -> str:
    export = prepared.export
    figures = import_figures(prepared.stats, export_date=export.export_date, seconds=seconds,
                             status=outcome.status, import_id=outcome.import_id,
                             supersedes=outcome.supersedes)
    summary = ReportSummary(
        submission_id=outcome.import_id, file_name=export.file_name, sha256=export.sha256,
        status="accepted_with_warnings" if prepared.findings else "accepted",
        year_from=(prepared.stats["years"] or [None])[0],
        year_to=(prepared.stats["years"] or [None, None])[1],
        received_at=warehouse.now().isoformat(timespec="seconds"),
        rows=outcome.rows_loaded, loaded=True, supersedes=outcome.supersedes,
        note=note(prepared.stats, export.export_date))
    return str(write_import_report(report_dir, summary, prepared.findings, figures))


@flow(name="import_published", log_prints=True)
def import_published(file: str, db_path: str, reports_dir: str, export_date: dt.date | None = None,
                     force: bool = False) -> dict:
    """Import one dataUNODC GLOTIP export (.xlsx or .csv) into the warehouse at `db_path`."""
    logger = get_run_logger()
    started = time.perf_counter()
    name = Path(file).name
    existing = already_imported_task(db_path, file)
    if existing and not force:
        logger.info("%s: already imported as %s; nothing changed", name, existing[0])
        return {"file_name": name, "import_id": existing[0], "status": "duplicate",
                "export_date": str(existing[1]), "report": str(Path(reports_dir) / existing[0]),
                "note": f"this file was already imported as {existing[0]}; nothing changed"}
    try:
        export = read_task(file, export_date)
    except ExportError as problem:
        logger.error("%s: %s", name, problem)
        return {"file_name": name, "import_id": None, "status": "rejected",
                "note": problem.finding.message}
    if export.export_date is None:
        message = ("the export date is neither in the file's preamble nor in its name: give it "
                   "with --export-date YYYY-MM-DD")
        logger.error("%s: %s", name, message)
        return {"file_name": name, "import_id": None, "status": "rejected", "note": message}
    taken = already_dated_task(db_path, export.export_date)
    if taken and not force:
        message = (f"an export dated {export.export_date} is already in the warehouse (from "
                   f"{', '.join(taken)}); import with --force to replace its figures")
        logger.error("%s: %s", name, message)
        return {"file_name": name, "import_id": loader.import_id_for(export.export_date),
                "status": "refused", "note": message}
    prepared = prepare_task(quote(export))
    run_id = f"import-{warehouse.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    report_dir = str(Path(reports_dir) / loader.import_id_for(export.export_date))
    outcome = load_task(db_path, quote(prepared), force, run_id, report_dir)
    if outcome.status == "duplicate":
        return {"file_name": name, "import_id": outcome.import_id, "status": "duplicate",
                "export_date": str(outcome.export_date), "note": outcome.note,
                "report": str(Path(reports_dir) / outcome.import_id)}
    seconds = time.perf_counter() - started
    report = report_task(report_dir, quote(prepared), outcome, seconds)
    stats = prepared.stats
    seconds = time.perf_counter() - started
    logger.info("%s: export of %s imported as %s: %d rows read, %d loaded, %d quarantined, "
                "%.1f s", name, export.export_date, outcome.import_id, stats["rows_read"],
                stats["rows_loaded"], stats["rows_quarantined"], seconds)
    return {
        "file_name": name, "import_id": outcome.import_id, "status": "loaded",
        "export_date": str(export.export_date), "export_date_from": export.export_date_from,
        "rows_read": stats["rows_read"], "rows_loaded": stats["rows_loaded"],
        "rows_quarantined": stats["rows_quarantined"],
        "quarantined_by_reason": stats["quarantined_by_reason"],
        "fact_rows": outcome.rows_loaded, "submissions": outcome.submissions,
        "citizenship": {k: v for k, v in stats["citizenship"].items() if k != "unresolved"},
        "repatriation": {k: v for k, v in stats["repatriation"].items() if k != "unresolved"},
        "repeated_keys": stats["repeated_keys"],
        "parts_exceed_total": sum(i["cases"] for i in stats["parts_exceed_total"].values()),
        "replaced": outcome.replaced, "supersedes": outcome.supersedes,
        "seconds": round(seconds, 2), "report": report,
    }
