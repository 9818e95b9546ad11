"""A warehouse session: one DuckDB file, opened by the run or command that uses it and passed
explicitly to everything that reads or writes it.

DuckDB lets one process at a time hold the file for writing (its own lock on the file): while a
process has it open, every other process waits. An ingestion run takes the file in turns
(`turn()`): for one step at a time (look up the register, compare with history, load, record the
run), so that other runs read, validate and take their own turns meanwhile. Between its turns a
run keeps the file open (opening costs about 30 ms) unless another process is waiting for it: a
waiting process leaves a request in `<db>.locks/` (warehouse/locks.py), and the holder lets go
at the end of its step, or at once if it is between steps. A command that uses the connection
outside a turn (`glotip release`, the snapshot) holds the file until it closes the session.

Opening waits for the file, up to `wait_seconds`; then the DuckDB error goes up (a transient
failure: the entry is left for the next run). A session opened for writing creates the tables
and views the first time it connects (the DDL in `sql/*.sql` is idempotent). After a DuckDB
error the session drops its connection (`reset`), so that a retry starts on a fresh one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path

import duckdb
import pyarrow as pa

from warehouse import locks

# How long opening waits for another process to let go of the file: a run's turn lasts well
# under a second for a typical submission, a few seconds for a million rows, longer for an
# import of a published export.
WAIT_SECONDS = 120.0
TURN_POLL_SECONDS = 0.05


class Warehouse:
    def __init__(self, path: str | Path, *, read_only: bool = False,
                 wait_seconds: float = WAIT_SECONDS):
        self.path = Path(path)
        self.read_only = read_only
        self.wait_seconds = wait_seconds
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._schema_ensured = False  # the DDL runs once per session, not once per turn
        # A turn, or the watcher letting go between turns: never both. Reentrant: turns nest.
        self._guard = threading.RLock()
        self._turns = 0
        self._opened_by_turn = False  # kept open between turns only while nobody waits for it
        self._watcher: threading.Thread | None = None

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        """The open connection (opened, and the schema ensured, on first use). Used outside a
        turn, the session holds the file until it is closed."""
        with self._guard:
            if self._turns == 0:
                self._opened_by_turn = False
            if self._connection is None:
                self._connection = _open(self.path, self.read_only, self.wait_seconds)
                if not self.read_only and not self._schema_ensured:
                    ensure_schema(self._connection)
                    self._schema_ensured = True
            return self._connection

    @contextmanager
    def turn(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The connection for one step. When the step ends the file stays open for the next one,
        unless another process is waiting for it: then it is let go at once, or, if the process
        asks later, as soon as no step is using it (a watcher thread looks 20 times a second).
        A session that held the file before the turn keeps it."""
        with self._guard:
            outermost = self._turns == 0
            if outermost and self._connection is None:
                self._opened_by_turn = True
            self._turns += 1
            try:
                yield self.connection
            except duckdb.Error:
                self.reset()  # a retry starts on a fresh connection
                raise
            finally:
                self._turns -= 1
                if self._turns == 0 and self._opened_by_turn and self._connection is not None:
                    if locks.turn_wanted(self.path):
                        self.reset()
                    elif self._watcher is None:
                        self._watcher = threading.Thread(target=self._let_go_when_wanted, daemon=True,
                                                         name=f"warehouse turns {self.path.name}")
                        self._watcher.start()

    def _let_go_when_wanted(self) -> None:
        """The watcher: while the file is kept open between turns, let go when a process asks."""
        while True:
            time.sleep(TURN_POLL_SECONDS)
            wanted = self._connection is not None and locks.turn_wanted(self.path)
            with self._guard:  # after the step in progress, if any
                if wanted and self._turns == 0 and self._opened_by_turn:
                    self.reset()
                if self._connection is None or not self._opened_by_turn:
                    self._watcher = None
                    return

    def reset(self) -> None:
        """Drop the connection (after an error): the next use opens a fresh one."""
        with self._guard:
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


def _open(path: Path, read_only: bool, wait_seconds: float) -> duckdb.DuckDBPyConnection:
    """Connect, waiting up to `wait_seconds` while another process holds the file, and asking
    for a turn meanwhile (a run keeping it open between its steps lets go). The pauses grow from
    20 ms to half a second: a turn is short, and a long one is not polled hard."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    delay = 0.02
    request = None
    try:
        while True:
            try:
                return duckdb.connect(str(path), read_only=read_only)
            except duckdb.IOException as problem:
                if "lock" not in str(problem).lower() or time.monotonic() >= deadline:
                    raise
                if request is None:
                    request = _ask_for_turn(path)
                time.sleep(min(delay, max(deadline - time.monotonic(), 0)))
                delay = min(delay * 2, 0.5)
    finally:
        if request is not None:
            request.release()


def _ask_for_turn(path: Path) -> locks.FileLock:
    request = locks.turn_request(path)
    try:
        request.try_acquire()  # a new file: always free
    except OSError:  # the folder cannot be written: wait without asking (the holder may hold on)
        pass
    return request


def ensure_schema(connection: duckdb.DuckDBPyConnection) -> None:
    for script in sorted(resources.files("warehouse").joinpath("sql").iterdir(), key=lambda p: p.name):
        if script.name.endswith(".sql"):
            connection.execute(script.read_text(encoding="utf-8"))


@contextmanager
def transaction(connection: duckdb.DuckDBPyConnection, begin: str = "BEGIN TRANSACTION"):
    """All or nothing: commit when the block ends, roll back on any exception (Ctrl-C too).
    Any DB-API connection in autocommit mode (the portal's SQLite file: `BEGIN IMMEDIATE`)."""
    connection.execute(begin)
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def insert_frame(connection: duckdb.DuckDBPyConnection, table: str, frame,
                 select: Mapping[str, str] | None = None, parameters: Sequence = ()) -> int:
    """INSERT ... SELECT from a registered pandas frame or Arrow table, by column name (a
    registered frame loads millions of rows a second; row by row, a few thousand).

    `select`: the table's columns -> SQL expressions over the frame's columns (with `?` for
    `parameters`), when they are not the frame's own columns by name."""
    names = list(frame.column_names if isinstance(frame, pa.Table) else frame.columns)
    select = select or {c: f'"{c}"' for c in names}
    view = f"staged_{table}"
    connection.register(view, frame)
    # on failure (out of memory above all) the transaction is aborted and refuses even the
    # unregister, which would hide the real error: the caller rolls back and drops the connection
    columns = ", ".join(f'"{c}"' for c in select)
    connection.execute(f"INSERT INTO {table} ({columns}) SELECT {', '.join(select.values())} "
                       f"FROM {view}", list(parameters))
    connection.unregister(view)
    return len(frame)
