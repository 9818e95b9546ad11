"""Turn normalised submission frames into findings and typed tables.

pandera does the per-column and per-row work in two passes, as lessons learned with it
advise: first the types (which cells are not whole numbers), then every value check on what
coerced, so that one bad cell gives one finding and not a cascade. The table-level rules
(parts against totals, the reporting period, organ-removal cases against victims) run on the
typed tables afterwards.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cache

import pandas as pd
import pandera.pandas as pa

from schemas import codelists as cl
from schemas.countries import ambiguity
from schemas.cross_tables import cross_table_findings
from schemas.findings import LINE, Finding, Listing, ParsedSubmission, TableFrame, capped, make_finding
from schemas.limits import Limits
from schemas.personal_data import holds_personal_data, screen
from schemas.submission import SubmissionDetails, country_in_file_name
from schemas.keys import has_duplicates, has_duplicates_duckdb, key_codes
from schemas.totals import DUCKDB_ROWS, failing_totals
from schemas.tables import FACT_TABLES, LIST_SEPARATOR, MAX_YEAR, MIN_YEAR, TABLES, TableSpec, parsed_date

SUPPRESSED_PATTERN = re.compile(r"^\s*<\s*\d+\s*$")
PERSONAL_DATA = "personal-data"


@dataclass
class ValidationResult:
    findings: list[Finding]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # typed, with LINE
    frames: dict[str, TableFrame] = field(default_factory=dict)
    details: SubmissionDetails | None = None  # the submission sheet's row, when there is one

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


def validate_submission(parsed: ParsedSubmission, limits: Limits = Limits(),
                        today: dt.date | None = None, *,
                        duckdb_rows: int | None = DUCKDB_ROWS) -> ValidationResult:
    """`today`: the day dates are checked against (a date after it is in the future).
    `duckdb_rows`: from how many rows a table's key rules (duplicates, parts against totals)
    run in DuckDB rather than numpy (None: never); the findings are the same either way."""
    findings = list(parsed.read_findings)
    result = ValidationResult(findings=findings, frames=dict(parsed.tables))
    listing = Listing(limits.findings_per_rule)
    if any(f.rule == "unreadable-file" or (f.rule == "limit-exceeded" and f.table is None)
           for f in findings):  # the file was not read: nothing to check
        return result
    for name, spec in TABLES.items():
        frame = parsed.tables.get(name)
        if frame is None:
            if spec.required:
                findings.append(make_finding("missing-table", table=name))
            continue
        table_findings, typed = validate_table(spec, frame, limits.localise_seconds, listing,
                                               duckdb_rows=duckdb_rows)
        findings.extend(table_findings)
        result.tables[name] = typed
    # cells with a finding already: the first finding on a cell is the one kept (one_per_cell)
    taken = {(f.table, f.line, f.column) for f in findings if f.line is not None}
    findings.extend(_submission_rules(result, parsed.file_name, listing, taken))
    # each case's own errors before the warning on all of a year's cases (one finding per cell)
    findings.extend(_organ_case_rules(result, today or dt.date.today()))
    findings.extend(_organ_cases_against_victims(result))
    findings.extend(cross_table_findings(result.tables, result.frames, result.details))
    findings.extend(listing.more_findings())
    result.findings = capped(one_per_cell(findings, listing), limits.findings_per_rule)
    return result


def one_per_cell(findings: list[Finding], listing: Listing | None = None) -> list[Finding]:
    """Keep the first finding on each cell: a cell wrong for one reason is not re-reported, nor
    one counted already beyond a rule's listed findings (`listing`). Personal data comes first
    whatever else is wrong with the cell (an over-long summary that holds an e-mail is told
    about the e-mail)."""
    def cell_of(finding: Finding) -> tuple | None:
        if finding.line is None or finding.column is None:
            return None
        return (finding.table, finding.line, finding.column)

    seen = {cell_of(f) for f in findings if f.rule == PERSONAL_DATA}
    kept = []
    for finding in findings:
        cell = cell_of(finding)
        if cell is not None:
            if finding.rule != PERSONAL_DATA and (cell in seen or (listing and listing.counted(*cell))):
                continue
            seen.add(cell)
        kept.append(finding)
    return kept


def validate_table(spec: TableSpec, frame: TableFrame,
                   localise_seconds: float = Limits.localise_seconds,
                   listing: Listing | None = None, *,
                   duckdb_rows: int | None = DUCKDB_ROWS) -> tuple[list[Finding], pd.DataFrame]:
    """All single-table rules for one table: the findings, and the typed frame. `listing`:
    how many findings of a rule on a column are made (the rest counted); None, all."""
    listing = listing or Listing(per_rule=len(frame.data) + 1)
    data = frame.data
    columns = spec.schema.columns
    missing = [c for c in spec.columns if c not in data.columns and not columns[c].nullable]
    findings = [make_finding("missing-column", frame=frame, column=c) for c in missing]
    # an optional column left out is simply empty
    absent_optional = [c for c in spec.columns if c not in data.columns and columns[c].nullable]
    data = data.assign(**{c: pd.Series(pd.NA, index=data.index, dtype="str") for c in absent_optional})
    schema = spec.schema
    if missing:
        schema = copy.deepcopy(schema).remove_columns(missing)
        if schema.unique and set(schema.unique) & set(missing):
            schema.unique = None
    if data.empty:
        if spec.required:  # an optional table left empty in the template is normal
            findings.append(make_finding("empty-table", frame=frame))
        return findings, _empty_typed(spec)

    type_findings, typed = _coerce_types(spec, frame, data, listing)
    findings.extend(type_findings)
    already = {(f.line, f.column) for f in type_findings}
    in_duckdb = duckdb_rows is not None and len(typed) >= duckdb_rows
    # the key as integer codes once, for both the duplicate-key rule and parts against totals
    codes = (key_codes(typed, spec.key)
             if spec.key and set(spec.key) <= set(typed.columns) and not in_duckdb else None)
    findings.extend(_value_findings(spec, schema, frame, typed, already, listing, codes, in_duckdb))
    findings.extend(_parts_against_totals(spec, frame, typed, findings, localise_seconds, codes,
                                          duckdb_rows))
    return findings, typed


def _empty_typed(spec: TableSpec) -> pd.DataFrame:
    columns = {c: pd.Series(dtype=_dtype(spec, c)) for c in spec.columns}
    columns[LINE] = pd.Series(dtype="Int64")
    return pd.DataFrame(columns)


def _dtype(spec: TableSpec, column: str) -> str:
    return "Int64" if str(spec.schema.columns[column].dtype) == "Int64" else "str"


def _integer_columns(spec: TableSpec, data: pd.DataFrame) -> list[str]:
    return [c for c in spec.columns if c in data.columns and _dtype(spec, c) == "Int64"]


def _coerce_types(spec: TableSpec, frame: TableFrame, data: pd.DataFrame, listing: Listing):
    """Pass 1: pandera coerces the whole-number columns; each cell that fails is one finding."""
    int_columns = _integer_columns(spec, data)
    cast = _cast_all_int64(data, int_columns)
    if cast is not None:  # every cell is a plain integer: pandera would find nothing
        typed = data.copy()
        for column, values in cast.items():
            typed[column] = values
        return [], typed
    type_schema = pa.DataFrameSchema(
        {c: pa.Column("Int64", coerce=True, nullable=True) for c in int_columns}
    )
    findings: list[Finding] = []
    bad_cells: dict[str, list] = {}
    try:
        type_schema.validate(data[int_columns], lazy=True)
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
        cases = cases[cases["check"].astype(str).str.startswith("coerce_dtype") & cases["index"].notna()]
        lines = _lines_of(data, cases["index"])
        for (column, index, value), line in zip(
                cases[["column", "index", "failure_case"]].itertuples(index=False), lines):
            code = "suppressed-value" if SUPPRESSED_PATTERN.match(str(value)) else "not-an-integer"
            if listing.lists(frame.table, code, column, line):
                findings.append(listing.made(make_finding(code, frame=frame, line=line, column=column,
                                                          value=value)))
            bad_cells.setdefault(column, []).append(index)
    typed = data.copy()
    for column in int_columns:
        values = typed[column]
        if column in bad_cells:
            values = values.mask(values.index.isin(bad_cells[column]))
        typed[column] = _to_int64(values)
    return findings, typed


def _cast_all_int64(data: pd.DataFrame, columns: list[str]) -> dict[str, pd.Series] | None:
    """Each column through Arrow's strict cast, or None as soon as one cell is not a plain
    integer. Arrow accepts exactly what pandera's Int64 coercion accepts for the text cells
    here (checked: signs, spaces, decimals, exponents, overflow, other digits all fail both),
    and when it refuses anything, pandera decides as before, cell by cell."""
    import pyarrow as pa
    import pyarrow.compute as pc

    cast = {}
    for column in columns:
        values = data[column]
        try:
            array = pc.cast(pa.array(values, type=pa.string(), from_pandas=True), pa.int64())
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
            return None
        cast[column] = pd.Series(pd.array(array, dtype="Int64"), index=values.index, name=values.name)
    return cast


def _to_int64(values: pd.Series) -> pd.Series:
    """Whole-number text to Int64. Arrow's cast is 10x faster than `pd.to_numeric` at 1M rows;
    it refuses anything but plain integers, and then `pd.to_numeric` decides as before."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        cast = pc.cast(pa.array(values, type=pa.string(), from_pandas=True), pa.int64())
        return pd.Series(pd.array(cast, dtype="Int64"), index=values.index, name=values.name)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return pd.to_numeric(values, errors="coerce").astype("Int64")


