"""Open the warehouse and load one validated submission in one transaction.

A submission is recorded in the register whatever its outcome; its rows go into the fact
tables only when it has no errors. The same file (by sha256) is recorded once: a rerun over the
same inbox loads nothing twice. A later accepted submission for the same country and years
replaces the earlier one in the current views; the earlier one stays, marked superseded once
all of its years are replaced.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
import time
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from schemas.findings import LINE, Finding, outcome
from schemas.tables import FACT_TABLES, LIST_SEPARATOR, TABLES

LOADED_STATUSES = ("accepted", "accepted_with_warnings")
LOCK_RETRIES = 8  # about 25 s of waiting in all, for a reader or another run holding the file
_SCHEMA_READY: set[tuple[str, int, int]] = set()  # warehouse files this process has set up


@dataclass
class SubmissionRecord:
    """Everything the register says about one received file."""

    submission_id: str
    sha256: str
    file_name: str
    file_format: str
    size_bytes: int
    status: str
    received_at: dt.datetime
    run_id: str | None = None
    source: str = "member_state"
    country: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    institution: str | None = None
    contact_email: str | None = None
    language: str | None = None
    template_version: str | None = None
    errors: int = 0
    warnings: int = 0
    report_dir: str | None = None
    rows_loaded: dict[str, int] = field(default_factory=dict)
    supersedes: list[str] = field(default_factory=list)


@dataclass
class LoadOutcome:
    submission_id: str
    duplicate_of: str | None  # set when this file was already in the register
    status: str
    rows_loaded: dict[str, int]
    supersedes: list[str]


def submission_id_for(country: str | None, sha256: str) -> str:
    """Derived from content, so the same file always gets the same id."""
    return f"{country or 'UNK'}-{sha256[:12]}"


def connect(db_path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse, creating its tables and views; wait, within bounds, for a lock."""
    db_path = Path(db_path)
    if not read_only:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    delay = 0.2
    for attempt in range(LOCK_RETRIES):
        try:
            connection = duckdb.connect(str(db_path), read_only=read_only)
            break
        except duckdb.IOException as problem:
            if "lock" not in str(problem).lower() or attempt == LOCK_RETRIES - 1:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 8)
    if not read_only:
        # The DDL takes longer than the connection (0.09 s against 0.05 s): run it once per
        # process per warehouse file, which counts at 193 submissions a run.
        stat = db_path.stat()
        identity = (str(db_path.resolve()), stat.st_dev, stat.st_ino)
        if identity not in _SCHEMA_READY:
            ensure_schema(connection)
            _SCHEMA_READY.add(identity)
    return connection


def ensure_schema(connection: duckdb.DuckDBPyConnection) -> None:
    for script in sorted(resources.files("warehouse").joinpath("sql").iterdir(), key=lambda p: p.name):
        if script.name.endswith(".sql"):
            connection.execute(script.read_text(encoding="utf-8"))


def find_by_sha256(connection, sha256: str) -> tuple[str, str] | None:
    rows = connection.execute(
        "SELECT submission_id, status FROM submissions WHERE sha256 = ?", [sha256]).fetchall()
    return rows[0] if rows else None


@contextmanager
def transaction(connection: duckdb.DuckDBPyConnection):
    """All or nothing: commit when the block ends, roll back on any exception (Ctrl-C too)."""
    connection.execute("BEGIN TRANSACTION")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def insert_frame(connection: duckdb.DuckDBPyConnection, table: str, frame) -> int:
    """INSERT ... SELECT from a registered pandas frame or Arrow table, by column name (a
    registered frame loads millions of rows a second; row by row, a few thousand)."""
    names = list(frame.column_names if isinstance(frame, pa.Table) else frame.columns)
    view = f"staged_{table}"
    connection.register(view, frame)
    try:
        columns = ", ".join(f'"{c}"' for c in names)
        connection.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {view}")
    finally:
        connection.unregister(view)
    return len(frame)


def load_submission(
    connection: duckdb.DuckDBPyConnection,
    record: SubmissionRecord,
    tables: dict[str, pd.DataFrame],
    findings: list[Finding],
) -> LoadOutcome:
    """Register the submission, its findings and (if it passed) its rows: all or nothing."""
    with transaction(connection):
        existing = find_by_sha256(connection, record.sha256)
        if existing:  # nothing written: the transaction ends empty
            return LoadOutcome(existing[0], existing[0], existing[1], {}, [])
        load_seq = connection.execute("SELECT nextval('submission_load_seq')").fetchall()[0][0]
        loaded = record.status in LOADED_STATUSES
        rows_loaded = {}
        if loaded:
            for name in FACT_TABLES:
                frame = tables.get(name)
                if frame is not None and not frame.empty:
                    rows_loaded[name] = _insert_facts(connection, name, record.submission_id, frame)
            _insert_years(connection, record, load_seq)
            record.supersedes = _earlier_for_same_years(connection, record)
        record.rows_loaded = rows_loaded
        _insert_register(connection, record, load_seq)
        _insert_findings(connection, record, findings)
        if loaded:
            _mark_superseded(connection, record)
    return LoadOutcome(record.submission_id, None, record.status, rows_loaded, record.supersedes)


def _insert_facts(connection, table: str, submission_id: str, frame: pd.DataFrame) -> int:
    columns = TABLES[table].columns
    staged = frame[columns].copy()
    for column in TABLES[table].columns_where("list_of"):
        staged[column] = staged[column].map(
            lambda text: [item for item in str(text).split(LIST_SEPARATOR) if item],
            na_action="ignore")
    staged.insert(0, "source_line", frame[LINE].astype("int64"))
    staged.insert(0, "submission_id", submission_id)
    # as an Arrow table: DuckDB scans it about twice as fast as the pandas frame at 1M rows
    return insert_frame(connection, f"fact_{table}", pa.Table.from_pandas(staged, preserve_index=False))


