"""The one builder of test submissions: tables -> a CSV folder, a .zip of CSVs or a workbook.

A submission is a dict of tables (name -> rows, the header row first; or the raw text of a CSV
file) and the submission row (column -> value, over the defaults of `SUBMISSION`), written as
a Member State may send it: `write_submission`. Everything else here is built on it: the small
ad-hoc CSV submissions (`victims`, `csv_submission`), the faulty workbook of the report tests
(`faulty_workbook`, the English template filled in) and consistent synthetic submissions of
any size for the tests and the benchmark (`write_csv_folder`, `write_csv_zip`, `write_workbook`).
"""

from __future__ import annotations

import csv
import io
import itertools
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from schemas import codelists as cl
from schemas.countries import country_codes

Rows = Iterable[Sequence]  # the header row first
Table = Rows | str  # rows, or the raw text of a CSV file (written as is)

SUBMISSION = {
    "country": "THA", "year_from": "2021", "year_to": "2022", "institution": "Ministry",
    "contact_email": "focal.point@example.go.th", "language": "en",
}
HEADERS = {
    "victims": ["year", "sex", "age", "form", "citizenship", "count"],
    "offenders": ["year", "stage", "sex", "age", "citizenship", "form", "count"],
    "repatriated": ["year", "country_of_detection", "sex", "age", "count"],
    "organ_removal_cases": ["case_reference", "year", "stage", "victims_total", "victims_female",
                            "victims_male", "victims_children", "victims_citizenship",
                            "material_removed", "recruitment_countries", "removal_countries",
                            "recipient_countries", "medical_professionals_involved"],
}
VICTIMS_HEADER = HEADERS["victims"]
FORMS = {".zip": "zip", ".xlsx": "xlsx"}


# -- the builder ---------------------------------------------------------------------------------

def write_submission(target: Path, tables: Mapping[str, Table], submission: Mapping | None = None, *,
                     form: str | None = None, lineterminator: str = "\r\n", encoding: str = "utf-8",
                     delimiter: str = ",", template: bool = False,
                     edit: Callable | None = None) -> Path:
    """Write `tables` and the submission row (`submission` over `SUBMISSION`) to `target`.

    `form` is "folder" (one CSV file per table), "zip" (the same files in a .zip) or "xlsx" (one
    sheet per table); by default it follows `target`'s suffix. A workbook is written with
    openpyxl in write-only mode, or with `template`, as the English template filled in (values
    go under the template's header, by column name); `edit(workbook)` runs before it is saved.
    """
    row = {**SUBMISSION, **(submission or {})}
    tables = {"submission": [list(row), list(row.values())], **tables}
    form = form or FORMS.get(target.suffix, "folder")
    if form == "xlsx":
        return _write_workbook(target, tables, template, edit)
    if form == "zip":
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, table in tables.items():
                text = table if isinstance(table, str) else _csv_text(table, lineterminator, delimiter)
                archive.writestr(f"{name}.csv", text.encode(encoding))
        return target
    target.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        if isinstance(table, str):
            (target / f"{name}.csv").write_bytes(table.encode(encoding))
            continue
        with (target / f"{name}.csv").open("w", newline="", encoding=encoding) as handle:
            csv.writer(handle, delimiter=delimiter, lineterminator=lineterminator).writerows(table)
    return target


def _csv_text(rows: Rows, lineterminator: str = "\r\n", delimiter: str = ",") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator=lineterminator).writerows(rows)
    return buffer.getvalue()


def _write_workbook(path: Path, tables: Mapping[str, Rows], template: bool, edit: Callable | None) -> Path:
    from openpyxl import Workbook, load_workbook

    path.parent.mkdir(parents=True, exist_ok=True)
    if template:
        from transforms.template import write_template

        write_template(path)
        workbook = load_workbook(path)
        for name, rows in tables.items():
            sheet = workbook[name]
            columns = {cell.value: cell.column for cell in sheet[1]}
            rows = iter(rows)
            header = next(rows)
            for number, values in enumerate(rows, start=2):
                for column, value in zip(header, values):
                    sheet.cell(row=number, column=columns[column], value=value)
    else:
        workbook = Workbook(write_only=True)
        for name, rows in tables.items():
            sheet = workbook.create_sheet(name)
            for values in rows:
                sheet.append(list(values))
    if edit:
        edit(workbook)
    workbook.save(path)
    return path


# -- small ad-hoc CSV submissions ------------------------------------------------------------------

def victims(*rows: str) -> dict[str, list[list[str]]]:
    """A victims table from comma-separated lines: `victims("2021,total,total,total,total,10")`."""
    return {"victims": [VICTIMS_HEADER] + [row.split(",") for row in rows]}


def csv_submission(folder: Path, victims_rows: list[str], country: str = "THA", years=(2021, 2022),
                   language: str = "en", extra: dict[str, list[str]] | None = None) -> Path:
    """A CSV folder: victims lines, and `extra` tables as comma-separated lines (header first)."""
    tables = {**victims(*victims_rows),
              **{name: [line.split(",") for line in lines] for name, lines in (extra or {}).items()}}
    return write_submission(folder, tables, {"country": country, "year_from": years[0],
                                             "year_to": years[1], "language": language})


# -- the faulty workbook of the report tests -------------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("http://example.invalid","click")'
FAULTY_VICTIMS = [  # rows 2..7 of the victims sheet
    (2021, "total", "total", "total", "total", 10),   # F2: parts-exceed-total (8 + 5 > 10)
    (2021, "female", "total", "total", "total", 8),
    (2021, "male", "total", "total", "total", 5),
    (2021, SCRIPT, "total", "total", "total", 1),     # B5: unknown-code, HTML in the value
    (2021, FORMULA, "total", "total", "total", 1),    # B6: unknown-code, a formula as text
    (2022, "total", "total", "total", "total", "<5"),  # F7: suppressed-value
]


