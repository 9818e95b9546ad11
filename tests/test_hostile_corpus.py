"""The hostile corpus (tests/hostile_corpus.py) through the real pipeline: every case ends
within a generous bound with a report, no traceback, and the finding its class calls for.
Cases that could hang or abort a process run as `glotip validate` in a subprocess."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import time
import zipfile
from pathlib import Path

import duckdb
import pytest
from openpyxl import load_workbook

from pipeline import submission as sequence
from pipeline.settings import load_settings
from reporting.safe import FORMULA_STARTS
from schemas.limits import Limits
from tests.hostile_corpus import all_cases, run_case, validate_command, workbook
from warehouse.session import Warehouse

SECONDS = 90  # per case, generous on a loaded 2-core machine (most take well under a second)
SLOW_SECONDS = 600  # the 700,000-row and 26 MB workbooks


def _params(cli: bool):
    return [pytest.param(case, id=f"{kind}: {case.name}", marks=[pytest.mark.slow] if case.slow else [])
            for kind, case in all_cases() if case.cli == cli]


def _reported(report_dir: Path) -> dict:
    assert (report_dir / "report.html").stat().st_size > 0
    return json.loads((report_dir / "report.json").read_text(encoding="utf-8"))


def _check_expected(case, rules: set[str], limits: set[str]) -> None:
    if case.expect is None:  # read like any other file
        assert not rules & {"limit-exceeded", "unreadable-file"}, rules
    else:
        assert case.expect in rules, rules
    if case.limit:
        assert case.limit in limits, limits


PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?")  # a spreadsheet reads it as a number, runs nothing
REPORT_FOLDER = re.compile(r"^(?:[A-Z]{3}|UNK)-[0-9a-f]{12}$|^refused-[0-9a-f]{12}$")


def _check_outputs(case, folder: Path, report_dir: Path) -> None:
    """What every case's outputs must be, whatever the class: the report folder inside the
    reports folder and named from validated codes; every CSV field and every cell of our own
    findings sheet inert; a text holding personal data (`secret`) in no output and no table."""
    assert report_dir.parent == folder / "reports" and REPORT_FOLDER.match(report_dir.name), report_dir
    outputs = b""
    for path in sorted(p for p in report_dir.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix == ".csv":
            for row in csv.reader(io.StringIO(data.decode("utf-8-sig"))):
                assert not [v for v in row if v.startswith(FORMULA_STARTS)
                            and not PLAIN_NUMBER.fullmatch(v)], (path.name, row)  # -5 is read as -5
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as archive:
                data = b"".join(archive.read(name) for name in archive.namelist())
            findings_sheet = load_workbook(path).worksheets[-1]
            assert not [c.coordinate for row in findings_sheet.iter_rows() for c in row if c.data_type == "f"]
        outputs += data
    if case.secret:
        assert case.secret.encode() not in outputs
        with duckdb.connect(str(folder / "glotip.duckdb"), read_only=True) as connection:
            for table in ("submissions", "validation_findings"):
                assert case.secret not in str(connection.execute(f"SELECT * FROM {table}").fetchall())


@pytest.mark.parametrize("case", _params(cli=False))
def test_hostile_case_ends_within_limits_with_a_report(case, tmp_path):
    started = time.monotonic()
    result = run_case(case, tmp_path)
    assert time.monotonic() - started < (SLOW_SECONDS if case.slow else SECONDS)
    report = _reported(Path(result["report"]))
    assert result["status"] in ("accepted", "accepted_with_warnings", "held", "rejected")
    _check_outputs(case, tmp_path, Path(result["report"]))
    _check_expected(case, {f["rule"] for f in report["findings"]},
                    {f["params"].get("limit") for f in report["findings"] if f["rule"] == "limit-exceeded"})
    if case.limit == "file_bytes":  # refused from its size alone, never hashed
        assert time.monotonic() - started < 10 and report["sha256"] == ""


@pytest.mark.parametrize("case", _params(cli=True))
def test_hostile_case_through_glotip_validate_never_hangs_or_aborts(case, tmp_path):
    (tmp_path / "case").mkdir()
    path = case.build(tmp_path / "case")
    finished = validate_command(path, tmp_path, case.limits, timeout=SECONDS)  # raises on a hang
    output = finished.stdout + finished.stderr
    assert finished.returncode == 1, output  # rejected, with its report: not 134, not a crash
    assert "Traceback" not in output
    [report_dir] = [p for p in (tmp_path / "reports").iterdir() if p.is_dir()]
    report = _reported(report_dir)
    _check_expected(case, {f["rule"] for f in report["findings"]},
                    {f["params"].get("limit") for f in report["findings"] if f["rule"] == "limit-exceeded"})


def test_a_3_gib_file_in_the_inbox_is_refused_before_archiving(tmp_path):
    """Not hashed, not archived, not recorded; left in the inbox with a report; the next entry
    is ingested as usual."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with (inbox / "huge.xlsx").open("wb") as handle:
        handle.truncate(3 * 1024**3)
    workbook(inbox / "good.xlsx")
    options = sequence.InboxOptions(str(inbox), str(tmp_path / "reports"), str(tmp_path / "archive"),
                                    move_processed=True, settle_seconds=0, limits=Limits())
    with Warehouse(tmp_path / "glotip.duckdb") as warehouse:
        started = time.monotonic()
        huge = sequence.ingest_entry(inbox / "huge.xlsx", warehouse, options, run_id="r")
        assert time.monotonic() - started < 10
        good = sequence.ingest_entry(inbox / "good.xlsx", warehouse, options, run_id="r")
        names = [row[0] for row in warehouse.connection.execute("SELECT file_name FROM submissions").fetchall()]
    assert (huge.status, huge.submission_id) == ("rejected", None)
    assert "file_bytes" in huge.note and (inbox / "huge.xlsx").exists()
    report = _reported(Path(huge.report))
    assert report["note_key"] == "note_refused_unreceived"
    assert [f["params"]["limit"] for f in report["findings"]] == ["file_bytes"]
    assert not any(p.name == "huge.xlsx" for p in (tmp_path / "archive").rglob("*"))
    assert good.status == "accepted" and names == ["good.xlsx"]


