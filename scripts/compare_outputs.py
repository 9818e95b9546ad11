#!/usr/bin/env python3
"""Prove that a renovation of the pipeline changed no behaviour except the listed fixes.

Drives a checkout of the pipeline ONLY through its command line (`cli.py validate`,
`cli.py ingest`, `cli.py import-published`) and its output files (reports, DuckDB warehouse),
so the same script works on the code before and after any refactoring. Three subcommands:

    # 1. a deterministic corpus: the sample submissions plus ~300 corrupted variants (seed 2026)
    python scripts/compare_outputs.py corpus --samples sample_submissions --out /tmp/cmp/corpus
    # 2. run every command of each version on that corpus; normalised JSON under OUT/dump/
    git worktree add ../before <commit before the change>   # with its own venv
    python scripts/compare_outputs.py dump --checkout ../before \\
        --python ../before/.venv/bin/python --corpus /tmp/cmp/corpus --out /tmp/cmp/before
    python scripts/compare_outputs.py dump --checkout . \\
        --python .venv/bin/python --corpus /tmp/cmp/corpus --out /tmp/cmp/after
    # 3. differences grouped by kind; exit 1 if any
    python scripts/compare_outputs.py diff /tmp/cmp/before /tmp/cmp/after \\
        [--ignore-field message] [--ignore-table ingestion_runs] [--ignore-kind 'validate*html*']

`dump --limit N` runs only the first N corpus entries (to try the script: a full dump takes
about 20 minutes on 2 cores). Keep --out short (under ~25 characters): rich prints the ingest
outcomes in a 200-column table, and a longer path makes it wrap (`diff` then reports a
"stdout layout only" difference, which is harmless).

Run it with any Python that has openpyxl (e.g. .venv/bin/python). The warehouse is read with
duckdb from the --python interpreter (the checkout's own DuckDB version). Every command gets
a timeout; a crash or timeout is recorded in the dump (exit code, last lines of stderr), never
fatal. Nothing is written outside --out (commands run with cwd=<checkout>, but with explicit
--db/--reports/--archive under --out, PYTHONDONTWRITEBYTECODE=1, and PREFECT_HOME/TMPDIR under
--out).
"""

from __future__ import annotations

# What `dump` normalises before writing (each item: one JSON file, sorted keys). `diff`
# compares the normalised values as they are.
NORMALISATIONS = [
    "timestamps: values of keys/columns received_at, imported_at, started_at, finished_at, "
    "superseded_at, loaded_at, created_at, updated_at and the e-mail Date header -> '<timestamp>' "
    "(NULL stays null)",
    "any ISO date-time inside a string (YYYY-MM-DD[T ]HH:MM[:SS[.f]][tz]) -> '<timestamp>'; "
    "plain dates (export dates, data years) are kept",
    "ingestion run ids run-YYYYMMDDTHHMMSS-xxxxxx -> '<run-N>' (N: order of started_at in "
    "ingestion_runs; unknown ones '<run-id>'); import run ids import-... -> '<import-run-N>'",
    "flow_run_id -> '<flow-run-id>'; any other UUID in a string -> '<uuid>'",
    "absolute paths: the --out dir -> '<OUT>', the corpus dir -> '<CORPUS>', the checkout -> "
    "'<CHECKOUT>', the --python -> '<PYTHON>' (longest prefix first, real and given spellings)",
    "parquet-YYYYMMDDTHHMMSSffffff version folders -> 'parquet-<version>'",
    "keys `seconds`, `elapsed_seconds`, `duration_seconds` -> '<seconds>'; 'N.N s' in console "
    "output -> '<n> s'",
    "message.eml: Date and Message-ID headers dropped, MIME boundary -> '<boundary>'; parts "
    "parsed with the email package (plain-text body kept, attachments by name, type and, for "
    "text, the sha256 of their normalised text)",
    "console output (stdout): box-drawing table borders dropped, runs of spaces collapsed, "
    "empty lines dropped; stderr kept (last 40 lines) only when a command crashed, timed out or "
    "exited with an unexpected code, plus Prefect ERROR/WARNING lines without time and run names",
    "warehouse: every base table of schema main, rows as {column: value}, sorted by their JSON; "
    "TIMESTAMP/DATE as ISO text, DECIMAL as text, BLOB as hex, NaN/inf as text; VARCHAR values "
    "holding a JSON object/array (e.g. published_imports.stats) are parsed and normalised",
    "sha256 values (of submitted and generated files) are kept: they are stable",
]

import argparse
import csv
import email
import email.policy
import fnmatch
import hashlib
import html.parser
import io
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

LANGUAGES = ["ar", "zh", "en", "fr", "ru", "es"]
VALIDATE_TIMEOUT = 120
INGEST_TIMEOUT = 1200
IMPORT_TIMEOUT = 1200
DB_DUMP_TIMEOUT = 600
SEED = 2026
CORPUS_SIZE = 300
MANIFEST = "_manifest.json"  # `_` prefix: ingest's discover() skips it

# =============================================================================================
# corpus
# =============================================================================================

FIXED_ZIP_TIME = (2025, 4, 14, 0, 0, 0)
FIXED_CORE_TIME = "2025-04-14T00:00:00Z"

# The template's data sheets, by role, and their columns (1-based positions are the same in
# all six languages of the template; sheets are found by English name or by position).
ROLE_ORDER = ["submission", "victims", "offenders", "repatriated", "organ_removal_cases"]
COLUMNS = {
    "submission": ["country", "year_from", "year_to", "institution", "contact_email", "language",
                   "template_version"],
    "victims": ["year", "sex", "age", "form", "citizenship", "count"],
    "offenders": ["year", "stage", "sex", "age", "citizenship", "form", "count"],
    "repatriated": ["year", "country_of_detection", "sex", "age", "count"],
    "organ_removal_cases": ["case_reference", "year", "stage", "victims_total", "victims_female",
                            "victims_male", "victims_children", "victims_citizenship",
                            "material_removed", "recruitment_countries", "removal_countries",
                            "recipient_countries", "medical_professionals_involved",
                            "court_decision_reference", "summary"],
}
CODE_COLUMNS = {
    "victims": ["sex", "age", "form", "citizenship"],
    "offenders": ["stage", "sex", "age", "citizenship", "form"],
    "repatriated": ["country_of_detection", "sex", "age"],
    "organ_removal_cases": ["stage", "material_removed", "medical_professionals_involved",
                            "victims_citizenship", "removal_countries"],
}
COUNT_TABLES = ["victims", "offenders", "repatriated"]
DATA_TABLES = ["victims", "offenders", "repatriated", "organ_removal_cases"]

COUNT_TEXTS = ["<5", "abc", "-3", "12.5", "1,234", " 7 ", "1 234", "3.0", "n/a", "1e3", "٣",
               "ten", "10 000", "-0", "<5", "1,234", "12.5", "abc", "-3"]
UNKNOWN_CODES = ["femal", "abc", "Martian", "zzz", "n/a", "unknown sex", "FEMALE ", "Féminin",
                 "أنثى", "女", "0-17", "Other", "Philipines", "Atlantis", "kidny"]
BAD_YEARS = [1850, 2999, 0, -2022, "2022a", 20222, 2022.5, "twenty", "1899", 3000]
COUNTRIES = ["Thaïlande", "Viet Nam", "XXX", "../", "Thaïlande", "Viet Nam", "XXX", "../",
             "..\\..", "", "Côte d’Ivoire", "tha", "Thailand; Viet Nam", "Türkiye",
             "Republic of Korea", "/etc", "ÜÜÜ", "Mexique", "Nigéria", "United States"]
REPORT_LANGUAGES = ["fr", "ar", "zh", "ru", "es", "fr", "ar", "zh", "ru", "es", "xx", "Deutsch",
                    "FR", "Français", "русский", ""]
PII_TEXTS = [
    "The victim can be reached at maria.lopez@example.com for further details.",
    "Call the broker on +66 81 234 5678 or 081-234-5678.",
    "Mr Smith recruited the victim and Mrs Jones arranged the surgery.",
    "Victim: Somchai Prasert, passport no. AA1234567, born 12/03/1990.",
    "Contact Dr. Ahmed at +20 2 2345 6789, ahmed@clinic.example.org.",
]
EMAILS = ["", "a@b", "x@y.org; z@w.org", "focal point@x.org", "mailto:fp@x.org",
          "focal.point[at]x.org", "=HYPERLINK(\"http://x\")"]
SHEET_RENAMES = ["Sheet1", "Victims", "victims ", "victimes", "Data", "offenders (2)", "Hoja1"]
EXTRA_HEADERS = ["notes", "comment", "Unnamed: 7", "count", "remarks", "source"]


def _zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    """A zip with fixed timestamps, so that the same content always gives the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def _deterministic_xlsx(workbook) -> bytes:
    """Save with openpyxl, then re-pack with fixed zip times and document properties."""
    try:
        import datetime as _dt
        fixed = _dt.datetime(2025, 4, 14)
        workbook.properties.created = fixed
        workbook.properties.modified = fixed
    except Exception:  # noqa: BLE001
        pass
    buffer = io.BytesIO()
    workbook.save(buffer)
    members = []
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as archive:
        for info in archive.infolist():
            data = archive.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)",
                              rb"\g<1>" + FIXED_CORE_TIME.encode() + rb"\g<2>", data)
            members.append((info.filename, data))
    return _zip_bytes(members)


def _last_row(ws, ncols: int) -> int:
    last = 1
    for row in ws.iter_rows(min_row=1, max_col=max(ncols, 1)):
        if any(c.value not in (None, "") for c in row):
            last = row[0].row
    return last


def _roles(workbook) -> dict:
    """role -> worksheet for the template's data sheets (English names, else by position)."""
    roles = {}
    for ws in workbook.worksheets:
        if ws.title in COLUMNS:
            roles[ws.title] = ws
    if len(roles) < len(ROLE_ORDER) and len(workbook.worksheets) == 7:
        for role, ws in zip(ROLE_ORDER, workbook.worksheets[2:]):
            roles.setdefault(role, ws)
    return roles


def _col(role: str, name: str) -> int:
    return COLUMNS[role].index(name) + 1


def _period(roles) -> tuple[int, int]:
    ws = roles.get("submission")
    try:
        return int(ws.cell(2, 2).value), int(ws.cell(2, 3).value)
    except Exception:  # noqa: BLE001
        return 2022, 2022


def _with_rows(roles, tables) -> list[str]:
    return [t for t in tables if t in roles and _last_row(roles[t], len(COLUMNS[t])) >= 2]


def _pick_data_cell(rng, roles, tables, column=None):
    options = _with_rows(roles, tables)
    if not options:
        return None
    role = rng.choice(options)
    ws = roles[role]
    row = rng.randint(2, _last_row(ws, len(COLUMNS[role])))
    col = _col(role, column(role) if callable(column) else column) if column else rng.randint(1, len(COLUMNS[role]))
    return role, ws, row, col


