"""An analyst holding the snapshot open in another process never blocks ingestion, and never
sees half a load; the drafting pack is written from the snapshot afterwards."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.analyst_data import DEU_REVISED, build_known_warehouse, write_known_submission
from tests.conftest import SAMPLES
from warehouse import snapshot as analyst_snapshot

# The analyst: opens the snapshot read-only, says so, then keeps querying it on the same
# connection until told to stop; every answer must be the same (a consistent snapshot).
READER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    import duckdb
    snapshot, ready, stop = sys.argv[1:4]
    connection = duckdb.connect(snapshot, read_only=True)
    sql = "SELECT count(*), sum(count) FROM victims"
    first = connection.execute(sql).fetchall()[0]
    Path(ready).write_text("open")
    answers, deadline = set(), time.time() + 240
    while not Path(stop).exists() and time.time() < deadline:
        answers.add(tuple(connection.execute(sql).fetchall()[0]))
        time.sleep(0.05)
    print(json.dumps({"first": list(first), "answers": sorted(map(list, answers))}))
""")


def test_analyst_with_snapshot_open_blocks_nothing(prefect_server, tmp_path):
    from flows.ingest import ingest_submissions

    db = build_known_warehouse(tmp_path / "wh", revised=False)
    snapshot = analyst_snapshot.snapshot_path(db)
    ready, stop = tmp_path / "reader.ready", tmp_path / "reader.stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(snapshot), str(ready), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while not ready.exists():
            assert reader.poll() is None, reader.stderr.read()
            assert time.time() < deadline, "the reader never opened the snapshot"
            time.sleep(0.05)

        inbox = tmp_path / "inbox"
        inbox.mkdir()
        shutil.copy2(SAMPLES / "NGA_2021-2022.zip", inbox)
        shutil.copytree(SAMPLES / "MEX_2022", inbox / "MEX_2022")
        write_known_submission(inbox / "DEU-revised", "DEU", DEU_REVISED)
        started = time.time()
        outcomes = ingest_submissions(str(inbox), str(db), str(tmp_path / "reports"), str(tmp_path / "archive"))
        took = time.time() - started
        assert reader.poll() is None, "the reader must still be running during the whole ingestion"
    finally:
        stop.write_text("stop")
        output, errors = reader.communicate(timeout=60)
    assert reader.returncode == 0, errors
    seen = json.loads(output)
    # The reader saw one consistent state, the one it opened, all along.
    assert seen["answers"] == [seen["first"]]
    statuses = {o["file_name"]: o["status"] for o in outcomes}
    # the sample's Nigeria differs in most cells from the known warehouse's: held, not current
    assert statuses.pop("NGA_2021-2022.zip") == "held"
    assert set(statuses.values()) <= {"accepted", "accepted_with_warnings"}
    assert sum(o["rows_loaded"] for o in outcomes) > 0
    assert took < 120
    # The run published a new snapshot with the new data, renamed over the old one.
    with analyst_snapshot.open_snapshot(db) as connection:
        countries = {row[0] for row in connection.execute("SELECT DISTINCT country FROM victims").fetchall()}
        deu = connection.execute("SELECT count FROM victims WHERE country = 'DEU' AND sex = 'total' AND "
                                 "age = 'total' AND form = 'total' AND citizenship = 'total'").fetchall()
    assert {"MEX", "NGA", "DEU", "ITA", "THA"} <= countries and deu == [(55,)]
    assert not list(snapshot.parent.glob(".*.tmp"))  # no half-written snapshot left behind

    # The drafting pack, from that snapshot (sample submissions plus the known data).
    from reporting.drafting_pack import write_drafting_pack

    index = write_drafting_pack(db, 2022, tmp_path / "pack")
    assert index.exists()
