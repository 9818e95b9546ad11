"""`glotip ingest` as the data team sees it, run as a command (its own process, a real Prefect
server, the real flow): a progress bar and the summary on the terminal, Prefect's log in the
run's folder (and on the terminal too with --verbose), counts in their plural forms."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cli import ingestion_summary
from tests.conftest import ROOT, SAMPLES

PREFECT_LINE = re.compile(r"\| (INFO|WARNING|ERROR) +\| (Flow|Task) run")


def plain(terminal_output: str) -> str:
    """What the terminal shows, without rich's styles and cursor moves."""
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal_output)


def glotip(*arguments: str, env: dict, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *arguments], cwd=cwd,
                          env={**env, "COLUMNS": "200"}, capture_output=True, text=True, timeout=600)


def test_ingest_shows_progress_and_summary_and_keeps_prefects_log_in_the_runs_folder(prefect_api, tmp_path):
    inbox, db, reports = tmp_path / "inbox", tmp_path / "w.duckdb", tmp_path / "reports"
    inbox.mkdir()
    shutil.copy(SAMPLES / "EGY_2022.xlsx", inbox)
    command = ("ingest", str(inbox), "--db", str(db), "--reports", str(reports),
               "--archive", str(tmp_path / "archive"))
    # Prefect at its default level (the tests' server runs at WARNING), as a user has it;
    # TTY_COMPATIBLE and TTY_INTERACTIVE: rich draws its live progress bar as on a terminal
    env = {**prefect_api, "GLOTIP_SETTLE_SECONDS": "0", "PREFECT_LOGGING_LEVEL": "INFO",
           "TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1", "NO_COLOR": "1"}

    quiet = glotip(*command, env=env, cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert not PREFECT_LINE.search(quiet.stdout + quiet.stderr), quiet.stdout + quiet.stderr
    frames = plain(quiet.stdout)
    assert re.search(r"EGY_2022\.xlsx .* 0/1 ", frames), frames[:2000]  # the bar, naming the submission in hand
    assert "1 file: 1 accepted; 118 rows loaded." in frames
    with duckdb.connect(str(db), read_only=True) as connection:
        [(run_id,)] = connection.execute("SELECT run_id FROM ingestion_runs").fetchall()
    log = reports / "runs" / run_id / "prefect.log"
    assert f"Prefect's log: {log}" in frames
    text = log.read_text(encoding="utf-8")
    assert PREFECT_LINE.search(text) and "EGY_2022.xlsx: load in " in text  # a step's line
    assert "EGY_2022.xlsx: accepted, 118 rows loaded" in text and "Finished in state Completed" in text

    verbose = glotip(*command, "--verbose", env=env, cwd=tmp_path)  # the same file again: a duplicate
    assert verbose.returncode == 0, verbose.stdout + verbose.stderr
    shown = plain(verbose.stderr)
    assert "EGY_2022.xlsx: duplicate" in shown and PREFECT_LINE.search(shown), shown
    assert "1 file: 1 duplicate; 0 rows loaded." in plain(verbose.stdout)
    logs = sorted((reports / "runs").glob("*/prefect.log"))
    assert len(logs) == 2 and all(path.parent.name.startswith("run-") for path in logs)
    assert "EGY_2022.xlsx: duplicate" in (set(logs) - {log}).pop().read_text(encoding="utf-8")


def test_the_summary_counts_in_plural_forms():
    assert ingestion_summary(1, {"accepted": 1}, 1, 0) == "1 file: 1 accepted; 1 row loaded."
    assert ingestion_summary(2, {"accepted": 1, "rejected": 1}, 1419, 1) == (
        "2 files: 1 accepted, 1 rejected; 1,419 rows loaded. 1 report could not be written.")
    assert ingestion_summary(0, {}, 0, 0) == "0 files; 0 rows loaded."
    assert ingestion_summary(3, {"failed": 3}, 0, 2).endswith("2 reports could not be written.")


@pytest.mark.slow
def test_ingest_on_prefects_temporary_server_ends_quietly(tmp_path):
    """README command 1 as a user runs it: no PREFECT_API_URL, so Prefect starts its temporary
    server for the run and stops it at the end. Nothing of Prefect's reaches the terminal, not
    even after the summary: the log and event workers send what they hold before the server
    stops ("Error logging to API" came after the summary when they did not)."""
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLES, inbox)  # README command 1's inbox: enough log records to be left unsent
    env = {name: value for name, value in os.environ.items() if name != "PREFECT_API_URL"}
    env |= {"PREFECT_HOME": str(tmp_path / "prefect-home"), "PREFECT_LOGGING_LEVEL": "INFO",
            "GLOTIP_SETTLE_SECONDS": "0", "NO_COLOR": "1"}
    done = glotip("ingest", str(inbox), "--db", str(tmp_path / "w.duckdb"), "--reports",
                  str(tmp_path / "reports"), "--archive", str(tmp_path / "archive"), env=env, cwd=tmp_path)
    shown = plain(done.stdout + done.stderr)
    assert done.returncode == 0, shown
    assert re.search(r"11 files: 8 accepted, 1 accepted_with_warnings, 2 rejected; [\d,]+ rows loaded\.", shown), shown
    assert shown.rstrip().splitlines()[-1].startswith("Prefect's log: "), shown  # nothing after it
    for prefects_own in ("Error logging", "Stopping temporary server", "| INFO ", "| WARNING "):
        assert prefects_own not in shown, shown
    [log] = (tmp_path / "reports" / "runs").glob("*/prefect.log")
    assert "Stopping temporary server" in log.read_text(encoding="utf-8")