def test_a_workbook_over_annotated_cells_gets_no_annotated_copy_but_a_note(tmp_path):
    [case] = [c for _, c in all_cases() if "annotated_cells" in c.limits]
    result = run_case(case, tmp_path)
    report_dir = Path(result["report"])
    report = _reported(report_dir)
    assert not (report_dir / "annotated.xlsx").exists()
    assert report["annotated_skipped"]["allowed"] == case.limits["annotated_cells"]
    assert report["annotated_skipped"]["cells"] > case.limits["annotated_cells"]
    assert "No annotated copy" in (report_dir / "report.html").read_text(encoding="utf-8")


def test_a_small_workbook_with_findings_still_gets_its_annotated_copy(tmp_path):
    [case] = [c for _, c in all_cases() if c.name == "sheets victims and Victims"]
    report_dir = Path(run_case(case, tmp_path)["report"])
    assert _reported(report_dir)["annotated_skipped"] is None
    assert (report_dir / "annotated.xlsx").exists()


def test_limits_come_from_glotip_toml_then_the_environment(tmp_path):
    config = tmp_path / "glotip.toml"
    config.write_text("[limits]\nsheets = 7\nfile_bytes = 1_000\nparse_seconds = 5\n", encoding="utf-8")
    settings = load_settings(config=config, environ={"GLOTIP_LIMITS_SHEETS": "9"})
    assert (settings.limits.sheets, settings.limits.file_bytes, settings.limits.parse_seconds) == (9, 1000, 5.0)
    assert settings.limits.rows == Limits().rows
    assert settings.flow_parameters()["limits"]["sheets"] == 9
    config.write_text("[limits]\nsheet = 7\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown limit"):
        load_settings(config=config, environ={})
    config.write_text("[limits]\nrows = 0\n", encoding="utf-8")
    with pytest.raises(ValueError, match="above zero"):
        load_settings(config=config, environ={})


def test_the_repository_config_lists_every_limit():
    import tomllib
    from dataclasses import asdict

    document = tomllib.loads((Path(__file__).resolve().parents[1] / "glotip.toml").read_text(encoding="utf-8"))
    assert document["limits"] == asdict(Limits())