def x_blank(wb, roles, rng):
    picked = _pick_data_cell(rng, roles, ["submission"] + DATA_TABLES)
    if not picked:
        return None
    role, ws, row, col = picked
    ws.cell(row, col).value = None
    return "blank", f"{role}!{ws.cell(row, col).coordinate} blanked"


def x_count_text(wb, roles, rng):
    picked = _pick_data_cell(rng, roles, COUNT_TABLES, "count")
    if not picked:
        return None
    role, ws, row, col = picked
    value = rng.choice(COUNT_TEXTS)
    ws.cell(row, col).value = value
    return "count-text", f"{role}!{ws.cell(row, col).coordinate} = {value!r}"


def x_unknown_code(wb, roles, rng):
    picked = _pick_data_cell(rng, roles, list(CODE_COLUMNS), lambda r: rng.choice(CODE_COLUMNS[r]))
    if not picked:
        return None
    role, ws, row, col = picked
    value = rng.choice(UNKNOWN_CODES)
    ws.cell(row, col).value = value
    return "unknown-code", f"{role}!{ws.cell(row, col).coordinate} = {value!r}"


def x_bad_year(wb, roles, rng):
    picked = _pick_data_cell(rng, roles, DATA_TABLES, "year")
    if not picked:
        return None
    role, ws, row, col = picked
    value = rng.choice(BAD_YEARS)
    ws.cell(row, col).value = value
    return "bad-year", f"{role}!{ws.cell(row, col).coordinate} = {value!r}"


def x_year_outside(wb, roles, rng):
    picked = _pick_data_cell(rng, roles, DATA_TABLES, "year")
    if not picked:
        return None
    role, ws, row, col = picked
    year_from, year_to = _period(roles)
    value = rng.choice([year_from - 1, year_from - 3, year_to + 1])
    ws.cell(row, col).value = value
    return "year-outside", f"{role}!{ws.cell(row, col).coordinate} = {value!r}"


def x_dup_row(wb, roles, rng):
    options = _with_rows(roles, DATA_TABLES)
    if not options:
        return None
    role = rng.choice(options)
    ws = roles[role]
    ncols = len(COLUMNS[role])
    last = _last_row(ws, ncols)
    row = rng.randint(2, last)
    for col in range(1, ncols + 1):
        ws.cell(last + 1, col).value = ws.cell(row, col).value
    return "dup-row", f"{role} row {row} repeated as row {last + 1}"


def x_del_header(wb, roles, rng):
    options = [r for r in ["submission"] + DATA_TABLES if r in roles]
    if not options:
        return None
    role = rng.choice(options)
    col = rng.randint(1, len(COLUMNS[role]))
    roles[role].cell(1, col).value = None
    return "del-header", f"{role} header {COLUMNS[role][col - 1]} deleted"


def x_rename_header(wb, roles, rng):
    options = [r for r in DATA_TABLES if r in roles]
    if not options:
        return None
    role = rng.choice(options)
    col = rng.randint(1, len(COLUMNS[role]))
    value = rng.choice(["Sexe", "colour", "Count ", "YEAR", "nationality", "Âge"])
    roles[role].cell(1, col).value = value
    return "rename-header", f"{role} header {COLUMNS[role][col - 1]} -> {value!r}"


def x_rename_sheet(wb, roles, rng):
    options = [r for r in ["submission"] + DATA_TABLES if r in roles]
    if not options:
        return None
    role = rng.choice(options)
    candidates = [n for n in SHEET_RENAMES if n not in wb.sheetnames]
    name = rng.choice(candidates)
    old = roles[role].title
    roles[role].title = name
    return "rename-sheet", f"sheet {old!r} renamed {name!r}"


def x_extra_col(wb, roles, rng):
    options = _with_rows(roles, DATA_TABLES) or [r for r in DATA_TABLES if r in roles]
    if not options:
        return None
    role = rng.choice(options)
    ws = roles[role]
    col = len(COLUMNS[role]) + 1
    header = rng.choice(EXTRA_HEADERS)
    ws.cell(1, col).value = header
    for row in range(2, _last_row(ws, len(COLUMNS[role])) + 1):
        ws.cell(row, col).value = rng.choice(["checked", "", "see note", 3])
    return "extra-col", f"{role} column {header!r} added"


def x_pii(wb, roles, rng):
    text = rng.choice(PII_TEXTS)
    ws = roles.get("organ_removal_cases")
    if ws is None:
        sub = roles.get("submission")
        if sub is None:
            return None
        sub.cell(2, 4).value = text
        return "pii", f"submission institution = {text!r}"
    col = _col("organ_removal_cases", "summary")
    last = _last_row(ws, len(COLUMNS["organ_removal_cases"]))
    if last >= 2:
        row = rng.randint(2, last)
    else:
        year_from, _ = _period(roles)
        row = 2
        for name, value in zip(COLUMNS["organ_removal_cases"],
                               ["CASE-1", year_from, "investigation", 1, 1, 0, 0, "unknown",
                                "kidney", "unknown", "unknown", "unknown", "unknown", None, None]):
            ws.cell(row, _col("organ_removal_cases", name)).value = value
    ws.cell(row, col).value = text
    return "pii", f"organ_removal_cases!{ws.cell(row, col).coordinate} = {text!r}"


def x_country(wb, roles, rng):
    ws = roles.get("submission")
    if ws is None:
        return None
    value = rng.choice(COUNTRIES)
    ws.cell(2, 1).value = value
    return "country", f"submission country = {value!r}"


def x_language(wb, roles, rng):
    ws = roles.get("submission")
    if ws is None:
        return None
    value = rng.choice(REPORT_LANGUAGES)
    ws.cell(2, 6).value = value
    return "lang", f"submission language = {value!r}"


def x_remove_sheet(wb, roles, rng):
    if len(wb.worksheets) < 2:
        return None
    weights = [3 if ws in roles.values() else 1 for ws in wb.worksheets]
    ws = rng.choices(wb.worksheets, weights)[0]
    title = ws.title
    wb.remove(ws)
    for role in [r for r, sheet in roles.items() if sheet is ws]:
        del roles[role]
    return "rm-sheet", f"sheet {title!r} removed"


def x_email(wb, roles, rng):
    ws = roles.get("submission")
    if ws is None:
        return None
    value = rng.choice(EMAILS)
    ws.cell(2, 5).value = value
    return "email", f"contact_email = {value!r}"


def x_period(wb, roles, rng):
    ws = roles.get("submission")
    if ws is None:
        return None
    year_from, year_to = _period(roles)
    choice = rng.randrange(4)
    if choice == 0:
        ws.cell(2, 2).value, ws.cell(2, 3).value = year_to + 1, year_from
        what = "year_from after year_to"
    elif choice == 1:
        ws.cell(2, 2).value = None
        what = "year_from empty"
    elif choice == 2:
        ws.cell(2, 3).value = "2022/2023"
        what = "year_to '2022/2023'"
    else:
        ws.cell(2, 2).value, ws.cell(2, 3).value = 1990, 2050
        what = "period 1990-2050"
    return "period", what


def x_big_count(wb, roles, rng):
    import datetime as _dt
    picked = _pick_data_cell(rng, roles, COUNT_TABLES, "count")
    if not picked:
        return None
    role, ws, row, col = picked
    value = rng.choice([10**13, 2**63, True, _dt.datetime(2022, 1, 1), 1e308, 0.0000001, 3.0])
    ws.cell(row, col).value = value
    return "big-count", f"{role}!{ws.cell(row, col).coordinate} = {value!r}"


def x_totals_row(wb, roles, rng):
    options = _with_rows(roles, COUNT_TABLES)
    if not options:
        return None
    role = rng.choice(options)
    ws = roles[role]
    ncols = len(COLUMNS[role])
    last = _last_row(ws, ncols)
    total = 0
    for row in range(2, last + 1):
        value = ws.cell(row, ncols).value
        total += value if isinstance(value, int) else 0
    ws.cell(last + 1, 1).value = rng.choice(["Total", "TOTAL", "Sum", "Grand total"])
    ws.cell(last + 1, ncols).value = total
    return "totals-row", f"{role} totals row at {last + 1}"


def x_gap(wb, roles, rng):
    options = [r for r in _with_rows(roles, DATA_TABLES) if _last_row(roles[r], len(COLUMNS[r])) >= 3]
    if not options:
        return None
    role = rng.choice(options)
    ws = roles[role]
    row = rng.randint(3, _last_row(ws, len(COLUMNS[role])))
    ws.insert_rows(row, 3)
    return "gap", f"{role}: 3 empty rows inserted at {row}"


def x_hidden(wb, roles, rng):
    options = [r for r in ["submission"] + DATA_TABLES if r in roles]
    if not options:
        return None
    role = rng.choice(options)
    roles[role].sheet_state = "hidden"
    return "hidden", f"sheet {roles[role].title!r} hidden"


def x_long_text(wb, roles, rng):
    ws = roles.get("submission")
    if ws is None:
        return None
    ws.cell(2, 4).value = "Institution " * rng.choice([100, 2000])
    return "long-text", "institution very long"


def x_formula(wb, roles, rng):
    picked = _pick_data_cell(rng, roles, COUNT_TABLES, "count")
    if not picked:
        return None
    role, ws, row, col = picked
    value = rng.choice(["=1+2", "=SUM(A1:A2)", "=HYPERLINK(\"http://example.org\",\"x\")"])
    ws.cell(row, col).value = value
    return "formula", f"{role}!{ws.cell(row, col).coordinate} = {value!r}"


def x_empty_table(wb, roles, rng):
    options = _with_rows(roles, DATA_TABLES)
    if not options:
        return None
    role = rng.choice(options)
    ws = roles[role]
    ws.delete_rows(2, _last_row(ws, len(COLUMNS[role])))
    return "empty-table", f"{role}: all rows deleted"


def x_text_number(wb, roles, rng):
    picked = _pick_data_cell(rng, roles, COUNT_TABLES, lambda r: rng.choice(["year", "count"]))
    if not picked:
        return None
    role, ws, row, col = picked
    value = ws.cell(row, col).value
    ws.cell(row, col).value = f"{value}" if value is not None else "5"
    return "text-number", f"{role}!{ws.cell(row, col).coordinate} as text"


# (function, weight): the mutations the brief asks for weigh most.
XLSX_MUTATIONS = [
    (x_blank, 6), (x_count_text, 10), (x_unknown_code, 7), (x_bad_year, 5), (x_year_outside, 5),
    (x_dup_row, 5), (x_del_header, 4), (x_rename_sheet, 4), (x_extra_col, 4), (x_pii, 5),
    (x_country, 7), (x_language, 6), (x_remove_sheet, 4), (x_email, 2), (x_period, 2),
    (x_big_count, 2), (x_totals_row, 2), (x_gap, 2), (x_hidden, 1), (x_long_text, 1),
    (x_formula, 1), (x_empty_table, 1), (x_text_number, 1), (x_rename_header, 2),
]


