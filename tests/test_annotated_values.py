"""The annotated workbook and findings.csv keep the submitter's values as they were typed: a
number stays a number (`-5`, not the text `'-5`), text that only reads as a number is left
as it is, and only what a spreadsheet would run as a formula is made inert. The copy opens on
its findings sheet."""

from __future__ import annotations

import csv

import pytest
from openpyxl import load_workbook

from pipeline import submission as sequence
from reporting.safe import neutralise_formula
from schemas import i18n
from tests.builders import VICTIMS_HEADER, write_submission

ROWS = [
    (2021, "total", "total", "total", "total", 10),
    (2021, "female", "total", "total", "total", 4),
    (2021, "male", "total", "total", "total", -5),       # F4: a negative number, typed as a number
    (2021, "total", "adult", "total", "total", "-7"),    # F5: typed as text
    (2021, "=1+1", "total", "total", "total", 1),         # B6: a formula typed as text
]


@pytest.mark.parametrize(("value", "inert"), [
    (-5, -5), (-5.5, -5.5), (0, 0), ("-5", "-5"), ("+3.25", "+3.25"), ("12", "12"),
    ("-5+1", "'-5+1"), ("-A1", "'-A1"), ("=1+1", "'=1+1"), ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
    ("@SUM(A1)", "'@SUM(A1)"), ("\t-5", "'\t-5"), ("-5\n", "'-5\n"), ("-١٢٠", "'-١٢٠"), ("- 5", "'- 5"),
    (None, None), ("text", "text"),
])
def test_only_what_would_run_is_neutralised_and_numbers_keep_their_type(value, inert):
    result = neutralise_formula(value)
    assert result == inert and type(result) is type(inert)


def test_annotated_copy_keeps_numbers_and_opens_on_its_findings(tmp_path):
    def typed_as_a_submitter_would(workbook) -> None:
        sheet = workbook["victims"]
        sheet["F5"].data_type = "s"  # the text "-7", not a number
        sheet["B6"].data_type = "s"  # the text "=1+1", not a formula
        workbook.active = 1  # left open on another sheet, as a submitter does
        sheet.sheet_view.tabSelected = True

    path = write_submission(tmp_path / "THA.xlsx", {"victims": [VICTIMS_HEADER, *ROWS]}, {"language": "fr"},
                            form="xlsx", template=True, edit=typed_as_a_submitter_would)
    outcome = sequence.process(sequence.assess_file(path), None, reports_dir=tmp_path / "reports", load=False)
    annotated = load_workbook(f"{outcome.report}/annotated.xlsx")
    findings_sheet = i18n.ui("findings_sheet", "fr")
    assert annotated.active.title == findings_sheet
    assert [sheet.title for sheet in annotated.worksheets if sheet.sheet_view.tabSelected] == [findings_sheet]
    victims = annotated["victims"]
    assert (victims["F4"].value, victims["F4"].data_type) == (-5, "n")  # the submitter's cells unchanged
    assert (victims["F5"].value, victims["F5"].data_type) == ("-7", "s")
    assert (victims["B6"].value, victims["B6"].data_type) == ("=1+1", "s")
    listed = {row[0].value: row[3] for row in annotated[findings_sheet].iter_rows(min_row=2)}
    assert {"victims!F4", "victims!F5", "victims!B6"} <= set(listed)
    assert (listed["victims!F4"].value, listed["victims!F4"].data_type) == (-5, "n")  # still a number
    assert (listed["victims!F5"].value, listed["victims!F5"].data_type) == ("-7", "s")  # still text
    assert (listed["victims!B6"].value, listed["victims!B6"].data_type) == ("'=1+1", "s")  # inert
    assert not [c.coordinate for row in annotated[findings_sheet].iter_rows() for c in row if c.data_type == "f"]
    with open(f"{outcome.report}/findings.csv", encoding="utf-8-sig", newline="") as handle:
        values = {record["location"]: record["value"] for record in csv.DictReader(handle)}
    assert values["victims!F4"] == "-5" and values["victims!F5"] == "-7" and values["victims!B6"] == "'=1+1"
