"""Synthetic submissions that pass validation, of any size: for tests and the benchmark.

Counts are built so that every breakdown adds up: a row's count is the product of one weight
per dimension, and the weight of `total` is the sum of the other categories' weights. So the
parts of any dimension sum exactly to its `total` row, and a generated file is `accepted`.
"""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from pathlib import Path

from schemas import codelists as cl
from schemas.countries import country_codes

VICTIMS_HEADER = ["year", "sex", "age", "form", "citizenship", "count"]
SUBMISSION_HEADER = ["country", "year_from", "year_to", "institution", "contact_email",
                     "language", "template_version"]


def _weights(codes: list[str]) -> dict[str, int]:
    weights = {code: 1 + index % 3 for index, code in enumerate(codes) if code != cl.TOTAL}
    return {cl.TOTAL: sum(weights.values()), **weights}


def victims_rows(rows: int, first_year: int = 2000, citizenships: int = 20):
    """Up to `rows` consistent victims rows: (year, sex, age, form, citizenship, count)."""
    sex, age, form = (_weights(c.codes) for c in (cl.SEX, cl.AGE, cl.FORM))
    countries = [cl.TOTAL] + sorted(country_codes())[:citizenships] + [cl.UNKNOWN]
    citizenship = {code: 1 + index % 2 for index, code in enumerate(countries) if code != cl.TOTAL}
    citizenship[cl.TOTAL] = sum(citizenship.values())
    produced = 0
    for year in itertools.count(first_year):
        for s, a, f, c in itertools.product(sex, age, form, countries):
            if produced == rows:
                return
            yield (year, s, a, f, c, sex[s] * age[a] * form[f] * citizenship[c])
            produced += 1


def years_of(rows: int, citizenships: int = 20) -> int:
    per_year = len(cl.SEX.codes) * len(cl.AGE.codes) * len(cl.FORM.codes) * (citizenships + 2)
    return max(1, -(-rows // per_year))


def submission_row(country: str, year_from: int, year_to: int) -> list:
    return [country, year_from, year_to, "National Referral Mechanism",
            "focal.point@ministry.gov", "en", "1"]


def _csv_text(header: list[str], rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def write_csv_folder(folder: Path, country: str = "NGA", rows: int = 50, first_year: int = 2000,
                     citizenships: int = 20) -> Path:
    """A folder submission: submission.csv and victims.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    last_year = first_year + years_of(rows, citizenships) - 1
    (folder / "submission.csv").write_text(
        _csv_text(SUBMISSION_HEADER, [submission_row(country, first_year, last_year)]), encoding="utf-8")
    with (folder / "victims.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(VICTIMS_HEADER)
        writer.writerows(victims_rows(rows, first_year, citizenships))
    return folder


def write_csv_zip(path: Path, country: str = "NGA", rows: int = 50, first_year: int = 2000,
                  victims_text: str | None = None) -> Path:
    """A .zip submission; `victims_text` replaces the generated victims.csv when given."""
    last_year = first_year + years_of(rows) - 1
    victims = victims_text if victims_text is not None else _csv_text(
        VICTIMS_HEADER, victims_rows(rows, first_year))
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("submission.csv", _csv_text(SUBMISSION_HEADER,
                                                     [submission_row(country, first_year, last_year)]))
        archive.writestr("victims.csv", victims)
    return path


def write_workbook(path: Path, country: str = "NGA", rows: int = 50, first_year: int = 2000,
                   victims_rows_override: list[list] | None = None) -> Path:
    """An .xlsx submission with `submission` and `victims` sheets (openpyxl, write-only)."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    last_year = first_year + years_of(rows) - 1
    sheet = workbook.create_sheet("submission")
    sheet.append(SUBMISSION_HEADER)
    sheet.append(submission_row(country, first_year, last_year))
    sheet = workbook.create_sheet("victims")
    sheet.append(VICTIMS_HEADER)
    for row in (victims_rows_override if victims_rows_override is not None
                else victims_rows(rows, first_year)):
        sheet.append(list(row))
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path
