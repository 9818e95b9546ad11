"""Load one validated submission into the warehouse in one transaction.

A submission is recorded in the register whatever its outcome; its rows go into the fact
tables only when it has no errors. The same file (by sha256) is recorded once: a rerun over the
same inbox loads nothing twice. A later accepted submission for the same country and years
replaces the earlier one in the current views; the earlier one stays, marked superseded once
all of its years are replaced.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa

from schemas.findings import LINE, Finding
from schemas.submission import SubmissionDetails
from schemas.tables import FACT_TABLES, LIST_SEPARATOR, TABLES
from warehouse import register
from warehouse.session import insert_frame, transaction

LOADED_STATUSES = ("accepted", "accepted_with_warnings")
# Held for the data team's confirmation (schemas.history, `replaces-most-figures`): its rows are
# in the fact tables but not current (the views take loaded statuses only) until released.
HELD = "held"
STAGED_STATUSES = (*LOADED_STATUSES, HELD)


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
    status: str
    rows_loaded: dict[str, int]
    supersedes: list[str]
    # the same file was already in the register (recorded by another run since this one looked):
    # nothing was written
    already_recorded: bool = False


def submission_id_for(details: SubmissionDetails | None, sha256: str, path: str = "") -> str:
    """Derived from content, so the same file always gets the same id; built only from a valid
    country code and the file's hash, so it is safe as a folder name. A file refused before it
    was hashed (over `file_bytes`) is `refused-` and a digest of its path: never the name itself,
    which could hold `..`, control characters or personal data."""
    if not sha256:
        return f"refused-{hashlib.sha256(str(path).encode('utf-8', 'surrogateescape')).hexdigest()[:12]}"
    country = details.valid_country if details else None
    return f"{country or 'UNK'}-{sha256[:12]}"


def find_by_sha256(connection, sha256: str) -> tuple[str, str] | None:
    rows = connection.execute(
        "SELECT submission_id, status FROM submissions WHERE sha256 = ?", [sha256]).fetchall()
    return rows[0] if rows else None


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
            return LoadOutcome(existing[0], existing[1], {}, [], already_recorded=True)
        load_seq = connection.execute("SELECT nextval('submission_load_seq')").fetchall()[0][0]
        loaded = record.status in LOADED_STATUSES
        rows_loaded = {}
        if record.status in STAGED_STATUSES:
            for name in FACT_TABLES:
                frame = tables.get(name)
                if frame is not None and not frame.empty:
                    rows_loaded[name] = _insert_facts(connection, name, record.submission_id, frame)
            _insert_years(connection, record, load_seq)
        record.rows_loaded = rows_loaded
        _insert_register(connection, record, load_seq)
        register.insert_findings(connection, [(record.submission_id, f) for f in findings], record.run_id)
        if loaded:
            register.supersede(connection, [record.submission_id], record.received_at)
            record.supersedes = _recorded_supersedes(connection, record.submission_id)
    return LoadOutcome(record.submission_id, record.status, rows_loaded, record.supersedes)


def decide_held(connection: duckdb.DuckDBPyConnection, submission_id: str, *, release: bool,
                at: dt.datetime) -> LoadOutcome:
    """The data team's decision on a held submission, in one transaction.

    Released: it becomes current for its years as if it had arrived now (a new `load_seq`), and
    replaces what it covers. Rejected: its staged rows leave the fact tables; the register keeps
    the entry (status `rejected`) and its findings, and the archive keeps the raw file.
    """
    with transaction(connection):
        rows = connection.execute("SELECT status FROM submissions WHERE submission_id = ?",
                                  [submission_id]).fetchall()
        if not rows:
            raise LookupError(f"no submission {submission_id} in the register")
        if rows[0][0] != HELD:
            raise ValueError(f"{submission_id} is {rows[0][0]}, not held: nothing to decide")
        if release:
            load_seq = connection.execute("SELECT nextval('submission_load_seq')").fetchall()[0][0]
            connection.execute("UPDATE submission_years SET load_seq = ?, loaded_at = ? "
                               "WHERE submission_id = ?", [load_seq, at, submission_id])
            connection.execute(
                "UPDATE submissions SET status = 'accepted_with_warnings', load_seq = ?, "
                "held_decision = 'released', held_decided_at = ? WHERE submission_id = ?",
                [load_seq, at, submission_id])
            register.supersede(connection, [submission_id], at)
            counts = {name: connection.execute(
                f"SELECT count(*) FROM fact_{name} WHERE submission_id = ?", [submission_id]
            ).fetchall()[0][0] for name in FACT_TABLES}
            return LoadOutcome(submission_id, "accepted_with_warnings",
                               {name: n for name, n in counts.items() if n},
                               _recorded_supersedes(connection, submission_id))
        for name in FACT_TABLES:
            connection.execute(f"DELETE FROM fact_{name} WHERE submission_id = ?", [submission_id])
        connection.execute("DELETE FROM submission_years WHERE submission_id = ?", [submission_id])
        connection.execute(
            "UPDATE submissions SET status = 'rejected', rows_loaded = 0, "
            "held_decision = 'rejected', held_decided_at = ? WHERE submission_id = ?",
            [at, submission_id])
    return LoadOutcome(submission_id, "rejected", {}, [])


def file_of(connection: duckdb.DuckDBPyConnection, submission_id: str) -> tuple[str, str]:
    """(sha256, file name) of a registered submission: where its raw file is archived."""
    rows = connection.execute("SELECT sha256, file_name FROM submissions WHERE submission_id = ?",
                              [submission_id]).fetchall()
    if not rows:
        raise LookupError(f"no submission {submission_id} in the register")
    return rows[0]


def held_submissions(connection: duckdb.DuckDBPyConnection) -> list[tuple]:
    """(submission_id, country, year_from, year_to, file_name, received_at) of each held one."""
    return connection.execute(
        "SELECT submission_id, country, year_from, year_to, file_name, received_at "
        "FROM submissions WHERE status = ? ORDER BY received_at", [HELD]).fetchall()


def _recorded_supersedes(connection, submission_id: str) -> list[str]:
    rows = connection.execute("SELECT supersedes FROM submissions WHERE submission_id = ?",
                              [submission_id]).fetchall()
    return list(rows[0][0] or []) if rows else []


def _insert_facts(connection, table: str, submission_id: str, frame: pd.DataFrame) -> int:
    """The typed frame straight into the fact table: DuckDB reads its Arrow columns (no copy of
    the frame, no Python per row) and splits the list columns itself."""
    spec = TABLES[table]
    lists = set(spec.columns_where("list_of"))
    staged = pa.table({c: pa.array(frame[c], from_pandas=True) for c in [*spec.columns, LINE]})
    select = {"submission_id": "?", "source_line": f'"{LINE}"::BIGINT'}
    for column in spec.columns:
        select[column] = (f"""list_filter(string_split("{column}", '{LIST_SEPARATOR}'), lambda item: item <> '')"""
                          if column in lists else f'"{column}"')
    return insert_frame(connection, f"fact_{table}", staged, select, [submission_id])


def _insert_years(connection, record: SubmissionRecord, load_seq: int) -> None:
    years = range(record.year_from, record.year_to + 1)
    connection.executemany(
        "INSERT INTO submission_years VALUES (?, ?, ?, ?, ?)",
        [(record.submission_id, record.country, year, load_seq, record.received_at) for year in years],
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


def start_run(connection, run_id: str, inbox: str, flow_run_id: str | None = None) -> None:
    connection.execute(
        "INSERT INTO ingestion_runs (run_id, flow_run_id, started_at, inbox, status) VALUES (?, ?, ?, ?, 'running')",
        [run_id, flow_run_id, now(), inbox])


def finish_run(connection, run_id: str, counts: dict[str, int], summary: str | None = None) -> None:
    connection.execute(
        """
        UPDATE ingestion_runs SET finished_at = ?, files_seen = ?, accepted = ?,
            accepted_with_warnings = ?, rejected = ?, duplicates = ?, failed = ?, rows_loaded = ?,
            deferred = ?, held = ?, summary = ?, status = 'completed'
        WHERE run_id = ?
        """,
        [now(), counts.get("files_seen", 0), counts.get("accepted", 0),
         counts.get("accepted_with_warnings", 0), counts.get("rejected", 0),
         counts.get("duplicate", 0), counts.get("failed", 0), counts.get("rows_loaded", 0),
         counts.get("deferred", 0), counts.get(HELD, 0), summary, run_id])


def mark_interrupted_runs(connection, is_alive: Callable[[str], bool]) -> list[str]:
    """Runs left `running` by a process that died (`is_alive(run_id)` says which: runs on the
    same warehouse go on side by side) are marked `interrupted`."""
    running = [row[0] for row in connection.execute(
        "SELECT run_id FROM ingestion_runs WHERE status = 'running' ORDER BY run_id").fetchall()]
    dead = [run_id for run_id in running if not is_alive(run_id)]
    if dead:
        connection.execute("UPDATE ingestion_runs SET status = 'interrupted' "
                           "WHERE status = 'running' AND list_contains(?, run_id)", [dead])
    return dead


def now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def record_for(sha256: str, file_name: str, file_format: str, size_bytes: int,
               details: SubmissionDetails | None, status: str, errors: int, warnings: int, *,
               received_at: dt.datetime, run_id: str | None,
               report_root: str | Path | None, path: str = "") -> SubmissionRecord:
    """The register entry for a validated submission (`path`: where it was read)."""
    details = details or SubmissionDetails()
    submission_id = submission_id_for(details, sha256, path)
    return SubmissionRecord(
        submission_id=submission_id, sha256=sha256, file_name=file_name,
        file_format=file_format, size_bytes=size_bytes, status=status,
        received_at=received_at, run_id=run_id, country=details.valid_country,
        year_from=details.year_from, year_to=details.year_to,
        institution=details.institution, contact_email=details.contact_email,
        language=details.language, template_version=details.template_version,
        errors=errors, warnings=warnings,
        report_dir=str(Path(report_root) / submission_id) if report_root else None,
    )
