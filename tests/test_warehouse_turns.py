"""How processes share one warehouse file (warehouse/session.py, warehouse/locks.py): a session
holds it one step (turn) at a time, keeps it open between its steps while nobody else wants it,
and lets go as soon as another process asks, whatever it is doing meanwhile."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb

from tests.conftest import ROOT
from warehouse import locks
from warehouse.session import Warehouse

OTHER_PROCESS_TURN = """
import sys, time
from warehouse.session import Warehouse
started = time.monotonic()
with Warehouse(sys.argv[1], wait_seconds=60).turn() as connection:
    connection.execute("INSERT INTO ingestion_runs (run_id, started_at, inbox, status) "
                       "VALUES ('other', now(), 'x', 'completed')")
print(round(time.monotonic() - started, 2))
"""


def other_process_takes_a_turn(db) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", OTHER_PROCESS_TURN, str(db)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_between_turns_the_file_stays_open_until_another_process_asks_for_it(tmp_path):
    db = tmp_path / "w.duckdb"
    warehouse = Warehouse(db)
    with warehouse.turn() as connection:
        connection.execute("SELECT count(*) FROM submissions").fetchall()
    kept = warehouse._connection
    with warehouse.turn() as connection:  # the next step: no new connection (about 30 ms each)
        assert connection is kept
    # This process now works on something else (reading, validating) holding no turn; another
    # process asks for the file and gets it, long before its 60 s wait runs out.
    other = other_process_takes_a_turn(db)
    out, err = other.communicate(timeout=120)
    assert other.returncode == 0, err
    assert warehouse._connection is None  # let go by the session's watcher
    with warehouse.turn() as connection:  # and the next step opens it again
        assert connection.execute("SELECT status FROM ingestion_runs WHERE run_id = 'other'").fetchall() == [
            ("completed",)]
    warehouse.close()


def test_a_step_in_progress_is_never_cut_short(tmp_path):
    """The other process waits for the end of the step (the turn), not for the whole session."""
    db = tmp_path / "w.duckdb"
    warehouse = Warehouse(db)
    with warehouse.turn() as connection:
        other = other_process_takes_a_turn(db)
        deadline = time.monotonic() + 60
        while not locks.turn_wanted(db):  # it asked
            assert time.monotonic() < deadline and other.poll() is None, other.communicate()
            time.sleep(0.05)
        connection.execute("CREATE TABLE still_mine AS SELECT 1 AS x")  # the step goes on
        assert warehouse._connection is connection
    out, err = other.communicate(timeout=120)  # the step over: its turn
    assert other.returncode == 0, err
    warehouse.close()
    with duckdb.connect(str(db), read_only=True) as connection:
        assert connection.execute("SELECT x FROM still_mine").fetchall() == [(1,)]


def test_a_session_holding_the_file_before_a_turn_keeps_it(tmp_path):
    """`glotip release` and the snapshot use the connection outside turns: theirs until closed."""
    warehouse = Warehouse(tmp_path / "w.duckdb")
    held = warehouse.connection
    with warehouse.turn() as connection:
        assert connection is held
    assert warehouse._connection is held
    warehouse.close()
    assert warehouse._connection is None


def test_a_request_left_by_a_dead_process_is_not_a_request(tmp_path):
    db = tmp_path / "w.duckdb"
    waiter = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from warehouse.locks import turn_request; "
         "request = turn_request(sys.argv[1]); request.try_acquire(); print('asked', flush=True); "
         "time.sleep(120)", str(db)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert waiter.stdout.readline().strip() == "asked"
        assert locks.turn_wanted(db)
    finally:
        waiter.kill()  # SIGKILL: its request file stays behind
        waiter.wait()
    assert list(locks.locks_folder(db).iterdir())
    assert not locks.turn_wanted(db)  # not held by anyone: not a request, and removed
    assert not list(locks.locks_folder(db).iterdir())