def _lines_of(data: pd.DataFrame, index: pd.Series) -> list[int]:
    """The physical line of each row label in `index` (pandera's failure cases), at once: one
    `.at` per case took 14 s for 200,000 bad cells."""
    return [int(line) for line in data[LINE].loc[index.astype("int64")].to_numpy()]


def _value_findings(spec, schema, frame, typed, already: set, listing: Listing, codes=None,
                    in_duckdb: bool = False) -> list[Finding]:
    """Pass 2: every value check on the typed frame, one finding per cell."""
    # The table's unique key is checked here on the key's codes, not by pandera: at 1M rows
    # pandera's multi-column unique check was two thirds of its time, and its failure cases
    # were only a trigger for `_duplicates` anyway.
    key = [c for c in (schema.unique or []) if c in typed.columns]
    schema = _without_dtypes(spec, schema, typed)
    if schema.unique:
        schema = copy.copy(schema)
        schema.unique = None
    duplicate_rows = bool(key) and _has_duplicates(typed, key, codes, in_duckdb)
    try:
        schema.validate(typed, lazy=True)
        cases = None
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
    findings: list[Finding] = []
    if cases is not None or duplicate_rows:
        seen = set(already)
        cases = cases if cases is not None else pd.DataFrame(columns=["column", "check", "index", "failure_case"])
        checks = cases["check"].astype(str)
        duplicate_rows |= bool(checks.str.contains("uniqueness", regex=False).any())
        cells = cases[cases["index"].notna() & ~checks.str.contains("uniqueness", regex=False)
                      & ~checks.str.startswith(("dtype(", "coerce_dtype"))]
        for (column, check, value), line in zip(
                cells[["column", "check", "failure_case"]].itertuples(index=False),
                _lines_of(typed, cells["index"])):
            if (line, column) in seen or listing.counted(frame.table, line, column):
                continue  # one finding per cell: its type's, counted or listed
            seen.add((line, column))
            check = str(check)
            if listing.lists(frame.table, _rule_for_check(spec, check, column, value), column, line):
                findings.append(listing.made(_finding_for_check(spec, frame, check, column, line, value)))
        if duplicate_rows:
            findings.extend(_duplicates(spec, frame, typed, listing, seen))
    findings.extend(_personal_data(spec, frame, typed))
    return findings


