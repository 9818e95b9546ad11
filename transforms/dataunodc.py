"""Read the published dataUNODC GLOTIP export and map it onto the warehouse's tables.

Plain functions: no Prefect, no warehouse. `read_export` finds the header row of an .xlsx or
.csv export (with or without its preamble rows, wherever the header is) and returns the rows as
text with their physical lines, with the submission readers' helpers (transforms.readers).
`prepare_export` checks every row, quarantines those that cannot be right, maps `Indicator` /
`Dimension` / `Category` / `Sex` / `Age` onto our codes, resolves the free-text countries,
settles repeated keys and checks the published parts against their totals (schemas.totals,
the rule the submissions follow). Each decision is a finding of a `published-*` catalogue
rule, with its parameters as data, so the import report says what happened to every row.
docs/published-data.md explains the choices.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from schemas import codelists as cl
from schemas.countries import country_codes, resolve_many
from schemas.dataunodc import (CountryFinding, ExportFile, ImportStats, PartsExceedingTotal,
                               PreparedExport, RepeatedKeys, Resolution, UnresolvedText)
from schemas.findings import CSV, LINE, SHEET, Finding, TableFrame, make_finding
from schemas.messages import render_message
from schemas.tables import MAX_YEAR, MIN_YEAR, TABLES
from schemas.totals import failing_totals
from transforms.readers import (UnreadableFile, cell_text, csv_rows, decode_text, find_header,
                                sha256_of, sniff)

EXPORT_HEADER_SEARCH_ROWS = 50  # the export's preamble is longer than a submission's

# The export's columns: matching key of the header label (schemas.codelists.match_key) -> ours.
COLUMNS = {
    "iso3 code": "iso3", "iso3": "iso3", "country": "country_name", "region": "region",
    "subregion": "subregion", "indicator": "indicator", "dimension": "dimension",
    "category": "category", "sex": "sex", "age": "age", "year": "year",
    "unit of measurement": "unit", "unit": "unit", "txtvalue": "value", "value": "value",
    "source": "source",
}
REQUIRED = ("iso3", "indicator", "dimension", "category", "sex", "age", "year", "value")
LABELS = {"iso3": "Iso3_code", "country_name": "Country", "indicator": "Indicator",
          "dimension": "Dimension", "category": "Category", "sex": "Sex", "age": "Age",
          "year": "Year", "unit": "Unit of measurement", "value": "txtVALUE"}

# Indicator -> (warehouse table, offenders' stage).
INDICATORS = {
    "detected trafficking victims": ("victims", None),
    "persons brought into formal contact": ("offenders", "suspected"),
    "persons prosecuted": ("offenders", "prosecuted"),
    "persons convicted": ("offenders", "convicted"),
    "offences of trafficking in persons": ("offences", None),
}
DIMENSIONS = {"total": "total", "by form of exploitation": "form",
              "by citizenship": "citizenship", "by country of repatriation": "repatriation"}
# Which dimensions each table can hold; repatriation rows go to `repatriated`.
ALLOWED_DIMENSIONS = {"victims": {"total", "form", "citizenship", "repatriation"},
                      "offenders": {"total", "form", "citizenship"},
                      "offences": {"total", "form"}}
UNITS = {"counts", "count", "number"}

SEX_CODES = cl.code_lookup(cl.SEX)
AGE_CODES = cl.code_lookup(cl.AGE)
FORM_CODES = cl.code_lookup(cl.FORM)  # "Other forms of exploitation" -> other (organ removal included)

# The resolver's kinds (schemas/countries.py) -> codes of cl.PUBLISHED_COUNTRY_SPECIAL.
ABROAD, UNRESOLVED = "abroad", "unresolved"
KIND_CODE = {"unknown": cl.UNKNOWN, "abroad": ABROAD, "unresolved": UNRESOLVED,
             "empty": UNRESOLVED}

AGGREGATE = "published-regional-aggregate"  # a row of a region's figures, not a country's

EXACT = re.compile(r"^\d{1,3}(?:[,\u00a0\u202f ]\d{3})+$|^\d+$")
SUPPRESSED_VALUE = re.compile(r"^<\s*(\d+)$")
QUESTIONNAIRE_CODE = re.compile(r"^Q\d+(?:\.\d+)*_\w+$", re.IGNORECASE)
DATE_DMY = re.compile(r"(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?!\d)")
DATE_ISO = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")

RESOLVED_COLUMNS = ("citizenship", "country of repatriation")

# The cells of each table: the keys of schemas.tables for the tables submissions have too
# (the published repatriation rows name the country victims were repatriated from or to,
# without a direction: `country_of_repatriation` where submissions have `country_of_detection`),
# and the one table only the export has: offences (warehouse/sql/003_published.sql).
OFFENCES_KEY = ["year", "form"]
TABLE_COLUMNS = {
    "victims": TABLES["victims"].key,
    "offenders": TABLES["offenders"].key,
    "repatriated": ["country_of_repatriation" if c == "country_of_detection" else c
                    for c in TABLES["repatriated"].key],
    "offences": OFFENCES_KEY,
}
COUNT_COLUMNS = ["count", "suppressed", "count_min", "count_max"]
# The dimensions whose categories are checked against their `total` row (the export's
# repatriation rows are not: their `total` is over every country, not over those listed).
DIMENSION_COLUMNS = {"victims": TABLES["victims"].columns_where("dimension"),
                     "offenders": TABLES["offenders"].columns_where("dimension"),
                     "offences": ["form"], "repatriated": []}
NOT_A_PART = {"citizenship": {UNRESOLVED}}  # a text we could not place may be a total

# Why repeated rows were summed (codes of the UI strings `summed.<code>`).
SUM_SUB_FORMS, SUM_AGE_GROUPS = "sub_forms", "age_groups"
# Repeated `Other forms of exploitation` rows of which some equal the sum of others (subtotals:
# COL 2018 convicted 28, 17, 11): only the parts are summed.
SUM_SUB_FORMS_SUBTOTALS = "sub_forms_subtotals"
# Their figure (subtotals left out) exceeds what the total leaves for other forms: which rows
# are right cannot be told, so none is loaded (rule published-other-forms-exceed-total).
OTHER_EXCEEDS = "published-other-forms-exceed-total"
SUBTOTAL_SEARCH_ROWS = 12  # subsets searched for a row's parts (2**12): the export repeats <= 8


class ExportError(Exception):
    """The file is not a dataUNODC GLOTIP export; carries the finding for the report."""

    def __init__(self, finding: Finding):
        super().__init__(render_message(finding, "en"))
        self.finding = finding


# ---------------------------------------------------------------------------------- reading

def read_export(path: str | Path, export_date: dt.date | None = None) -> ExportFile:
    """Read an .xlsx or .csv export. `export_date` overrides the date the file states."""
    path = Path(path)
    try:
        kind = sniff(path)
    except UnreadableFile as problem:
        raise ExportError(problem.finding()) from problem
    if kind == "xlsx":
        sheet, rows, header_index = _xlsx_rows(path)
    elif kind == "csv":
        sheet, (rows, header_index) = None, _export_csv_rows(path)
    else:
        raise ExportError(make_finding("unreadable-file", reason="not_an_export", name=path.name))
    header = [cell_text(v) for v in rows[header_index]]
    positions = {}
    labels = {}
    for position, label in enumerate(header, start=1):
        name = COLUMNS.get(cl.match_key(label)) if label else None
        if name and name not in positions:
            positions[name] = position
            labels[name] = str(label)
    frame = _rows_frame(rows[header_index + 1:], positions, first_line=header_index + 2)
    stated, stated_from = _date_in_preamble(rows[:header_index])
    if stated is None:
        stated, stated_from = _date_in_name(path.name)
    cells = {labels[n]: p for n, p in positions.items()}
    for name in RESOLVED_COLUMNS:  # findings on a resolved country point at its Category cell
        cells[name] = positions["category"]
    table_frame = TableFrame(
        table="published", source=sheet or path.name, kind=SHEET if sheet else CSV,
        data=pd.DataFrame(), column_positions=cells, header_labels=labels,
        header_line=header_index + 1)
    return ExportFile(
        path=str(path), file_name=path.name, sha256=sha256_of(path), size_bytes=path.stat().st_size,
        file_format=kind, sheet=sheet, header_line=header_index + 1,
        export_date=export_date or stated, export_date_from="option" if export_date else stated_from,
        rows=frame, frame=table_frame)


def _header_index(rows: list[list]) -> int | None:
    """The export's header: the first row naming every REQUIRED column (transforms.readers)."""
    text = [[cell_text(v) for v in row] for row in rows[:EXPORT_HEADER_SEARCH_ROWS]]
    return find_header(text, COLUMNS, required=set(REQUIRED), search_rows=EXPORT_HEADER_SEARCH_ROWS)


