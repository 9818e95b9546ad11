"""A submission that would replace most of a country's figures is held for the data team's
confirmation; the country in the file name is checked against the country cell; a period year
with no rows is a warning. Real sample workbooks, a real DuckDB file, the real sequence."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from cli import app
from pipeline import submission as sequence
from reporting.mail import read_message
from schemas.messages import render_message
from schemas.submission import country_in_file_name
from tests.builders import csv_submission
from transforms.inbox import archive_raw
from warehouse.session import Warehouse

SAMPLES = Path(__file__).resolve().parent.parent / "sample_submissions"
FRANCE_2021_TOTAL = ("SELECT count FROM victims WHERE country = 'FRA' AND year = 2021 AND sex = 'total' "
                     "AND age = 'total' AND form = 'total' AND citizenship = 'total'")


def ingest(path: Path, tmp_path: Path):
    """The inbox sequence for one file: archived as received, then read, compared, loaded."""
    archived = archive_raw(path, tmp_path / "archive")
    with Warehouse(tmp_path / "w.duckdb") as warehouse:
        return sequence.process(sequence.assess_file(archived.path), warehouse,
                                reports_dir=tmp_path / "reports", source_path=str(archived.path))


def _body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def marked_as(country: str, sample: str, target: Path) -> Path:
    """A sample workbook whose submission sheet names another country."""
    workbook = load_workbook(SAMPLES / sample)
    workbook["submission"]["A2"] = country
    target.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(target)
    return target


def scalar(db: Path, sql: str):
    with Warehouse(db, read_only=True) as warehouse:
        return warehouse.connection.execute(sql).fetchall()[0][0]


@pytest.fixture
def france_loaded(tmp_path):
    first = ingest(shutil.copy(SAMPLES / "FRA_2021-2022.xlsx", tmp_path / "FRA_2021-2022.xlsx"), tmp_path)
    assert first.status in ("accepted", "accepted_with_warnings")
    assert scalar(tmp_path / "w.duckdb", FRANCE_2021_TOTAL) == 1811
    return first


def test_a_workbook_of_another_country_marked_as_france_is_held_not_loaded(tmp_path, france_loaded):
    held = ingest(marked_as("FRA", "THA_2021-2022.xlsx", tmp_path / "in" / "submission_2021-2022.xlsx"), tmp_path)
    assert held.status == "held" and held.rows_loaded == 0
    rule = next(f for f in held.findings if f.rule == "replaces-most-figures")
    assert rule.params["differing"] > rule.params["comparable"] / 2 >= 5
    assert rule.params["held_from"] == [france_loaded.submission_id]
    db = tmp_path / "w.duckdb"
    assert scalar(db, FRANCE_2021_TOTAL) == 1811  # France's figures stay current
    assert scalar(db, f"SELECT status FROM submissions WHERE submission_id = '{held.submission_id}'") == "held"
    page = (Path(held.report) / "report.html").read_text(encoding="utf-8")
    assert "Held for confirmation" in page and "waits for the UNODC data team" in page
    assert "differs from the figures already held for its country in" in page

    message = read_message(Path(held.report) / "message.eml")  # the notice: the link, no report
    assert f"http://127.0.0.1:8765/submissions/{held.submission_id}" in _body(message)
    assert list(message.iter_attachments()) == []

    listed = CliRunner().invoke(app, ["held", "--db", str(db)])
    assert listed.exit_code == 0 and held.submission_id in listed.output

    # the decision's e-mail as the settings say: here another portal, and the report attached
    released = CliRunner().invoke(app, ["release", held.submission_id, "--db", str(db),
                                        "--reports", str(tmp_path / "reports"),
                                        "--archive", str(tmp_path / "archive")],
                                  env={"GLOTIP_PORTAL_URL": "https://portal.example.org",
                                       "GLOTIP_ATTACH_REPORT": "yes"})
    assert released.exit_code == 0, released.output
    message = read_message(Path(held.report) / "message.eml")
    assert f"https://portal.example.org/submissions/{held.submission_id}" in _body(message)
    assert {part.get_filename() for part in message.iter_attachments()} >= {"report.html", "findings.csv"}
    assert "released" in released.output
    assert scalar(db, FRANCE_2021_TOTAL) == 200  # the released file's figures are current now
    assert scalar(db, f"SELECT held_decision FROM submissions WHERE submission_id = '{held.submission_id}'") == "released"
    page = (Path(held.report) / "report.html").read_text(encoding="utf-8")
    assert "confirmed this submission" in page
    again = CliRunner().invoke(app, ["release", held.submission_id, "--db", str(db),
                                     "--reports", str(tmp_path / "reports"), "--archive", str(tmp_path / "archive")])
    assert again.exit_code == 1 and "not held" in again.output


def test_a_rejected_hold_leaves_nothing_staged(tmp_path, france_loaded):
    held = ingest(marked_as("FRA", "THA_2021-2022.xlsx", tmp_path / "in" / "submission.xlsx"), tmp_path)
    db = tmp_path / "w.duckdb"
    assert scalar(db, f"SELECT count(*) FROM fact_victims WHERE submission_id = '{held.submission_id}'") > 0
    rejected = CliRunner().invoke(app, ["reject", held.submission_id, "--db", str(db),
                                        "--reports", str(tmp_path / "reports"), "--archive", str(tmp_path / "archive")])
    assert rejected.exit_code == 0, rejected.output
    assert scalar(db, f"SELECT count(*) FROM fact_victims WHERE submission_id = '{held.submission_id}'") == 0
    assert scalar(db, f"SELECT status FROM submissions WHERE submission_id = '{held.submission_id}'") == "rejected"
    assert scalar(db, FRANCE_2021_TOTAL) == 1811
    assert "did not confirm" in (Path(held.report) / "report.html").read_text(encoding="utf-8")
    unknown = CliRunner().invoke(app, ["reject", "FRA-000000000000", "--db", str(db)])
    assert unknown.exit_code == 1 and "no submission" in unknown.output


def test_a_correction_of_a_few_cells_is_loaded_as_usual(tmp_path):
    rows = [f"2021,total,total,total,{c},{10 + i}" for i, c in enumerate(
        ["THA", "LAO", "MMR", "KHM", "VNM", "CHN", "IND", "NPL", "BGD", "PHL", "IDN", "MYS"])]
    first = ingest(csv_submission(tmp_path / "first", rows, years=(2021, 2021)), tmp_path)
    corrected = [*rows[:-2], "2021,total,total,total,IDN,99", "2021,total,total,total,MYS,98"]
    second = ingest(csv_submission(tmp_path / "second", corrected, years=(2021, 2021)), tmp_path)
    assert second.status != "held" and second.rows_loaded == 12
    assert not [f for f in second.findings if f.rule == "replaces-most-figures"]
    assert first.submission_id != second.submission_id


def test_the_country_in_the_file_name_must_match_the_country_cell(tmp_path):
    thai_as_france = ingest(marked_as("FRA", "THA_2021-2022.xlsx", tmp_path / "in" / "THA_2021-2022.xlsx"), tmp_path)
    assert thai_as_france.status == "rejected"
    finding = next(f for f in thai_as_france.findings if f.rule == "country-differs-from-file-name")
    assert finding.cell == "A2"
    assert render_message(finding) == (
        "The file name says Thailand (THA), but the submission sheet says France (FRA).")
    assert render_message(finding, "fr").startswith("Le nom du fichier indique ")  # names: issue 11


@pytest.mark.parametrize("name, code", [
    ("THA_2021-2022.xlsx", "THA"), ("glotip-NGA.zip", "NGA"), ("MEX", "MEX"),
    ("submission_FRA_final_v2.xlsx", "FRA"), ("EGY_2022_ar_template.xlsx", "EGY"),
    ("Thailand 2021.xlsx", None),        # no code
    ("and_can_per.xlsx", None),          # lower-case words are words, not codes
    ("FRA_vs_THA.xlsx", None),           # two codes: the name does not say which
    ("GLOTIP_2022.xlsx", None), ("XYZ_2022.xlsx", None),
])
def test_the_country_a_file_name_gives(name, code):
    assert country_in_file_name(name) == code


def test_a_period_year_without_rows_is_a_warning_naming_the_year(tmp_path):
    first = ingest(csv_submission(tmp_path / "first", [
        "2020,total,total,total,total,40", "2021,total,total,total,total,50"], years=(2020, 2021)), tmp_path)
    second = ingest(csv_submission(tmp_path / "second", ["2021,total,total,total,total,52"],
                                   years=(2020, 2021)), tmp_path)
    finding = next(f for f in second.findings if f.rule == "year-without-rows")
    assert finding.params["year"] == 2020 and finding.params["held_from"] == [first.submission_id]
    assert render_message(finding).startswith(
        f"The reporting period covers 2020, for which figures are held (submission {first.submission_id})")
    # as the docs say: the latest accepted submission covering a year is current, rows or not
    assert scalar(tmp_path / "w.duckdb", "SELECT count(*) FROM victims WHERE year = 2020") == 0
