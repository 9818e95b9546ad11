"""Small, real faulty submissions for the report tests, written the way a submitter would."""

from __future__ import annotations

import csv
from pathlib import Path

from openpyxl import load_workbook

from transforms.template import write_template

SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://example.invalid","click")'
VICTIMS = [  # rows 2..7 of the victims sheet
    (2021, "total", "total", "total", "total", 10),   # F2: parts-exceed-total (8 + 5 > 10)
    (2021, "female", "total", "total", "total", 8),
    (2021, "male", "total", "total", "total", 5),
    (2021, SCRIPT, "total", "total", "total", 1),     # B5: unknown-code, HTML in the value
    (2021, FORMULA, "total", "total", "total", 1),    # B6: unknown-code, a formula as text
    (2022, "total", "total", "total", "total", "<5"),  # F7: suppressed-value
]


def faulty_workbook(path: Path, language: str = "fr", contact: str = "focal.point@example.gouv.fr") -> Path:
    """The English template, filled in with six victims rows, four of them wrong."""
    write_template(path)
    workbook = load_workbook(path)
    submission = workbook["submission"]
    for column, value in enumerate(["FRA", 2021, 2022, "Ministère de l’Intérieur", contact, language], start=1):
        submission.cell(row=2, column=column, value=value)
    victims = workbook["victims"]
    for row, values in enumerate(VICTIMS, start=2):
        for column, value in enumerate(values, start=1):
            cell = victims.cell(row=row, column=column, value=value)
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # typed as text, as a submitter pasting it would get
    victims["H10"] = "a note of the submitter's, outside the table"
    workbook.save(path)
    return path


def csv_submission(folder: Path, victims_rows: list[str], country: str = "THA", years=(2021, 2022),
                   language: str = "en", extra: dict[str, list[str]] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "submission": ["country,year_from,year_to,institution,contact_email,language",
                       f"{country},{years[0]},{years[1]},Ministry,focal.point@example.go.th,{language}"],
        "victims": ["year,sex,age,form,citizenship,count", *victims_rows],
        **(extra or {}),
    }
    for name, lines in tables.items():
        with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(line.split(",") for line in lines)
    return folder
