"""Write a sample submission filled in a translated template (`glotip template --lang`).

Reads an existing sample (e.g. sample_submissions/FRA_2021-2022.xlsx), and writes the same
figures into the template of another language, with every coded value as the label that
template's dropdowns offer (`Féminin`, `Exploitation sexuelle`, ...) and every country by its
name in that language (`مصر`, `Émirats arabes unis`). The pipeline must read
it back to exactly the same codes and figures.

    .venv/bin/python scripts/make_translated_sample.py sample_submissions/FRA_2021-2022.xlsx fr \
        sample_submissions/FRA_2021-2022_fr_template.xlsx
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from schemas import codelists as cl  # noqa: E402
from schemas import i18n  # noqa: E402
from schemas.countries import country_codes, country_name  # noqa: E402
from schemas.findings import LINE  # noqa: E402
from schemas.tables import TABLES  # noqa: E402
from schemas.validate import validate_submission  # noqa: E402
from transforms.prepare import prepare_submission  # noqa: E402
from transforms.template import write_template  # noqa: E402


def as_label(table: str, column: str, value, language: str):
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    meta = TABLES[table].column_meta(column)
    # countries as a focal point writes them in that language ("مصر", not "EGY")
    if (meta.get("country") or meta.get("list_of") == "country") and isinstance(value, str):
        special = cl.CITIZENSHIP_SPECIAL if meta.get("special") else None
        return ";".join(country_name(item, language) if item in country_codes() else
                        i18n.code_label(special.name, item, language)
                        if special and item in special.codes else item
                        for item in value.split(";") if item)
    codelist = cl.CODELISTS.get(meta.get("codelist") or "") or (
        cl.CITIZENSHIP_SPECIAL if meta.get("special") else None)
    if codelist and isinstance(value, str) and value in codelist.codes:
        return i18n.code_label(codelist.name, value, language)
    listed = cl.CODELISTS.get(meta.get("list_of") or "")
    if listed and isinstance(value, str):  # e.g. material_removed `kidney;liver`
        return ";".join(i18n.code_label(listed.name, code, language) for code in value.split(";") if code)
    if hasattr(value, "item"):  # numpy / pandas scalars
        return value.item()
    return value


def main(source: str, language: str, target: str) -> None:
    result = validate_submission(prepare_submission(source))
    if any(f.severity == "error" for f in result.findings):
        raise SystemExit(f"{source} has errors; translate a clean sample")
    path = write_template(target, language=language)
    workbook = load_workbook(path)
    for table, typed in result.tables.items():
        sheet = workbook[i18n.sheet_name(table, language)]
        columns = TABLES[table].columns
        for row_number, row in enumerate(typed.sort_values(LINE).to_dict("records"), start=2):
            for position, column in enumerate(columns, start=1):
                if table == "submission" and column in ("language", "template_version"):
                    continue  # the template filled them in
                sheet.cell(row=row_number, column=position, value=as_label(table, column, row.get(column), language))
    workbook.save(path)
    print(f"{target}: {sum(len(t) for t in result.tables.values())} rows in the {language} template")


if __name__ == "__main__":
    main(*sys.argv[1:4])
