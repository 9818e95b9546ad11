"""Rules against history and the changes of a resubmission: the warehouse's held figures
(a real DuckDB file, loaded by the real loader) against new submissions."""

from __future__ import annotations

import pandas as pd

from pipeline import submission as sequence
from schemas.history import check_against_history
from schemas.messages import render_location, render_message
from warehouse.history import held_figures
from warehouse.session import Warehouse
from tests.builders import csv_submission

FIRST = ["2020,total,total,total,total,40", "2021,total,total,total,total,50",
         "2021,female,total,total,total,30", "2021,male,total,total,total,20"]


def load(db, folder):
    with Warehouse(db) as warehouse:
        return sequence.process(sequence.assess_file(folder), warehouse,
                                reports_dir=db.parent / "reports")


def compare(db, folder):
    assessment = sequence.assess_file(folder)
    with Warehouse(db, read_only=True) as warehouse:
        return assessment.result, sequence.compare_with_history(assessment, warehouse)


def test_held_figures_are_the_current_cells_of_the_country(tmp_path):
    db = tmp_path / "w.duckdb"
    first = load(db, csv_submission(tmp_path / "first", FIRST, years=(2020, 2021)))
    load(db, csv_submission(tmp_path / "other", ["2021,total,total,total,total,7"], country="LAO", years=(2021, 2021)))
    with Warehouse(db, read_only=True) as warehouse:
        held = held_figures(warehouse.connection, "THA")
    assert len(held) == 4 and set(held["table"]) == {"victims"}
    assert set(held["submission_id"]) == {first.submission_id}
    assert sequence.compare_with_history(sequence.assess_file(
        csv_submission(tmp_path / "again", FIRST, years=(2020, 2021))), None).findings == []


def test_far_figure_and_jump_are_warnings_showing_both_numbers_and_changes_are_listed(tmp_path):
    db = tmp_path / "w.duckdb"
    first = load(db, csv_submission(tmp_path / "first", FIRST, years=(2020, 2021)))
    second = csv_submission(tmp_path / "second", [
        "2021,total,total,total,total,150",   # line 2: far from the 50 held -> differs-from-history
        "2021,female,total,total,total,31",   # line 3: changed, but close -> no warning
        "2021,child,total,total,total,9",     # not valid (child is an age): an error, no history rule
        "2022,total,total,total,total,900",   # line 5: 6x the 150 of 2021 -> jump-in-series
        "2022,female,total,total,total,400", "2022,male,total,total,total,500",
    ], years=(2021, 2022))
    result, check = compare(db, second)
    found = sorted((f.rule, render_location(f.location), f.severity) for f in check.findings)
    assert found == [("differs-from-history", "victims.csv, line 2, column 6", "warning"),
                     ("jump-in-series", "victims.csv, line 5, column 6", "warning")]
    by_rule = {f.rule: f for f in check.findings}
    assert render_message(by_rule["differs-from-history"]) == (
        f"150 differs from the 50 already held for this breakdown in 2021 (submission {first.submission_id}).")
    assert render_message(by_rule["jump-in-series"]).startswith("900 in 2022 against 150 in 2021 (+500%)")
    kinds = sorted((c.kind, c.year, c.breakdown["sex"], c.old, c.new) for c in check.changes)
    assert kinds == [("added", 2022, "female", None, 400), ("added", 2022, "male", None, 500),
                     ("added", 2022, "total", None, 900), ("changed", 2021, "female", 30, 31),
                     ("changed", 2021, "total", 50, 150), ("removed", 2021, "male", 20, None)]
    assert check.compared_with == [first.submission_id]  # the 2020 figures are not in the period


def test_jump_against_the_held_previous_year(tmp_path):
    db = tmp_path / "w.duckdb"
    load(db, csv_submission(tmp_path / "first", FIRST, years=(2020, 2021)))
    _, check = compare(db, csv_submission(tmp_path / "next", ["2022,total,total,total,total,5"], years=(2022, 2022)))
    assert [(f.rule, f.params["previous"], f.params["previous_year"]) for f in check.findings] == [
        ("jump-in-series", 50, 2021)]
    assert [c.kind for c in check.changes] == ["added"]


def test_no_history_no_findings():
    assert check_against_history({}, {}, pd.DataFrame(), []).findings == []


def test_a_table_left_out_of_the_resubmission_is_listed_as_removed(tmp_path):
    db = tmp_path / "w.duckdb"
    offenders = ["year,stage,sex,age,citizenship,form,count", "2021,convicted,total,total,total,total,7"]
    load(db, csv_submission(tmp_path / "first", FIRST, years=(2020, 2021), extra={"offenders": offenders}))
    _, check = compare(db, csv_submission(tmp_path / "again", FIRST[1:], years=(2021, 2021)))
    assert [(c.table, c.kind, c.old) for c in check.changes] == [("offenders", "removed", 7)]


def test_a_held_published_value_below_five_is_listed_never_compared(tmp_path):
    """The published data hold `<5` (count NULL, suppressed): shown as the old value, no warning."""
    folder = csv_submission(tmp_path / "s", ["2021,total,total,total,total,400",
                                             "2021,female,total,total,total,300"], years=(2021, 2021))
    result = sequence.assess_file(folder).result
    history = pd.DataFrame({
        "table": ["victims", "victims"], "year": [2021, 2021], "sex": ["total", "female"],
        "age": ["total", "total"], "form": ["total", "total"], "citizenship": ["total", "total"],
        "stage": [None, None], "country_of_detection": [None, None], "count": [None, 2.0],
        "suppressed": [True, False], "submission_id": ["PUB-THA-2025", "PUB-THA-2025"]})
    check = check_against_history(result.tables, result.frames, history, result.findings, 2021, 2021)
    assert [(f.rule, f.params["previous"]) for f in check.findings] == [("differs-from-history", 2)]
    assert sorted((c.breakdown["sex"], c.old, c.new) for c in check.changes) == [
        ("female", 2, 300), ("total", "<5", 400)]
    assert check.compared_with == ["PUB-THA-2025"]