def test_the_scheduled_flow_goes_on_after_files_over_the_limits(prefect_server, tmp_path):
    """The real flow, with limits from its parameters: a file too big to receive, a workbook whose
    parse dies in the child and a good one; the run records each and ends normally."""
    from flows.ingest import ingest_submissions
    from tests.hostile_corpus import FAR, GOOD

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with (inbox / "huge.csv").open("wb") as handle:
        handle.truncate(3 * 1024**3)
    workbook(inbox / "abort.xlsx", GOOD + FAR)
    workbook(inbox / "good.xlsx")
    limits = {"columns": 10**6, "cells": 10**12, "rows": 10**7, "parse_memory_bytes": 1024**3}
    rows = ingest_submissions(str(inbox), str(tmp_path / "w.duckdb"), str(tmp_path / "reports"),
                              archive_dir=str(tmp_path / "archive"), move_processed=True,
                              settle_seconds=0, limits=limits)
    by_name = {row["file_name"]: row for row in rows}
    assert {name: row["status"] for name, row in by_name.items()} == {
        "abort.xlsx": "rejected", "good.xlsx": "accepted", "huge.csv": "rejected"}
    assert "parse_memory_bytes" in json.dumps(_reported(Path(by_name["abort.xlsx"]["report"])))
    assert sorted(p.name for p in inbox.iterdir()) == ["huge.csv"]  # never received: left in the inbox


def test_a_reader_killed_from_outside_is_retried_not_rejected(tmp_path):
    """SIGKILL of the reading child that we did not send (the kernel's OOM killer, an operator):
    the machine's fault, not the file's. The entry fails, nothing is recorded, it stays in the
    inbox, and the next run reads it."""
    import multiprocessing
    import signal
    import threading

    from tests.hostile_corpus import _many_rows, _years

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    workbook(inbox / "big.xlsx", _many_rows(200_000), years=_years(200_000))
    options = sequence.InboxOptions(str(inbox), str(tmp_path / "reports"), str(tmp_path / "archive"),
                                    move_processed=True, settle_seconds=0, limits=Limits())
    killed = []

    def kill_the_reader():
        deadline = time.monotonic() + 60
        while not killed and time.monotonic() < deadline:
            for child in multiprocessing.active_children():
                if child.name.startswith("read "):
                    os.kill(child.pid, signal.SIGKILL)
                    killed.append(child.pid)
            time.sleep(0.01)

    killer = threading.Thread(target=kill_the_reader)
    killer.start()
    with Warehouse(tmp_path / "glotip.duckdb") as warehouse:
        first = sequence.ingest_entry(inbox / "big.xlsx", warehouse, options, run_id="r1")
        killer.join()
        assert killed and first.status == "failed" and "killed from outside" in first.note
        assert warehouse.connection.execute("SELECT count(*) FROM submissions").fetchall() == [(0,)]
        assert (inbox / "big.xlsx").exists()
        second = sequence.ingest_entry(inbox / "big.xlsx", warehouse, options, run_id="r2")
    assert second.status in ("accepted", "accepted_with_warnings") and second.rows_loaded == 200_000


def test_a_reader_that_cannot_start_fails_the_entry_for_a_retry_never_rejects_it(tmp_path):
    """The reader's own failure is not the file's: a main module multiprocessing cannot load in
    the child (a script read from stdin) stops every child before it reads. The entry is
    `failed`, nothing is recorded, and the file stays in the inbox for the next run."""
    import subprocess
    import sys

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    workbook(inbox / "good.xlsx")
    script = f"""
import json
from pipeline import submission as sequence
from schemas.limits import Limits
from warehouse.session import Warehouse
options = sequence.InboxOptions({str(inbox)!r}, {str(tmp_path / 'reports')!r}, {str(tmp_path / 'archive')!r},
                                move_processed=True, settle_seconds=0, limits=Limits())
with Warehouse({str(tmp_path / 'w.duckdb')!r}) as warehouse:
    outcome = sequence.ingest_entry({str(inbox / 'good.xlsx')!r}, warehouse, options, run_id="r")
    recorded = warehouse.connection.execute("SELECT count(*) FROM submissions").fetchall()[0][0]
print(json.dumps({{"status": outcome.status, "note": outcome.note, "recorded": recorded}}))
"""
    finished = subprocess.run([sys.executable, "-"], input=script, capture_output=True, text=True,
                              timeout=120, cwd=Path(__file__).resolve().parents[1])
    outcome = json.loads(finished.stdout.strip().splitlines()[-1])
    assert outcome["status"] == "failed" and outcome["recorded"] == 0, outcome
    assert "isolated reader stopped" in outcome["note"] and "next run" in outcome["note"]
    assert (inbox / "good.xlsx").exists()