def _has_duplicates(typed: pd.DataFrame, key: list[str], codes, in_duckdb: bool) -> bool:
    if in_duckdb:
        return has_duplicates_duckdb(typed, key)
    if codes is None or not set(key) <= set(codes):
        codes = key_codes(typed, key)
    return has_duplicates([codes[c] for c in key])


def _without_dtypes(spec: TableSpec, schema: pa.DataFrameSchema, typed: pd.DataFrame) -> pa.DataFrameSchema:
    """The same value checks without the dtype check and coercion, when every column already
    has exactly the schema's dtype (as `_coerce_types` leaves them): coercion would change
    nothing, and dtype failures are skipped anyway. pandera formats a message for every string
    column's dtype check even when it passes, which was half of its time on small files."""
    columns = schema.columns
    for name, column in columns.items():
        if name in typed.columns and (column.dtype is None or typed[name].dtype != column.dtype.type):
            return schema
    if schema is spec.schema:  # the declared schema (a copy without missing columns is rare)
        return _declared_dtype_free(spec.name)
    return _dtype_free(schema)


@cache
def _declared_dtype_free(table: str) -> pa.DataFrameSchema:
    return _dtype_free(TABLES[table].schema)


def _dtype_free(schema: pa.DataFrameSchema) -> pa.DataFrameSchema:
    free = schema.update_columns({name: {"dtype": None, "coerce": False} for name in schema.columns})
    free.coerce = False
    free.dtype = None
    return free