def _mutation_count(rng) -> int:
    r = rng.random()
    return 1 if r < 0.6 else 2 if r < 0.9 else 3


def _apply(rng, table, *args) -> list[tuple[str, str]]:
    done = []
    wanted = _mutation_count(rng)
    attempts = 0
    functions, weights = zip(*table)
    while len(done) < wanted and attempts < 20:
        attempts += 1
        result = rng.choices(functions, weights)[0](*args, rng)
        if result:
            done.append(result)
    return done


# -- CSV submissions (folder or zip of CSVs) ---------------------------------------------------

@dataclass
class CsvSubmission:
    files: dict  # name -> list of rows (lists of str); [] is an empty line
    delimiter: str = ","
    encoding: str = "utf-8"
    bom: bool = False
    newline: str = "\n"
    quote_all: bool = False
    per_file_delimiter: dict = field(default_factory=dict)
    package: str = "folder"  # folder, zip, zip-nested, zip-junk
    extra_files: dict = field(default_factory=dict)  # name -> bytes

    def render(self) -> dict:
        out = {}
        for name, rows in self.files.items():
            buffer = io.StringIO()
            writer = csv.writer(buffer, delimiter=self.per_file_delimiter.get(name, self.delimiter),
                                lineterminator=self.newline,
                                quoting=csv.QUOTE_ALL if self.quote_all else csv.QUOTE_MINIMAL)
            for row in rows:
                writer.writerow(row)
            data = buffer.getvalue().encode(self.encoding, errors="replace")
            if self.bom and self.encoding == "utf-8":
                data = b"\xef\xbb\xbf" + data
            out[name] = data
        out.update(self.extra_files)
        return out


def _read_csv_sample(path: Path) -> CsvSubmission:
    if path.is_dir():
        raw = {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}
        package = "folder"
    else:
        with zipfile.ZipFile(path) as archive:
            raw = {Path(n).name: archive.read(n) for n in archive.namelist() if not n.endswith("/")}
        package = "zip"
    bom = any(data.startswith(b"\xef\xbb\xbf") for data in raw.values())
    files, delimiter = {}, ","
    for name, data in raw.items():
        text = data.decode("utf-8-sig")
        first = text.splitlines()[0] if text else ""
        delimiter = ";" if first.count(";") > first.count(",") else ","
        files[name] = [row for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    return CsvSubmission(files=files, delimiter=delimiter, bom=bom, package=package)


def _csv_table(sub: CsvSubmission, rng, names=None, need_rows=True):
    options = [n for n in sub.files if (names is None or n.split(".")[0] in names)
               and sub.files[n] and (len(sub.files[n]) > 1 or not need_rows)]
    if not options:
        return None
    return rng.choice(options)


def _csv_column(sub, name, column) -> int | None:
    header = sub.files[name][0] if sub.files[name] else []
    return header.index(column) if column in header else None


def _csv_cell(sub, rng, names, columns):
    name = _csv_table(sub, rng, names)
    if not name:
        return None
    header = sub.files[name][0]
    candidates = [c for c in columns if c in header] if columns else list(header)
    if not candidates:
        return None
    column = rng.choice(candidates)
    index = header.index(column)
    rows = [i for i, row in enumerate(sub.files[name]) if i > 0 and len(row) > index]
    if not rows:
        return None
    return name, rng.choice(rows), index, column


def c_delimiter(sub, rng):
    value = rng.choice([";", ",", "\t", "|"])
    if rng.random() < 0.3:
        name = rng.choice(list(sub.files))
        sub.per_file_delimiter[name] = value
        return "delim", f"{name} delimited by {value!r}"
    sub.delimiter = value
    return "delim", f"all files delimited by {value!r}"


def c_cp1252(sub, rng):
    sub.encoding = rng.choice(["cp1252", "cp1252", "latin-1"])
    sub.bom = False
    return "cp1252", f"encoded {sub.encoding}"


def c_utf16(sub, rng):
    sub.encoding = "utf-16"
    return "utf16", "encoded utf-16"


def c_bom(sub, rng):
    sub.bom = not sub.bom
    return "bom", f"BOM {'added' if sub.bom else 'removed'}"


def c_blank_lines(sub, rng):
    name = _csv_table(sub, rng)
    if not name:
        return None
    rows = sub.files[name]
    where = rng.choice(["end", "middle", "start-after-header"])
    if where == "end":
        rows.extend([[], []])
    elif where == "middle":
        rows.insert(rng.randint(1, len(rows)), [])
    else:
        rows.insert(1, [])
    return "blank-lines", f"{name}: blank lines at {where}"


def c_ragged(sub, rng):
    name = _csv_table(sub, rng)
    if not name:
        return None
    rows = sub.files[name]
    index = rng.randint(1, len(rows) - 1)
    if rows[index] and rng.random() < 0.5:
        rows[index] = rows[index][:-1]
        return "ragged", f"{name} line {index + 1}: one field short"
    rows[index] = rows[index] + ["extra"]
    return "ragged", f"{name} line {index + 1}: one field too many"


def c_totals_row(sub, rng):
    name = _csv_table(sub, rng, COUNT_TABLES)
    if not name:
        return None
    width = len(sub.files[name][0])
    sub.files[name].append(["Total"] + [""] * (width - 2) + ["99"])
    return "totals-row", f"{name}: row Total{',' * (width - 1)}99"


def c_crlf(sub, rng):
    sub.newline = rng.choice(["\r\n", "\r"])
    return "crlf", f"line endings {sub.newline!r}"


def c_quote_all(sub, rng):
    sub.quote_all = True
    return "quoted", "every field quoted"


def c_blank(sub, rng):
    picked = _csv_cell(sub, rng, None, None)
    if not picked:
        return None
    name, row, index, column = picked
    sub.files[name][row][index] = ""
    return "blank", f"{name} line {row + 1} {column} blanked"


def c_count_text(sub, rng):
    picked = _csv_cell(sub, rng, COUNT_TABLES, ["count"])
    if not picked:
        return None
    name, row, index, column = picked
    value = rng.choice(COUNT_TEXTS)
    sub.files[name][row][index] = value
    return "count-text", f"{name} line {row + 1} count = {value!r}"


def c_unknown_code(sub, rng):
    picked = _csv_cell(sub, rng, list(CODE_COLUMNS), ["sex", "age", "form", "citizenship", "stage",
                                                      "country_of_detection"])
    if not picked:
        return None
    name, row, index, column = picked
    value = rng.choice(UNKNOWN_CODES)
    sub.files[name][row][index] = value
    return "unknown-code", f"{name} line {row + 1} {column} = {value!r}"


def c_bad_year(sub, rng):
    picked = _csv_cell(sub, rng, DATA_TABLES, ["year"])
    if not picked:
        return None
    name, row, index, column = picked
    value = str(rng.choice(BAD_YEARS))
    sub.files[name][row][index] = value
    return "bad-year", f"{name} line {row + 1} year = {value!r}"


def c_year_outside(sub, rng):
    picked = _csv_cell(sub, rng, DATA_TABLES, ["year"])
    if not picked:
        return None
    name, row, index, column = picked
    try:
        year = int(sub.files[name][row][index])
    except ValueError:
        year = 2022
    value = str(rng.choice([year - 5, year + 3]))
    sub.files[name][row][index] = value
    return "year-outside", f"{name} line {row + 1} year = {value!r}"


def c_dup_row(sub, rng):
    name = _csv_table(sub, rng, DATA_TABLES)
    if not name:
        return None
    rows = sub.files[name]
    index = rng.randint(1, len(rows) - 1)
    rows.insert(rng.randint(index, len(rows)), list(rows[index]))
    return "dup-row", f"{name} line {index + 1} repeated"


def c_del_header(sub, rng):
    name = _csv_table(sub, rng, need_rows=False)
    if not name:
        return None
    header = sub.files[name][0]
    index = rng.randrange(len(header))
    old = header[index]
    header[index] = ""
    return "del-header", f"{name} header {old!r} deleted"


def c_extra_col(sub, rng):
    name = _csv_table(sub, rng)
    if not name:
        return None
    header = rng.choice(EXTRA_HEADERS)
    for i, row in enumerate(sub.files[name]):
        if row:
            row.append(header if i == 0 else rng.choice(["x", "", "3"]))
    return "extra-col", f"{name} column {header!r} added"


def c_country(sub, rng):
    index = _csv_column(sub, "submission.csv", "country") if "submission.csv" in sub.files else None
    if index is None or len(sub.files["submission.csv"]) < 2:
        return None
    value = rng.choice(COUNTRIES)
    sub.files["submission.csv"][1][index] = value
    return "country", f"submission country = {value!r}"


def c_language(sub, rng):
    index = _csv_column(sub, "submission.csv", "language") if "submission.csv" in sub.files else None
    if index is None or len(sub.files["submission.csv"]) < 2:
        return None
    value = rng.choice(REPORT_LANGUAGES)
    sub.files["submission.csv"][1][index] = value
    return "lang", f"submission language = {value!r}"


def c_pii(sub, rng):
    text = rng.choice(PII_TEXTS)
    if rng.random() < 0.5 and "submission.csv" in sub.files:
        index = _csv_column(sub, "submission.csv", "institution")
        if index is not None and len(sub.files["submission.csv"]) > 1:
            sub.files["submission.csv"][1][index] = text
            return "pii", f"institution = {text!r}"
    year = "2022"
    for rows in sub.files.values():
        if rows and "year" in rows[0] and len(rows) > 1:
            year = rows[1][rows[0].index("year")]
            break
    values = {"case_reference": "CASE-1", "year": year, "stage": "investigation", "victims_total": "1",
              "victims_female": "1", "victims_male": "0", "victims_children": "0",
              "victims_citizenship": "unknown", "material_removed": "kidney",
              "recruitment_countries": "unknown", "removal_countries": "unknown",
              "recipient_countries": "unknown", "medical_professionals_involved": "unknown",
              "court_decision_reference": "", "summary": text}
    sub.files["organ_removal_cases.csv"] = [list(values), list(values.values())]
    return "pii", f"organ_removal_cases.csv summary = {text!r}"


def c_rename_file(sub, rng):
    name = rng.choice(list(sub.files))
    new = rng.choice([name.upper(), name.capitalize(), name.replace(".csv", ".txt"),
                      name.replace("s.csv", ".csv"), "data_" + name, name.replace(".csv", ".CSV")])
    if new in sub.files or new == name:
        return None
    sub.files = {(new if n == name else n): rows for n, rows in sub.files.items()}
    return "rename-file", f"{name} renamed {new}"


def c_remove_file(sub, rng):
    if len(sub.files) < 2:
        return None
    name = rng.choice(list(sub.files))
    del sub.files[name]
    return "rm-file", f"{name} removed"


def c_email(sub, rng):
    index = _csv_column(sub, "submission.csv", "contact_email") if "submission.csv" in sub.files else None
    if index is None or len(sub.files["submission.csv"]) < 2:
        return None
    value = rng.choice(EMAILS)
    sub.files["submission.csv"][1][index] = value
    return "email", f"contact_email = {value!r}"


CSV_MUTATIONS = [
    (c_delimiter, 5), (c_cp1252, 5), (c_utf16, 1), (c_bom, 4), (c_blank_lines, 5), (c_ragged, 5),
    (c_totals_row, 5), (c_crlf, 2), (c_quote_all, 1), (c_blank, 4), (c_count_text, 6),
    (c_unknown_code, 5), (c_bad_year, 3), (c_year_outside, 3), (c_dup_row, 3), (c_del_header, 3),
    (c_extra_col, 3), (c_country, 5), (c_language, 4), (c_pii, 3), (c_rename_file, 2),
    (c_remove_file, 2), (c_email, 1),
]


def _write_csv_entry(sub: CsvSubmission, target_base: Path, rng) -> tuple[Path, str]:
    files = sub.render()
    package = rng.choice(["folder", "folder", "zip", "zip", "zip-nested", "zip-junk"])
    if package == "folder":
        target_base.mkdir(parents=True)
        for name, data in files.items():
            (target_base / name).write_bytes(data)
        return target_base, package
    members = []
    prefix = target_base.name + "/" if package == "zip-nested" else ""
    for name, data in files.items():
        members.append((prefix + name, data))
    if package == "zip-junk":
        members.append(("__MACOSX/._victims.csv", b"\x00\x05\x16\x07junk"))
        members.append(("notes.docx", b"PK\x03\x04 not really a document"))
    path = target_base.with_name(target_base.name + ".zip")
    path.write_bytes(_zip_bytes(members))
    return path, package


# -- byte-level damage --------------------------------------------------------------------------

def _byte_entry(rng, samples: list[Path], target_base: Path) -> tuple[Path, str, str, str]:
    files = [p for p in samples if p.is_file()]
    source = rng.choice(files)
    data = source.read_bytes()
    kind = rng.choice(["truncated", "truncated", "empty", "garbage", "csv-as-xlsx", "zip-no-csv",
                       "xlsx-no-workbook", "lone-csv", "lone-csv", "pdf"])
    suffix = ".xlsx"
    if kind == "truncated":
        size = rng.randrange(50, max(len(data) - 1, 51))
        payload, what = data[:size], f"first {size} of {len(data)} bytes of {source.name}"
    elif kind == "empty":
        payload, what = b"", "0 bytes"
    elif kind == "garbage":
        payload, what = rng.randbytes(rng.choice([10, 2000, 40000])), "random bytes"
    elif kind == "csv-as-xlsx":
        payload, what = b"year,sex,age,form,citizenship,count\n2022,total,total,total,total,5\n", "a CSV named .xlsx"
    elif kind == "zip-no-csv":
        payload, what, suffix = _zip_bytes([("readme.docx", b"nothing"), ("data.json", b"{}")]), "zip without CSV", ".zip"
    elif kind == "xlsx-no-workbook":
        xlsx = [p for p in files if p.suffix == ".xlsx" and zipfile.is_zipfile(p)]
        source = rng.choice(xlsx)
        with zipfile.ZipFile(source) as archive:
            members = [(n, archive.read(n)) for n in archive.namelist() if n != "xl/workbook.xml"]
        payload, what = _zip_bytes(members), f"{source.name} without xl/workbook.xml"
    elif kind == "lone-csv":
        folders = [p for p in samples if p.is_dir()]
        if folders:
            folder = rng.choice(folders)
            csvs = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv")
            chosen = rng.choice(csvs)
            payload, what, suffix = chosen.read_bytes(), f"{folder.name}/{chosen.name} alone", ".csv"
            target_base = target_base.with_name(target_base.name + "-" + chosen.stem)
        else:
            payload, what, suffix = b"year;count\n2022;5\n", "a lone CSV", ".csv"
    else:
        payload, what, suffix = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n", "a PDF", ".pdf"
    path = target_base.with_name(target_base.name + suffix)
    path.write_bytes(payload)
    return path, kind, source.name, what


def _abbreviation(sample: Path) -> str:
    """THA_2021-2022.xlsx -> THA, FRA_2021-2022_fr_template.xlsx -> FRAfr: entry names stay
    short, so that the ingest command's table of outcomes fits its 200 columns unwrapped."""
    stem = sample.name.split(".")[0]
    match = re.match(r"([A-Za-z]{3})_[\d-]+(?:_([a-z]{2})_template)?", stem)
    if match:
        return match.group(1) + (match.group(2) or "")
    return re.sub(r"[^A-Za-z0-9]", "", stem)[:8]


def _tags(done) -> str:
    tags = "+".join(dict.fromkeys(t for t, _ in done))
    return tags if len(tags) <= 30 else tags[:30].rstrip("+-") + "+more"


def _sample_entries(samples_dir: Path) -> list[Path]:
    return [p for p in sorted(samples_dir.iterdir())
            if not p.name.startswith(".") and p.suffix.lower() != ".md"
            and not p.name.lower().startswith("readme")]


def _classify(path: Path) -> str:
    if path.is_dir():
        return "csv-folder"
    if path.suffix.lower() == ".zip":
        return "csv-zip"
    if path.suffix.lower() == ".csv":
        return "csv"
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            import openpyxl
            openpyxl.load_workbook(path).close()
            return "xlsx"
        except Exception:  # noqa: BLE001
            return "xlsx-unreadable"
    return "other"


def build_corpus(samples_dir: Path, out: Path, count: int = CORPUS_SIZE, seed: int = SEED) -> dict:
    import warnings

    import openpyxl
    warnings.filterwarnings("ignore", module="openpyxl")
    samples_dir, out = Path(samples_dir), Path(out)
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"{out} is not empty; give an empty or new folder")
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    samples = _sample_entries(samples_dir)
    manifest = {"seed": seed, "samples_dir": str(samples_dir), "entries": []}
    kinds = {}
    for sample in samples:
        target = out / sample.name
        if sample.is_dir():
            shutil.copytree(sample, target)
        else:
            shutil.copyfile(sample, target)
        kinds[sample.name] = _classify(sample)
        manifest["entries"].append({"name": sample.name, "origin": "sample", "kind": kinds[sample.name],
                                    "sample": sample.name, "mutations": []})
    xlsx_samples = [s for s in samples if kinds[s.name] == "xlsx"]
    csv_samples = [s for s in samples if kinds[s.name] in ("csv-folder", "csv-zip")]
    for i in range(1, count + 1):
        r = rng.random()
        base = f"c{i:03d}"
        if r < 0.06:
            path, kind, source, what = _byte_entry(rng, samples, out / f"{base}-bytes")
            final = path.with_name(path.name.replace(f"{base}-bytes", f"{base}-bytes-{kind}"))
            path.rename(final)
            entry = {"name": final.name, "origin": "generated", "kind": f"bytes:{kind}",
                     "sample": source, "mutations": [what]}
        elif r < 0.30 and csv_samples:
            sample = rng.choice(csv_samples)
            sub = _read_csv_sample(sample)
            done = _apply(rng, CSV_MUTATIONS, sub)
            path, package = _write_csv_entry(sub, out / f"{base}-{_abbreviation(sample)}-{_tags(done)}", rng)
            entry = {"name": path.name, "origin": "generated", "kind": f"csv-{package}",
                     "sample": sample.name, "mutations": [d for _, d in done]}
        else:
            sample = rng.choice(xlsx_samples)
            workbook = openpyxl.load_workbook(sample)
            done = _apply(rng, XLSX_MUTATIONS, workbook, _roles(workbook))
            path = out / f"{base}-{_abbreviation(sample)}-{_tags(done)}.xlsx"
            path.write_bytes(_deterministic_xlsx(workbook))
            entry = {"name": path.name, "origin": "generated", "kind": "xlsx", "sample": sample.name,
                     "mutations": [d for _, d in done]}
        manifest["entries"].append(entry)
    manifest["counts"] = dict(Counter(e["kind"] for e in manifest["entries"]))
    manifest["fingerprint"] = _tree_hash(out)
    (out / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False, sort_keys=True),
                                encoding="utf-8")
    return manifest


