"""End to end: the real Prefect flow over real submissions into a DuckDB file in a temp dir."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest

from tests.conftest import SAMPLES
from tests.builders import victims, write_submission


def run_flow(inbox, tmp_path):
    from flows.ingest import ingest_submissions

    db = tmp_path / "warehouse.duckdb"
    reports = tmp_path / "reports"
    return ingest_submissions(str(inbox), str(db), str(reports), str(tmp_path / "archive")), db, reports


def scalar(db, sql, params=None):
    with duckdb.connect(str(db), read_only=True) as connection:
        return connection.execute(sql, params or []).fetchall()[0][0]


def rows(db, sql, params=None):
    with duckdb.connect(str(db), read_only=True) as connection:
        return connection.execute(sql, params or []).fetchall()


def test_samples_end_to_end_and_rerun_loads_nothing_twice(prefect_server, tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(SAMPLES, inbox)
    outcomes, db, reports = run_flow(inbox, tmp_path)
    by_file = {o["file_name"]: o for o in outcomes}
    statuses = {o["status"] for o in outcomes}
    assert {"accepted", "accepted_with_warnings", "rejected"} <= statuses

    # a broken file yields a report and no rows
    broken = by_file["corrupted_submission.xlsx"]
    assert broken["status"] == "rejected" and broken["rows_loaded"] == 0
    report = json.loads((reports / broken["submission_id"] / "report.json").read_text())
    assert [f["rule"] for f in report["findings"]] == ["unreadable-file"]
    assert (reports / broken["submission_id"] / "report.html").exists()

    # what the summary says was loaded is what the warehouse holds
    loaded = sum(o["rows_loaded"] for o in outcomes)
    facts = sum(scalar(db, f"SELECT count(*) FROM fact_{t}")
                for t in ("victims", "offenders", "repatriated", "organ_removal_cases"))
    assert loaded == facts > 0
    assert scalar(db, "SELECT count(*) FROM submissions") == len(outcomes)
    for outcome in outcomes:
        report = json.loads((reports / outcome["submission_id"] / "report.json").read_text())
        stored = scalar(db, "SELECT count(*) FROM validation_findings WHERE submission_id = ?",
                        [outcome["submission_id"]])
        assert stored == len(report["findings"]) == outcome["errors"] + outcome["warnings"]
        if outcome["status"] == "rejected":
            assert scalar(db, "SELECT count(*) FROM fact_victims WHERE submission_id = ?",
                          [outcome["submission_id"]]) == 0

    # the views carry the country and submission id on every row
    assert scalar(db, "SELECT count(*) FROM victims WHERE country IS NULL OR submission_id IS NULL") == 0
    assert scalar(db, "SELECT count(DISTINCT country) FROM victims") >= 6
    assert scalar(db, "SELECT count(*) FROM organ_removal_cases") >= 2

    # the same inbox again: every file is recognised, nothing is loaded twice
    again, _, _ = run_flow(inbox, tmp_path)
    assert {o["status"] for o in again} == {"duplicate"}
    facts_after = sum(scalar(db, f"SELECT count(*) FROM fact_{t}")
                      for t in ("victims", "offenders", "repatriated", "organ_removal_cases"))
    assert facts_after == facts
    assert scalar(db, "SELECT count(*) FROM ingestion_runs WHERE status = 'completed'") == 2


def test_resubmission_supersedes_the_same_years_and_keeps_the_old(prefect_server, tmp_path):
    inbox = tmp_path / "inbox"
    first = write_submission(inbox / "tha_v1", victims(
        "2021,total,total,total,total,100", "2022,total,total,total,total,200"))
    run_flow(inbox, tmp_path)
    shutil.rmtree(first)

    # a corrected file for the same years replaces the first one entirely
    write_submission(inbox / "tha_v2", victims(
        "2021,total,total,total,total,110", "2022,total,total,total,total,210"))
    outcomes, db, _ = run_flow(inbox, tmp_path)
    second_id = outcomes[0]["submission_id"]
    assert rows(db, "SELECT year, count FROM victims ORDER BY year") == [(2021, 110), (2022, 210)]
    register = rows(db, "SELECT submission_id, superseded_by FROM submissions ORDER BY load_seq")
    assert register[0][1] == second_id and register[1][1] is None
    assert scalar(db, "SELECT count(*) FROM fact_victims") == 4  # the old rows stay
    shutil.rmtree(inbox / "tha_v2")

    # a file for 2022 only replaces 2022; 2021 stays with the second submission
    write_submission(inbox / "tha_v3", victims("2022,total,total,total,total,220"),
                     submission={"year_from": "2022"})
    outcomes, db, _ = run_flow(inbox, tmp_path)
    assert rows(db, "SELECT year, count, submission_id FROM victims ORDER BY year") == [
        (2021, 110, second_id), (2022, 220, outcomes[0]["submission_id"])]
    assert scalar(db, "SELECT superseded_by FROM submissions WHERE submission_id = ?", [second_id]) is None
    assert outcomes[0]["status"] == "accepted"


def test_rejected_submission_loads_no_rows_and_keeps_its_findings(prefect_server, tmp_path):
    inbox = tmp_path / "inbox"
    write_submission(inbox / "bad", victims("2021,total,total,total,total,<5",
                                            "2021,female,total,total,total,3"))
    outcomes, db, reports = run_flow(inbox, tmp_path)
    assert [o["status"] for o in outcomes] == ["rejected"]
    assert scalar(db, "SELECT count(*) FROM fact_victims") == 0
    assert rows(db, "SELECT rule, source, line, column_position, cell, params FROM validation_findings") == [
        ("suppressed-value", "victims.csv", 2, 6, None, "{}")]  # the location as data; no cell in a CSV
    html = (reports / outcomes[0]["submission_id"] / "report.html").read_text()
    assert "Rejected" in html and "suppressed-value" in html


@pytest.mark.parametrize("name", ["blank_template.xlsx"])
def test_blank_template_is_rejected_for_missing_data_not_crashing(prefect_server, tmp_path, name):
    from transforms.template import write_template

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    write_template(inbox / name)
    outcomes, db, _ = run_flow(inbox, tmp_path)
    assert outcomes[0]["status"] == "rejected"
    found = {r[0] for r in rows(db, "SELECT rule FROM validation_findings")}
    assert "missing-value" in found and "empty-table" in found


def test_ingest_summary_names_what_a_resubmission_supersedes_and_how_many_cells_changed(prefect_server, tmp_path):
    """The data team reads, for each resubmission, which submission it supersedes and how many
    cells it changes: in the flow's result, the run's summary (`ingestion_runs`) and the
    terminal table of `glotip ingest`; the same counts as the report's table of changes."""
    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from cli import app

    db = tmp_path / "warehouse.duckdb"

    def ingest(name, source=None, edit=None):
        inbox = tmp_path / f"inbox-{name}"
        inbox.mkdir()
        target = inbox / f"{name}.xlsx"
        shutil.copy(source or SAMPLES / "FRA_2021-2022.xlsx", target)
        if edit:
            workbook = load_workbook(target)
            edit(workbook)
            workbook.save(target)
        result = CliRunner().invoke(app, ["ingest", str(inbox), "--db", str(db), "--reports",
                                          str(tmp_path / "reports"), "--archive", str(tmp_path / "archive")],
                                    env={"GLOTIP_SETTLE_SECONDS": "0"})
        assert result.exit_code == 0, result.output
        [(submission_id, status, supersedes)] = rows(
            db, "SELECT submission_id, status, supersedes FROM submissions ORDER BY load_seq DESC LIMIT 1")
        summary = scalar(db, "SELECT summary FROM ingestion_runs ORDER BY started_at DESC LIMIT 1")
        return submission_id, status, supersedes, summary, result.output

    first, status, supersedes, summary, output = ingest("first")
    assert status in ("accepted", "accepted_with_warnings") and not supersedes
    assert "supersedes" not in summary and "cells changed" not in output  # nothing held before

    def three_cells_changed(workbook):  # the grand totals of both years, and one citizenship
        victims = workbook["victims"]
        changed = 0
        for row in victims.iter_rows(min_row=2):
            if row[1].value == row[2].value == row[3].value == "total" and (
                    row[4].value == "total" or (row[0].value, row[4].value) == (2021, "AFG")):
                row[5].value += 1
                changed += 1
        assert changed == 3

    second, status, supersedes, summary, output = ingest("changed", edit=three_cells_changed)
    assert status in ("accepted", "accepted_with_warnings") and list(supersedes) == [first]
    said = f"supersedes {first}; 3 cells changed, 0 added, 0 removed"
    assert said in summary and said in output
    report = json.loads((tmp_path / "reports" / second / "report.json").read_text(encoding="utf-8"))
    assert [c["kind"] for c in report["changes"]] == ["changed"] * 3  # the report's table says the same

    third, status, supersedes, summary, output = ingest("same", SAMPLES / "FRA_2021-2022_fr_template.xlsx")
    assert list(supersedes) == [second]  # the French template with the figures of the first file
    said = f"supersedes {second}; 3 cells changed, 0 added, 0 removed"  # back to the first figures
    assert said in summary and said in output

    fourth, status, supersedes, summary, output = ingest("identical", edit=lambda workbook: workbook[
        "submission"].cell(row=2, column=4, value="Ministère de l’Intérieur (2)"))  # other bytes, same figures
    assert list(supersedes) == [third]
    said = f"supersedes {third}; 0 cells changed, 0 added, 0 removed"
    assert said in summary and said in output
