"""One test per validation rule, on small real CSV submissions written to a temp folder.

Each test asserts the compact list of (rule, location) the submitter would see, in the
frictionless style: exactly these findings, no cascade.
"""

from __future__ import annotations

from schemas.messages import render_location, render_message

from pathlib import Path

import pytest

from schemas.validate import validate_submission
from transforms.prepare import prepare_submission

from tests.builders import VICTIMS_HEADER, victims, write_submission


def findings_of(folder: Path) -> list[tuple[str, str]]:
    result = validate_submission(prepare_submission(folder))
    return sorted((f.rule, render_location(f.location)) for f in result.findings)


def test_clean_submission_has_no_findings_and_accepts_labels_in_any_case(tmp_path):
    folder = write_submission(tmp_path / "ok", victims(
        "2021,total,total,total,total,10",
        "2021, Female ,total,total,total,6",
        "2021,MALE,total,total,total,4",
        "2021,total,0 to 17 years,Sexual exploitation,Myanmar,3",
        "2021,total,child,total,total,3",
    ))
    result = validate_submission(prepare_submission(folder))
    assert result.findings == []
    table = result.tables["victims"]
    assert list(table["sex"]) == ["total", "female", "male", "total", "total"]
    assert list(table["age"])[3] == "child" and list(table["form"])[3] == "sexual_exploitation"
    assert list(table["citizenship"])[3] == "MMR"
    assert list(table["_line"]) == [2, 3, 4, 5, 6]


@pytest.mark.parametrize(
    ("count", "rule"),
    [("<5", "suppressed-value"), ("12.5", "not-an-integer"), ("ten", "not-an-integer"),
     ("-3", "negative-count"), ("", "missing-value")],
)
def test_bad_count_gives_one_finding_on_its_cell(tmp_path, count, rule):
    folder = write_submission(tmp_path / "s", victims("2021,total,total,total,total," + count))
    assert findings_of(folder) == [(rule, "victims.csv, line 2, column 6")]


def test_thousands_separator_and_integral_decimal_are_accepted(tmp_path):
    folder = write_submission(tmp_path / "s", {"victims": [VICTIMS_HEADER,
        ["2021", "total", "total", "total", "total", "1,757"],
        ["2021", "female", "total", "total", "total", "1000.0"]]})
    result = validate_submission(prepare_submission(folder))
    assert result.findings == []
    assert list(result.tables["victims"]["count"]) == [1757, 1000]


def test_unknown_code_and_unknown_country(tmp_path):
    folder = write_submission(tmp_path / "s", victims(
        "2021,femal,total,total,total,3", "2021,total,total,total,Narnia,3"))
    assert findings_of(folder) == [
        ("unknown-code", "victims.csv, line 2, column 2"),
        ("unknown-country", "victims.csv, line 3, column 5"),
    ]


def test_duplicate_row_is_one_finding_on_the_later_copy(tmp_path):
    folder = write_submission(tmp_path / "s", victims(
        "2021,total,total,total,total,3", "2021,total,total,total,total,3"))
    result = validate_submission(prepare_submission(folder))
    assert [(f.rule, f.line, render_message(f)) for f in result.findings] == [
        ("duplicate-key", 3, "This row repeats the breakdown of line 2.")]


def test_parts_exceeding_total_is_an_error_on_the_total(tmp_path):
    folder = write_submission(tmp_path / "s", victims(
        "2021,total,total,total,total,10", "2021,female,total,total,total,8",
        "2021,male,total,total,total,5"))
    result = validate_submission(prepare_submission(folder))
    assert [(f.rule, render_location(f.location)) for f in result.findings] == [
        ("parts-exceed-total", "victims.csv, line 2, column 6")]
    assert "add up to 13, more than the total of 10" in render_message(result.findings[0])


