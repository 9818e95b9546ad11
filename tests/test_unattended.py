"""Unattended runs with real processes: a real Prefect server on loopback, the served
deployment triggered through the API, and ingestion processes killed (SIGKILL) mid-run.

One server for the session (`prefect_api` in conftest.py, about 15 s to start). Everything
lives in tmp dirs.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.exceptions import ObjectNotFound
from prefect.settings import PREFECT_API_URL, temporary_settings

from tests.builders import write_csv_folder, write_csv_zip, write_workbook
from transforms.readers import sha256_of

ROOT = Path(__file__).resolve().parents[1]
SUBMISSION_FACT_TABLES = ("victims", "offenders", "repatriated", "organ_removal_cases")  # fact_<name>


def query(db: Path, sql: str, params=None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as connection:
        return connection.execute(sql, params or []).fetchall()


# -- the scheduled deployment -----------------------------------------------------------------

def test_served_deployment_runs_through_the_api(prefect_api, tmp_path):
    inbox = tmp_path / "inbox"
    write_csv_zip(inbox / "NGA.zip", "NGA", rows=120)
    write_workbook(inbox / "KEN.xlsx", "KEN", rows=80)
    env = {**prefect_api, "GLOTIP_INBOX": str(inbox), "GLOTIP_DB": str(tmp_path / "w.duckdb"),
           "GLOTIP_REPORTS": str(tmp_path / "reports"), "GLOTIP_ARCHIVE": str(tmp_path / "archive"),
           "GLOTIP_SETTLE_SECONDS": "0", "GLOTIP_DEPLOYMENT_NAME": "test-scheduled",
           "GLOTIP_CONFIG": str(ROOT / "glotip.toml")}
    serving = subprocess.Popen([sys.executable, str(ROOT / "cli.py"), "serve"], cwd=ROOT, env=env,
                               stdout=(tmp_path / "serve.log").open("w"), stderr=subprocess.STDOUT,
                               start_new_session=True)
    try:
        with prefect_client(prefect_api["PREFECT_API_URL"]) as client:
            deployment = _wait_for(lambda: _deployment(client, "ingest_submissions/test-scheduled"), 90,
                                   serving, tmp_path / "serve.log")
            assert deployment.schedules[0].schedule.cron == "*/15 * * * *"
            assert deployment.parameters["move_processed"] is True  # [deployment] of glotip.toml
            run = client.create_flow_run_from_deployment(deployment.id)
            state = _wait_for(lambda: _final_state(client, run.id), 90, serving, tmp_path / "serve.log")
            assert state == "COMPLETED", (tmp_path / "serve.log").read_text()[-3000:]
            artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[run.id])))
    finally:
        os.killpg(serving.pid, signal.SIGTERM)
        serving.wait(timeout=30)
    db = tmp_path / "w.duckdb"
    assert query(db, "SELECT file_name, status, rows_loaded FROM submissions ORDER BY 1") == [
        ("KEN.xlsx", "accepted", 80), ("NGA.zip", "accepted", 120)]
    [(flow_run_id, status, summary)] = query(db, "SELECT flow_run_id, status, summary FROM ingestion_runs")
    assert flow_run_id == str(run.id) and status == "completed" and "| KEN.xlsx | KEN-" in summary
    assert list(inbox.iterdir()) == []  # archived and recorded, so cleaned
    assert any(a.key == "ingestion-summary" and "| NGA.zip |" in a.data for a in artifacts)


@contextmanager
def prefect_client(api: str):
    """Prefect's own API client, pointed at the test server. Under load the server answers
    503 ("database is locked" in its SQLite) and the client retries with backoff, as every
    Prefect process does; a bare HTTP call took that 503 body for a flow run (`KeyError: 'id'`)."""
    with temporary_settings({PREFECT_API_URL: api}), get_client(sync_client=True) as client:
        yield client


def _deployment(client, name: str):
    try:
        return client.read_deployment_by_name(name)
    except ObjectNotFound:  # not served yet
        return None


def _final_state(client, run_id):
    state = client.read_flow_run(run_id).state
    return state.type.value if state is not None and state.is_final() else None


def _wait_for(probe, seconds: float, process: subprocess.Popen, log: Path):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        if process.poll() is not None:
            pytest.fail(f"the served process stopped:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    pytest.fail(f"timed out after {seconds} s:\n{log.read_text()[-3000:]}")


# -- SIGKILL at random points -----------------------------------------------------------------

KILLS = 12  # each costs a process start (about 4 s here): bounded so the suite stays fast
COUNTRIES = ("NGA", "KEN", "GHA", "THA", "PER", "FRA", "BRA", "IND", "MEX", "EGY", "PHL", "POL")


def _add_round(inbox: Path, number: int) -> dict[str, str]:
    """Two or three new submissions, in turn of every form; returns name -> expected status."""
    country = COUNTRIES[number % len(COUNTRIES)]
    expected = {f"{number:02}_{country}.zip": "accepted", f"{number:02}_{country}_b": "accepted"}
    write_csv_zip(inbox / f"{number:02}_{country}.zip", country, rows=40_000, first_year=2000 + number)
    if number % 2:
        del expected[f"{number:02}_{country}_b"]
        expected[f"{number:02}_{country}_b.xlsx"] = "accepted"
        write_workbook(inbox / f"{number:02}_{country}_b.xlsx", country, rows=5_000, first_year=2040 + number)
    else:
        write_csv_folder(inbox / f"{number:02}_{country}_b", country, rows=20_000, first_year=2040 + number)
    if number % 4 == 0:
        expected[f"{number:02}_bad.zip"] = "rejected"
        write_csv_zip(inbox / f"{number:02}_bad.zip", "EGY", rows=0, first_year=2000 + number,
                      victims_text="year,sex,age,form,citizenship,count\n"
                                   + f"{2000 + number},female,total,total,total,x\n" * 500)
    return expected


def _check_all_or_nothing(db: Path, inbox: Path, shas: dict[str, str], archive: Path) -> None:
    """What must hold whenever the process dies."""
    if not db.exists():
        return
    register = query(db, "SELECT submission_id, sha256, status, rows_loaded FROM submissions")
    assert len({sha for _, sha, _, _ in register}) == len(register), "a file registered twice"
    loaded = {}
    for table in SUBMISSION_FACT_TABLES:
        for submission_id, n in query(db, f"SELECT submission_id, count(*) FROM fact_{table} GROUP BY 1"):
            loaded[submission_id] = loaded.get(submission_id, 0) + n
    assert loaded == {sid: rows for sid, _, _, rows in register if rows}, \
        "fact rows differ from the register: a half-loaded submission"
    registered = {sha for _, sha, _, _ in register}
    for name, sha in shas.items():
        if not (inbox / name).exists():  # removed from the inbox only once recorded
            assert sha in registered, f"{name} left the inbox before its outcome was recorded"
    for copy in archive.glob("*/*/*"):  # every archived copy under its final name is whole
        if not copy.name.startswith("."):  # `.name.pid.incoming`: a copy cut short, never used
            assert sha256_of(copy) == copy.parent.name, f"{copy} is not what was received"


@pytest.mark.slow
def test_sigkill_at_random_points_loses_nothing_and_doubles_nothing(prefect_api, tmp_path):
    inbox, db, reports, archive = (tmp_path / n for n in ("inbox", "w.duckdb", "reports", "archive"))
    inbox.mkdir()
    command = [sys.executable, str(ROOT / "cli.py"), "ingest", str(inbox), "--db", str(db),
               "--reports", str(reports), "--archive", str(archive), "--move-processed"]
    env = {**prefect_api, "GLOTIP_SETTLE_SECONDS": "0"}

    # the kill lands between the end of start-up (timed on an empty inbox) and the end of a run
    started = time.monotonic()
    subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, check=True)
    start_up = time.monotonic() - started
    seed = random.randrange(1_000_000)
    chooser = random.Random(seed)
    expected, shas, killed, number = {}, {}, 0, 0
    while killed < KILLS and number < 2 * KILLS:  # a run that ends before its kill is a miss
        added = _add_round(inbox, number)
        number += 1
        expected |= added
        shas |= {name: sha256_of(inbox / name) for name in added}
        process = subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)
        time.sleep(chooser.uniform(start_up * 0.7, start_up + 2.0))
        if process.poll() is None:
            process.send_signal(signal.SIGKILL)
            killed += 1
        process.wait()
        _check_all_or_nothing(db, inbox, shas, archive)

    final = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert final.returncode == 0, f"seed {seed}: " + final.stdout[-2000:] + final.stderr[-2000:]
    _check_all_or_nothing(db, inbox, shas, archive)
    assert killed == KILLS, f"seed {seed}: only {killed} kills landed in {number} runs"
    assert dict(query(db, "SELECT file_name, status FROM submissions")) == expected, f"seed {seed}"
    assert list(inbox.iterdir()) == []
    statuses = query(db, "SELECT status, count(*) FROM ingestion_runs GROUP BY 1 ORDER BY 1")
    assert dict(statuses)["completed"] >= 2 and "running" not in dict(statuses)
    for submission_id, file_name, status in query(db, "SELECT submission_id, file_name, status FROM submissions"):
        report = json.loads((reports / submission_id / "report.json").read_text())
        assert (report["file_name"], report["status"]) == (file_name, status)
