"""Organ-removal cases as case-law records (`glotip case-law`, reporting/case_law.py), and the
case-law columns of `organ_removal_cases` (court, decision date, outcome, offenders): submitted
through the real per-submission sequence into a DuckDB file, published, exported."""

from __future__ import annotations

import datetime as dt
import json
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from cli import app
from pipeline import submission as sequence
from reporting.case_law import FIELD_KEYS, FIELDS, JSON_NAME, XLSX_NAME
from reporting.safe import FORMULA_STARTS
from schemas.messages import render_location, render_message
from schemas.validate import validate_submission
from tests.builders import HEADERS, write_submission
from transforms.prepare import prepare_submission
from warehouse import snapshot as analyst_snapshot
from warehouse.session import Warehouse

runner = CliRunner()
CASE_HEADER = [*HEADERS["organ_removal_cases"], "offenders_total", "offenders_female",
               "offenders_male", "offenders_citizenship", "court", "court_decision_reference",
               "decision_date", "outcome", "summary"]
NPL_2022 = {"country": "NPL", "year_from": "2022", "year_to": "2022"}
VICTIMS = {"victims": [HEADERS["victims"], ["2022", "total", "total", "removal_of_organs", "total", "5"]]}
FULL_CASE = ["OR-2022-01", "2022", "conviction", "3", "1", "2", "0", "NPL;IND", "kidney;tissue",
             "NPL", "IND", "ISR", "yes", "2", "0", "2", "Nepal; India", "District Court of Kathmandu",
             "Supreme Court, 123/2022", "2022-11-15", "Conviction", "Kidneys removed in a private clinic."]
# a case of an old template: no offenders, court, date or outcome
OLD_CASE = ["OR-2022-02", "2022", "investigation", "2", "", "", "", "NPL", "unknown", "", "", "",
            "unknown", "", "", "", "", "", "", "", "", ""]


def case_rows(*rows) -> dict:
    return {**VICTIMS, "organ_removal_cases": [CASE_HEADER, *rows]}


def ingest(tmp_path: Path, tables: dict, name: str = "NPL_2022") -> Path:
    """One submission through the real sequence into tmp_path/var/glotip.duckdb, then the
    analysts' snapshot published, as `glotip ingest` does."""
    inbox = tmp_path / "inbox"
    entry = write_submission(inbox / name, tables, NPL_2022)
    db = tmp_path / "var" / "glotip.duckdb"
    options = sequence.InboxOptions(str(inbox), str(tmp_path / "reports"), str(tmp_path / "archive"),
                                    settle_seconds=0)
    with Warehouse(db) as warehouse:
        outcome = sequence.ingest_entry(entry, warehouse, options, run_id="run-1")
    assert outcome.status in ("accepted", "accepted_with_warnings"), outcome
    analyst_snapshot.publish(Warehouse(db))
    return db


def export(db: Path, out: Path, *options: str):
    result = runner.invoke(app, ["case-law", "--db", str(db), "--out", str(out), *options])
    return result, out / JSON_NAME, out / XLSX_NAME


