"""A warehouse session: one DuckDB file, opened by the run or command that uses it and passed
explicitly to everything that reads or writes it.

DuckDB allows one writing process at a time: opening waits, within bounds, for a reader or
another run that holds the file. A session opened for writing creates the tables and views the
first time it connects (the DDL in `sql/*.sql` is idempotent). After a DuckDB error the session
drops its connection (`reset`), so that a retry starts on a fresh one.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa

LOCK_RETRIES = 8  # about 25 s of waiting in all, for a reader or another run holding the file


class Warehouse:
    def __init__(self, path: str | Path, *, read_only: bool = False):
        self.path = Path(path)
        self.read_only = read_only
        self._connection: duckdb.DuckDBPyConnection | None = None

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The open connection (opened, and the schema ensured, on first use)."""
        if self._connection is None:
            self._connection = _open(self.path, self.read_only)
        return self._connection

    def reset(self) -> None:
        """Drop the connection (after an error): the next use opens a fresh one."""
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except duckdb.Error:
                pass

    close = reset  # closing checkpoints the file: a snapshot taken after it is complete

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:  # what Prefect shows for a task input
        return f"Warehouse({str(self.path)!r}{', read_only' if self.read_only else ''})"


def _open(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    delay = 0.2
    for attempt in range(LOCK_RETRIES):
        try:
            connection = duckdb.connect(str(path), read_only=read_only)
            break
        except duckdb.IOException as problem:
            if "lock" not in str(problem).lower() or attempt == LOCK_RETRIES - 1:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 8)
    if not read_only:
        ensure_schema(connection)
    return connection


def ensure_schema(connection: duckdb.DuckDBPyConnection) -> None:
    for script in sorted(resources.files("warehouse").joinpath("sql").iterdir(), key=lambda p: p.name):
        if script.name.endswith(".sql"):
            connection.execute(script.read_text(encoding="utf-8"))


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
    columns = ", ".join(f'"{c}"' for c in names)
    # on failure (out of memory above all) the transaction is aborted and refuses even the
    # unregister, which would hide the real error: the caller rolls back and drops the connection
    connection.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {view}")
    connection.unregister(view)
    return len(frame)