def _missing_header(where: str, rows: list[list]) -> ExportError:
    best: set[str] = set()
    for row in rows[:EXPORT_HEADER_SEARCH_ROWS]:
        names = {COLUMNS.get(cl.match_key(v)) for v in map(cell_text, row) if v}
        if len(names & set(REQUIRED)) > len(best):
            best = names & set(REQUIRED)
    missing = [LABELS.get(n, n) for n in REQUIRED if n not in best]
    return ExportError(make_finding("published-missing-header", table=where, missing=missing))


def _xlsx_rows(path: Path) -> tuple[str, list[list], int]:
    from python_calamine import CalamineWorkbook  # heavy: only when a workbook is read

    workbook = CalamineWorkbook.from_path(str(path))
    first_rows = None
    for name in workbook.sheet_names:
        sheet = workbook.get_sheet_by_name(name)
        head = sheet.to_python(skip_empty_area=False, nrows=EXPORT_HEADER_SEARCH_ROWS)
        first_rows = first_rows or head
        if _header_index(head) is not None:
            rows = sheet.to_python(skip_empty_area=False)
            return name, rows, _header_index(rows)
    raise _missing_header(workbook.sheet_names[0] if workbook.sheet_names else path.name,
                          first_rows or [])


def _export_csv_rows(path: Path) -> tuple[list[list], int]:
    """Rows by physical line (row i is line i + 1); the delimiter is the header line's."""
    text, _ = decode_text(path.read_bytes(), path.name)
    delimiter = ","
    for line in text.splitlines()[:EXPORT_HEADER_SEARCH_ROWS]:
        found = next((candidate for candidate in (",", ";", "\t", "|")
                      if _header_index([next(csv.reader([line], delimiter=candidate), [])]) == 0),
                     None)
        if found:
            delimiter = found
            break
    rows = csv_rows(text, delimiter)
    index = _header_index(rows)
    if index is None:
        raise _missing_header(path.name, rows)
    return rows, index