def _rule_for_check(spec, check: str, column: str, value) -> str:
    """The rule a failed pandera check is, for this cell (`_finding_for_check` makes its finding)."""
    meta = spec.column_meta(column)
    if check == "not_nullable":
        return "missing-value"
    if check.startswith("country") or (check.startswith("list_items") and meta["list_of"] == "country"):
        # a name the resolver knows for several countries ("Korea") left as submitted
        return "ambiguous-country" if _candidates(meta, value) else "unknown-country"
    if check.startswith(("isin", "list_items")):
        return "unknown-code"
    if check.startswith(("greater_than", "less_than", "in_range")):
        return "negative-count" if meta.get("count") else "year-out-of-range"
    if check.startswith("iso_date"):
        return "invalid-date"
    if check.startswith("str_matches"):
        return "invalid-email"
    if check.startswith("str_length"):
        return "text-too-long"
    return "invalid-value"


def _candidates(meta: dict, value) -> list:
    return list(ambiguity(str(value), LIST_SEPARATOR if meta.get("list_of") else None))


def _finding_for_check(spec, frame, check: str, column: str, line: int, value) -> Finding:
    """The finding of a failed pandera check on one cell: its rule (`_rule_for_check`) and
    that rule's parameters."""
    code = _rule_for_check(spec, check, column, value)
    meta = spec.column_meta(column)
    cell = dict(frame=frame, line=line, column=column)
    if code == "missing-value":
        return make_finding(code, **cell)
    if code == "ambiguous-country":
        return make_finding(code, **cell, value=value, candidates=_candidates(meta, value))
    if code == "unknown-code":
        codelist = cl.CODELISTS[meta.get("codelist") or meta["list_of"]]
        return make_finding(code, **cell, value=value, allowed=codelist.codes)
    if code in ("year-out-of-range", "invalid-date"):
        return make_finding(code, **cell, value=value, min_year=MIN_YEAR, max_year=MAX_YEAR)
    if code == "text-too-long":
        # the excerpt only of a text that holds no personal data anywhere, not only in its start
        text = str(value)
        withheld = holds_personal_data(text)
        return make_finding(code, **cell, value=None if withheld else text[:80] + "…",
                            length=len(text),
                            limit=spec.schema.columns[column].checks[0].statistics.get("max_value"),
                            **({"withheld": True} if withheld else {}))
    if code == "invalid-value":
        return make_finding(code, **cell, value=value, check=check)
    return make_finding(code, **cell, value=value)  # unknown-country, negative-count, invalid-email


