"""The Excel template is generated from the schemas, and a filled-in copy reads back exactly."""

from __future__ import annotations

from schemas.messages import render_location

from openpyxl import load_workbook

from schemas import codelists as cl
from schemas.tables import TABLES
from schemas.validate import validate_submission
from transforms.prepare import prepare_submission
from transforms.template import write_template


def test_template_has_a_sheet_per_table_headers_dropdowns_and_instructions(tmp_path):
    workbook = load_workbook(write_template(tmp_path / "template.xlsx"))
    assert workbook.sheetnames == ["instructions", "lists", *TABLES]
    assert workbook["lists"].sheet_state == "hidden"
    for name, spec in TABLES.items():
        sheet = workbook[name]
        assert [c.value for c in sheet[1]] == spec.columns
        assert all(c.comment is not None for c in sheet[1])
        coded = {column for column in spec.columns  # coded columns and single-country columns
                 if spec.column_meta(column).get("codelist") or spec.column_meta(column).get("country")}
        validated = {str(v.sqref).split(":")[0].rstrip("0123456789") for v in sheet.data_validations.dataValidation}
        letters = {sheet.cell(row=1, column=spec.columns.index(c) + 1).column_letter for c in coded}
        assert validated == letters
    instructions = " ".join(str(c.value) for row in workbook["instructions"].iter_rows() for c in row if c.value)
    for codelist in cl.CODELISTS.values():
        for code, label in codelist.items:
            assert f"{code} = {label}" in instructions


def test_filled_template_is_accepted_and_findings_point_to_excel_cells(tmp_path):
    path = write_template(tmp_path / "filled.xlsx")
    workbook = load_workbook(path)
    workbook["submission"].append([])  # row 2 already holds the template version
    submission = workbook["submission"]
    for column, value in zip(TABLES["submission"].columns,
                             ["Nigeria", 2022, 2022, "NAPTIP", "focal.point@naptip.gov.ng", "English"]):
        submission.cell(row=2, column=TABLES["submission"].columns.index(column) + 1, value=value)
    sheet = workbook["victims"]
    sheet.append([2022, "Total", "Total", "Total", "Total", 1200])
    sheet.append([2022, "Female", "Total", "Total", "Total", 900])
    sheet.append([2022, "Male", "Total", "Total", "Total", 300])
    workbook.save(path)

    result = validate_submission(prepare_submission(path))
    assert result.findings == []
    assert result.details.country == "NGA" and result.details.language == "en"
    assert list(result.tables["victims"]["count"]) == [1200, 900, 300]

    sheet.append([2022, "Total", "Total", "Forced labour", "Total", "<5"])
    workbook.save(path)
    result = validate_submission(prepare_submission(path))
    assert [(f.rule, render_location(f.location)) for f in result.findings] == [("suppressed-value", "victims!F5")]
