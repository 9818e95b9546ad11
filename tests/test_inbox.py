"""The inbox of unattended runs: settling, the raw archive, the lock, cleaning, and faults.

Plain functions first (no Prefect), then the real flow in-process on real files.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from pipeline.settings import load_settings
from reporting.notice import Notice
from tests.builders import write_csv_folder, write_csv_zip, write_workbook
from transforms import inbox as inbox_files
from transforms.readers import sha256_of
from warehouse import load as loader
from warehouse import locks
from warehouse.session import Warehouse


def scalar(db, sql, params=None):
    with duckdb.connect(str(db), read_only=True) as connection:
        return connection.execute(sql, params or []).fetchall()[0][0]


# -- plain functions --------------------------------------------------------------------------

def test_archive_is_content_addressed_atomic_and_written_once(tmp_path):
    source = write_csv_zip(tmp_path / "in" / "NGA.zip", "NGA", rows=40)
    first = inbox_files.archive_raw(source, tmp_path / "archive")
    sha = sha256_of(source)
    assert first.created and first.sha256 == sha
    assert first.path == tmp_path / "archive" / sha[:2] / sha / "NGA.zip"
    assert first.path.read_bytes() == source.read_bytes()
    again = inbox_files.archive_raw(source, tmp_path / "archive")
    assert not again.created and again.path == first.path
    # no temporary copy is left behind
    assert [p.name for p in first.path.parent.iterdir()] == ["NGA.zip"]


def test_archive_of_a_folder_submission(tmp_path):
    folder = write_csv_folder(tmp_path / "in" / "GHA_2022", "GHA", rows=30)
    archived = inbox_files.archive_raw(folder, tmp_path / "archive")
    assert sorted(p.name for p in archived.path.iterdir()) == ["submission.csv", "victims.csv"]
    assert sha256_of(archived.path) == archived.sha256 == sha256_of(folder)


def test_a_file_being_written_is_not_settled(tmp_path):
    path = tmp_path / "growing.csv"
    path.write_text("year,sex\n")
    stop = threading.Event()

    def keep_writing():
        with path.open("a") as handle:
            while not stop.is_set():
                handle.write("2021,female\n")
                handle.flush()
                time.sleep(0.05)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        with pytest.raises(inbox_files.FileStillBeingWritten):
            inbox_files.check_settled(path, settle_seconds=0.5)
    finally:
        stop.set()
        writer.join()
    inbox_files.check_settled(path, settle_seconds=0.3)  # quiet now: settled after one look
    with pytest.raises(inbox_files.FileStillBeingWritten):
        inbox_files.check_settled(tmp_path / "copy.xlsx.part", settle_seconds=0)


def test_links_pipes_and_links_inside_folders_are_refused(tmp_path):
    target = write_csv_zip(tmp_path / "elsewhere" / "NGA.zip")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "link.zip").symlink_to(target)
    (inbox / "dangling.xlsx").symlink_to(tmp_path / "nowhere.xlsx")
    os.mkfifo(inbox / "pipe.csv")
    folder = write_csv_folder(inbox / "folder")
    (folder / "offenders.csv").symlink_to("/etc/passwd")
    for name in ("link.zip", "dangling.xlsx", "pipe.csv", "folder"):
        with pytest.raises(inbox_files.NotARegularSubmission):
            inbox_files.check_entry(inbox / name)


def test_a_claim_excludes_a_second_holder_and_goes_when_released(tmp_path):
    db, entry = tmp_path / "w.duckdb", tmp_path / "inbox" / "NGA.zip"
    first = locks.entry_claim(db, entry)
    assert first.try_acquire() and first.path.parent == tmp_path / "w.duckdb.locks"
    assert "NGA" not in first.path.name  # named by a digest: an entry's name may hold personal data
    assert not locks.entry_claim(db, entry).try_acquire()  # another holder, this process too
    assert locks.entry_claim(db, tmp_path / "inbox" / "GHA.zip").try_acquire()  # its own claim
    first.release()
    assert not first.path.exists()  # a claim nobody holds leaves no file
    again = locks.entry_claim(db, entry)
    assert again.try_acquire()
    again.release()


def hold_in_another_process(code: str) -> subprocess.Popen:
    """A process that runs `code` (which takes a lock), says so, and holds it until killed."""
    holder = subprocess.Popen([sys.executable, "-c", f"import time; {code}; print('held', flush=True); time.sleep(120)"],
                              stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[1])
    assert holder.stdout.readline().strip() == "held"
    return holder


def test_a_claim_or_a_run_marker_of_a_killed_process_is_free(tmp_path):
    db, entry = tmp_path / "w.duckdb", tmp_path / "inbox" / "NGA.zip"
    holder = hold_in_another_process(
        "from warehouse.locks import entry_claim, run_marker; "
        f"claim = entry_claim({str(db)!r}, {str(entry)!r}); assert claim.try_acquire(); "
        f"marker = run_marker({str(db)!r}, 'run-1'); assert marker.try_acquire()")
    try:
        assert not locks.entry_claim(db, entry).try_acquire()
        assert locks.run_is_alive(db, "run-1")
    finally:
        holder.kill()  # SIGKILL: no chance to let go
        holder.wait()
    assert not locks.run_is_alive(db, "run-1")
    assert not locks.run_marker(db, "run-1").path.exists()  # the dead run's marker is gone
    assert not locks.run_is_alive(db, "run-never-started")
    claim = locks.entry_claim(db, entry)
    assert claim.try_acquire()
    claim.release()


def test_cleaning_never_leaves_the_inbox(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    outside = write_csv_zip(tmp_path / "outside.zip")
    with pytest.raises(ValueError):
        inbox_files.remove_from_inbox(outside, inbox)
    assert outside.exists()


def test_settings_file_then_environment(tmp_path):
    config = tmp_path / "glotip.toml"
    config.write_text('[ingest]\ninbox = "in"\nsettle_seconds = 5\n'
                      '[deployment]\nmove_processed = true\ncron = "0 * * * *"\n')
    demo = load_settings(config=config, environ={})
    assert (demo.inbox, demo.settle_seconds, demo.move_processed) == ("in", 5.0, False)
    scheduled = load_settings(deployment=True, config=config, environ={"GLOTIP_DB": "x.duckdb"})
    assert (scheduled.move_processed, scheduled.cron, scheduled.db) == (True, "0 * * * *", "x.duckdb")
    defaults = load_settings(config=tmp_path / "absent.toml", environ={})
    assert (defaults.inbox, defaults.db, defaults.reports, defaults.move_processed) == (
        "sample_submissions", "var/glotip.duckdb", "var/reports", False)
    assert (defaults.portal_url, defaults.attach_report) == ("http://127.0.0.1:8765", False)
    assert defaults.notice() == Notice("http://127.0.0.1:8765", attach_report=False)


def test_the_e_mail_settings_come_from_the_file_then_the_environment(tmp_path):
    config = tmp_path / "glotip.toml"
    config.write_text('[ingest]\nportal_url = "https://portal.example.org/glotip"\nattach_report = true\n')
    settings = load_settings(config=config, environ={})
    assert (settings.portal_url, settings.attach_report) == ("https://portal.example.org/glotip", True)
    parameters = settings.flow_parameters()  # what a scheduled run is given
    assert (parameters["portal_url"], parameters["attach_report"]) == ("https://portal.example.org/glotip", True)
    settings = load_settings(config=config, environ={"GLOTIP_PORTAL_URL": "https://glotip.example.int",
                                                     "GLOTIP_ATTACH_REPORT": "no"})
    assert settings.notice() == Notice("https://glotip.example.int", attach_report=False)
    with pytest.raises(ValueError, match="GLOTIP_ATTACH_REPORT"):
        load_settings(config=config, environ={"GLOTIP_ATTACH_REPORT": "sometimes"})
    with pytest.raises(ValueError, match="portal_url"):  # stopped before any file is read
        load_settings(config=config, environ={"GLOTIP_PORTAL_URL": "portal.example.org"})
    config.write_text("[ingest]\ninbox_folder = 'x'\n")
    with pytest.raises(ValueError, match="inbox_folder"):
        load_settings(config=config, environ={})


# -- the flow, in-process ---------------------------------------------------------------------

def run_flow(inbox, tmp_path, **options):
    from flows.ingest import ingest_submissions

    options.setdefault("settle_seconds", 0)
    return ingest_submissions(str(inbox), str(tmp_path / "w.duckdb"), str(tmp_path / "reports"),
                              archive_dir=str(tmp_path / "archive"), **options)


def test_demo_keeps_the_inbox_and_archives_before_anything(prefect_server, tmp_path):
    inbox = tmp_path / "inbox"
    write_csv_zip(inbox / "NGA.zip", "NGA", rows=60)
    write_workbook(inbox / "KEN.xlsx", "KEN", rows=60)
    before = sorted(p.name for p in inbox.iterdir())
    outcomes = run_flow(inbox, tmp_path)
    assert {o["status"] for o in outcomes} == {"accepted"}
    assert sorted(p.name for p in inbox.iterdir()) == before  # move_processed is off
    for name in before:
        sha = sha256_of(inbox / name)
        assert (tmp_path / "archive" / sha[:2] / sha / name).read_bytes() == (inbox / name).read_bytes()
    summary = scalar(tmp_path / "w.duckdb", "SELECT summary FROM ingestion_runs")
    assert "| NGA.zip | NGA-" in summary and "| accepted | 60 |" in summary


def test_scheduled_mode_cleans_recorded_entries_and_defers_a_growing_file(prefect_server, tmp_path):
    inbox = tmp_path / "inbox"
    write_csv_zip(inbox / "NGA.zip", "NGA", rows=30)
    write_csv_zip(inbox / "bad.zip", "GHA", rows=0, victims_text="year,sex,age,form,citizenship,count\n"
                  "2000,female,total,total,total,many\n")
    write_csv_zip(inbox / "THA.zip.part", "THA", rows=30)  # a copy in progress
    outcomes = {o["file_name"]: o for o in run_flow(inbox, tmp_path, move_processed=True)}
    assert outcomes["NGA.zip"]["status"] == "accepted"
    assert outcomes["bad.zip"]["status"] == "rejected"
    assert outcomes["THA.zip.part"]["status"] == "deferred"
    assert "left in the inbox" in outcomes["THA.zip.part"]["note"]
    # recorded outcomes leave the inbox (the archive keeps them); the partial copy stays
    assert [p.name for p in inbox.iterdir()] == ["THA.zip.part"]
    db = tmp_path / "w.duckdb"
    assert scalar(db, "SELECT deferred FROM ingestion_runs") == 1
    rejected = outcomes["bad.zip"]["submission_id"]
    archived = list((tmp_path / "archive").rglob("bad.zip"))
    assert len(archived) == 1 and scalar(db, "SELECT sha256 FROM submissions WHERE submission_id = ?",
                                         [rejected]) == archived[0].parent.name


def test_an_entry_another_run_is_handling_is_left_to_it(prefect_server, tmp_path):
    inbox = tmp_path / "inbox"
    write_csv_zip(inbox / "NGA.zip", "NGA", rows=60)
    write_csv_zip(inbox / "GHA.zip", "GHA", rows=40)
    other_run = locks.entry_claim(tmp_path / "w.duckdb", inbox / "NGA.zip")
    assert other_run.try_acquire()
    outcomes = {o["file_name"]: o for o in run_flow(inbox, tmp_path, move_processed=True)}
    assert outcomes["NGA.zip"]["status"] == "skipped"
    assert outcomes["NGA.zip"]["note"] == "another run on this warehouse is handling it"
    assert outcomes["GHA.zip"]["status"] == "accepted"
    assert [p.name for p in inbox.iterdir()] == ["NGA.zip"]  # left in place, not archived
    assert not list((tmp_path / "archive").rglob("NGA.zip"))
    other_run.release()  # the other run died before doing anything: the next run takes it
    assert [o["status"] for o in run_flow(inbox, tmp_path, move_processed=True)] == ["accepted"]
    assert list(inbox.iterdir()) == []


def test_a_run_that_died_is_marked_interrupted_and_a_live_one_is_not(prefect_server, tmp_path):
    db = tmp_path / "w.duckdb"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with Warehouse(db) as warehouse, warehouse.turn() as connection:
        for run_id in ("run-dead", "run-alive"):
            loader.start_run(connection, run_id, str(inbox))
    holder = hold_in_another_process(  # run-alive's process, still going
        f"from warehouse.locks import run_marker; marker = run_marker({str(db)!r}, 'run-alive'); "
        "assert marker.try_acquire()")
    try:
        assert run_flow(inbox, tmp_path) == []
        with duckdb.connect(str(db), read_only=True) as connection:
            statuses = dict(connection.execute("SELECT run_id, status FROM ingestion_runs").fetchall())
    finally:
        holder.kill()
        holder.wait()
    assert statuses.pop("run-dead") == "interrupted" and statuses.pop("run-alive") == "running"
    assert list(statuses.values()) == ["completed"]  # the run itself


def test_links_and_pipes_fail_with_a_message_and_the_others_go_on(prefect_server, tmp_path):
    inbox = tmp_path / "inbox"
    write_csv_zip(inbox / "NGA.zip")
    (inbox / "passwords.csv").symlink_to("/etc/passwd")
    os.mkfifo(inbox / "pipe.csv")
    outcomes = {o["file_name"]: o for o in run_flow(inbox, tmp_path, move_processed=True)}
    assert outcomes["NGA.zip"]["status"] == "accepted"
    assert outcomes["passwords.csv"]["status"] == "failed"
    assert "symbolic link" in outcomes["passwords.csv"]["note"]
    assert "not a regular file" in outcomes["pipe.csv"]["note"]
    assert (inbox / "passwords.csv").is_symlink()  # failed entries stay for a person to see


def test_a_report_lost_to_a_crash_is_written_by_the_next_run(prefect_server, tmp_path):
    inbox = tmp_path / "inbox"
    write_csv_zip(inbox / "NGA.zip")
    [first] = run_flow(inbox, tmp_path)
    report_dir = tmp_path / "reports" / first["submission_id"]
    for name in ("report.html", "report.json"):
        (report_dir / name).unlink()  # as if the run died between the load and the report
    [again] = run_flow(inbox, tmp_path)
    assert again["status"] == "completed"
    report = json.loads((report_dir / "report.json").read_text())
    assert report["status"] == "accepted" and (report_dir / "report.html").exists()
    assert scalar(tmp_path / "w.duckdb", "SELECT count(*) FROM fact_victims") == first["rows_loaded"]


def test_a_warehouse_locked_by_a_reader_is_waited_for(prefect_server, tmp_path):
    inbox = tmp_path / "inbox"
    write_csv_zip(inbox / "NGA.zip")
    db = tmp_path / "w.duckdb"
    duckdb.connect(str(db)).close()
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(db)!r}); "
         "print('open', flush=True); time.sleep(3)"], stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True)
    assert holder.stdout.readline().strip() == "open"
    started = time.monotonic()
    [outcome] = run_flow(inbox, tmp_path)
    holder.wait()
    assert outcome["status"] == "accepted" and time.monotonic() - started > 1


@pytest.fixture
def full_disk(tmp_path):
    """A 256 KB filesystem: the archive fills it. Needs the right to mount (root here)."""
    mount_point = tmp_path / "small_disk"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small filesystem here: {result.stderr.strip()}")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


def test_a_full_disk_fails_one_submission_with_a_message_and_the_others_go_on(
        prefect_server, tmp_path, full_disk):
    inbox = tmp_path / "inbox"
    write_csv_zip(inbox / "A_small.zip", "NGA", rows=20)
    big = inbox / "B_big.csv"
    big.write_bytes(os.urandom(600 * 1024))  # larger than the disk
    write_csv_zip(inbox / "C_small.zip", "GHA", rows=20)
    from flows.ingest import ingest_submissions

    outcomes = {o["file_name"]: o for o in ingest_submissions(
        str(inbox), str(tmp_path / "w.duckdb"), str(tmp_path / "reports"),
        archive_dir=str(full_disk), move_processed=True, settle_seconds=0)}
    assert outcomes["B_big.csv"]["status"] == "failed"
    assert "disk is full" in outcomes["B_big.csv"]["note"]
    assert outcomes["A_small.zip"]["status"] == outcomes["C_small.zip"]["status"] == "accepted"
    assert big.exists() and not (inbox / "A_small.zip").exists()
    assert not [p for p in full_disk.rglob("*") if ".incoming" in p.name]  # no half copy left
    summary = scalar(tmp_path / "w.duckdb", "SELECT summary FROM ingestion_runs")
    assert "disk is full" in summary