def _duplicates(spec: TableSpec, frame: TableFrame, typed: pd.DataFrame, listing: Listing,
                seen: set) -> list[Finding]:
    """One finding per repeated row (not per key column, not for the first copy), on a cell
    with no finding yet (`seen`, or counted by `listing`)."""
    key = [c for c in (spec.schema.unique or []) if c in typed.columns]
    columns = key or [c for c in spec.columns if spec.schema.columns[c].unique]
    findings = []
    for column in columns if not key else [None]:
        subset = key or [column]
        repeated = typed.duplicated(subset, keep=False) & typed[subset].notna().all(axis=1)
        if not repeated.any():
            continue
        first_line = typed[repeated].groupby(subset, dropna=False)[LINE].transform("min")
        for (index, first), line in zip(first_line.items(), _lines_of(typed, first_line.index.to_series())):
            if line == first or (line, subset[0]) in seen or listing.counted(frame.table, line, subset[0]):
                continue
            if listing.lists(frame.table, "duplicate-key", subset[0], line):
                findings.append(listing.made(make_finding(
                    "duplicate-key", frame=frame, line=line, column=subset[0],
                    value=" / ".join(str(typed.at[index, c]) for c in subset),
                    value_codes={c: typed.at[index, c] for c in subset},  # said by their labels
                    first_line=int(first), key=subset)))
    return findings


def _personal_data(spec: TableSpec, frame: TableFrame, typed: pd.DataFrame) -> list[Finding]:
    """Every free-text cell through the one screen: the finding says what kind of personal
    data, never the text."""
    findings = []
    for column in spec.columns_where("free_text"):
        if column not in typed.columns:
            continue
        texts = typed[column].dropna()
        kinds = {text: screen(text) for text in texts.unique()}
        for index, text in texts.items():
            if kinds[text]:
                findings.append(make_finding(
                    PERSONAL_DATA, frame=frame, line=int(typed.at[index, LINE]),
                    column=column, withheld=True, kind=kinds[text]))
    return findings


def _parts_against_totals(spec, frame, typed, findings, localise_seconds, codes=None,
                          duckdb_rows: int | None = DUCKDB_ROWS) -> list[Finding]:
    """Within a table, the categories of each dimension against that dimension's `total` row
    (the one rule of schemas.totals, with exact counts), with the fewest cells whose change
    makes the table consistent (schemas.localise) when they could be found in time."""
    count = "count"
    inputs = totals_inputs(spec, typed, findings)
    if inputs is None:
        return []
    valid, dimensions, complete = inputs
    if codes is not None and len(valid) < len(typed) and typed.index.is_unique:  # the rows kept
        kept = typed.index.get_indexer(valid.index)
        codes = {c: column._replace(codes=column.codes[kept]) for c, column in codes.items()}
    elif codes is not None and len(valid) < len(typed):
        codes = None
    failing = failing_totals(valid, spec.key, dimensions, count, complete=complete, codes=codes,
                             duckdb_rows=duckdb_rows)
    if not failing:
        return []
    # imported here: scipy takes a third of a second to import, and most tables add up
    from schemas.localise import localise_totals

    located = localise_totals(valid, spec.key, dimensions, count, complete=complete,
                              failing_rows=[f.row for f in failing], seconds=localise_seconds)
    lines = valid[LINE].to_numpy()
    out: list[Finding] = []
    for failed in failing:
        total = int(valid[count].iat[failed.row])
        localisation = located.get(failed.row)
        out.append(make_finding(
            "parts-exceed-total" if failed.exceeds else "parts-differ-from-total", frame=frame,
            line=failed.line, column=count, value=total, dimension=failed.dimension,
            parts=failed.parts, parts_sum=failed.parts_sum, total=total,
            context={c: valid[c].iat[failed.row] for c in spec.key if c != failed.dimension},
            part_lines=[int(lines[row]) for row in failed.part_rows],
            **_changes_params(localisation, valid, frame, count)))
    return out