def test_complete_parts_not_adding_up_is_a_warning(tmp_path):
    folder = write_submission(tmp_path / "s", victims(
        "2021,total,total,total,total,10", "2021,female,total,total,total,5",
        "2021,male,total,total,total,2", "2021,other,total,total,total,0",
        "2021,unknown,total,total,total,1"))
    result = validate_submission(prepare_submission(folder))
    assert [(f.rule, f.severity) for f in result.findings] == [("parts-differ-from-total", "warning")]


def test_year_outside_period_and_out_of_range(tmp_path):
    folder = write_submission(tmp_path / "s", victims(
        "2019,total,total,total,total,3", "1850,female,total,total,total,1"))
    assert findings_of(folder) == [
        ("year-out-of-range", "victims.csv, line 3, column 1"),
        ("year-outside-period", "victims.csv, line 2, column 1"),
    ]


def test_submission_sheet_rules(tmp_path):
    folder = write_submission(tmp_path / "s", victims("2021,total,total,total,total,3"),
                              submission={"contact_email": "not an address", "year_from": "2023"})
    assert findings_of(folder) == [
        ("invalid-email", "submission.csv, line 2, column 5"),
        ("invalid-period", "submission.csv, line 2, column 2"),
    ]


def test_missing_required_table_and_columns_exact(tmp_path):
    folder = write_submission(tmp_path / "s", {"offenders": [["year", "stage", "count"], ["2021", "convicted", "2"]]})
    result = validate_submission(prepare_submission(folder))
    assert sorted((f.rule, f.table, f.column) for f in result.findings) == [
        ("missing-column", "offenders", "age"),
        ("missing-column", "offenders", "citizenship"),
        ("missing-column", "offenders", "form"),
        ("missing-column", "offenders", "sex"),
        ("missing-table", "victims", None),
    ]


def test_totals_row_typed_under_the_data_is_one_finding(tmp_path):
    folder = write_submission(tmp_path / "s", victims(
        "2021,total,total,total,total,3", "Total,,,,,3"))
    assert findings_of(folder) == [("totals-row", "victims.csv, line 3, column 1")]


def test_personal_data_in_case_summary_is_rejected_and_not_echoed(tmp_path):
    header = ["case_reference", "year", "stage", "victims_total", "material_removed",
              "medical_professionals_involved", "summary"]
    folder = write_submission(tmp_path / "s", {
        **victims("2021,total,total,removal_of_organs,total,2"),
        "organ_removal_cases": [header,
            ["C1", "2021", "prosecution", "1", "kidney", "yes", "Call the witness on +66 2 123 4567"],
            ["C2", "2021", "conviction", "1", "Kidney; liver", "unknown", "Kidney sold to a clinic abroad."]],
    })
    result = validate_submission(prepare_submission(folder))
    assert [(f.rule, render_location(f.location), f.value) for f in result.findings] == [
        ("personal-data", "organ_removal_cases.csv, line 2, column 7", None)]
    assert list(result.tables["organ_removal_cases"]["material_removed"]) == ["kidney", "kidney;liver"]


def test_organ_cases_exceeding_victims_is_a_warning(tmp_path):
    header = ["case_reference", "year", "stage", "victims_total", "material_removed",
              "medical_professionals_involved"]
    folder = write_submission(tmp_path / "s", {
        **victims("2021,total,total,removal_of_organs,total,1"),
        "organ_removal_cases": [header, ["C1", "2021", "prosecution", "3", "kidney", "yes"]],
    })
    result = validate_submission(prepare_submission(folder))
    assert [(f.rule, f.severity, render_location(f.location)) for f in result.findings] == [
        ("organ-cases-exceed-victims", "warning", "organ_removal_cases.csv, line 2, column 4")]


def test_unreadable_file_is_a_finding_not_an_exception(tmp_path):
    junk = tmp_path / "submission.xlsx"
    junk.write_bytes(b"\x00\x01 this is not a workbook" * 50)
    result = validate_submission(prepare_submission(junk))
    assert [f.rule for f in result.findings] == ["unreadable-file"]
    assert "not an Excel workbook" in render_message(result.findings[0])
