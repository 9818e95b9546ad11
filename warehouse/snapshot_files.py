"""Where the analysts' snapshot of a warehouse is, and reading it as of a date.

DuckDB and the standard library only: `glotip sql` finds and reads the snapshot without
pandas or pandera (warehouse/snapshot.py, which publishes it, needs both).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb

ANALYST_DIR_NAME = "analyst"
SNAPSHOT_NAME = "glotip_snapshot.duckdb"
PARQUET_LINK = "parquet"
# The views whose rows depend on which submission is current (see `use_as_of`).
AS_OF_SOURCE = "current_country_years"


def analyst_dir(db_path: str | Path) -> Path:
    """The analysts' folder of the warehouse at `db_path`: `analyst/<its file name without
    suffix>/` next to it (var/glotip.duckdb: var/analyst/glotip/). Named after the warehouse, so
    two warehouses in one folder never share a snapshot."""
    db_path = Path(db_path)
    return db_path.parent / ANALYST_DIR_NAME / db_path.stem


def snapshot_path(db_path: str | Path) -> Path:
    """Where the read-only snapshot of the warehouse at `db_path` is published."""
    return analyst_dir(db_path) / SNAPSHOT_NAME


def shared_layout_leftovers(db_path: str | Path) -> list[Path]:
    """The snapshot and Parquet link of the earlier layout (`analyst/` shared by every
    warehouse of the folder), if any are left: never read, never moved, only pointed out, since
    nothing says which warehouse they were made from."""
    shared = Path(db_path).parent / ANALYST_DIR_NAME
    return [path for path in (shared / SNAPSHOT_NAME, shared / PARQUET_LINK)
            if path.exists() or path.is_symlink()]


class NoSnapshot(FileNotFoundError):
    """The warehouse, or its published snapshot, does not exist (a one-line message)."""


def existing_warehouse(db_path: str | Path) -> Path:
    """`db_path`, or `NoSnapshot` when no warehouse is there."""
    db_path = Path(db_path)
    if not db_path.is_file():
        raise NoSnapshot(f"no warehouse at {db_path}: check --db (or GLOTIP_DB / glotip.toml), "
                         "or run `glotip ingest` first")
    return db_path


def existing_snapshot(db_path: str | Path) -> Path:
    """The published snapshot of the warehouse at `db_path`; `NoSnapshot` when the warehouse
    itself is missing (a mistyped --db must not read some other warehouse's figures) or has
    not been published yet."""
    db_path = existing_warehouse(db_path)
    path = snapshot_path(db_path)
    if not path.is_file():
        leftovers = shared_layout_leftovers(db_path)
        note = (f" ({', '.join(map(str, leftovers))} is of the earlier layout shared by every "
                "warehouse of the folder: it is not read)") if leftovers else ""
        raise NoSnapshot(f"no published snapshot of {db_path} at {path}: run `glotip publish` "
                         f"(or `glotip ingest`){note}")
    return path


def open_snapshot(db_path: str | Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the published snapshot of the warehouse at `db_path`."""
    return duckdb.connect(str(existing_snapshot(db_path)), read_only=True)


def use_as_of(connection, as_of: dt.datetime | dt.date | str) -> None:
    """Make every view of this session show the data as it was current at `as_of`.

    A temporary view shadows `current_country_years` for this connection only; the views built
    on it (victims, offenders, flows, ...) follow. Works on read-only connections."""
    as_of = _moment(as_of)
    connection.execute(f"CREATE OR REPLACE TEMP VIEW {AS_OF_SOURCE} AS "
                       f"SELECT * FROM current_country_years_as_of(TIMESTAMP '{as_of.isoformat(sep=' ')}')")


def _moment(as_of: dt.datetime | dt.date | str) -> dt.datetime:
    """`as_of` as a datetime: a date is its midnight; a text is ISO 8601 (2025-01-31, or with a
    time: 2025-01-31 12:00); anything else is a ValueError."""
    if isinstance(as_of, dt.datetime):
        return as_of
    if isinstance(as_of, dt.date):
        return dt.datetime.combine(as_of, dt.time())
    return dt.datetime.fromisoformat(str(as_of).strip())
