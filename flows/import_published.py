"""The import flow of a published dataUNODC GLOTIP export: read, prepare, load, report.

Like flows/ingest.py, the flow only orchestrates: each task calls one plain function
(transforms.dataunodc, warehouse.dataunodc, reporting.dataunodc). The run opens one warehouse
session (warehouse.session.Warehouse) and passes it to the tasks that need it; each holds the
file for its own turn only (reading and preparing the export hold nothing). Tasks are not cached: the file's sha256 is its identity and the warehouse's
`published_imports` register makes a second import a no-op. Task inputs are passed `opaque`:
Prefect would otherwise walk every object inside them (the export's rows, the prepared tables,
~6,000 findings, the session) when it resolves a task's inputs, which doubled the import's time.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import asdict
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import opaque

from flows.concurrency import LoadTurns
from pipeline.submission import WAREHOUSE_ERRORS, warehouse_problem
from reporting.dataunodc import write_import_report
from schemas.printable import printable
from schemas.messages import render_message
from transforms.dataunodc import ExportError, ExportFile, PreparedExport, prepare_export, read_export
from transforms.readers import sha256_of
from warehouse import dataunodc as loader
from warehouse import snapshot
from warehouse.load import now
from warehouse.session import Warehouse


@task(name="check-already-imported", cache_policy=NO_CACHE)
def already_imported_task(warehouse: Warehouse, path: str) -> tuple[str, dt.date] | None:
    with warehouse.turn() as connection:
        return loader.find_import(connection, sha256_of(Path(path)))


@task(name="check-export-date", cache_policy=NO_CACHE)
def already_dated_task(warehouse: Warehouse, export_date: dt.date) -> list[str]:
    with warehouse.turn() as connection:
        return loader.files_imported_for(connection, export_date)


@task(name="next-import-id", cache_policy=NO_CACHE)
def next_import_id_task(warehouse: Warehouse, export_date: dt.date) -> str:
    with warehouse.turn() as connection:
        return loader.next_import_id(connection, export_date)


@task(name="read-export", cache_policy=NO_CACHE)
def read_task(path: str, export_date: dt.date | None) -> ExportFile:
    return read_export(path, export_date)


@task(name="prepare-export", cache_policy=NO_CACHE)
def prepare_task(export: ExportFile) -> PreparedExport:
    return prepare_export(export)


@task(name="load-export", cache_policy=NO_CACHE, retries=2, retry_delay_seconds=[2, 10])
def load_task(warehouse: Warehouse, prepared: PreparedExport, force: bool, run_id: str,
              report_dir: str) -> loader.ImportOutcome:
    with warehouse.turn() as connection:  # a retry starts on a fresh connection
        return loader.load_export(connection, prepared, force=force, run_id=run_id,
                                  flow_run_id=flow_run.get_id(), report_dir=report_dir)


@task(name="publish-for-analysts", cache_policy=NO_CACHE)
def publish_task(db_path: str) -> dict[str, str]:
    """Read-only snapshot and Parquet files for analysts (warehouse/snapshot.py)."""
    return snapshot.publish(Warehouse(db_path))


@task(name="report-export", cache_policy=NO_CACHE)
def report_task(report_dir: str, prepared: PreparedExport, outcome: loader.ImportOutcome,
                seconds: float) -> str:
    return str(write_import_report(report_dir, prepared, outcome, seconds))


@flow(name="import_published", log_prints=True)
def import_published(file: str, db_path: str, reports_dir: str, export_date: dt.date | None = None,
                     force: bool = False) -> dict:
    """Import one dataUNODC GLOTIP export (.xlsx or .csv) into the warehouse at `db_path`,
    then republish the analysts' snapshot (also when the warehouse has none yet).

    Like an ingestion run, it holds the warehouse file only for the steps that read or write
    it, each waiting its turn (an ingestion run's step, another import)."""
    logger = get_run_logger()
    name = Path(file).name
    with Warehouse(db_path) as warehouse:
        try:
            with warehouse.turn():  # the file can be opened, its tables exist
                pass
        except WAREHOUSE_ERRORS as problem:  # held too long by an analyst, read-only, disk full
            message = f"{warehouse_problem(problem, db_path)}; nothing was imported"
            logger.error("%s: %s", printable(name), printable(message))
            return {"file_name": name, "import_id": None, "status": "failed", "note": message}
        result = _import(file, warehouse, reports_dir, export_date, force)
    if result["status"] == "loaded" or not snapshot.snapshot_path(db_path).is_file():
        result["published"] = _publish(db_path)
    return result


def _publish(db_path: str) -> dict[str, str] | None:
    """Republish the analysts' snapshot and Parquet files, as an ingestion run does: without
    it `glotip sql` would serve the figures from before the import (or none). A failure leaves
    the import standing and the last snapshot in place; None tells the caller."""
    logger = get_run_logger()
    try:
        published = publish_task(db_path)
    except Exception as problem:  # noqa: BLE001 - the import stands; analysts keep the last snapshot
        logger.error("publishing the analysts' snapshot failed: %s", printable(str(problem)))
        return None
    logger.info("published for analysts: %s", published)
    return published


def _import(file: str, warehouse: Warehouse, reports_dir: str, export_date: dt.date | None,
            force: bool) -> dict:
    logger = get_run_logger()
    started = time.perf_counter()
    name = Path(file).name
    existing = already_imported_task(opaque(warehouse), file)
    if existing and not force:
        logger.info("%s: already imported as %s; nothing changed", printable(name), existing[0])
        return {"file_name": name, "import_id": existing[0], "status": "duplicate",
                "export_date": str(existing[1]), "report": str(Path(reports_dir) / existing[0]),
                "note": f"this file was already imported as {existing[0]}; nothing changed"}
    try:
        export = read_task(file, export_date)
    except ExportError as problem:
        logger.error("%s: %s", printable(name), problem)
        return {"file_name": name, "import_id": None, "status": "rejected",
                "note": render_message(problem.finding, "en")}
    if export.export_date is None:
        message = ("the export date is neither in the file's preamble nor in its name: give it "
                   "with --export-date YYYY-MM-DD")
        logger.error("%s: %s", printable(name), message)
        return {"file_name": name, "import_id": None, "status": "rejected", "note": message}
    taken = already_dated_task(opaque(warehouse), export.export_date)
    if taken and not force:
        message = (f"an export dated {export.export_date} is already in the warehouse (from "
                   f"{', '.join(taken)}); import with --force to replace its figures")
        logger.error("%s: %s", printable(name), message)
        return {"file_name": name, "import_id": loader.import_id_for(export.export_date),
                "status": "refused", "note": message}
    prepared = prepare_task(opaque(export))
    run_id = f"import-{now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"
    # a --force re-import is a new version with its own report folder: the earlier report stays
    report_dir = str(Path(reports_dir) / next_import_id_task(opaque(warehouse), export.export_date))
    with LoadTurns.for_this_run().turn():
        outcome = load_task(opaque(warehouse), opaque(prepared), force, run_id, report_dir)
    if outcome.status == "duplicate":
        return {"file_name": name, "import_id": outcome.import_id, "status": "duplicate",
                "export_date": str(outcome.export_date), "note": outcome.note,
                "report": str(Path(reports_dir) / outcome.import_id)}
    seconds = time.perf_counter() - started
    report = report_task(report_dir, opaque(prepared), opaque(outcome), seconds)
    stats = prepared.stats
    seconds = time.perf_counter() - started
    logger.info("%s: export of %s imported as %s: %d rows read, %d loaded, %d quarantined, "
                "%.1f s", printable(name), export.export_date, outcome.import_id, stats.rows_read,
                stats.rows_loaded, stats.rows_quarantined, seconds)
    if outcome.withdrawn:  # data, listed in the result: country, year, pseudo-submission
        logger.info("%s: %d country-years withdrawn (an export of the country no longer has "
                    "them)", printable(name), len(outcome.withdrawn))
    resolution = {key: {k: v for k, v in asdict(item).items() if k != "unresolved"}
                  for key, item in (("citizenship", stats.citizenship),
                                    ("repatriation", stats.repatriation))}
    return {
        "file_name": name, "import_id": outcome.import_id, "status": "loaded",
        "export_date": str(export.export_date), "export_date_from": export.export_date_from,
        "rows_read": stats.rows_read, "rows_loaded": stats.rows_loaded,
        "rows_quarantined": stats.rows_quarantined,
        "quarantined_by_reason": stats.quarantined_by_reason,
        "fact_rows": outcome.rows_loaded, "submissions": outcome.submissions,
        **resolution,
        "repeated_keys": asdict(stats.repeated_keys),
        "parts_exceed_total": stats.parts_exceed_total_cases,
        "replaced": outcome.replaced, "supersedes": outcome.supersedes,
        "withdrawn": outcome.withdrawn,
        "seconds": round(seconds, 2), "report": report,
    }