def test_cases_ingested_are_exported_as_case_law_records_field_by_field(tmp_path):
    db = ingest(tmp_path, case_rows(FULL_CASE, OLD_CASE))
    result, json_path, xlsx_path = export(db, tmp_path / "out")
    assert result.exit_code == 0, result.output
    assert "2 case-law records" in result.output
    document = json.loads(json_path.read_text(encoding="utf-8"))
    assert document["format"] == "glotip-case-law/1"
    assert document["filters"] == {"year": None, "country": None}
    assert list(document["fields"]) == list(FIELD_KEYS)
    submission_id = document["records"][0]["source_submission_id"]
    assert submission_id.startswith("NPL-")
    assert document["records"] == [
        {"country": "NPL", "country_name": "Nepal", "year": 2022, "case_reference": "OR-2022-01",
         "court": "District Court of Kathmandu", "decision_reference": "Supreme Court, 123/2022",
         "decision_date": "2022-11-15", "stage": "conviction", "outcome": "conviction",
         "purpose": ["organs", "tissues"], "material_removed": ["kidney", "tissue"],
         "victims_total": 3, "victims_female": 1, "victims_male": 2, "victims_children": 0,
         "victims_nationalities": ["NPL", "IND"], "offenders_total": 2, "offenders_female": 0,
         "offenders_male": 2, "offenders_nationalities": ["NPL", "IND"],
         "recruitment_countries": ["NPL"], "removal_countries": ["IND"],
         "recipient_countries": ["ISR"], "medical_professionals_involved": "yes",
         "summary": "Kidneys removed in a private clinic.", "source_submission_id": submission_id,
         "withheld": {}},
        {"country": "NPL", "country_name": "Nepal", "year": 2022, "case_reference": "OR-2022-02",
         "court": None, "decision_reference": None, "decision_date": None, "stage": "investigation",
         "outcome": None, "purpose": ["unknown"], "material_removed": ["unknown"],
         "victims_total": 2, "victims_female": None, "victims_male": None, "victims_children": None,
         "victims_nationalities": ["NPL"], "offenders_total": None, "offenders_female": None,
         "offenders_male": None, "offenders_nationalities": None, "recruitment_countries": None,
         "removal_countries": None, "recipient_countries": None,
         "medical_professionals_involved": "unknown", "summary": None,
         "source_submission_id": submission_id, "withheld": {}},
    ]
    workbook = load_workbook(xlsx_path)
    sheet = workbook["Case-law records"]
    assert sheet.freeze_panes == "A2"
    assert [cell.value for cell in sheet[1]] == [field.label for field in FIELDS]
    first = dict(zip(FIELD_KEYS, (cell.value for cell in sheet[2])))
    assert (first["stage"], first["outcome"], first["purpose"], first["material_removed"],
            first["victims_nationalities"], first["medical_professionals_involved"]) == (
        "Conviction", "Conviction (guilty of at least one charge)",
        "Removal of organs; Removal of tissues", "Kidney; Tissue", "NPL; IND", "Yes")
    assert first["decision_date"] == dt.datetime(2022, 11, 15)
    assert [row[0].value for row in workbook["Fields"].iter_rows(min_row=2)] == [f.label for f in FIELDS]