def _rows_frame(rows: list[list], positions: dict[str, int], first_line: int) -> pd.DataFrame:
    """The data rows as text (NA when empty), one column per export column, plus LINE."""
    width = max(positions.values())
    padded = [row[:width] + [None] * (width - len(row)) if len(row) < width else row[:width]
              for row in rows]
    raw = pd.DataFrame(padded, columns=range(1, width + 1)) if padded else pd.DataFrame(
        columns=range(1, width + 1))
    frame = pd.DataFrame({name: _as_text(raw[position]) for name, position in positions.items()})
    frame[LINE] = np.arange(first_line, first_line + len(raw), dtype="int64")
    blank = frame.drop(columns=LINE).isna().all(axis=1)
    return frame[~blank].reset_index(drop=True)


def _as_text(values: pd.Series) -> pd.Series:
    """A column as the text a person reads in it (transforms.readers.cell_text): 2010.0 ->
    "2010", "" -> NA."""
    if pd.api.types.infer_dtype(values, skipna=True) not in ("string", "empty"):
        values = values.map(cell_text, na_action="ignore")
    text = values.astype("str").str.strip()
    return text.mask(text.eq("") | values.isna())


def _date_in_preamble(rows: list[list]) -> tuple[dt.date | None, str | None]:
    for row in rows:
        for value in row:
            if isinstance(value, dt.datetime):
                return value.date(), "preamble"
            if isinstance(value, dt.date):
                return value, "preamble"
            if isinstance(value, str):
                found = _parse_date(value)
                if found:
                    return found, "preamble"
    return None, None


def _date_in_name(name: str) -> tuple[dt.date | None, str | None]:
    found = _parse_date(name)
    return (found, "file name") if found else (None, None)


def _parse_date(text: str) -> dt.date | None:
    """dd/mm/yyyy (dataUNODC's preamble) or yyyy-mm-dd / yyyymmdd (file names)."""
    for pattern, order in ((DATE_DMY, (3, 2, 1)), (DATE_ISO, (1, 2, 3))):
        for match in pattern.finditer(text):
            try:
                return dt.date(*(int(match.group(i)) for i in order))
            except ValueError:
                continue
    return None


# ------------------------------------------------------------------------------ preparing

def prepare_export(export: ExportFile) -> PreparedExport:
    """Check, map, resolve and settle the export's rows; nothing touches the warehouse."""
    rows = export.rows.copy()
    for name in LABELS:
        if name not in rows.columns:
            rows[name] = pd.Series(pd.NA, index=rows.index, dtype="str")
    findings = _Findings(export.frame, rows)

    reason = _quarantine_reasons(rows, findings)
    valid = rows[reason.isna()].copy()
    mapped = _map_rows(valid)
    citizenship, repatriation = _resolve_countries(mapped, findings)
    settled, repeated = _settle_repeated_keys(mapped, findings)
    tables = _tables(settled)
    parts = _parts_against_totals(tables, findings)

    quarantined = Counter(item.finding.rule for item in findings.items
                          if item.finding.severity == "error")
    if reason.eq(AGGREGATE).any():  # reported as a warning, not loaded all the same
        quarantined[AGGREGATE] = int(reason.eq(AGGREGATE).sum())
    stats = ImportStats(
        rows_read=int(len(rows)),
        rows_loaded=int(len(rows) - sum(quarantined.values())),
        rows_quarantined=int(sum(quarantined.values())),
        quarantined_by_reason=dict(sorted(quarantined.items())),
        fact_rows={name: int(len(frame)) for name, frame in tables.items()},
        countries=int(pd.concat([t["country"] for t in tables.values()]).nunique()) if tables else 0,
        years=_year_range(tables),
        citizenship=citizenship, repatriation=repatriation,
        repeated_keys=repeated, parts_exceed_total=parts)
    return PreparedExport(export, tables, findings.items, stats)


