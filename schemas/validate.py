"""Turn normalised submission frames into findings and typed tables.

pandera does the per-column and per-row work in two passes, as lessons learned with it
advise: first the types (which cells are not whole numbers), then every value check on what
coerced, so that one bad cell gives one finding and not a cascade. The table-level rules
(parts against totals, the reporting period, organ-removal cases against victims) run on the
typed tables afterwards.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pandera.pandas as pa

from schemas import codelists as cl
from schemas.cross_tables import cross_table_findings
from schemas.findings import LINE, Finding, ParsedSubmission, TableFrame, make_finding
from schemas.tables import FACT_TABLES, MAX_YEAR, MIN_YEAR, TABLES, TableSpec

SUPPRESSED_PATTERN = re.compile(r"^\s*<\s*\d+\s*$")

# Personal data must never reach the warehouse (free-text fields only carry summaries).
# Names are caught where the text itself marks them: a title before a capitalised word (`Mr
# Smith`, `Mme Diallo`), or `named` / `called` / `alias` before one. A bare name in a sentence
# cannot be told from a place or an agency by a pattern; the template asks for none.
_TITLES = r"Mr|Mrs|Ms|Miss|Mx|Dr|Mme|Mlle|Madame|Monsieur|Sr|Sra|Srta|Señor|Señora|Don|Doña|Herr|Frau"
_NAMING = r"named|called|known as|alias|aka|nommée?|appelée?|dit|dite|llamad[oa]|apodad[oa]"
_CAPITALISED = r"[A-ZÀ-ÖØ-Þ][a-zà-öø-ÿ'’-]+"
PERSONAL_DATA_PATTERNS = (
    ("an e-mail address", re.compile(r"[^@\s]+@[^@\s]+\.[A-Za-z]{2,}")),
    ("a telephone number", re.compile(r"(?<![\w/])\+?\d[\d ().-]{7,}\d(?!\w)")),
    ("a passport or identity-card number", re.compile(r"\b[A-Z]{1,2}\d{6,9}\b")),
    ("a passport or identity-card number", re.compile(
        r"(?i)\b(passport|passeport|pasaporte|identity card|id card|national id)\b\W{0,3}"
        r"(no\b\.?|number|n[°º]|#)?\W{0,3}(?=[A-Z0-9-]*\d)[A-Z0-9-]{5,}")),
    ("a date of birth", re.compile(r"(?i)\b(born( on)?|date of birth|d\.?o\.?b\.?|né|née|nacid[oa])\b"
                                   r"\W{0,3}\d{1,4}[./ -]\d{1,2}")),
    ("a personal name", re.compile(rf"\b(?:{_TITLES})\.?\s+{_CAPITALISED}")),
    ("a personal name", re.compile(rf"\b(?:{_NAMING})\s+[\"“'‘]?{_CAPITALISED}(?:\s+{_CAPITALISED})?")),
)


@dataclass
class ValidationResult:
    findings: list[Finding]
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)  # typed, with LINE
    frames: dict[str, TableFrame] = field(default_factory=dict)
    info: dict = field(default_factory=dict)  # the submission row: country, years, contact...

    @property
    def has_errors(self) -> bool:
        return any(f.severity == "error" for f in self.findings)


def validate_submission(parsed: ParsedSubmission) -> ValidationResult:
    findings = list(parsed.read_findings)
    result = ValidationResult(findings=findings, frames=dict(parsed.tables))
    if any(f.rule in ("unreadable-file", "file-too-large") for f in findings):
        return result
    for name, spec in TABLES.items():
        frame = parsed.tables.get(name)
        if frame is None:
            if spec.required:
                findings.append(make_finding("missing-table", table=name))
            continue
        table_findings, typed = validate_table(spec, frame)
        findings.extend(table_findings)
        result.tables[name] = typed
    findings.extend(_submission_rules(result))
    findings.extend(_organ_cases_against_victims(result))
    findings.extend(cross_table_findings(result.tables, result.frames, result.info))
    result.findings = one_per_cell(findings)
    return result


def one_per_cell(findings: list[Finding]) -> list[Finding]:
    """Keep the first finding on each cell: a cell wrong for one reason is not re-reported."""
    seen: set[tuple] = set()
    kept = []
    for finding in findings:
        if finding.line is not None and finding.column is not None:
            cell = (finding.table, finding.line, finding.column)
            if cell in seen:
                continue
            seen.add(cell)
        kept.append(finding)
    return kept


def validate_table(spec: TableSpec, frame: TableFrame) -> tuple[list[Finding], pd.DataFrame]:
    """All single-table rules for one table: the findings, and the typed frame."""
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

    type_findings, typed = _coerce_types(spec, frame, data)
    findings.extend(type_findings)
    already = {(f.line, f.column) for f in type_findings}
    findings.extend(_value_findings(spec, schema, frame, typed, already))
    findings.extend(_parts_against_totals(spec, frame, typed, findings))
    return findings, typed


def _empty_typed(spec: TableSpec) -> pd.DataFrame:
    columns = {c: pd.Series(dtype=_dtype(spec, c)) for c in spec.columns}
    columns[LINE] = pd.Series(dtype="Int64")
    return pd.DataFrame(columns)


def _dtype(spec: TableSpec, column: str) -> str:
    return "Int64" if str(spec.schema.columns[column].dtype) == "Int64" else "str"


def _integer_columns(spec: TableSpec, data: pd.DataFrame) -> list[str]:
    return [c for c in spec.columns if c in data.columns and _dtype(spec, c) == "Int64"]


def _coerce_types(spec: TableSpec, frame: TableFrame, data: pd.DataFrame):
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
        for column, index, value in cases[["column", "index", "failure_case"]].itertuples(index=False):
            line = int(data.at[index, LINE])
            code = "suppressed-value" if SUPPRESSED_PATTERN.match(str(value)) else "not-an-integer"
            findings.append(make_finding(code, frame=frame, line=line, column=column, value=value))
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


def _value_findings(spec, schema, frame, typed, already: set) -> list[Finding]:
    """Pass 2: every value check on the typed frame, one finding per cell."""
    # The table's unique key is checked here with pandas' `duplicated`, not by pandera: at 1M
    # rows pandera's multi-column unique check was two thirds of its time, and its failure
    # cases were only a trigger for `_duplicates` anyway.
    key = [c for c in (schema.unique or []) if c in typed.columns]
    schema = _without_dtypes(schema, typed)
    if schema.unique:
        schema = copy.copy(schema)
        schema.unique = None
    duplicate_rows = bool(key) and bool(
        (typed.duplicated(key, keep=False) & typed[key].notna().all(axis=1)).any())
    try:
        schema.validate(typed, lazy=True)
        cases = None
    except pa.errors.SchemaErrors as errors:
        cases = errors.failure_cases
    findings: list[Finding] = []
    if cases is not None or duplicate_rows:
        seen = set(already)
        cases = cases if cases is not None else pd.DataFrame(columns=["column", "check", "index", "failure_case"])
        for column, check, index, value in cases[["column", "check", "index", "failure_case"]].itertuples(index=False):
            check = str(check)
            if "uniqueness" in check:
                duplicate_rows = True
                continue
            if index is None or pd.isna(index) or check.startswith(("dtype(", "coerce_dtype")):
                continue
            line = int(typed.at[index, LINE])
            if (line, column) in seen:
                continue
            seen.add((line, column))
            findings.append(_finding_for_check(spec, frame, check, column, line, value))
        if duplicate_rows:
            findings.extend(_duplicates(spec, frame, typed))
    findings.extend(_personal_data(spec, frame, typed))
    return findings


def _without_dtypes(schema: pa.DataFrameSchema, typed: pd.DataFrame) -> pa.DataFrameSchema:
    """The same value checks without the dtype check and coercion, when every column already
    has exactly the schema's dtype (as `_coerce_types` leaves them): coercion would change
    nothing, and dtype failures are skipped anyway. pandera formats a message for every string
    column's dtype check even when it passes, which was half of its time on small files."""
    columns = schema.columns
    for name, column in columns.items():
        if name in typed.columns and (column.dtype is None or typed[name].dtype != column.dtype.type):
            return schema
    return _dtype_free(schema)