def test_the_spreadsheet_is_inert_whatever_the_texts_start_with(tmp_path):
    """Texts a spreadsheet would run as formulas stay text; control characters a workbook
    cannot hold (openpyxl refused the whole workbook for one) are shown as U+FFFD."""
    formulas = ["=1+2", "@SUM(1,2)", "+1+1 kidneys", "-recruited abroad", '=HYPERLINK("http://x","y")']
    case = list(FULL_CASE)
    case[0], case[17], case[18], case[21] = formulas[0], formulas[1], formulas[2], formulas[3]
    other = list(OLD_CASE)
    other[17], other[21] = "Court\x0bof appeal\x07", formulas[4]
    db = ingest(tmp_path, case_rows(case, other))
    result, json_path, xlsx_path = export(db, tmp_path / "out")
    assert result.exit_code == 0, result.output
    records = json.loads(json_path.read_text(encoding="utf-8"))["records"]
    # the JSON keeps each text exactly (it is no spreadsheet); the workbook keeps them as text
    assert {records[0]["case_reference"], records[0]["court"], records[0]["decision_reference"],
            records[0]["summary"], records[1]["summary"]} == set(formulas)
    sheet = load_workbook(xlsx_path)["Case-law records"]
    texts = [cell for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert not [cell.coordinate for cell in texts if cell.data_type == "f"]
    assert not [cell.value for cell in texts if cell.value.startswith(FORMULA_STARTS)]
    assert {f"'{text}" for text in formulas} <= {cell.value for cell in texts}
    assert "Court\ufffdof appeal\ufffd" in {cell.value for cell in texts}
    assert records[1]["court"] == "Court\x0bof appeal\x07"  # JSON escapes it


@pytest.mark.parametrize(("summary", "kind", "needle"), [
    ("Broker reachable at broker.kidney@example.com for buyers.", "email", "broker.kidney@"),
    ("The broker answered on +977 1 4412345 to every buyer.", "telephone", "4412345"),
])
def test_a_summary_holding_personal_data_is_withheld_never_written(tmp_path, summary, kind, needle):
    """Validation rejects such a summary at ingestion; a case loaded before the screen learnt
    the pattern is still in the warehouse: the export screens every text again. Here such a row
    is made by writing the text into the loaded case of the real warehouse file."""
    db = ingest(tmp_path, case_rows(FULL_CASE))
    with Warehouse(db) as warehouse:
        warehouse.connection.execute("UPDATE fact_organ_removal_cases SET summary = ?", [summary])
    analyst_snapshot.publish(Warehouse(db))
    result, json_path, xlsx_path = export(db, tmp_path / "out")
    assert result.exit_code == 0, result.output
    [record] = json.loads(json_path.read_text(encoding="utf-8"))["records"]
    assert (record["summary"], record["withheld"]) == (None, {"summary": kind})
    assert record["court"] == "District Court of Kathmandu"  # the other texts stay
    assert needle not in json_path.read_text(encoding="utf-8")
    with zipfile.ZipFile(xlsx_path) as archive:
        assert not any(needle in archive.read(name).decode("utf-8", "replace")
                       for name in archive.namelist())
    row = dict(zip(FIELD_KEYS, (c.value for c in load_workbook(xlsx_path)["Case-law records"][2])))
    assert row["summary"].startswith("withheld: it looks like a")
    assert row["withheld"].startswith("Summary: a")


def test_year_and_country_select_cases_and_no_case_writes_nothing(tmp_path):
    db = ingest(tmp_path, case_rows(FULL_CASE))
    result, json_path, _ = export(db, tmp_path / "npl", "--year", "2022", "--country", "npl")
    assert result.exit_code == 0, result.output
    assert json.loads(json_path.read_text(encoding="utf-8"))["filters"] == {"year": 2022, "country": "NPL"}
    for options in (["--year", "2021"], ["--country", "IND"]):
        result, _, _ = export(db, tmp_path / "none", *options)
        assert result.exit_code == 1 and "nothing written" in result.output, result.output
    assert not (tmp_path / "none").exists()
    result, _, _ = export(db, tmp_path / "bad", "--country", "Nepal")
    assert result.exit_code == 2 and not (tmp_path / "bad").exists(), result.output
    result, _, _ = export(tmp_path / "missing.duckdb", tmp_path / "missing")
    assert result.exit_code == 2 and "no warehouse" in result.output, result.output


def test_an_old_file_without_the_case_law_columns_is_accepted_and_exported(tmp_path):
    old_header = HEADERS["organ_removal_cases"]  # the columns of the template before them
    tables = {**VICTIMS, "organ_removal_cases": [old_header, FULL_CASE[:len(old_header)]]}
    db = ingest(tmp_path, tables)
    result, json_path, _ = export(db, tmp_path / "out")
    assert result.exit_code == 0, result.output
    [record] = json.loads(json_path.read_text(encoding="utf-8"))["records"]
    assert [record[key] for key in ("court", "decision_date", "outcome", "offenders_total",
                                    "offenders_nationalities")] == [None] * 5
    assert (record["victims_total"], record["purpose"]) == (3, ["organs", "tissues"])


def findings(folder: Path, today: dt.date | None = None) -> list[tuple]:
    result = validate_submission(prepare_submission(folder), today=today)
    return [(f.rule, f.severity, render_location(f.location), f.value) for f in result.findings]


def with_case(**cells) -> list[str]:
    row = dict(zip(CASE_HEADER, FULL_CASE))
    row.update(cells)
    return [row[column] for column in CASE_HEADER]


def test_breakdowns_of_a_case_never_exceed_its_totals(tmp_path):
    folder = write_submission(tmp_path / "s", case_rows(
        with_case(case_reference="A", victims_female="2", victims_male="2"),  # 4 > 3
        with_case(case_reference="B", victims_children="4"),                   # 4 > 3
        with_case(case_reference="C", offenders_female="1", offenders_male="2"),  # 3 > 2
        with_case(case_reference="D", victims_female="3", victims_male="", offenders_total=""),
    ), NPL_2022)
    # D (3 women of 3, no offenders' total) is fine; the year's `organ-cases-exceed-victims`
    # warning falls on line 2's total, which has its error (one finding per cell)
    assert [rule for rule, *_ in findings(folder)] == ["case-counts-exceed-total"] * 3
    result = validate_submission(prepare_submission(folder))
    exceeding = sorted((f.location.line, f.column, f.params["part_columns"], f.params["parts_sum"])
                       for f in result.findings if f.rule == "case-counts-exceed-total")
    assert exceeding == [(2, "victims_total", ["victims_female", "victims_male"], 4),
                         (3, "victims_total", ["victims_children"], 4),
                         (4, "offenders_total", ["offenders_female", "offenders_male"], 3)]
    message = render_message(next(f for f in result.findings if f.location.line == 2
                                  and f.rule == "case-counts-exceed-total"), marked=False)
    assert message == "Victims (female) and Victims (male) (4) is more than “Victims (total)” (3)."
    french = render_message(next(f for f in result.findings if f.location.line == 4
                                 and f.rule == "case-counts-exceed-total"), "fr", marked=False)
    assert french.startswith("Auteurs (sexe féminin) et Auteurs (sexe masculin) (3) dépasse")


def test_decision_dates_are_real_past_dates_not_before_the_case_year(tmp_path):
    today = dt.date(2023, 6, 1)
    folder = write_submission(tmp_path / "s", case_rows(
        with_case(case_reference="A", decision_date="15/11/2022"),   # not ISO: day and month unclear
        with_case(case_reference="B", decision_date="2022-02-30"),   # no such day
        with_case(case_reference="C", decision_date="1985-01-10"),   # before MIN_YEAR
        with_case(case_reference="D", decision_date="2023-06-02"),   # after today
        with_case(case_reference="E", decision_date="2021-12-31"),   # before the case's year
        with_case(case_reference="F", decision_date="2023-06-01 14:30:00"),  # today, with a time
        with_case(case_reference="G", outcome="guilty"),
        with_case(case_reference="H", offenders_citizenship="NPL;Atlantis"),
    ), NPL_2022)
    got = [f for f in findings(folder, today) if f[0] != "organ-cases-exceed-victims"]
    assert got == [
        ("unknown-country", "error", "organ_removal_cases.csv, line 9, column 17", "NPL;Atlantis"),
        ("invalid-date", "error", "organ_removal_cases.csv, line 2, column 20", "15/11/2022"),
        ("invalid-date", "error", "organ_removal_cases.csv, line 3, column 20", "2022-02-30"),
        ("invalid-date", "error", "organ_removal_cases.csv, line 4, column 20", "1985-01-10"),
        ("unknown-code", "error", "organ_removal_cases.csv, line 8, column 21", "guilty"),
        ("date-in-future", "error", "organ_removal_cases.csv, line 5, column 20", "2023-06-02"),
        ("decision-before-case-year", "warning", "organ_removal_cases.csv, line 6, column 20", "2021-12-31"),
    ]
    result = validate_submission(prepare_submission(folder), today=today)
    future = next(f for f in result.findings if f.rule == "date-in-future")
    assert render_message(future, marked=False) == "The date 2023-06-02 is after today (2023-06-01)."
    assert render_message(future, "ru", marked=False) == "Дата 2023-06-02 позже сегодняшнего дня (2023-06-01)."


def test_an_outcome_that_contradicts_the_stage_is_a_warning(tmp_path):
    folder = write_submission(tmp_path / "s", case_rows(
        with_case(case_reference="A", stage="conviction", outcome="acquittal"),
        with_case(case_reference="B", stage="conviction", outcome="dismissed"),
        with_case(case_reference="C", stage="acquittal", outcome="Conviction"),
        with_case(case_reference="D", stage="prosecution", outcome="conviction"),  # decided later
        with_case(case_reference="E", stage="acquittal", outcome="acquittal"),
    ), NPL_2022)
    result = validate_submission(prepare_submission(folder))
    contradictions = [f for f in result.findings if f.rule == "outcome-contradicts-stage"]
    assert [(f.severity, f.location.line, f.value) for f in contradictions] == [
        ("warning", 2, "acquittal"), ("warning", 3, "dismissed"), ("warning", 4, "conviction")]
    assert render_message(contradictions[0], marked=False) == (
        "The outcome “Acquittal” contradicts “Stage of the case”, “Conviction”.")
    assert render_message(contradictions[0], "es", marked=False) == (
        "El resultado «Absolución» contradice el campo «Etapa del caso», «Condena».")


def test_an_excel_date_cell_is_read_as_the_date(tmp_path):
    rows = case_rows(with_case(decision_date=dt.datetime(2022, 11, 15)))
    path = write_submission(tmp_path / "NPL_2022.xlsx", rows, NPL_2022)
    result = validate_submission(prepare_submission(path), today=dt.date(2023, 1, 1))
    assert not [f for f in result.findings if f.severity == "error"], result.findings
    assert list(result.tables["organ_removal_cases"]["decision_date"]) == ["2022-11-15"]


def test_personal_data_in_the_court_is_rejected_like_any_free_text(tmp_path):
    folder = write_submission(tmp_path / "s", case_rows(
        with_case(court="Judge's office, call +977 1 4412345")), NPL_2022)
    assert [f for f in findings(folder) if f[0] == "personal-data"] == [
        ("personal-data", "error", "organ_removal_cases.csv, line 2, column 18", None)]


def test_the_analysts_docs_describe_every_record_field():
    text = (Path(__file__).resolve().parents[1] / "docs" / "analysts.md").read_text(encoding="utf-8")
    assert [key for key in FIELD_KEYS if f"`{key}`" not in text] == []


def test_a_warehouse_made_before_the_case_law_columns_gains_them(tmp_path):
    """A warehouse whose organ-removal table predates the columns (made here by dropping them)
    is brought up to date when it is opened: its old cases export with the new fields empty,
    and a new submission with them loads."""
    new_columns = ["offenders_total", "offenders_female", "offenders_male", "offenders_citizenship",
                   "court", "decision_date", "outcome"]
    db = tmp_path / "var" / "glotip.duckdb"
    old_header = HEADERS["organ_removal_cases"]
    entry = write_submission(tmp_path / "old" / "NPL_2022", {
        **VICTIMS, "organ_removal_cases": [old_header, FULL_CASE[:len(old_header)]]}, NPL_2022)
    with Warehouse(db) as warehouse:
        options = sequence.InboxOptions(str(entry.parent), str(tmp_path / "reports"),
                                        str(tmp_path / "archive"), settle_seconds=0)
        assert sequence.ingest_entry(entry, warehouse, options, run_id="old").status == "accepted"
        connection = warehouse.connection  # the old case stays; the table loses the columns
        connection.execute("DROP VIEW organ_removal_cases")
        for column in new_columns:
            connection.execute(f"ALTER TABLE fact_organ_removal_cases DROP COLUMN {column}")
        connection.execute("""CREATE VIEW organ_removal_cases AS
            SELECT c.country, f.* EXCLUDE (source_line) FROM fact_organ_removal_cases AS f
            JOIN current_country_years AS c ON c.submission_id = f.submission_id AND c.year = f.year""")
    with Warehouse(db) as warehouse:  # opened again: the DDL adds what is missing
        columns = [row[0] for row in warehouse.connection.execute(
            "SELECT column_name FROM duckdb_columns() WHERE table_name = 'organ_removal_cases'").fetchall()]
        assert set(new_columns) <= set(columns)
    analyst_snapshot.publish(Warehouse(db))
    result, json_path, _ = export(db, tmp_path / "before")
    assert result.exit_code == 0, result.output
    [old] = json.loads(json_path.read_text(encoding="utf-8"))["records"]
    assert (old["case_reference"], old["court"], old["outcome"], old["offenders_total"]) == (
        "OR-2022-01", None, None, None)
    assert ingest(tmp_path, case_rows(with_case(case_reference="OR-2022-03")), name="NPL_2022_v2") == db
    result, json_path, _ = export(db, tmp_path / "after")
    assert result.exit_code == 0, result.output
    records = json.loads(json_path.read_text(encoding="utf-8"))["records"]
    # the resubmission replaces the old one for NPL 2022: its case is the current one
    assert [(r["case_reference"], r["court"], r["outcome"]) for r in records] == [
        ("OR-2022-03", "District Court of Kathmandu", "conviction")]