class _Findings:
    """Collects findings with the country each belongs to (by the row's line)."""

    def __init__(self, frame: TableFrame, rows: pd.DataFrame):
        self.frame = frame
        iso3 = rows["iso3"].str.upper()
        known = iso3.isin(country_codes())
        self.line_country = dict(zip(rows[LINE], iso3.where(known, None)))
        self.items: list[CountryFinding] = []

    def add(self, code: str, line: int | None, column: str | None = None, country=None, **params):
        label = LABELS.get(column, column) if column else None
        finding = make_finding(code, frame=self.frame, line=line, column=label, **params)
        self.items.append(CountryFinding(country or self.line_country.get(line), finding))


def _quarantine_reasons(rows: pd.DataFrame, findings: _Findings) -> pd.Series:
    """One reason per row that cannot be right (the first that applies), as a finding each."""
    reason = pd.Series(None, index=rows.index, dtype="object")
    iso3 = rows["iso3"].fillna("").str.strip().str.upper()
    digits = rows["value"].fillna("").str.replace(r"[,\u00a0\u202f ]", "", regex=True)
    value_is_code = (digits.str.fullmatch(r"\d{7,}") & digits.str[-4:].isin(
        [str(y) for y in range(1990, 2040)]))
    indicator = rows["indicator"].pipe(_keys)
    dimension = rows["dimension"].pipe(_keys)
    target = indicator.map({k: table for k, (table, _) in INDICATORS.items()})
    dim = dimension.map(DIMENSIONS, na_action="ignore")
    category = rows["category"].fillna("")
    category_key = category.pipe(_keys)
    unit_ok = rows["unit"].isna() | rows["unit"].pipe(_keys).isin(UNITS)
    allowed = (target.fillna("") + "|" + dim.fillna("")).isin(
        {f"{t}|{d}" for t, dims in ALLOWED_DIMENSIONS.items() for d in dims})
    names = _country_name_targets(rows)

    def no_params(index):
        return {}

    # (rule, column, failed, the finding's parameters, the column whose text is its value)
    checks = [
        ("published-questionnaire-code", "category", category.str.match(QUESTIONNAIRE_CODE), no_params, None),
        ("published-questionnaire-code", "value", value_is_code, no_params, None),
        ("published-missing-iso3", "iso3", iso3.eq(""), no_params, "country_name"),
        # a code that is no country's, with no country name: UNODC's region (SAM, SAF, CAR, MCN)
        (AGGREGATE, "iso3", ~iso3.isin(country_codes()) & rows["country_name"].isna(),
         no_params, None),
        ("published-unknown-iso3", "iso3", ~iso3.isin(country_codes()), no_params, None),
        ("published-country-mismatch", "iso3", names.notna() & names.ne(iso3),
         lambda i: {"iso3": iso3[i], "named": names[i]}, None),
        ("published-unknown-label", "indicator", target.isna(), no_params, None),
        ("published-unknown-label", "dimension", dim.isna(), no_params, None),
        ("published-unknown-label", "dimension", ~allowed,
         lambda i: {"applies_to": "indicator", "indicator": rows.at[i, "indicator"]}, None),
        ("published-unknown-label", "unit", ~unit_ok, no_params, None),
        ("published-unknown-label", "sex", ~rows["sex"].pipe(_keys).isin(SEX_CODES), no_params, None),
        ("published-unknown-label", "age", ~rows["age"].pipe(_keys).isin(AGE_CODES), no_params, None),
        ("published-unknown-label", "category", dim.eq("total") & category_key.ne("total"),
         lambda i: {"applies_to": "total_dimension"}, None),
        ("published-unknown-label", "category", dim.eq("form") & ~category_key.isin(FORM_CODES),
         lambda i: {"applies_to": "form_dimension"}, None),
        ("published-invalid-value", "value",
         ~rows["value"].fillna("").str.match(EXACT) & ~rows["value"].fillna("").str.match(SUPPRESSED_VALUE),
         lambda i: {"expected": "count"}, None),
        ("published-invalid-value", "year",
         ~pd.to_numeric(rows["year"], errors="coerce").between(MIN_YEAR, MAX_YEAR)
         | ~rows["year"].fillna("").str.fullmatch(r"\d{4}"),
         lambda i: {"expected": "year", "min_year": MIN_YEAR, "max_year": MAX_YEAR}, None),
    ]
    for code, column, failed, params, value_from in checks:
        hits = failed.fillna(True).astype(bool) & reason.isna()
        if not hits.any():
            continue
        reason[hits] = code
        for index in rows.index[hits]:
            value = rows.at[index, value_from or column]
            findings.add(code, int(rows.at[index, LINE]), column,
                         value="" if pd.isna(value) else value, **params(index))
    return reason


def _keys(values: pd.Series) -> pd.Series:
    """schemas.codelists.match_key of each value, computed once per distinct value."""
    return values.map({v: cl.match_key(v) for v in values.dropna().unique()})


