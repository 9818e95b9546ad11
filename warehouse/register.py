"""The register's shared parts: the findings table and supersession, for every loader.

Both loaders (a Member State's submission, warehouse/load.py; the published dataUNODC export,
warehouse/dataunodc.py) write their findings and mark what they supersede through these
functions, so the warehouse says the same thing whatever the source.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable

import duckdb
import pandas as pd

from schemas.findings import Finding
from schemas.messages import render_message
from warehouse.session import insert_frame

FINDING_COLUMNS = ["submission_id", "run_id", "severity", "rule", "table_name", "source",
                   "file_kind", "line", "column_name", "column_position", "cell", "value",
                   "params", "message"]


def insert_findings(connection: duckdb.DuckDBPyConnection,
                    owned_findings: Iterable[tuple[str, Finding]], run_id: str | None) -> int:
    """One row per finding, under the submission it belongs to: the finding as data (its
    `params` as JSON, so it can be read back exactly) and its English message for analysts."""
    rows = []
    for submission_id, finding in owned_findings:
        where = finding.location
        rows.append((submission_id, run_id, finding.severity, finding.rule, where.table,
                     where.source, where.kind, where.line, where.column, where.position,
                     where.cell, finding.value, json.dumps(finding.params, ensure_ascii=False),
                     render_message(finding)))
    if not rows:
        return 0
    frame = pd.DataFrame(rows, columns=FINDING_COLUMNS)
    frame["line"] = frame["line"].astype("Int64")
    frame["column_position"] = frame["column_position"].astype("Int64")
    return insert_frame(connection, "validation_findings", frame)


def stored_findings(connection: duckdb.DuckDBPyConnection, submission_id: str) -> list[Finding]:
    """The findings the register holds for a submission, as they were recorded."""
    rows = connection.execute(
        "SELECT rule, severity, table_name, source, file_kind, line, column_name, column_position,"
        " value, params FROM validation_findings WHERE submission_id = ? ORDER BY rowid",
        [submission_id]).fetchall()
    return [Finding.from_dict({"rule": rule, "severity": severity, "table": table, "source": source,
                               "file_kind": kind, "line": line, "column": column,
                               "column_position": position, "value": value,
                               "params": json.loads(params) if params else {}})
            for rule, severity, table, source, kind, line, column, position, value, params in rows]


def supersede(connection: duckdb.DuckDBPyConnection, new_ids: list[str], at: dt.datetime) -> list[str]:
    """Record which earlier submissions each new one replaces for some year (`supersedes`), and
    mark those none of whose years is current any more as superseded; returns those marked."""
    overlapping = connection.execute(
        """
        SELECT 1 FROM submission_years AS new
        JOIN submission_years AS earlier
          ON earlier.country = new.country AND earlier.year = new.year
         AND NOT list_contains(?, earlier.submission_id)
        WHERE list_contains(?, new.submission_id)
        LIMIT 1
        """, [new_ids, new_ids]).fetchall()
    if not overlapping:  # the common case: nothing held for these country-years before
        return []
    connection.execute(
        """
        UPDATE submissions AS s SET supersedes = r.earlier
        FROM (
            SELECT c.submission_id, list(DISTINCT sy.submission_id ORDER BY sy.submission_id) AS earlier
            FROM current_country_years AS c
            JOIN submission_years AS sy
              ON sy.country = c.country AND sy.year = c.year AND sy.submission_id <> c.submission_id
            JOIN submissions AS e ON e.submission_id = sy.submission_id
            WHERE list_contains(?, c.submission_id) AND e.superseded_by IS NULL
              AND e.status IN ('accepted', 'accepted_with_warnings')
            GROUP BY c.submission_id
        ) AS r
        WHERE s.submission_id = r.submission_id
        """, [new_ids])
    rows = connection.execute(
        """
        UPDATE submissions AS s SET superseded_by = r.submission_id, superseded_at = ?
        FROM (SELECT submission_id, unnest(supersedes) AS earlier FROM submissions
              WHERE list_contains(?, submission_id)) AS r
        WHERE s.submission_id = r.earlier AND s.superseded_by IS NULL
          AND s.submission_id NOT IN (SELECT submission_id FROM current_country_years)
        RETURNING s.submission_id
        """, [at, new_ids]).fetchall()
    return sorted(row[0] for row in rows)