def _tree_hash(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            digest.update(str(path.relative_to(root)).encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def cmd_corpus(args) -> int:
    started = time.monotonic()
    manifest = build_corpus(Path(args.samples), Path(args.out), args.count, args.seed)
    print(f"corpus: {len(manifest['entries'])} entries in {args.out} "
          f"({time.monotonic() - started:.0f} s); by kind:")
    for kind, n in sorted(manifest["counts"].items()):
        print(f"  {kind}: {n}")
    print(f"fingerprint {manifest['fingerprint']}")
    return 0


# =============================================================================================
# normalisation
# =============================================================================================

TIMESTAMP_KEYS = {"received_at", "imported_at", "started_at", "finished_at", "superseded_at",
                  "loaded_at", "created_at", "updated_at", "Date", "date_header"}
SECONDS_KEYS = {"seconds", "elapsed_seconds", "duration_seconds"}
RUN_ID = re.compile(r"\b(run|import)-\d{8}T\d{6}-[0-9a-f]{6}\b")
ISO_DATETIME = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?")
UUID_RE = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
PARQUET_VERSION = re.compile(r"parquet-\d{8}T\d{6}\d*")
BOX_ONLY = re.compile(r"^[\s─━│┃┌┐└┘├┤┬┴┼╭╮╯╰╞╡╪═║╔╗╚╝╠╣╦╩╬┏┓┗┛┡┩┣┫╇╈┳┻╋\-+|]*$")
CONSOLE_SECONDS = re.compile(r"\b\d+(?:\.\d+)? s\b")
PREFECT_LOG = re.compile(r"^\d{2}:\d{2}:\d{2}\.\d+ \| (\w+)\s*\| (.*)$")
PREFECT_RUN_NAME = re.compile(r"(Flow run|Task run) '[^']*'")


class Normaliser:
    def __init__(self, replacements: list[tuple[str, str]]):
        seen = {}
        for old, new in replacements:
            if old and old not in seen:
                seen[old] = new
        self.replacements = sorted(seen.items(), key=lambda kv: -len(kv[0]))
        self.run_ids: dict[str, str] = {}

    def text(self, value: str) -> str:
        for old, new in self.replacements:
            if old in value:
                value = value.replace(old, new)
        value = RUN_ID.sub(lambda m: self.run_ids.get(m.group(0), f"<{m.group(1)}-id>"), value)
        value = ISO_DATETIME.sub("<timestamp>", value)
        value = UUID_RE.sub("<uuid>", value)
        value = PARQUET_VERSION.sub("parquet-<version>", value)
        return value

    def value(self, value, key: str | None = None):
        if key in TIMESTAMP_KEYS:
            return None if value in (None, "") else "<timestamp>"
        if key in SECONDS_KEYS:
            return None if value is None else "<seconds>"
        if key == "flow_run_id":
            return None if value is None else "<flow-run-id>"
        if isinstance(value, dict):
            return {str(k): self.value(v, str(k)) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.value(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            return str(value)
        return value

    def console(self, text: str) -> list[str]:
        lines = []
        for line in self.text(text).splitlines():
            if BOX_ONLY.match(line):
                continue
            line = CONSOLE_SECONDS.sub("<n> s", " ".join(line.split()))
            if line:
                lines.append(line)
        return lines


def write_item(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False, sort_keys=True, default=str) + "\n",
                    encoding="utf-8")


# =============================================================================================
# running the command line
# =============================================================================================

@dataclass
class Context:
    checkout: Path
    python: str
    out: Path
    corpus: Path
    env: dict
    normaliser: Normaliser
    dump: Path
    crashes: list = field(default_factory=list)
    timings: dict = field(default_factory=dict)


def make_env(out: Path) -> tuple[dict, Path]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GLOTIP_", "PREFECT_"))}
    prefect_home = Path(tempfile.mkdtemp(prefix="prefect-home-", dir=out / "tmp"))
    tmp = out / "tmp" / "tmpdir"
    tmp.mkdir(parents=True, exist_ok=True)
    env.update({
        "GLOTIP_SETTLE_SECONDS": "0",
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "180",
        "PYTHONDONTWRITEBYTECODE": "1",  # never write __pycache__ into the checkout
        "TMPDIR": str(tmp),
        "MPLCONFIGDIR": str(out / "tmp" / "mpl"),
        "PYTHONIOENCODING": "utf-8",
    })
    env.pop("COLUMNS", None)
    return env, prefect_home


def run_command(ctx: Context, argv: list[str], timeout: float, expected=(0,),
                python_code: bool = False) -> dict:
    """Run `<python> <checkout>/cli.py argv` (cwd=checkout); a crash or timeout is data."""
    command = [ctx.python, *(argv if python_code else [str(ctx.checkout / "cli.py"), *argv])]
    started = time.monotonic()
    stdout = stderr = b""
    exit_code, timed_out, error = None, False, None
    try:
        process = subprocess.Popen(command, cwd=ctx.checkout, env=ctx.env, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
        try:
            stdout, stderr = process.communicate(timeout=timeout)
            exit_code = process.returncode
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                pass
            stdout, stderr = process.communicate()
            exit_code = process.returncode
    except OSError as problem:
        error = f"{type(problem).__name__}: {problem}"
    seconds = time.monotonic() - started
    out_text = stdout.decode("utf-8", errors="replace")
    err_text = stderr.decode("utf-8", errors="replace")
    traceback = "Traceback (most recent call last)" in err_text
    crashed = bool(timed_out or error or traceback or exit_code not in expected)
    n = ctx.normaliser
    record = {
        "argv": [n.text(a) for a in argv],
        "exit_code": exit_code,
        "timed_out": timed_out,
        "crashed": crashed,
        "stdout": n.console(out_text),
    }
    if error:
        record["error"] = error
    log = []
    for line in err_text.splitlines():
        match = PREFECT_LOG.match(line.strip())
        if match and match.group(1) in ("ERROR", "WARNING", "CRITICAL"):
            log.append(f"{match.group(1)} | {PREFECT_RUN_NAME.sub(lambda m: m.group(1), n.text(match.group(2)))}")
    if log:
        record["log_errors_warnings"] = log
    if crashed:
        tail = [l for l in err_text.splitlines() if l.strip()][-40:]
        record["stderr_tail"] = [n.text(l.rstrip()) for l in tail]
        exception = [l.strip() for l in err_text.splitlines()
                     if re.match(r"^\s*[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b.*", l)]
        record["exception"] = n.text(exception[-1]) if exception else None
    record["_seconds"] = round(seconds, 2)  # removed before writing (timings go to meta.json)
    return record


def finish_command(record: dict) -> dict:
    record = dict(record)
    record.pop("_seconds", None)
    return record


# =============================================================================================
# collecting output files
# =============================================================================================

class _HtmlText(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.chunks, self.skip, self.attrs = [], 0, {}

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self.skip += 1
        if tag == "html":
            self.attrs = {k: v for k, v in attrs if k in ("lang", "dir")}

    def handle_endtag(self, tag):
        if tag in ("style", "script") and self.skip:
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip:
            text = " ".join(data.split())
            if text:
                self.chunks.append(text)


def html_text(text: str) -> dict:
    parser = _HtmlText()
    parser.feed(text)
    parser.close()
    return {"html_attrs": parser.attrs, "text": parser.chunks}


def read_findings_csv(path: Path, n: Normaliser) -> dict:
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig", errors="replace")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0] if rows else []
    records = [dict(zip(header, row)) | ({"_extra": row[len(header):]} if len(row) > len(header) else {})
               for row in rows[1:]]
    return {"bom": raw.startswith(b"\xef\xbb\xbf"), "header": header,
            "rows": n.value(records)}


def read_annotated(path: Path, n: Normaliser) -> dict:
    import warnings

    import openpyxl
    warnings.filterwarnings("ignore", module="openpyxl")
    workbook = openpyxl.load_workbook(path)
    cells = []
    for ws in workbook.worksheets[:-1]:
        for row in ws.iter_rows():
            for cell in row:
                fill = None
                if cell.fill is not None and cell.fill.fill_type == "solid":
                    fill = str(cell.fill.fgColor.rgb)
                comment = cell.comment
                if fill or comment is not None:
                    cells.append({"sheet": ws.title, "cell": cell.coordinate, "fill": fill,
                                  "comment": None if comment is None else comment.text,
                                  "comment_author": None if comment is None else comment.author})
    last = workbook.worksheets[-1]
    listing = []
    for row in last.iter_rows():
        values = [c.value if not hasattr(c.value, "isoformat") else c.value.isoformat() for c in row]
        link = row[0].hyperlink
        listing.append({"values": values,
                        "link": None if link is None else (link.location or link.target)})
    return n.value({"sheets": workbook.sheetnames, "states": [ws.sheet_state for ws in workbook.worksheets],
                    "cells": cells, "findings_sheet": {"title": last.title,
                                                       "right_to_left": bool(last.sheet_view.rightToLeft),
                                                       "rows": listing}})


def read_email(path: Path, n: Normaliser) -> dict:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    headers = []
    for key, value in message.items():
        if key.lower() in ("date", "message-id"):
            continue
        value = re.sub(r'boundary="[^"]*"', 'boundary="<boundary>"', str(value))
        headers.append([key, value])
    parts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        entry = {"content_type": part.get_content_type(), "filename": part.get_filename(),
                 "disposition": part.get_content_disposition()}
        if part.get_content_maintype() == "text":
            try:
                content = part.get_content()
            except Exception as problem:  # noqa: BLE001
                content = f"<undecodable: {problem}>"
            if entry["filename"]:
                normalised = n.text(content)
                entry["text_sha256"] = hashlib.sha256(normalised.encode()).hexdigest()
            else:
                entry["body"] = content.splitlines()
        parts.append(entry)
    return n.value({"headers": headers, "parts": parts})


def collect_report_folder(folder: Path, target: Path, n: Normaliser) -> list[str]:
    """One JSON item per output file of a report folder; returns problems met."""
    problems = []
    files = sorted(p.name for p in folder.iterdir())
    write_item(target / "files.json", {"files": files})
    readers = {
        "report.json": ("report_json.json", lambda p: n.value(json.loads(p.read_text(encoding="utf-8")))),
        "findings.csv": ("findings_csv.json", lambda p: read_findings_csv(p, n)),
        "annotated.xlsx": ("annotated.json", lambda p: read_annotated(p, n)),
        "message.eml": ("email.json", lambda p: read_email(p, n)),
        "report.html": ("report_html.json", lambda p: n.value(html_text(p.read_text(encoding="utf-8", errors="replace")))),
    }
    for name, (item, reader) in readers.items():
        path = folder / name
        if not path.exists():
            continue
        try:
            data = reader(path)
        except Exception as problem:  # noqa: BLE001 - an unreadable output is a finding too
            data = {"unreadable": f"{type(problem).__name__}: {problem}"}
            problems.append(f"{folder.name}/{name}: {data['unreadable']}")
        write_item(target / item, data)
    return problems


# =============================================================================================
# the warehouse
# =============================================================================================

DB_DUMP_CODE = r'''
import datetime, decimal, json, math, sys, uuid
import duckdb
db, out = sys.argv[1], sys.argv[2]
def conv(v):
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else str(v)
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, datetime.timedelta):
        return str(v)
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return bytes(v).hex()
    if isinstance(v, uuid.UUID):
        return str(v)
    if isinstance(v, dict):
        return {str(k): conv(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [conv(x) for x in v]
    return repr(v)
con = duckdb.connect(db, read_only=True)
tables = [r[0] for r in con.execute(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' "
    "AND table_type = 'BASE TABLE' AND table_catalog = current_database() ORDER BY table_name").fetchall()]
result = {}
for t in tables:
    cur = con.execute('SELECT * FROM "%s"' % t.replace('"', '""'))
    cols = [d[0] for d in cur.description]
    types = [str(d[1]) for d in cur.description]
    result[t] = {"columns": cols, "types": types, "rows": [[conv(v) for v in row] for row in cur.fetchall()]}
con.close()
with open(out, "w", encoding="utf-8") as f:
    json.dump(result, f, ensure_ascii=False)
'''


def read_warehouse(ctx: Context, db: Path, scratch: Path) -> tuple[dict | None, dict]:
    """Every base table of schema main, read with the checkout's own duckdb (read-only)."""
    scratch.parent.mkdir(parents=True, exist_ok=True)
    if not db.exists():
        return None, {"error": f"no warehouse at {ctx.normaliser.text(str(db))}"}
    record = run_command(ctx, ["-c", DB_DUMP_CODE, str(db), str(scratch)], DB_DUMP_TIMEOUT,
                         python_code=True)
    if record["crashed"] or not scratch.exists():
        return None, finish_command(record)
    data = json.loads(scratch.read_text(encoding="utf-8"))
    scratch.unlink()
    return data, {}


def run_id_map(tables: dict) -> dict:
    mapping = {}
    runs = tables.get("ingestion_runs", {})
    if runs.get("rows"):
        cols = runs["columns"]
        rows = sorted(runs["rows"], key=lambda r: (str(r[cols.index("started_at")]) if "started_at" in cols else "",
                                                   str(r[cols.index("run_id")])))
        for i, row in enumerate(rows, 1):
            mapping[row[cols.index("run_id")]] = f"<run-{i}>"
    imports = tables.get("published_imports", {})
    if imports.get("rows") and "run_id" in imports["columns"]:
        cols = imports["columns"]
        rows = sorted(imports["rows"], key=lambda r: str(r[cols.index("imported_at")]) if "imported_at" in cols else "")
        for i, row in enumerate(rows, 1):
            if row[cols.index("run_id")]:
                mapping[row[cols.index("run_id")]] = f"<import-run-{i}>"
    return mapping


def write_tables(tables: dict, target: Path, n: Normaliser) -> dict:
    counts = {}
    for name, table in tables.items():
        columns = table["columns"]
        rows = []
        for raw in table["rows"]:
            row = {}
            for column, value in zip(columns, raw):
                if isinstance(value, str) and value[:1] in "{[":
                    try:
                        value = json.loads(value)
                    except ValueError:
                        pass
                row[column] = n.value(value, column)
            rows.append(row)
        rows.sort(key=lambda r: json.dumps(r, sort_keys=True, ensure_ascii=False, default=str))
        counts[name] = len(rows)
        write_item(target / f"{name}.json", {"table": name, "columns": columns, "types": table["types"],
                                             "row_count": len(rows), "rows": rows})
    return counts


# =============================================================================================
# dump
# =============================================================================================

def _entries(corpus: Path) -> list[dict]:
    manifest_path = corpus / MANIFEST
    if manifest_path.exists():
        return json.loads(manifest_path.read_text(encoding="utf-8"))["entries"]
    return [{"name": p.name, "origin": "unknown", "kind": _classify(p), "sample": None, "mutations": []}
            for p in sorted(corpus.iterdir()) if p.name != MANIFEST]


def _validate_job(ctx: Context, index: int, entry: dict, lang: str | None) -> dict:
    variant = f"lang-{lang}" if lang else "default"
    work = ctx.out / "w" / "v" / f"{index:03d}{'-' + lang if lang else ''}"
    reports = work / "r"
    reports.mkdir(parents=True, exist_ok=True)
    path = ctx.corpus / entry["name"]
    argv = ["validate", str(path), "--reports", str(reports)] + (["--lang", lang] if lang else [])
    record = run_command(ctx, argv, VALIDATE_TIMEOUT, expected=(0, 1))
    seconds = record["_seconds"]
    target = ctx.dump / "validate" / entry["name"] / variant
    folders = sorted(p for p in reports.iterdir()) if reports.exists() else []
    record["report_folders"] = [p.name for p in folders]
    stray = sorted(str(p.relative_to(work)) for p in work.rglob("*")
                   if p != reports and reports not in p.parents)
    if stray:
        # e.g. a submission id `../-<sha>` (country `../`) puts the report beside --reports
        record["outputs_outside_reports_dir"] = stray
    folders = [p for p in folders if p.is_dir()]
    if not folders:  # compare a report written in the wrong place all the same
        folders = sorted({p.parent for p in work.rglob("report.json") if reports not in p.parents})
    problems = []
    for folder in folders:
        sub = target if len(folders) == 1 else target / folder.name
        problems += collect_report_folder(folder, sub, ctx.normaliser)
    if problems:
        record["unreadable_outputs"] = problems
    write_item(target / "command.json", finish_command(record))
    return {"entry": entry["name"], "variant": variant, "seconds": seconds, "crashed": record["crashed"],
            "exit_code": record["exit_code"], "timed_out": record["timed_out"],
            "exception": record.get("exception"), "stray": stray,
            "stderr_tail": record.get("stderr_tail", [])[-6:]}


def _archive_listing(root: Path) -> list:
    if not root.exists():
        return []
    return sorted([str(p.relative_to(root)), p.stat().st_size] for p in root.rglob("*") if p.is_file())


def cmd_dump(args) -> int:
    started_all = time.monotonic()
    checkout = Path(os.path.abspath(args.checkout))
    python = os.path.abspath(args.python)
    out = Path(os.path.abspath(args.out))
    if not (checkout / "cli.py").exists():
        raise SystemExit(f"no cli.py in {checkout}")
    if (out / "dump").exists() and not args.force:
        raise SystemExit(f"{out} already holds a dump; give --force to replace it")
    for name in ("dump", "w", "ing", "pub", "tmp"):  # this script's own folders in OUT
        shutil.rmtree(out / name, ignore_errors=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tmp").mkdir(exist_ok=True)
    corpus = Path(os.path.abspath(args.corpus)) if args.corpus else out / "corpus"
    if not (corpus / MANIFEST).exists():
        if args.corpus and corpus.exists() and any(corpus.iterdir()):
            print(f"warning: {corpus} has no {MANIFEST}; using its entries as they are")
        else:
            print(f"generating the corpus into {corpus} from {checkout / 'sample_submissions'}")
            build_corpus(checkout / "sample_submissions", corpus)
    env, prefect_home = make_env(out)
    replacements = []
    for path, label in ((out, "<OUT>"), (corpus, "<CORPUS>"), (checkout, "<CHECKOUT>"),
                        (Path(python), "<PYTHON>")):
        replacements += [(str(path), label), (os.path.realpath(path), label)]
    normaliser = Normaliser(replacements)
    ctx = Context(checkout, python, out, corpus, env, normaliser, out / "dump")
    entries = _entries(corpus)
    if args.limit:
        entries = entries[:args.limit]
    print(f"dump of {checkout} with {python}: {len(entries)} corpus entries from {corpus}")

    # 1-2. validate every entry; the samples and every 10th generated entry in all six languages
    jobs = []
    generated = 0
    for index, entry in enumerate(entries):
        jobs.append((index, entry, None))
        if entry.get("origin") != "generated" or generated % 10 == 0:
            jobs.extend((index, entry, lang) for lang in LANGUAGES)
        if entry.get("origin") == "generated":
            generated += 1
    t0 = time.monotonic()
    results = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(_validate_job, ctx, *job) for job in jobs]
        for done, future in enumerate(futures, 1):
            try:
                results.append(future.result())
            except Exception as problem:  # noqa: BLE001 - the harness itself failed on one job
                index, entry, lang = jobs[done - 1]
                results.append({"entry": entry["name"], "variant": lang or "default", "crashed": True,
                                "harness_error": f"{type(problem).__name__}: {problem}"})
            if done % 50 == 0 or done == len(futures):
                print(f"  validate: {done}/{len(futures)} ({time.monotonic() - t0:.0f} s)", flush=True)
    ctx.timings["validate"] = round(time.monotonic() - t0, 1)
    ctx.timings["validate_calls"] = len(jobs)
    ctx.crashes += [r for r in results if r.get("crashed")]

    # 3. ingest the whole corpus, twice
    t0 = time.monotonic()
    ing = out / "ing"
    inbox, db, reports, archive = ing / "inbox", ing / "w.duckdb", ing / "reports", ing / "archive"
    inbox.mkdir(parents=True)
    for entry in entries:
        source = corpus / entry["name"]
        if source.is_dir():
            shutil.copytree(source, inbox / entry["name"])
        else:
            shutil.copyfile(source, inbox / entry["name"])
    ingest_argv = ["ingest", str(inbox), "--db", str(db), "--reports", str(reports), "--archive", str(archive)]
    run1 = run_command(ctx, ingest_argv, INGEST_TIMEOUT)
    ctx.timings["ingest_run1"] = run1["_seconds"]
    print(f"  ingest run 1: exit {run1['exit_code']} ({run1['_seconds']:.0f} s)", flush=True)
    write_item(ctx.dump / "ingest" / "command_run1.json", finish_command(run1))
    after_run1, problem1 = read_warehouse(ctx, db, out / "tmp" / "ing1.json")
    run2 = run_command(ctx, ingest_argv, INGEST_TIMEOUT)
    ctx.timings["ingest_run2"] = run2["_seconds"]
    print(f"  ingest run 2: exit {run2['exit_code']} ({run2['_seconds']:.0f} s)", flush=True)
    tables, problem2 = read_warehouse(ctx, db, out / "tmp" / "ing2.json")
    for label, record in (("ingest run 1", run1), ("ingest run 2", run2)):
        failed = [line for line in record["stdout"] if re.search(r"│ (failed|deferred) │", line)]
        if record["crashed"] or failed:
            ctx.crashes.append({"entry": label, "variant": "-", "exit_code": record["exit_code"],
                                "timed_out": record["timed_out"], "exception": record.get("exception"),
                                "stderr_tail": record.get("stderr_tail", [])[-6:],
                                "failed_entries": failed})
    if tables is not None:
        normaliser.run_ids.update(run_id_map(tables))
        run2_rec = finish_command(run2)
        run2_rec["stdout"] = [normaliser.text(l) for l in run2_rec["stdout"]]
        write_item(ctx.dump / "ingest" / "command_run2.json", run2_rec)
        counts2 = write_tables(tables, ctx.dump / "ingest" / "tables", normaliser)
        counts1 = {t: len(v["rows"]) for t, v in (after_run1 or {}).items()}
        added = {t: counts2.get(t, 0) - counts1.get(t, 0) for t in sorted(set(counts1) | set(counts2))
                 if counts2.get(t, 0) != counts1.get(t, 0)}
        write_item(ctx.dump / "ingest" / "rerun_check.json",
                   {"rows_after_run1": counts1, "rows_after_run2": counts2,
                    "rows_added_by_run2": added,
                    "rows_added_by_run2_outside_ingestion_runs": {t: d for t, d in added.items()
                                                                   if t != "ingestion_runs"}})
        # run 1's stdout names no run id, but normalise again now that the ids are known
        write_item(ctx.dump / "ingest" / "command_run1.json",
                   finish_command(run1) | {"stdout": [normaliser.text(l) for l in run1["stdout"]]})
    else:
        write_item(ctx.dump / "ingest" / "warehouse_unreadable.json", problem2 or problem1)
        write_item(ctx.dump / "ingest" / "command_run2.json", finish_command(run2))
    if reports.exists():
        for folder in sorted(reports.iterdir()):
            if folder.is_dir():
                collect_report_folder(folder, ctx.dump / "ingest" / "reports" / folder.name, normaliser)
    outside = sorted({p.parent for p in ing.rglob("report.json")
                      if reports not in p.parents and p.parent != reports})
    write_item(ctx.dump / "ingest" / "outputs_outside_reports_dir.json",
               {"report_folders": [str(p.relative_to(ing)) for p in outside]})
    for folder in outside:
        collect_report_folder(folder, ctx.dump / "ingest" / "reports_outside" /
                              str(folder.relative_to(ing)).replace("/", "__"), normaliser)
    write_item(ctx.dump / "ingest" / "archive_listing.json", {"files": _archive_listing(archive)})
    write_item(ctx.dump / "ingest" / "inbox_after.json", {"entries": sorted(p.name for p in inbox.iterdir())})
    ctx.timings["ingest_total"] = round(time.monotonic() - t0, 1)

    # 4. the real published export
    t0 = time.monotonic()
    pub = out / "pub"
    pub.mkdir(parents=True)
    export = checkout / "tests" / "data" / "data_glotip_2025-04-14.xlsx"
    pub_argv = ["import-published", str(export), "--db", str(pub / "pub.duckdb"), "--reports", str(pub / "reports")]
    first = run_command(ctx, pub_argv, IMPORT_TIMEOUT)
    print(f"  import-published: exit {first['exit_code']} ({first['_seconds']:.0f} s)", flush=True)
    second = run_command(ctx, pub_argv, IMPORT_TIMEOUT)
    ctx.timings["import_published"] = first["_seconds"]
    ctx.timings["import_published_again"] = second["_seconds"]
    for label, record in (("import-published", first), ("import-published again", second)):
        if record["crashed"]:
            ctx.crashes.append({"entry": label, "variant": "-", "exit_code": record["exit_code"],
                                "timed_out": record["timed_out"], "exception": record.get("exception"),
                                "stderr_tail": record.get("stderr_tail", [])[-6:]})
    pub_tables, problem = read_warehouse(ctx, pub / "pub.duckdb", out / "tmp" / "pub.json")
    if pub_tables is not None:
        normaliser.run_ids.update(run_id_map(pub_tables))
        write_tables(pub_tables, ctx.dump / "published" / "tables", normaliser)
    else:
        write_item(ctx.dump / "published" / "warehouse_unreadable.json", problem)
    for label, record in (("command.json", first), ("command_again.json", second)):
        rec = finish_command(record)
        rec["stdout"] = [normaliser.text(l) for l in rec["stdout"]]
        write_item(ctx.dump / "published" / label, rec)
    if (pub / "reports").exists():
        for folder in sorted((pub / "reports").iterdir()):
            if folder.is_dir():
                collect_report_folder(folder, ctx.dump / "published" / "reports" / folder.name, normaliser)
    ctx.timings["published_total"] = round(time.monotonic() - t0, 1)
    ctx.timings["total"] = round(time.monotonic() - started_all, 1)

    git = {}
    for key, cmd in (("head", ["git", "-C", str(checkout), "rev-parse", "HEAD"]),
                     ("status", ["git", "-C", str(checkout), "status", "--porcelain"])):
        try:
            git[key] = subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip()
        except (OSError, subprocess.SubprocessError) as problem:
            git[key] = str(problem)
    samples_same = None
    if (checkout / "sample_submissions").is_dir():
        samples = _sample_entries(checkout / "sample_submissions")
        samples_same = all(_same_entry(p, corpus / p.name) for p in samples)
    meta = {
        "checkout": str(checkout), "python": python, "out": str(out), "corpus": str(corpus),
        "corpus_fingerprint": _manifest_value(corpus, "fingerprint"),
        "corpus_counts": dict(Counter(e["kind"] for e in entries)),
        "checkout_samples_same_as_corpus": samples_same,
        "git": git, "timings_seconds": ctx.timings, "normalisations": NORMALISATIONS,
        "crashes": ctx.crashes,
        "validate_exit_codes": dict(Counter(str(r.get("exit_code")) for r in results)),
        "prefect_home": str(prefect_home),
    }
    write_item(out / "dump" / "meta.json", meta)
    print(f"dump written to {out / 'dump'} in {ctx.timings['total']:.0f} s "
          f"(validate {ctx.timings['validate']:.0f} s for {len(jobs)} calls, ingest "
          f"{ctx.timings['ingest_total']:.0f} s, published {ctx.timings['published_total']:.0f} s)")
    print(f"validate exit codes: {meta['validate_exit_codes']}")
    if ctx.crashes:
        print(f"{len(ctx.crashes)} commands crashed, timed out, logged a traceback or failed entries:")
        for crash in ctx.crashes[:50]:
            print(f"  {crash['entry']} [{crash['variant']}]: exit {crash.get('exit_code')}"
                  f"{' TIMEOUT' if crash.get('timed_out') else ''}: {crash.get('exception') or crash.get('harness_error')}")
            for line in crash.get("failed_entries", [])[:20]:
                print(f"      {line}")
    else:
        print("no command crashed or timed out")
    if samples_same is False:
        print("warning: the checkout's sample_submissions differ from the corpus' copies")
    return 0


def _same_entry(a: Path, b: Path) -> bool:
    if not b.exists():
        return False
    if a.is_dir():
        return b.is_dir() and sorted(p.name for p in a.iterdir()) == sorted(p.name for p in b.iterdir()) and all(
            (a / n.name).read_bytes() == (b / n.name).read_bytes() for n in a.iterdir() if n.is_file())
    return a.read_bytes() == b.read_bytes()


def _manifest_value(corpus: Path, key: str):
    try:
        return json.loads((corpus / MANIFEST).read_text(encoding="utf-8")).get(key)
    except (OSError, ValueError):
        return None


# =============================================================================================
# diff
# =============================================================================================

FINDING_KEY = ["rule", "severity", "source", "line", "column", "cell", "value"]
TABLE_KEYS = {
    "submissions": ["submission_id"],
    "submission_years": ["submission_id", "country", "year"],
    "fact_victims": ["submission_id", "source_line", "year", "sex", "age", "form", "citizenship"],
    "fact_offenders": ["submission_id", "source_line", "year", "stage", "sex", "age", "citizenship", "form"],
    "fact_repatriated": ["submission_id", "source_line", "year", "country_of_detection",
                         "country_of_repatriation", "sex", "age"],
    "fact_organ_removal_cases": ["submission_id", "source_line", "case_reference"],
    "fact_offences": ["submission_id", "source_line", "year", "form"],
    "validation_findings": ["submission_id", "rule", "severity", "source", "line", "column_name", "cell", "value"],
    "ingestion_runs": ["run_id"],
    "published_imports": ["import_id"],
    "dim_country": ["iso3"],
    "region_groupings": ["grouping", "country"],
    "population": ["country", "year"],
    "active_grouping": ["grouping"],
}
FILE_LABELS = {
    "command": "command (exit code, console output)", "command_run1": "command, first run",
    "command_run2": "command, rerun", "command_again": "command, second import",
    "report_json": "report.json", "findings_csv": "findings.csv", "annotated": "annotated.xlsx cells",
    "email": "message.eml", "report_html": "report.html text", "files": "files in the report folder",
    "rerun_check": "rerun loads nothing twice", "archive_listing": "raw archive",
    "inbox_after": "inbox after the runs", "warehouse_unreadable": "warehouse unreadable",
    "outputs_outside_reports_dir": "report folders written outside --reports",
}


@dataclass
class Difference:
    kind: str
    item: str
    what: str
    detail: str


def _short(value, limit: int = 300) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} chars)"


def strip_fields(value, ignored: set):
    if not ignored:
        return value
    if isinstance(value, dict):
        return {k: strip_fields(v, ignored) for k, v in value.items() if k not in ignored}
    if isinstance(value, list):
        return [strip_fields(v, ignored) for v in value]
    return value


def deep_diff(before, after, path: str = "") -> list[tuple[str, object, object]]:
    if before == after:
        return []
    if isinstance(before, dict) and isinstance(after, dict):
        out = []
        for key in sorted(set(before) | set(after), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in before:
                out.append((sub, "<absent>", after[key]))
            elif key not in after:
                out.append((sub, before[key], "<absent>"))
            else:
                out.extend(deep_diff(before[key], after[key], sub))
        return out
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        out = []
        for i, (b, a) in enumerate(zip(before, after)):
            out.extend(deep_diff(b, a, f"{path}[{i}]"))
        return out
    if isinstance(before, list) and isinstance(after, list):
        b_keys = Counter(json.dumps(x, sort_keys=True, default=str) for x in before)
        a_keys = Counter(json.dumps(x, sort_keys=True, default=str) for x in after)
        removed = list((b_keys - a_keys).elements())
        added = list((a_keys - b_keys).elements())
        return [(path, f"{len(before)} elements; only here: {_short(removed[:5])}",
                 f"{len(after)} elements; only here: {_short(added[:5])}")]
    return [(path, before, after)]


def _field_of(path: str) -> str:
    return re.split(r"[.\[]", path, 1)[0] if path else "(value)"


def match_records(before: list, after: list, key_fields: list, ignored: set):
    """Pair records by key (in order within a key); returns pairs, only-before, only-after."""
    fields = [f for f in key_fields if f not in ignored]

    def key(record):
        return json.dumps([record.get(f) for f in fields], sort_keys=True, default=str, ensure_ascii=False)

    groups_b, groups_a = defaultdict(list), defaultdict(list)
    for record in before:
        groups_b[key(record)].append(record)
    for record in after:
        groups_a[key(record)].append(record)
    pairs, only_b, only_a = [], [], []
    for k in list(groups_b) + [k for k in groups_a if k not in groups_b]:
        bs, as_ = groups_b.get(k, []), groups_a.get(k, [])
        if len(bs) > 1 or len(as_) > 1:  # pair equal records first, then in order
            rest_a = list(as_)
            unmatched_b = []
            for record in bs:
                if record in rest_a:
                    rest_a.remove(record)
                    pairs.append((record, record))
                else:
                    unmatched_b.append(record)
            bs, as_ = unmatched_b, rest_a
        pairs.extend(zip(bs, as_))
        only_b.extend(bs[len(as_):])
        only_a.extend(as_[len(bs):])
    return pairs, only_b, only_a


def _describe_finding(record: dict, fields: list) -> str:
    parts = []
    for f in fields:
        if record.get(f) not in (None, ""):
            parts.append(f"{f}={_short(record.get(f), 60)}")
    return ", ".join(parts)


def compare_records(kind: str, item: str, label: str, before: list, after: list, key_fields: list,
                    ignored: set, check_order: bool = True) -> list[Difference]:
    diffs = []
    pairs, only_b, only_a = match_records(before, after, key_fields, ignored)
    shown_key = [f for f in key_fields if f not in ignored]
    for b, a in pairs:
        for path, bv, av in deep_diff(b, a):
            diffs.append(Difference(kind, item, f"{label} field `{_field_of(path)}`",
                                    f"{_describe_finding(b, shown_key)}\n      {path}: before: {_short(bv)}\n"
                                    f"      {' ' * len(path)}  after:  {_short(av)}"))
    for record in only_b:
        diffs.append(Difference(kind, item, f"{label} only in before", _short(record, 400)))
    for record in only_a:
        diffs.append(Difference(kind, item, f"{label} only in after", _short(record, 400)))
    if check_order and not only_b and not only_a and len(before) == len(after) > 1:
        def keys(records):
            return [json.dumps([r.get(f) for f in shown_key], default=str) for r in records]
        if keys(before) != keys(after):
            first = next(i for i, (x, y) in enumerate(zip(keys(before), keys(after))) if x != y)
            diffs.append(Difference(kind, item, f"{label} order",
                                    f"first at position {first}: before {_describe_finding(before[first], shown_key)}; "
                                    f"after {_describe_finding(after[first], shown_key)}"))
    return diffs


def kind_of(rel: Path) -> tuple[str, str]:
    """(scope, file label) of a dump item."""
    parts = rel.parts
    name = rel.name[:-5]
    label = FILE_LABELS.get(name, name)
    if parts[0] == "validate" and len(parts) >= 4:
        variant = parts[2]
        scope = "validate" if variant == "default" else f"validate --lang {variant[5:]}"
    elif parts[0] in ("ingest", "published") and len(parts) > 2 and parts[1] == "tables":
        return f"{parts[0]} warehouse", f"table {name}"
    elif parts[0] in ("ingest", "published") and len(parts) > 2 and parts[1] in ("reports", "reports_outside"):
        scope = f"{parts[0]} {'reports' if parts[1] == 'reports' else 'reports written outside --reports'}"
    else:
        scope = parts[0]
    return scope, label


def compare_item(rel: Path, before, after, ignored: set) -> list[Difference]:
    scope, label = kind_of(rel)
    kind = f"{scope}: {label}"
    item = str(rel.parent) if rel.name in ("report_json.json", "findings_csv.json", "annotated.json",
                                            "email.json", "report_html.json", "files.json",
                                            "command.json") else str(rel)
    before, after = strip_fields(before, ignored), strip_fields(after, ignored)
    if before == after:
        return []
    name = rel.name[:-5]
    diffs = []
    if name == "report_json" and isinstance(before, dict) and isinstance(after, dict):
        fb, fa = before.get("findings"), after.get("findings")
        if isinstance(fb, list) and isinstance(fa, list):
            diffs += compare_records(f"{scope}: report.json findings", item, "finding", fb, fa, FINDING_KEY, ignored)
            before = {k: v for k, v in before.items() if k != "findings"}
            after = {k: v for k, v in after.items() if k != "findings"}
        for path, bv, av in deep_diff(before, after):
            diffs.append(Difference(kind, item, f"field `{_field_of(path)}`",
                                    f"{path}: before: {_short(bv)}\n      {' ' * len(path)}  after:  {_short(av)}"))
        return diffs
    if name == "findings_csv" and isinstance(before, dict) and isinstance(after, dict):
        if before.get("rows") is not None and after.get("rows") is not None:
            diffs += compare_records(kind, item, "row", before["rows"], after["rows"], FINDING_KEY, ignored)
            before = {k: v for k, v in before.items() if k != "rows"}
            after = {k: v for k, v in after.items() if k != "rows"}
    elif name == "annotated" and isinstance(before, dict) and isinstance(after, dict):
        if before.get("cells") is not None and after.get("cells") is not None:
            diffs += compare_records(kind, item, "cell", before["cells"], after["cells"], ["sheet", "cell"],
                                     set(), check_order=False)
            before = {k: v for k, v in before.items() if k != "cells"}
            after = {k: v for k, v in after.items() if k != "cells"}
    elif rel.parent.name == "tables" and isinstance(before, dict) and isinstance(after, dict):
        table = before.get("table") or name
        key = [k for k in TABLE_KEYS.get(table, []) if k in (before.get("columns") or []) and k in (after.get("columns") or [])]
        if not key:
            key = sorted(set(before.get("columns") or []) & set(after.get("columns") or []) - ignored)
        diffs += compare_records(kind, item, "row", before.get("rows") or [], after.get("rows") or [], key,
                                 ignored, check_order=False)
        before = {k: v for k, v in before.items() if k != "rows"}
        after = {k: v for k, v in after.items() if k != "rows"}
    elif name.startswith("command") and isinstance(before, dict) and isinstance(after, dict) \
            and isinstance(before.get("stdout"), list) and isinstance(after.get("stdout"), list):
        import difflib
        sb, sa = before["stdout"], after["stdout"]
        if sb != sa:
            def signature(lines):  # the characters printed, whatever the wrapping of rich's tables
                return sorted(re.sub(r"[\s│┃]", "", "".join(lines)))
            lines = [l for l in difflib.unified_diff(sb, sa, lineterm="", n=0) if not l.startswith(("---", "+++"))]
            what = "stdout layout only (same text, wrapped differently)" if signature(sb) == signature(sa) else "stdout"
            diffs.append(Difference(kind, item, what, "\n      ".join(_short(l, 200) for l in lines[:8])
                                    + (f"\n      ... {len(lines) - 8} more diff lines" if len(lines) > 8 else "")))
        before = {k: v for k, v in before.items() if k != "stdout"}
        after = {k: v for k, v in after.items() if k != "stdout"}
    elif name == "report_html" and isinstance(before, dict) and isinstance(after, dict):
        import difflib
        tb, ta = before.get("text") or [], after.get("text") or []
        if tb != ta:
            lines = [l for l in difflib.unified_diff(tb, ta, lineterm="", n=0) if not l.startswith(("---", "+++"))]
            diffs.append(Difference(kind, item, "text", "\n      ".join(_short(l, 200) for l in lines[:8])
                                    + (f"\n      ... {len(lines) - 8} more diff lines" if len(lines) > 8 else "")))
        before = {k: v for k, v in before.items() if k != "text"}
        after = {k: v for k, v in after.items() if k != "text"}
    for path, bv, av in deep_diff(before, after):
        diffs.append(Difference(kind, item, f"field `{_field_of(path)}`",
                                f"{path}: before: {_short(bv)}\n      {' ' * len(path)}  after:  {_short(av)}"))
    return diffs


def _dump_root(path: Path) -> Path:
    return path / "dump" if (path / "dump").is_dir() else path


def cmd_diff(args) -> int:
    root_b, root_a = _dump_root(Path(args.before)), _dump_root(Path(args.after))
    ignored = set(args.ignore_field or [])
    ignored_tables = set(args.ignore_table or [])
    ignored_kinds = list(args.ignore_kind or [])
    for root in (root_b, root_a):
        if not root.is_dir():
            raise SystemExit(f"no dump at {root}")
        meta_path = root / "meta.json"
        if meta_path.exists():
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            print(f"{root}: {meta.get('checkout')} @ {str(meta.get('git', {}).get('head'))[:12]}, corpus "
                  f"{str(meta.get('corpus_fingerprint'))[:12]}, {len(meta.get('crashes', []))} crashed commands")
    fp = [json.loads((r / "meta.json").read_text(encoding="utf-8")).get("corpus_fingerprint")
          if (r / "meta.json").exists() else None for r in (root_b, root_a)]
    if fp[0] and fp[1] and fp[0] != fp[1]:
        print("WARNING: the two dumps were made from different corpora; differences are expected")
    if ignored or ignored_tables or ignored_kinds:
        print(f"ignored fields: {sorted(ignored) or '-'}; ignored tables: {sorted(ignored_tables) or '-'}; "
              f"ignored kinds: {ignored_kinds or '-'}")
    items_b = {p.relative_to(root_b) for p in root_b.rglob("*.json") if p.name != "meta.json"}
    items_a = {p.relative_to(root_a) for p in root_a.rglob("*.json") if p.name != "meta.json"}
    compared = Counter()
    diffs: list[Difference] = []

    def skipped(rel: Path, kind: str) -> bool:
        if rel.parent.name == "tables" and rel.name[:-5] in ignored_tables:
            return True
        return any(fnmatch.fnmatch(kind, pattern) for pattern in ignored_kinds)

    for rel in sorted(items_b | items_a):
        scope, label = kind_of(rel)
        kind = f"{scope}: {label}"
        if skipped(rel, kind):
            continue
        compared[kind] += 1
        if rel not in items_a or rel not in items_b:
            side = "before" if rel in items_b else "after"
            diffs.append(Difference(kind, str(rel), f"item only in {side}", str(rel)))
            continue
        before = json.loads((root_b / rel).read_text(encoding="utf-8"))
        after = json.loads((root_a / rel).read_text(encoding="utf-8"))
        for d in compare_item(rel, before, after, ignored):
            if not any(fnmatch.fnmatch(d.kind, pattern) for pattern in ignored_kinds):
                diffs.append(d)
    if args.json:
        write_item(Path(args.json), [d.__dict__ for d in diffs])
    if not diffs:
        print(f"No differences in {sum(compared.values())} items.")
        return 0
    by_kind = defaultdict(list)
    for d in diffs:
        by_kind[d.kind].append(d)
    for kind in sorted(by_kind):
        group = by_kind[kind]
        items = {d.item for d in group}
        base = kind.replace(": report.json findings", ": report.json")
        total = compared.get(kind) or compared.get(base) or len(items)
        print(f"\n== {kind}: {len(items)} of {total} items differ ({len(group)} differences)")
        whats = Counter(d.what for d in group)
        items_per_what = defaultdict(set)
        for d in group:
            items_per_what[d.what].add(d.item)
        for what, n in whats.most_common():
            print(f"   {what}: {n} in {len(items_per_what[what])} items")
        shown = Counter()
        examples = 0
        for d in group:
            if examples >= args.examples:
                break
            if shown[d.what] >= max(1, args.examples // max(1, len(whats))) and len(whats) > 1:
                continue
            shown[d.what] += 1
            examples += 1
            print(f"   e.g. {d.item}: {d.what}\n      {d.detail}")
    items_total = len({(d.kind, d.item) for d in diffs})
    print(f"\n{len(by_kind)} kinds differ; {items_total} differing items; {len(diffs)} differences in all.")
    return 1


# =============================================================================================

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("corpus", help="generate the corpus (samples + corrupted variants)")
    p.add_argument("--samples", required=True, help="the sample_submissions folder")
    p.add_argument("--out", required=True, help="a new or empty folder")
    p.add_argument("--count", type=int, default=CORPUS_SIZE)
    p.add_argument("--seed", type=int, default=SEED)
    p.set_defaults(func=cmd_corpus)
    p = sub.add_parser("dump", help="run one checkout's CLI over the corpus and dump its outputs")
    p.add_argument("--checkout", required=True)
    p.add_argument("--python", required=True, help="the checkout's interpreter (its venv)")
    p.add_argument("--out", required=True)
    p.add_argument("--corpus", help="corpus folder (default: OUT/corpus, generated from the checkout's samples)")
    p.add_argument("--jobs", type=int, default=min(4, os.cpu_count() or 1),
                   help="validate calls run in parallel")
    p.add_argument("--force", action="store_true", help="replace an earlier dump in OUT")
    p.add_argument("--limit", type=int, help="only the first N corpus entries (to try the script)")
    p.set_defaults(func=cmd_dump)
    p = sub.add_parser("diff", help="compare two dumps; exit 1 if they differ")
    p.add_argument("before")
    p.add_argument("after")
    p.add_argument("--ignore-field", action="append", metavar="NAME",
                   help="drop this key everywhere (report fields, finding fields, table columns); repeatable")
    p.add_argument("--ignore-table", action="append", metavar="NAME", help="skip this warehouse table; repeatable")
    p.add_argument("--ignore-kind", action="append", metavar="GLOB",
                   help="skip kinds matching this pattern, e.g. 'validate*report.html*'; repeatable")
    p.add_argument("--examples", type=int, default=6, help="concrete differences shown per kind")
    p.add_argument("--json", help="also write every difference to this JSON file")
    p.set_defaults(func=cmd_diff)
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