def _country_name_targets(rows: pd.DataFrame) -> pd.Series:
    """The ISO3 a row's `Country` name resolves to, where it names one country."""
    if rows["country_name"].isna().all():
        return pd.Series(None, index=rows.index, dtype="object")
    pairs = rows[["country_name"]].drop_duplicates()
    resolved = resolve_many(pairs["country_name"])
    lookup = dict(zip(pairs["country_name"], resolved["iso3"].where(resolved["kind"] == "country")))
    return rows["country_name"].map(lookup)


def _map_rows(valid: pd.DataFrame) -> pd.DataFrame:
    """Our codes for every valid row, and its value as count / suppressed / bounds."""
    indicator = valid["indicator"].pipe(_keys)
    dim = valid["dimension"].pipe(_keys).map(DIMENSIONS)
    table = indicator.map({k: table for k, (table, _) in INDICATORS.items()})
    mapped = pd.DataFrame({
        LINE: valid[LINE],
        "country": valid["iso3"].str.strip().str.upper(),
        "year": valid["year"].astype("int64"),
        "dimension": dim,
        "table": table.mask(dim.eq("repatriation"), "repatriated"),
        "stage": indicator.map({k: stage or "" for k, (_, stage) in INDICATORS.items()}),
        "sex": valid["sex"].pipe(_keys).map(SEX_CODES),
        "age": valid["age"].pipe(_keys).map(AGE_CODES),
        "form": np.where(dim.eq("form"), valid["category"].pipe(_keys).map(FORM_CODES), cl.TOTAL),
        "category_text": valid["category"].where(dim.isin(["citizenship", "repatriation"])),
        "value": valid["value"],
    }, index=valid.index)
    mapped["other"] = cl.TOTAL  # citizenship or country of repatriation, set by the resolver
    suppressed = valid["value"].str.extract(SUPPRESSED_VALUE)[0]
    exact = pd.to_numeric(valid["value"].str.replace(r"[,\u00a0\u202f ]", "", regex=True)
                          .where(suppressed.isna()), errors="coerce").astype("Int64")
    mapped["suppressed"] = suppressed.notna()
    mapped["count"] = exact
    mapped["count_min"] = exact.where(suppressed.isna(), 1).astype("Int64")
    mapped["count_max"] = exact.where(
        suppressed.isna(), pd.to_numeric(suppressed, errors="coerce") - 1).astype("Int64")
    return mapped


def _resolve_countries(mapped: pd.DataFrame, findings: _Findings) -> tuple[Resolution, Resolution]:
    """Citizenship and country-of-repatriation texts to ISO3 (or unknown / abroad /
    unresolved); one warning per unresolved text and country, with its row count."""
    found = []
    for dim, label in (("citizenship", "citizenship"), ("repatriation", "country of repatriation")):
        rows = mapped[mapped["dimension"] == dim]
        resolved = resolve_many(rows["category_text"], rows["country"])
        code = resolved["iso3"].where(resolved["iso3"].notna(), resolved["kind"].map(KIND_CODE))
        mapped.loc[rows.index, "other"] = code.fillna(UNRESOLVED)
        unresolved = resolved["kind"].isin(["unresolved", "empty"]) | (
            resolved["kind"].eq("nationals") & resolved["iso3"].isna())
        kinds = resolved["kind"].where(~unresolved, "unresolved").value_counts()
        texts = resolved.assign(country=rows["country"], line=rows[LINE])
        listing = []
        for (text, country), group in texts[unresolved].groupby(["text", "country"], sort=True):
            shown = text if text else "(empty)"
            findings.add("published-unresolved-text", int(group["line"].min()), label,
                         country=country, value=shown, rows=len(group))
            listing.append(UnresolvedText(shown, country, int(len(group))))
        distinct = resolved.assign(unresolved=unresolved).drop_duplicates("text")
        to_country = int(kinds.get("country", 0) + kinds.get("nationals", 0))
        found.append(Resolution(
            rows=int(len(rows)), rows_country=to_country,
            rows_nationals=int(kinds.get("nationals", 0)),
            rows_unknown=int(kinds.get("unknown", 0)), rows_abroad=int(kinds.get("abroad", 0)),
            rows_unresolved=int(kinds.get("unresolved", 0)),
            share_resolved_to_country=round(to_country / len(rows), 4) if len(rows) else None,
            texts=int(len(distinct)), texts_resolved=int((~distinct["unresolved"]).sum()),
            texts_unresolved=int(distinct["unresolved"].sum()),
            unresolved=tuple(sorted(listing, key=lambda item: (-item.rows, item.text)))))
    return found[0], found[1]


KEY = ["table", "country", "year", "stage", "sex", "age", "form", "other", "text_key"]