_DTYPE_FREE: dict[int, tuple[pa.DataFrameSchema, pa.DataFrameSchema]] = {}


def _dtype_free(schema: pa.DataFrameSchema) -> pa.DataFrameSchema:
    cached = _DTYPE_FREE.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    free = schema.update_columns({name: {"dtype": None, "coerce": False} for name in schema.columns})
    free.coerce = False
    free.dtype = None
    if len(_DTYPE_FREE) < 64:  # the schemas of `schemas.tables` (copies with columns removed are rare)
        _DTYPE_FREE[id(schema)] = (schema, free)
    return free


def _finding_for_check(spec, frame, check: str, column: str, line: int, value) -> Finding:
    meta = spec.column_meta(column)
    if check == "not_nullable":
        return make_finding("missing-value", frame=frame, line=line, column=column)
    if check.startswith("country") or (check.startswith("list_items") and meta["list_of"] == "country"):
        return make_finding("unknown-country", frame=frame, line=line, column=column, value=value)
    if check.startswith(("isin", "list_items")):
        codelist = cl.CODELISTS[meta.get("codelist") or meta["list_of"]]
        allowed = ", ".join(codelist.codes)
        return make_finding("unknown-code", frame=frame, line=line, column=column, value=value,
                            allowed=allowed)
    if check.startswith(("greater_than", "less_than", "in_range")):
        if meta.get("count"):
            return make_finding("negative-count", frame=frame, line=line, column=column, value=value)
        return make_finding("year-out-of-range", frame=frame, line=line, column=column, value=value,
                            detail=f"{MIN_YEAR} to {MAX_YEAR}")
    if check.startswith("str_matches"):
        return make_finding("invalid-email", frame=frame, line=line, column=column, value=value)
    if check.startswith("str_length"):
        return make_finding("text-too-long", frame=frame, line=line, column=column,
                            value=str(value)[:80] + "…", detail=len(str(value)),
                            limit=spec.schema.columns[column].checks[0].statistics.get("max_value"))
    return make_finding("invalid-value", frame=frame, line=line, column=column, value=value,
                        detail=check)