def faulty_workbook(path: Path, language: str = "fr", contact: str = "focal.point@example.gouv.fr") -> Path:
    """The English template, filled in with six victims rows, four of them wrong."""

    def as_a_submitter_would(workbook) -> None:
        for row in workbook["victims"].iter_rows(min_row=2, max_row=len(FAULTY_VICTIMS) + 1):
            for cell in row:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # typed as text, as a submitter pasting it would get
        workbook["victims"]["H10"] = "a note of the submitter's, outside the table"

    submission = {"country": "FRA", "year_from": 2021, "year_to": 2022,
                  "institution": "Ministère de l’Intérieur", "contact_email": contact, "language": language}
    return write_submission(path, {"victims": [VICTIMS_HEADER, *FAULTY_VICTIMS]}, submission,
                            form="xlsx", template=True, edit=as_a_submitter_would)


# -- consistent synthetic submissions of any size --------------------------------------------------
# Counts are built so that every breakdown adds up: a row's count is the product of one weight
# per dimension, and the weight of `total` is the sum of the other categories' weights. So the
# parts of any dimension sum exactly to its `total` row, and a generated file is `accepted`.

def _weights(codes: list[str]) -> dict[str, int]:
    weights = {code: 1 + index % 3 for index, code in enumerate(codes) if code != cl.TOTAL}
    return {cl.TOTAL: sum(weights.values()), **weights}


def consistent_victims(rows: int, first_year: int = 2000, citizenships: int = 20):
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


def synthetic_submission(country: str, year_from: int, year_to: int) -> dict:
    """The submission row of a synthetic submission."""
    return {"country": country, "year_from": year_from, "year_to": year_to,
            "institution": "National Referral Mechanism", "contact_email": "focal.point@ministry.gov",
            "language": "en", "template_version": "1"}


SUBMISSION_HEADER = list(synthetic_submission("", 0, 0))


def submission_row(country: str, year_from: int, year_to: int) -> list:
    return list(synthetic_submission(country, year_from, year_to).values())


def _synthetic(target: Path, form: str, country: str, rows: int, first_year: int, citizenships: int,
               victims_table: Table | None = None) -> Path:
    last_year = first_year + years_of(rows, citizenships) - 1
    table = victims_table if victims_table is not None else itertools.chain(
        [VICTIMS_HEADER], consistent_victims(rows, first_year, citizenships))
    return write_submission(target, {"victims": table}, synthetic_submission(country, first_year, last_year),
                            form=form, lineterminator="\n")


def write_csv_folder(folder: Path, country: str = "NGA", rows: int = 50, first_year: int = 2000,
                     citizenships: int = 20) -> Path:
    """A folder submission: submission.csv and victims.csv."""
    return _synthetic(folder, "folder", country, rows, first_year, citizenships)


def write_csv_zip(path: Path, country: str = "NGA", rows: int = 50, first_year: int = 2000,
                  victims_text: str | None = None) -> Path:
    """A .zip submission; `victims_text` replaces the generated victims.csv when given."""
    return _synthetic(path, "zip", country, rows, first_year, 20, victims_text)


def write_workbook(path: Path, country: str = "NGA", rows: int = 50, first_year: int = 2000,
                   victims_rows_override: list[list] | None = None) -> Path:
    """An .xlsx submission with `submission` and `victims` sheets (openpyxl, write-only)."""
    override = None if victims_rows_override is None else [VICTIMS_HEADER, *victims_rows_override]
    return _synthetic(path, "xlsx", country, rows, first_year, 20, override)


def sex_age_release_table(countries: int, regions: int, seed: int, values: Sequence[int]):
    """A synthetic release table for disclosure control: victims by sex x age (with totals)
    for `countries` countries in `regions` regions and the world, counts drawn from `values`;
    the additive and area relations between them (reporting/disclosure.py)."""
    import numpy as np
    import pandas as pd

    from reporting import disclosure as sdc

    rng = np.random.default_rng(seed)
    region_of = {f"C{c:03d}": f"R{c % regions}" for c in range(countries)}
    rows = []
    for country in region_of:
        cells = {(s, a): int(rng.choice(values)) for s in ("female", "male") for a in ("child", "adult")}
        for s in ("female", "male"):
            cells[(s, "total")] = cells[(s, "child")] + cells[(s, "adult")]
        for a in ("child", "adult", "total"):
            cells[("total", a)] = cells[("female", a)] + cells[("male", a)]
        rows += [(country, s, a, v) for (s, a), v in cells.items()]
    frame = pd.DataFrame(rows, columns=["area", "sex", "age", "count"])
    regional = frame.assign(area=frame["area"].map(region_of)).groupby(["area", "sex", "age"], as_index=False)["count"].sum()
    world = regional.groupby(["sex", "age"], as_index=False)["count"].sum().assign(area="World")
    frame = pd.concat([frame, regional, world], ignore_index=True)
    frame["key"] = [sdc.cell_key("victims", area=a, sex=None if s == "total" else s, age=None if g == "total" else g)
                    for a, s, g in zip(frame["area"], frame["sex"], frame["age"])]
    parent_of = region_of | {r: "World" for r in set(region_of.values())}
    relations = (sdc.additive_relations(frame, "sex", "total", ["area", "age"])
                 + sdc.additive_relations(frame, "age", "total", ["area", "sex"])
                 + sdc.hierarchy_relations(frame, "area", parent_of, ["sex", "age"]))
    return sdc.TableCells("sex_age", frame, relations)