def _settle_repeated_keys(mapped: pd.DataFrame, findings: _Findings) -> tuple[pd.DataFrame, RepeatedKeys]:
    """One row per cell. Repeated keys, decided from the data:
    - `Other forms of exploitation` repeated: one row per unlabelled sub-form: summed;
    - a sex's `Total`-age row repeated (dimension Total) whose values are exactly that sex's
      values by age group: one row per unlabelled age group: summed;
    - otherwise the same value repeated: kept once; different values: none loaded."""
    mapped = mapped.assign(
        text_key=np.where(mapped["other"].eq(UNRESOLVED), mapped["category_text"].fillna(""), ""),
        bound=mapped["count_min"].astype("str") + "-" + mapped["count_max"].astype("str"))
    repeated = mapped.duplicated(KEY, keep=False)
    if not repeated.any():
        return mapped.drop(columns="bound"), RepeatedKeys()
    # within a key, rows in an order that does not depend on the file's row order: an exact
    # duplicate keeps the same row (the smallest Category text) whatever the order
    rep = mapped[repeated].assign(order_text=mapped["category_text"].fillna("")).sort_values(
        ["order_text", LINE]).drop(columns="order_text")
    rep["group"] = rep.groupby(KEY, sort=False).ngroup()
    rep["in_form"] = rep["dimension"].eq("form")
    rep["in_total"] = rep["dimension"].eq("total")
    groups = rep.groupby("group").agg(
        **{c: (c, "first") for c in KEY}, first_line=(LINE, "first"), rows=(LINE, "size"),
        values=("bound", "nunique"), all_form=("in_form", "all"), all_total=("in_total", "all"))
    sub_forms = groups["all_form"] & groups["form"].eq("other")
    # a sex's Total-age row repeated: are its values exactly that sex's values by age group?
    age_key = ["table", "country", "year", "stage", "sex"]
    candidates = groups[groups["all_total"] & groups["sex"].ne(cl.TOTAL) & groups["age"].eq(cl.TOTAL)]
    age_parts = mapped[mapped["dimension"].eq("total") & mapped["age"].ne(cl.TOTAL)].merge(
        candidates[age_key], on=age_key)
    signature = _signatures(rep[rep["group"].isin(candidates.index)], ["group"])
    by_age = candidates.join(_signatures(age_parts, age_key).rename("by_age"), on=age_key)["by_age"]
    age_groups = groups.index.isin(candidates.index[signature.reindex(candidates.index).eq(by_age)])
    groups["reason"] = np.select([sub_forms, age_groups], [SUM_SUB_FORMS, SUM_AGE_GROUPS], "")
    groups["action"] = np.select([groups["reason"].ne(""), groups["values"].eq(1)],
                                 ["sum", "exact"], "conflict")
    rep["part"] = True
    decisions = _sub_form_decisions(rep[rep["group"].isin(groups.index[sub_forms])],
                                    _room_for_other_forms(mapped[~repeated]))
    for group, decision in decisions.items():
        rep.loc[rep["group"].eq(group), "part"] = rep.loc[rep["group"].eq(group), LINE].isin(
            decision["kept_lines"])
        groups.loc[group, "reason"] = decision["reason"] or ""
        if decision["reason"] is None:  # more than the total leaves: none loaded
            groups.loc[group, "action"] = "exceeds"
    rep = rep.join(groups[["action", "first_line"]], on="group").drop(columns=["in_form", "in_total"])

    summed = _sum_groups(rep[(rep["action"] == "sum") & rep["part"]].drop(columns="part"))
    rep = rep.drop(columns="part")
    keys = _cell_keys(rep, groups)
    by_reason: dict[str, int] = {}
    for group, row in groups[groups["action"] == "sum"].iterrows():
        total = summed.loc[group]
        decided = decisions.get(group, {})
        findings.add("published-duplicate-summed", int(row["first_line"]), "value",
                     value=_display(total), rows=int(row["rows"]), **keys[group],
                     sum_reason=row["reason"],
                     **{k: v for k, v in decided.items() if k not in ("reason",)})
        by_reason[row["reason"]] = by_reason.get(row["reason"], 0) + 1
    extra = rep[(rep["action"] == "exact") & (rep[LINE] != rep["first_line"])].sort_values(LINE)
    for line, first, value, group in extra[[LINE, "first_line", "value", "group"]].itertuples(index=False):
        findings.add("published-exact-duplicate", int(line), "value", value=value,
                     first_line=int(first), **keys[group])
    for line, value, group in rep.loc[rep["action"] == "exceeds", [LINE, "value", "group"]].sort_values(
            LINE).itertuples(index=False):
        findings.add(OTHER_EXCEEDS, int(line), "value", value=value, rows=int(groups.loc[group, "rows"]),
                     **keys[group], **{k: v for k, v in decisions[group].items()
                                       if k not in ("reason", "kept_lines")})
    conflicts = rep[rep["action"] == "conflict"].sort_values(LINE)
    values_at_lines = {group: [{"value": v, "line": int(n)} for v, n in zip(g["value"], g[LINE])]
                       for group, g in conflicts.groupby("group")}
    for line, value, group in conflicts[[LINE, "value", "group"]].itertuples(index=False):
        findings.add("published-conflicting-values", int(line), "value", value=value,
                     values_at_lines=values_at_lines[group], **keys[group])

    keep = ~repeated
    keep[rep.index[(rep["action"] == "exact") & (rep[LINE] == rep["first_line"])]] = True
    settled = pd.concat([mapped[keep], summed], ignore_index=True).drop(columns="bound")
    action = groups["action"].value_counts()
    return settled, RepeatedKeys(
        summed_keys=int(action.get("sum", 0)),
        summed_rows=int(groups.loc[groups["action"] == "sum", "rows"].sum()),
        exact_duplicate_rows=int(len(extra)), conflicting_keys=int(action.get("conflict", 0)),
        other_forms_exceeding_keys=int(action.get("exceeds", 0)),
        conflicting_rows=int(len(conflicts)), by_reason=dict(sorted(by_reason.items())))