def _duplicates(spec: TableSpec, frame: TableFrame, typed: pd.DataFrame) -> list[Finding]:
    """One finding per repeated row (not per key column, not for the first copy)."""
    key = [c for c in (spec.schema.unique or []) if c in typed.columns]
    columns = key or [c for c in spec.columns if spec.schema.columns[c].unique]
    findings = []
    for column in columns if not key else [None]:
        subset = key or [column]
        repeated = typed.duplicated(subset, keep=False) & typed[subset].notna().all(axis=1)
        if not repeated.any():
            continue
        first_line = typed[repeated].groupby(subset, dropna=False)[LINE].transform("min")
        for index, first in first_line.items():
            line = int(typed.at[index, LINE])
            if line != first:
                findings.append(make_finding(
                    "duplicate-key", frame=frame, line=line, column=subset[0],
                    value=" / ".join(str(typed.at[index, c]) for c in subset),
                    detail=int(first), key=", ".join(subset)))
    return findings


def _personal_data(spec: TableSpec, frame: TableFrame, typed: pd.DataFrame) -> list[Finding]:
    findings = []
    for column in spec.columns_where("free_text"):
        texts = typed[column].dropna()
        for index, text in texts.items():
            for what, pattern in PERSONAL_DATA_PATTERNS:
                if pattern.search(str(text)):
                    findings.append(make_finding(
                        "personal-data", frame=frame, line=int(typed.at[index, LINE]),
                        column=column, value="(withheld)", detail=what))
                    break
    return findings