def totals_inputs(spec: TableSpec, typed: pd.DataFrame, findings: list[Finding]):
    """What the parts-against-totals rule reads of a table: its rows with a count and no
    error (`findings`: the table's findings before this rule), its dimensions, and the number
    of categories that makes each dimension's breakdown complete; None when it has no counts."""
    count = "count"
    if count not in typed.columns or not spec.key or not set(spec.key) <= set(typed.columns):
        return None
    bad_lines = {f.line for f in findings if f.severity == "error"}
    valid = typed[typed[count].notna() & ~typed[LINE].isin(bad_lines)]
    dimensions = spec.columns_where("dimension")
    complete = {}
    for dimension in dimensions:
        codelist = cl.CODELISTS.get(spec.column_meta(dimension).get("codelist", ""))
        complete[dimension] = len(codelist.codes) - 1 if codelist else None  # every category but total
    return valid, dimensions, complete


def _changes_params(localisation, valid: pd.DataFrame, frame: TableFrame, count: str) -> dict:
    """The minimal sets of cells to change, as data: `changes` (alternatives, each a list of
    {line, column, cell, from, to, low, high}), `more_changes` (more sets exist than are
    listed) and `localisation` (the solver's outcome, also when it found nothing in time)."""
    if localisation is None:
        return {}
    from schemas.localise import SOLVED  # loaded by then: a localisation exists

    params: dict = {"localisation": localisation.status}
    if localisation.status != SOLVED or not localisation.alternatives:
        return params
    params["changes"] = [
        [{"line": int(valid[LINE].iat[c.row]), "column": count,
          "cell": frame.location(int(valid[LINE].iat[c.row]), count).cell,
          "from": int(valid[count].iat[c.row]), "to": c.to, "low": c.low, "high": c.high}
         for c in changes]
        for changes in localisation.alternatives]
    params["more_changes"] = localisation.more
    return params


def _submission_rules(result: ValidationResult, file_name: str, listing: Listing,
                      taken: set) -> list[Finding]:
    """The submission sheet: one row, its country as the file name gives it, a valid period,
    and fact years inside it."""
    typed = result.tables.get("submission")
    frame = result.frames.get("submission")
    if typed is None or typed.empty:
        return []
    findings = []
    if len(typed) > 1:
        findings.append(make_finding("too-many-rows", frame=frame, line=int(typed[LINE].iloc[1]),
                                     rows=len(typed)))
    row = typed.iloc[0]
    details = result.details = SubmissionDetails.from_row(row.to_dict())
    named = country_in_file_name(file_name)
    if named and details.valid_country and named != details.valid_country:
        findings.append(make_finding("country-differs-from-file-name", frame=frame,
                                     line=int(row[LINE]), column="country", value=details.country,
                                     file_country=named, cell_country=details.valid_country))
    year_from, year_to = details.year_from, details.year_to
    if year_from is None or year_to is None:
        return findings
    if year_from > year_to:
        findings.append(make_finding("invalid-period", frame=frame, line=int(row[LINE]),
                                     column="year_from", value=year_from,
                                     year_from=year_from, year_to=year_to))
        return findings
    for name in FACT_TABLES:
        table = result.tables.get(name)
        if table is None or "year" not in table.columns:
            continue
        outside = table[table["year"].notna() & ~table["year"].between(year_from, year_to)]
        for year, line in outside[["year", LINE]].itertuples(index=False):
            if (name, int(line), "year") in taken or listing.counted(name, int(line), "year") or not listing.lists(
                    name, "year-outside-period", "year", int(line)):
                continue
            findings.append(listing.made(make_finding(
                "year-outside-period", frame=result.frames[name], line=int(line), column="year",
                value=int(year), year_from=year_from, year_to=year_to)))
    return findings