FORM_KEY = ["table", "country", "year", "stage", "sex", "age"]


def _room_for_other_forms(single: pd.DataFrame) -> dict[tuple, tuple[int, int]]:
    """For each cell with a published total: the total's upper bound, and what it leaves for
    `Other forms` after the smallest figures of the named forms (absent rows count 0: the
    export drops zeros)."""
    totals = single[single["dimension"].eq("total") & single["form"].eq(cl.TOTAL)
                    & single["other"].eq(cl.TOTAL)].set_index(FORM_KEY)["count_max"]
    named = single[single["dimension"].eq("form") & ~single["form"].isin([cl.TOTAL, "other"])]
    room = totals.sub(named.groupby(FORM_KEY)["count_min"].sum(), fill_value=0)
    return {key: (int(total), int(room[key])) for key, total in totals.items()}


def _sub_form_decisions(rows: pd.DataFrame, room: dict[tuple, int]) -> dict[int, dict[str, Any]]:
    """For each repeated `Other forms` key: which rows are parts, which are subtotals (a row
    whose figure is the sum of two or more other rows). A figure larger than its total is not
    stored (reason None). As data: reason, part_lines, subtotal_lines, kept_lines (the rows
    the stored figure is made of), parts_sum (its lower bound), total and room (what the total
    leaves after the named forms; None: no total to check; a figure above it is loaded and
    reported by the parts-against-totals check, as published)."""
    decisions = {}
    for group, members in rows.groupby("group"):
        members = members.sort_values(["count_max", LINE], ascending=[False, True])
        figures = list(zip(members[LINE].astype(int), members["count_min"].astype(int),
                           members["count_max"].astype(int), members["suppressed"]))
        subtotals = [line for line, low, high, suppressed in figures if not suppressed
                     and _is_sum_of_others(low, [(l2, lo, hi) for l2, lo, hi, _ in figures
                                                 if l2 != line])]
        parts = [line for line, *_ in figures if line not in subtotals]
        total, limit = room.get(tuple(members.iloc[0][FORM_KEY]), (None, None))
        reason = SUM_SUB_FORMS_SUBTOTALS if subtotals else SUM_SUB_FORMS
        smallest_sum = sum(low for line, low, _, _ in figures if line in parts)
        largest_sum = sum(high for line, _, high, _ in figures if line in parts)
        # the rows stored as the cell: the parts, or the one subtotal they add up to (exact
        # where a part is `<5`: 9 over 6 and <5)
        kept = next(([line] for line, low, _, _ in figures
                     if line in subtotals and smallest_sum <= low <= largest_sum), parts)
        stored_low = sum(low for line, low, _, _ in figures if line in kept)
        if total is not None and stored_low > total:
            reason, kept = None, []  # never a part larger than its total
        decisions[group] = {"reason": reason, "part_lines": sorted(parts),
                            "subtotal_lines": sorted(subtotals), "kept_lines": sorted(kept),
                            "parts_sum": stored_low, "total": total, "room": limit}
    return decisions


def _is_sum_of_others(figure: int, others: list[tuple[int, int, int]]) -> bool:
    """Whether two or more of `others` (line, low, high) can add up to `figure` exactly."""
    candidates = [(low, high) for _, low, high in others if low < figure][:SUBTOTAL_SEARCH_ROWS]
    for size in range(2, len(candidates) + 1):
        for chosen in combinations(candidates, size):
            if sum(low for low, _ in chosen) <= figure <= sum(high for _, high in chosen):
                return True
    return False


def _signatures(rows: pd.DataFrame, key: list[str]) -> pd.Series:
    """The sorted values of each group, as one comparable text."""
    return rows.sort_values("bound").groupby(key)["bound"].agg("|".join)