def _parts_against_totals(spec, frame, typed, findings) -> list[Finding]:
    """Within a table, the categories of each dimension against that dimension's `total` row."""
    count = "count"
    if count not in typed.columns or not spec.key or not set(spec.key) <= set(typed.columns):
        return []
    bad_lines = {f.line for f in findings if f.severity == "error"}
    valid = typed[typed[count].notna() & ~typed[LINE].isin(bad_lines)]
    out: list[Finding] = []
    counts = valid[count].to_numpy(dtype="float64")
    # each key column as integer codes, once per table (NA is a code of its own, as it is a
    # group of its own in `groupby(dropna=False)`)
    codes = {c: pd.factorize(valid[c], use_na_sentinel=False)[0].astype("int64") for c in spec.key}
    for dimension in spec.columns_where("dimension"):
        others = [c for c in spec.key if c != dimension]
        is_total = (valid[dimension] == cl.TOTAL).to_numpy(dtype=bool, na_value=False)
        if not is_total.any() or is_total.all():
            continue
        # One integer per combination of the other key columns: sums and counts per group are
        # then bincounts, with no join (per table, joins on string keys cost 20 ms each; at
        # 1M rows iterating every total in Python took 40 s). Only failing totals are looked
        # at one by one.
        # (the same groups as `groupby(others, dropna=False).ngroup()`, from the codes: 10x
        # faster on the small files of a scheduled run)
        group = _combined_codes([codes[c] for c in others])
        groups = int(group.max()) + 1
        parts = ~is_total
        parts_sum = np.bincount(group[parts], weights=counts[parts], minlength=groups)
        has_parts = np.bincount(group[parts], minlength=groups) > 0
        values = codes[dimension]
        pairs = pd.unique(group[parts] * (int(values.max()) + 1) + values[parts])  # distinct (group, value)
        n_parts = np.bincount(pairs // (int(values.max()) + 1), minlength=groups)
        codelist = cl.CODELISTS.get(spec.column_meta(dimension).get("codelist", ""))
        complete = len(codelist.codes) - 1 if codelist else None  # every category but total
        total_rows = np.flatnonzero(is_total & has_parts[group])
        total_groups = group[total_rows]
        sums, totals = parts_sum[total_groups], counts[total_rows]
        failing = sums > totals
        if complete:
            failing |= (n_parts[total_groups] == complete) & (sums != totals)
        if not failing.any():
            continue
        rows = total_rows[failing]
        in_failing = parts & np.isin(group, group[rows])
        names = pd.Series(valid[dimension].to_numpy()[in_failing]).groupby(group[in_failing]).agg(
            lambda s: ", ".join(sorted(s)))
        keys = valid[others].iloc[rows].itertuples(index=False, name=None)
        lines = valid[LINE].to_numpy()[rows]
        for row, key, line in zip(rows, keys, lines):
            context = ", ".join(f"{c} {v}" for c, v in zip(others, key))
            total, part_sum, line = int(counts[row]), int(round(parts_sum[group[row]])), int(line)
            detail = dict(dimension=dimension, parts=names[group[row]], parts_sum=part_sum,
                          total=total, context=context)
            if part_sum > total:
                out.append(make_finding("parts-exceed-total", frame=frame, line=line,
                                        column=count, value=total, **detail))
            else:
                out.append(make_finding("parts-differ-from-total", frame=frame, line=line,
                                        column=count, value=total, **detail))
    return out


def _combined_codes(columns: list[np.ndarray]) -> np.ndarray:
    """One integer per distinct combination of the columns' codes, numbered from 0."""
    combined = np.zeros(len(columns[0]) if columns else 0, dtype="int64")
    for column in columns:
        combined = combined * (int(column.max()) + 1) + column
        combined = pd.factorize(combined)[0].astype("int64")  # stays below the row count
    return combined


def _submission_rules(result: ValidationResult) -> list[Finding]:
    """The submission sheet: one row, a valid period, and fact years inside it."""
    typed = result.tables.get("submission")
    frame = result.frames.get("submission")
    if typed is None or typed.empty:
        return []
    findings = []
    if len(typed) > 1:
        findings.append(make_finding("too-many-rows", frame=frame, line=int(typed[LINE].iloc[1]),
                                     detail=len(typed)))
    row = typed.iloc[0]
    info = {c: (None if pd.isna(row[c]) else row[c]) for c in typed.columns if c != LINE}
    info["language"] = info.get("language") or "en"
    result.info = info
    year_from, year_to = info.get("year_from"), info.get("year_to")
    if year_from is None or year_to is None:
        return findings
    if year_from > year_to:
        findings.append(make_finding("invalid-period", frame=frame, line=int(row[LINE]),
                                     column="year_from", value=year_from,
                                     detail=f"{year_from}, after {year_to}"))
        return findings
    for name in FACT_TABLES:
        table = result.tables.get(name)
        if table is None or "year" not in table.columns:
            continue
        outside = table[table["year"].notna() & ~table["year"].between(year_from, year_to)]
        for year, line in outside[["year", LINE]].itertuples(index=False):
            findings.append(make_finding("year-outside-period", frame=result.frames[name],
                                         line=int(line), column="year", value=int(year),
                                         detail=f"{year_from}-{year_to}"))
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
                detail=int(year), limit=limit))
    return findings
