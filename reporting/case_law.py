"""Organ-removal cases as records for UNODC's human trafficking case-law database (SHERLOC).

ECOSOC resolution 2013/41 asks that cases of trafficking for the removal of organs go into
UNODC's case-law database. A record there holds the country, the court, the decision's
reference and date, the stage and outcome, the purpose of exploitation (removal of organs,
tissues or cells), the victims' and offenders' nationalities and counts by sex, whether medical
professionals took part, and a summary. `FIELDS` maps our columns (`organ_removal_cases`,
schemas/tables.py) onto such a record, once: the JSON, the spreadsheet and docs/analysts.md
follow it.

Every free text of a case (the submitter's reference, the court, the decision reference, the
summary) passes the personal-data screen again here: a text that fails it is withheld (None in
the record, the kind of personal data it seems to hold named in `withheld`), never written.
Validation rejects such texts at ingestion; the screen here covers cases loaded before the
screen learnt a pattern, and any path into the warehouse that bypassed it.

The records are case briefs, not statistics: per-case counts are exact, as court decisions
state them, and no disclosure control applies (UNODC reviews a brief before publishing it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from reporting.safe import workbook_cell
from schemas import codelists as cl
from schemas import i18n
from schemas.countries import country_name
from schemas.personal_data import screen
from schemas.tables import TABLES
from warehouse.snapshot import open_snapshot

JSON_NAME = "case_law_records.json"
XLSX_NAME = "case_law_records.xlsx"
RECORD_FORMAT = "glotip-case-law/1"
LANGUAGE = "en"  # UNODC's case-law database is kept in English


@dataclass(frozen=True)
class Field:
    key: str  # the record's field (JSON key)
    label: str  # the spreadsheet's header
    description: str
    column: str | None = None  # the `organ_removal_cases` column it comes from, when one


FIELDS = (
    Field("country", "Country (ISO3)", "ISO 3166-1 alpha-3 code of the reporting country.", "country"),
    Field("country_name", "Country", "The reporting country's name."),
    Field("year", "Year", "The year the case is reported for.", "year"),
    Field("case_reference", "Case reference", "The submitter's own reference for the case.",
          "case_reference"),
    Field("court", "Court", "The court that decided the case.", "court"),
    Field("decision_reference", "Decision reference", "Reference of the court decision.",
          "court_decision_reference"),
    Field("decision_date", "Decision date", "Date of the court decision (YYYY-MM-DD).",
          "decision_date"),
    Field("stage", "Stage", "Stage of the case (codelist `case_stage`).", "stage"),
    Field("outcome", "Outcome", "Outcome of the decision (codelist `case_outcome`).", "outcome"),
    Field("purpose", "Purpose of exploitation",
          "Removal of organs, tissues or cells (`organs`, `tissues`, `cells`; `unknown` when "
          "nothing removed is known), from what was removed."),
    Field("material_removed", "What was removed", "What was removed (codelist `material_removed`).",
          "material_removed"),
    Field("victims_total", "Victims", "Number of victims.", "victims_total"),
    Field("victims_female", "Victims (female)", "Female victims, where known.", "victims_female"),
    Field("victims_male", "Victims (male)", "Male victims, where known.", "victims_male"),
    Field("victims_children", "Victims (children)", "Victims aged 0 to 17, where known.",
          "victims_children"),
    Field("victims_nationalities", "Victims' nationalities", "ISO3 codes of the victims' citizenship.",
          "victims_citizenship"),
    Field("offenders_total", "Offenders", "Number of offenders prosecuted or convicted, where known.",
          "offenders_total"),
    Field("offenders_female", "Offenders (female)", "Female offenders, where known.", "offenders_female"),
    Field("offenders_male", "Offenders (male)", "Male offenders, where known.", "offenders_male"),
    Field("offenders_nationalities", "Offenders' nationalities",
          "ISO3 codes of the offenders' citizenship.", "offenders_citizenship"),
    Field("recruitment_countries", "Countries of recruitment", "Where victims were recruited (ISO3).",
          "recruitment_countries"),
    Field("removal_countries", "Countries of removal", "Where the removal took place (ISO3).",
          "removal_countries"),
    Field("recipient_countries", "Countries of the recipients",
          "Where the recipients came from (ISO3).", "recipient_countries"),
    Field("medical_professionals_involved", "Medical professionals involved",
          "Whether medical professionals took part (yes, no, unknown).",
          "medical_professionals_involved"),
    Field("summary", "Summary", "A short description of the case.", "summary"),
    Field("source_submission_id", "Source submission", "The GLOTIP submission the case came from.",
          "submission_id"),
    Field("withheld", "Withheld (possible personal data)",
          "Each field withheld because its text looks like personal data, with the kind it seems "
          "to hold (e.g. `telephone`); the text itself is never written."),
)
FIELD_KEYS = tuple(field.key for field in FIELDS)
# The texts written by submitters (schemas/tables.py, `free_text`): each is screened again.
SCREENED = tuple(field.key for field in FIELDS
                 if field.column in TABLES["organ_removal_cases"].columns_where("free_text"))
# What was removed -> the purpose of exploitation as the case-law database names it.
PURPOSE_OF_MATERIAL = {"kidney": "organs", "liver": "organs", "other_organ": "organs",
                       "tissue": "tissues", "cells": "cells"}
PURPOSE_LABELS = {"organs": "Removal of organs", "tissues": "Removal of tissues",
                  "cells": "Removal of cells", cl.UNKNOWN: "Unknown"}
# Coded fields said by their labels in the spreadsheet: field -> codelist.
CODED = {"stage": cl.CASE_STAGE, "outcome": cl.CASE_OUTCOME,
         "material_removed": cl.MATERIAL_REMOVED,
         "medical_professionals_involved": cl.YES_NO_UNKNOWN}


class NoCases(LookupError):
    """No organ-removal case matches the year and country asked for (a one-line message)."""


def purpose(material_removed: list[str] | None) -> list[str]:
    """`organs`, `tissues`, `cells` in that order, from what was removed; `unknown` when none is
    known."""
    found = {PURPOSE_OF_MATERIAL[m] for m in material_removed or [] if m in PURPOSE_OF_MATERIAL}
    return [p for p in PURPOSE_LABELS if p in found] or [cl.UNKNOWN]


def case_law_records(connection, year: int | None = None, country: str | None = None) -> list[dict]:
    """One record per current organ-removal case (view `organ_removal_cases`), as `FIELDS` says,
    its free texts screened."""
    columns = [field.column for field in FIELDS if field.column]
    rows = connection.execute(
        f"SELECT {', '.join(columns)} FROM organ_removal_cases "
        "WHERE (CAST($year AS INTEGER) IS NULL OR year = CAST($year AS INTEGER)) "
        "AND (CAST($country AS VARCHAR) IS NULL OR country = CAST($country AS VARCHAR)) "
        "ORDER BY country, year, case_reference, submission_id",
        {"year": year, "country": country}).fetchall()
    return [_record(dict(zip(columns, row))) for row in rows]


def _record(row: dict[str, Any]) -> dict:
    record: dict[str, Any] = {}
    for field in FIELDS:
        value = row.get(field.column) if field.column else None
        if isinstance(value, dt.date):
            value = value.isoformat()
        record[field.key] = value
    record["country_name"] = country_name(row["country"], LANGUAGE)
    record["purpose"] = purpose(row["material_removed"])
    withheld = {}
    for key in SCREENED:
        kind = screen(record[key])
        if kind:
            withheld[key] = kind
            record[key] = None
    record["withheld"] = withheld
    return record


def write_case_law(db_path: str | Path, out_dir: str | Path, *, year: int | None = None,
                   country: str | None = None) -> tuple[Path, Path, int]:
    """Write `case_law_records.json` and `.xlsx` into `out_dir` from the analysts' snapshot of
    the warehouse at `db_path`: (json path, xlsx path, number of records). Raises NoCases, and
    writes nothing, when no case matches."""
    with open_snapshot(db_path) as connection:
        records = case_law_records(connection, year, country)
    if not records:
        asked = " and ".join(filter(None, [f"year {year}" if year else "",
                                           f"country {country}" if country else ""]))
        raise NoCases(f"no organ-removal cases{' for ' + asked if asked else ''} in the snapshot; "
                      "nothing written")
    document = {"format": RECORD_FORMAT, "filters": {"year": year, "country": country},
                "fields": {field.key: field.description for field in FIELDS},
                "records": records}
    text = json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    workbook = _workbook(records)  # built before anything is written
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    json_path, xlsx_path = out / JSON_NAME, out / XLSX_NAME
    # both written aside, then renamed into place: a failure (a full disk) leaves the pair as it was
    aside = {target: target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.tmp")
             for target in (json_path, xlsx_path)}
    try:
        aside[json_path].write_text(text, encoding="utf-8")
        workbook.save(aside[xlsx_path])
        for target, temporary in aside.items():
            os.replace(temporary, target)
    finally:
        for temporary in aside.values():
            temporary.unlink(missing_ok=True)
    return json_path, xlsx_path, len(records)


def _workbook(records: list[dict]) -> Workbook:
    """One row per case under readable headers, frozen; codes said by their labels; every text
    inert (no formula can run); a second sheet describes the fields."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Case-law records"
    sheet.append([workbook_cell(field.label) for field in FIELDS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for record in records:
        sheet.append([_cell(field.key, record) for field in FIELDS])
        row = sheet.max_row
        decision_date = sheet.cell(row, FIELD_KEYS.index("decision_date") + 1)
        if decision_date.value is not None:
            decision_date.number_format = "yyyy-mm-dd"
        sheet.cell(row, FIELD_KEYS.index("summary") + 1).alignment = Alignment(wrap_text=True,
                                                                              vertical="top")
    sheet.freeze_panes = "A2"
    for position, field in enumerate(FIELDS, start=1):
        width = 60 if field.key == "summary" else max(12, min(30, len(field.label) + 2))
        sheet.column_dimensions[sheet.cell(1, position).column_letter].width = width
    about = workbook.create_sheet("Fields")
    about.append(["Field", "JSON key", "What it holds"])
    for cell in about[1]:
        cell.font = Font(bold=True)
    for field in FIELDS:
        about.append([workbook_cell(text) for text in (field.label, field.key, field.description)])
    return workbook


def _cell(key: str, record: dict) -> Any:
    value = record[key]
    if key == "withheld":
        value = "; ".join(f"{_label(field)}: {i18n.ui(f'personal_data.{kind}', LANGUAGE)}"
                          for field, kind in value.items()) or None
    elif key in record["withheld"]:
        value = "withheld: it looks like " + i18n.ui(f"personal_data.{record['withheld'][key]}", LANGUAGE)
    elif key == "decision_date" and value:
        value = dt.date.fromisoformat(value)
    elif key == "purpose":
        value = "; ".join(PURPOSE_LABELS[p] for p in value)
    elif key in CODED and value is not None:
        codelist = CODED[key]
        value = ("; ".join(codelist.label(code) for code in value) if isinstance(value, list)
                 else codelist.label(value))
    elif isinstance(value, list):
        value = "; ".join(value)
    return workbook_cell(value)


def _label(key: str) -> str:
    return FIELDS[FIELD_KEYS.index(key)].label