def _sum_groups(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per group: the first row's columns, the counts summed (bounds when suppressed)."""
    if rows.empty:
        return rows.drop(columns=["group", "action", "first_line"]).set_index(pd.Index([], name="group"))
    grouped = rows.groupby("group")
    first = grouped.first()
    first[LINE] = grouped[LINE].min()
    first["suppressed"] = grouped["suppressed"].any()
    first["count_min"] = grouped["count_min"].sum().astype("Int64")
    first["count_max"] = grouped["count_max"].sum().astype("Int64")
    first["count"] = grouped["count"].sum().astype("Int64").mask(first["suppressed"])
    first["value"] = [_display(row) for _, row in first.iterrows()]
    return first.drop(columns=["action", "first_line"])


def _display(row) -> str:
    """A summed count as its cell's text: `12`, `<5`, or `13 to 16` for a sum with `<5` parts
    (the `value` of a finding on a summed cell, whose figure is in its `count` parameters)."""
    if not row["suppressed"]:
        return f"{int(row['count']):,}"
    low, high = int(row["count_min"]), int(row["count_max"])
    return f"<{high + 1}" if low == 1 and high <= 4 else f"{low:,} to {high:,}"


def _counted(row) -> dict[str, Any]:
    """A count as a finding's parameter (schemas.messages writes it `12`, `<5`, `13 to 16`)."""
    return {"count": None if row["suppressed"] else int(row["count"]),
            "suppressed": bool(row["suppressed"]), "count_min": int(row["count_min"]),
            "count_max": int(row["count_max"])}


def _cell_key(cells: dict, skip: str | None = None) -> dict[str, Any]:
    """A cell of the warehouse as codes: {country, year, table, stage, sex, ...}."""
    table = cells["table"]
    key: dict[str, Any] = {"country": cells["country"], "year": int(cells["year"]), "table": table}
    for column in TABLE_COLUMNS[table]:
        if column != "year" and column != skip:
            key[column] = cells[column]
    return key


def _cell_keys(rep: pd.DataFrame, groups: pd.DataFrame) -> dict[int, dict[str, Any]]:
    """Each repeated key as parameters: `cell_key` (codes) and the Category `texts` it was
    published as, when the country is one of a text."""
    texts = rep[rep["category_text"].notna()].groupby("group")["category_text"].agg(
        lambda t: list(t.unique()))
    found = {}
    for group, cells in zip(groups.index, groups.to_dict("records")):
        other = "country_of_repatriation" if cells["table"] == "repatriated" else "citizenship"
        params: dict[str, Any] = {"cell_key": _cell_key({**cells, other: cells["other"]})}
        if group in texts.index:
            params["texts"] = texts[group]
        found[group] = params
    return found


def _tables(settled: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """The warehouse's frames: our columns, `country` and `source_line`, sorted by line."""
    tables = {}
    settled = settled.sort_values(LINE)
    for name, columns in TABLE_COLUMNS.items():
        rows = settled[settled["table"] == name]
        frame = pd.DataFrame({"country": rows["country"], "source_line": rows[LINE].astype("int64")})
        for column in columns:
            source = "other" if column in ("citizenship", "country_of_repatriation") else column
            frame[column] = rows[source]
        for column in COUNT_COLUMNS:
            frame[column] = rows[column].astype("boolean" if column == "suppressed" else "Int64")
        if name != "offences":
            frame["category_text"] = rows["category_text"]
        tables[name] = frame.reset_index(drop=True)
    return tables


def _parts_against_totals(tables: dict[str, pd.DataFrame],
                          findings: _Findings) -> dict[str, PartsExceedingTotal]:
    """Each dimension's categories against its `total` row (schemas.totals), with `<5` as 1
    to 4: a warning where the parts add up to more than the total can be (the smallest sum of
    the parts exceeds the largest total). Absent rows are no evidence (the export drops
    zeros)."""
    found: dict[str, PartsExceedingTotal] = {}
    for name, frame in tables.items():
        key = ["country"] + TABLE_COLUMNS[name]
        failing = failing_totals(frame, key, DIMENSION_COLUMNS[name], "count_min", "count_max",
                                 not_parts=NOT_A_PART, line="source_line")
        for dimension in DIMENSION_COLUMNS[name]:
            over = [f for f in failing if f.dimension == dimension]
            if not over:
                continue
            totals = frame.iloc[[f.row for f in over]].to_dict("records")
            for total, failed in zip(totals, over):
                findings.add("published-parts-exceed-total", failed.line, "value",
                             country=total["country"], value=_display(total),
                             dimension=dimension, categories=failed.parts,
                             parts_sum=failed.parts_sum, total=_counted(total),
                             cell_key=_cell_key({**total, "table": name}, skip=dimension))
            found[f"{name}: {dimension}"] = PartsExceedingTotal(
                cases=len(over),
                exact_figures_only=sum(f.parts_inexact == 0 and not total["suppressed"]
                                       for f, total in zip(over, totals)),
                would_fit_if_suppressed_could_be_0=sum(
                    f.parts_sum - f.parts_inexact <= int(total["count_max"])
                    for f, total in zip(over, totals)))
    return dict(sorted(found.items()))


def _year_range(tables: dict[str, pd.DataFrame]) -> list[int] | None:
    years = pd.concat([t["year"] for t in tables.values()]) if tables else pd.Series(dtype="int64")
    return [int(years.min()), int(years.max())] if len(years) else None