def _organ_cases_against_victims(result: ValidationResult) -> list[Finding]:
    cases, victims = result.tables.get("organ_removal_cases"), result.tables.get("victims")
    if cases is None or victims is None or cases.empty or victims.empty:
        return []
    reported = victims[
        (victims["form"] == "removal_of_organs") & (victims["sex"] == cl.TOTAL)
        & (victims["age"] == cl.TOTAL) & (victims["citizenship"] == cl.TOTAL)
    ].groupby("year")["count"].sum()
    case_victims = cases.groupby("year")["victims_total"].sum()
    case_lines = cases.groupby("year")[LINE].min()
    findings = []
    for year, in_cases in case_victims.items():
        limit = int(reported.get(year, 0))
        if pd.notna(in_cases) and in_cases > limit:
            findings.append(make_finding(
                "organ-cases-exceed-victims", frame=result.frames["organ_removal_cases"],
                line=int(case_lines[year]), column="victims_total", value=int(in_cases),
                year=int(year), victims=limit))
    return findings


# Within one case, a breakdown and the total it breaks down: (total, its parts summed together).
# The same rule for victims and offenders: counted by sex, or (victims) the children among them.
CASE_BREAKDOWNS = (
    ("victims_total", ("victims_female", "victims_male")),
    ("victims_total", ("victims_children",)),
    ("offenders_total", ("offenders_female", "offenders_male")),
)


# (stage, outcome) that cannot both be true of one case: a warning, since an appeal may have
# turned the outcome round after the stage was recorded.
CONTRADICTIONS = {("conviction", "acquittal"), ("conviction", "dismissed"), ("acquittal", "conviction")}


def _organ_case_rules(result: ValidationResult, today: dt.date) -> list[Finding]:
    """Each case on its own: a breakdown never above its total, an outcome that does not
    contradict the stage, a decision date not in the future and not before the year the case
    is reported for. Cells that already failed (not a
    number, not a date) are empty in the typed table and so not checked again."""
    cases = result.tables.get("organ_removal_cases")
    if cases is None or cases.empty:
        return []
    frame = result.frames["organ_removal_cases"]
    findings = []
    for total_column, part_columns in CASE_BREAKDOWNS:
        parts = cases[list(part_columns)]
        given = parts.notna().any(axis=1) & cases[total_column].notna()
        parts_sum = parts.fillna(0).sum(axis=1)
        exceeding = cases[given & (parts_sum > cases[total_column])]
        for index, row in exceeding.iterrows():
            total = int(row[total_column])
            findings.append(make_finding(
                "case-counts-exceed-total", frame=frame, line=int(row[LINE]), column=total_column,
                value=total, part_columns=list(part_columns), parts_sum=int(parts_sum[index]),
                total=total))
    for outcome, stage, line in cases[["outcome", "stage", LINE]].itertuples(index=False):
        if (stage, outcome) in CONTRADICTIONS:
            findings.append(make_finding("outcome-contradicts-stage", frame=frame, line=int(line),
                                         column="outcome", value=outcome, stage=stage))
    dated = cases[cases["decision_date"].notna()]
    for text, year, line in dated[["decision_date", "year", LINE]].itertuples(index=False):
        date = parsed_date(text)
        if date is None:  # not a date: `invalid-date` already says so
            continue
        if date > today:
            findings.append(make_finding("date-in-future", frame=frame, line=int(line),
                                         column="decision_date", value=text,
                                         today=today.isoformat()))
        elif pd.notna(year) and date.year < int(year):
            findings.append(make_finding("decision-before-case-year", frame=frame, line=int(line),
                                         column="decision_date", value=text, year=int(year)))
    return findings