def _insert_years(connection, record: SubmissionRecord, load_seq: int) -> None:
    years = range(record.year_from, record.year_to + 1)
    connection.executemany(
        "INSERT INTO submission_years VALUES (?, ?, ?, ?, ?)",
        [(record.submission_id, record.country, year, load_seq, record.received_at) for year in years],
    )


def _earlier_for_same_years(connection, record: SubmissionRecord) -> list[str]:
    rows = connection.execute(
        """
        SELECT DISTINCT sy.submission_id
        FROM submission_years AS sy JOIN submissions AS s USING (submission_id)
        WHERE sy.country = ? AND sy.year BETWEEN ? AND ? AND sy.submission_id <> ?
          AND s.superseded_by IS NULL
        ORDER BY 1
        """,
        [record.country, record.year_from, record.year_to, record.submission_id],
    ).fetchall()
    return [row[0] for row in rows]


def _mark_superseded(connection, record: SubmissionRecord) -> None:
    """An earlier submission none of whose years is current any more is superseded."""
    if not record.supersedes:
        return
    connection.execute(
        """
        UPDATE submissions SET superseded_by = ?, superseded_at = ?
        WHERE list_contains(?, submission_id)
          AND submission_id NOT IN (SELECT submission_id FROM current_country_years)
        """,
        [record.submission_id, record.received_at, record.supersedes],
    )


def _insert_register(connection, record: SubmissionRecord, load_seq: int) -> None:
    connection.execute(
        """
        INSERT INTO submissions (submission_id, load_seq, source, country, year_from, year_to,
            file_name, file_format, sha256, size_bytes, received_at, run_id, status, institution,
            contact_email, language, template_version, rows_loaded, errors, warnings, supersedes,
            report_dir)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        """,
        [record.submission_id, load_seq, record.source, record.country, record.year_from,
         record.year_to, record.file_name, record.file_format, record.sha256, record.size_bytes,
         record.received_at, record.run_id, record.status, record.institution,
         record.contact_email, record.language, record.template_version,
         sum(record.rows_loaded.values()), record.errors, record.warnings, record.supersedes,
         record.report_dir],
    )


def _insert_findings(connection, record: SubmissionRecord, findings: list[Finding]) -> None:
    if not findings:
        return
    frame = pd.DataFrame(
        [(record.submission_id, record.run_id, f.severity, f.rule, f.table, f.source, f.line,
          f.column, f.cell, f.value, f.message) for f in findings],
        columns=["submission_id", "run_id", "severity", "rule", "table_name", "source", "line",
                 "column_name", "cell", "value", "message"],
    )
    frame["line"] = frame["line"].astype("Int64")
    insert_frame(connection, "validation_findings", frame)


def start_run(connection, run_id: str, inbox: str, flow_run_id: str | None = None) -> None:
    connection.execute(
        "INSERT INTO ingestion_runs (run_id, flow_run_id, started_at, inbox, status) VALUES (?, ?, ?, ?, 'running')",
        [run_id, flow_run_id, now(), inbox])


def finish_run(connection, run_id: str, counts: dict[str, int], summary: str | None = None) -> None:
    connection.execute(
        """
        UPDATE ingestion_runs SET finished_at = ?, files_seen = ?, accepted = ?,
            accepted_with_warnings = ?, rejected = ?, duplicates = ?, failed = ?, rows_loaded = ?,
            deferred = ?, summary = ?, status = 'completed'
        WHERE run_id = ?
        """,
        [now(), counts.get("files_seen", 0), counts.get("accepted", 0),
         counts.get("accepted_with_warnings", 0), counts.get("rejected", 0),
         counts.get("duplicate", 0), counts.get("failed", 0), counts.get("rows_loaded", 0),
         counts.get("deferred", 0), summary, run_id])


def mark_interrupted_runs(connection) -> list[str]:
    """Runs left `running` by a process that died; call only while holding the ingestion lock."""
    rows = connection.execute(
        "UPDATE ingestion_runs SET status = 'interrupted' WHERE status = 'running' RETURNING run_id"
    ).fetchall()
    return [row[0] for row in rows]


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def query(db_path: str | Path, sql: str, params: list | None = None) -> pd.DataFrame:
    """Run one read-only query against the warehouse."""
    with duckdb.connect(str(db_path), read_only=True) as connection:
        return connection.execute(sql, params or []).df()


def record_for(parsed, result, *, received_at: dt.datetime, run_id: str | None,
               report_root: str | Path | None, status: str | None = None) -> SubmissionRecord:
    """The register entry for a validated submission (`parsed`, `result` from schemas)."""
    info = result.info or {}
    country = info.get("country") if isinstance(info.get("country"), str) and len(info["country"]) == 3 else None
    submission_id = submission_id_for(country, parsed.sha256)
    return SubmissionRecord(
        submission_id=submission_id,
        sha256=parsed.sha256,
        file_name=parsed.file_name,
        file_format=parsed.file_format,
        size_bytes=parsed.size_bytes,
        status=status or outcome(result.findings),
        received_at=received_at,
        run_id=run_id,
        country=country,
        year_from=_int_or_none(info.get("year_from")),
        year_to=_int_or_none(info.get("year_to")),
        institution=info.get("institution"),
        contact_email=info.get("contact_email"),
        language=info.get("language"),
        template_version=info.get("template_version"),
        errors=sum(f.severity == "error" for f in result.findings),
        warnings=sum(f.severity == "warning" for f in result.findings),
        report_dir=str(Path(report_root) / submission_id) if report_root else None,
    )


def _int_or_none(value) -> int | None:
    return None if value is None or pd.isna(value) else int(value)