def test_two_ingestions_at_once_on_one_inbox_take_each_file_once(prefect_api, tmp_path):
    """Two `glotip ingest` runs started together over the same inbox and warehouse (a run by
    hand during the scheduled one): both finish; every file is loaded exactly once, by one of
    them; the other lists it as skipped (claimed) or duplicate (done before it looked)."""
    inbox, db = tmp_path / "inbox", tmp_path / "w.duckdb"
    inbox.mkdir()
    for name in ("EGY_2022.xlsx", "NPL_2022.xlsx", "THA_2021-2022.xlsx", "NGA_2021-2022.zip"):
        shutil.copy(SAMPLES / name, inbox)
    env = {**prefect_api, "GLOTIP_SETTLE_SECONDS": "0", "NO_COLOR": "1"}
    command = [sys.executable, str(ROOT / "cli.py"), "ingest", str(inbox), "--db", str(db),
               "--reports", str(tmp_path / "reports"), "--archive", str(tmp_path / "archive")]
    runs = [subprocess.Popen(command, cwd=tmp_path, env={**env, "COLUMNS": "200"}, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [run.communicate(timeout=600) for run in runs]
    for run, (out, err) in zip(runs, outputs):
        assert run.returncode == 0, out + err
    with duckdb.connect(str(db), read_only=True) as connection:
        loaded = connection.execute("SELECT file_name, count(*) FROM submissions GROUP BY 1 ORDER BY 1").fetchall()
        runs_recorded = connection.execute("SELECT status, files_seen FROM ingestion_runs").fetchall()
    assert loaded == [(name, 1) for name in sorted(p.name for p in inbox.iterdir())]
    assert sorted(status for status, _ in runs_recorded) == ["completed", "completed"]
    assert all(seen == 4 for _, seen in runs_recorded)
    summaries = [plain(out).strip().splitlines()[-2] for out, _ in outputs]  # the closing count
    accepted = [int(re.search(r"(\d+) accepted", line).group(1)) if "accepted" in line else 0
                for line in summaries]
    assert sum(accepted) == 4, summaries


def test_glotip_sends_prefects_last_log_lines_to_the_server_before_its_prompt_exit(prefect_api, tmp_path):
    """`glotip` (cli.main) ends its process without CPython's teardown, but only after the
    atexit handlers: the flow run's last log line ("Finished in state"), emitted as the run
    ends, reaches the server through Prefect's log worker, drained at exit."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
    from prefect.settings import PREFECT_API_URL, temporary_settings

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLES / "EGY_2022.xlsx", inbox)
    env = {**prefect_api, "GLOTIP_SETTLE_SECONDS": "0", "PREFECT_LOGGING_LEVEL": "INFO"}
    done = glotip("ingest", str(inbox), "--db", str(tmp_path / "w.duckdb"), "--reports",
                  str(tmp_path / "reports"), "--archive", str(tmp_path / "archive"), env=env, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert plain(done.stdout).rstrip().splitlines()[-1].startswith("Prefect's log: ")  # output flushed
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as connection:
        [(flow_run_id,)] = connection.execute("SELECT flow_run_id FROM ingestion_runs").fetchall()
    with temporary_settings({PREFECT_API_URL: prefect_api["PREFECT_API_URL"]}), \
            get_client(sync_client=True) as client:
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    messages = [log.message for log in logs]
    assert any(message.startswith("Finished in state Completed") for message in messages), messages


def test_the_foreground_flow_run_sends_no_heartbeats_and_others_keep_prefects_default():
    """`glotip ingest` runs its flow within `without_heartbeats`: Prefect then starts no
    heartbeat thread, and so does not wait for it (up to a second) when the run ends. Anything
    else (a worker's run, `glotip serve`) keeps Prefect's own setting."""
    from prefect import flow
    from prefect.flow_engine import FlowRunEngine
    from prefect.settings import get_current_settings

    from flows import without_heartbeats

    @flow
    def a_flow():
        pass

    default = FlowRunEngine(flow=a_flow).heartbeat_seconds
    assert default is not None and default >= 30
    api_url = get_current_settings().api.url
    with without_heartbeats():
        assert FlowRunEngine(flow=a_flow).heartbeat_seconds is None
        assert get_current_settings().api.url == api_url  # every other setting as it was
    assert FlowRunEngine(flow=a_flow).heartbeat_seconds == default
