"""The hostile corpus: files generated at run time, by class, each of which must end within the
limits with a report and no traceback (tests/test_hostile_corpus.py runs every case through
the real pipeline; nothing here is committed but the generators).

`CORPUS` maps a class to its cases. A case builds its file in a folder and says what the
report must hold (`expect`: a rule, with `limit` for `limit-exceeded`; None for a file that
must be read like any other). Adding a class is one dict entry.

    python -m tests.hostile_corpus --table        # every case in a child process: a markdown
                                                  # table of class, cases, outcome, time, memory
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from schemas import i18n
from tests.builders import HEADERS, SUBMISSION, consistent_victims

SHEET_NS = ('xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"')


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], Path]  # writes the file (or folder) into the given folder
    expect: str | None  # the rule the report must hold; None: read like any other file
    limit: str | None = None  # for `limit-exceeded`: the limit it names
    limits: dict = field(default_factory=dict)  # limits of the run, over the defaults
    slow: bool = False  # more than a few seconds: `pytest -m slow`
    cli: bool = False  # run through `glotip validate` in a subprocess (could hang or abort)
    secret: str | None = None  # text that holds personal data: in no output, no table
    before: Callable[[Path], Path] | None = None  # a submission loaded first (the data held)


# -- writing workbooks by hand: fast, and able to say what no spreadsheet program writes -------

def column_name(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_xml(reference: str, value) -> str:
    if isinstance(value, str):
        return f'<c r="{reference}" t="inlineStr"><is><t>{escape(value)}</t></is></c>'
    return f'<c r="{reference}"><v>{value}</v></c>'


def rows_xml(rows, first_line: int = 1) -> str:
    return "".join(
        f'<row r="{line}">' + "".join(cell_xml(f"{column_name(j)}{line}", v)
                                      for j, v in enumerate(row, 1) if v is not None) + "</row>"
        for line, row in enumerate(rows, first_line))


def write_xlsx(path: Path, sheets: dict[str, str | Callable], *, stored: bool = False,
               dimension: str | None = None, workbook_extra: str = "") -> Path:
    """A workbook of `sheets` (name -> the XML inside <sheetData>, or a function writing it to
    a stream, for sheets too big to hold as one string)."""
    method = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    count = len(sheets)
    with zipfile.ZipFile(path, "w", method) as archive:
        archive.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                      for i in range(1, count + 1)) + "</Types>"))
        archive.writestr("_rels/.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'))
        archive.writestr("xl/workbook.xml", (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook {SHEET_NS}>{workbook_extra}<sheets>'
            + "".join(f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(sheets, 1))
            + "</sheets></workbook>"))
        archive.writestr("xl/_rels/workbook.xml.rels", (
            '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet{i}.xml"/>'
                      for i in range(1, count + 1)) + "</Relationships>"))
        head = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet {SHEET_NS}>'
                + (f'<dimension ref="{dimension}"/>' if dimension else "") + "<sheetData>")
        for i, body in enumerate(sheets.values(), 1):
            with archive.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as member:
                member.write(head.encode())
                if callable(body):
                    body(member)
                else:
                    member.write(body.encode())
                member.write(b"</sheetData></worksheet>")
    return path


def submission_sheet(year_from: int = 2021, year_to: int = 2022) -> str:
    row = {**SUBMISSION, "year_from": year_from, "year_to": year_to}
    return rows_xml([list(row), list(row.values())])


def victims_rows(count: int) -> list[list]:
    """`count` consistent rows of the victims table (2021), header first."""
    return [HEADERS["victims"], *(list(row) for row in consistent_victims(count, 2021))]


def workbook(path: Path, victims_body=None, years: tuple[int, int] = (2021, 2022), **sheets) -> Path:
    """A small valid submission, victims given as sheet XML (default: 12 good rows)."""
    body = victims_body if victims_body is not None else rows_xml(victims_rows(12))
    return write_xlsx(path, {"submission": submission_sheet(*years), "victims": body, **sheets})


def csv_folder(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    files = {"submission.csv": ",".join(SUBMISSION) + "\n" + ",".join(SUBMISSION.values()) + "\n",
             **files}
    for name, text in files.items():
        target = folder / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return folder


def victims_csv(count: int = 12) -> str:
    return "\n".join(",".join(map(str, row)) for row in victims_rows(count)) + "\n"


def csv_zip(path: Path, files: dict[str, str | bytes]) -> Path:
    files = {"submission.csv": ",".join(SUBMISSION) + "\n" + ",".join(SUBMISSION.values()) + "\n",
             **files}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


# -- the cases, by class ----------------------------------------------------------------------

GOOD = rows_xml(victims_rows(12))
FAR = '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'


def _sparse(path: Path, size: int = 3 * 1024**3) -> Path:
    with path.open("wb") as handle:
        handle.truncate(size)  # sparse: nothing written to the disk
    return path


MANY_CITIZENSHIPS = 200  # 700,000 rows span 2000-2015 (with the builder's 20: beyond 2100)


def _many_rows(rows: int, extra_column: bool = False, formula_last: bool = False):
    """A sheet of `rows` consistent victims rows from 2000, written as XML (openpyxl would take
    minutes); with an extra `notes` column (a warning: the report has a finding to annotate),
    or with the last count a formula never calculated."""
    def write(stream) -> None:
        header = HEADERS["victims"] + (["notes"] if extra_column else [])
        stream.write(rows_xml([header]).encode())
        batch = []
        for line, row in enumerate(consistent_victims(rows, 2000, MANY_CITIZENSHIPS), 2):
            year, sex, age, form, citizenship, count = row
            value = f"<f>SUM(F2:F{line - 1})</f>" if formula_last and line == rows + 1 else f"<v>{count}</v>"
            batch.append(f'<row r="{line}"><c r="A{line}"><v>{year}</v></c>'
                         f'<c r="B{line}" t="inlineStr"><is><t>{sex}</t></is></c>'
                         f'<c r="C{line}" t="inlineStr"><is><t>{age}</t></is></c>'
                         f'<c r="D{line}" t="inlineStr"><is><t>{form}</t></is></c>'
                         f'<c r="E{line}" t="inlineStr"><is><t>{citizenship}</t></is></c>'
                         f'<c r="F{line}">{value}</c></row>')
            if len(batch) == 10_000:
                stream.write("".join(batch).encode())
                batch = []
        stream.write("".join(batch).encode())
    return write


def _formula_workbook(path: Path, rows: int) -> Path:
    """A valid workbook of `rows` rows, stored uncompressed (105,000 rows: 26 MB), whose last
    count is a formula never calculated: the formula check must not build the sheet's tree."""
    return write_xlsx(path, {"submission": submission_sheet(*_years(rows)),
                             "victims": _many_rows(rows, formula_last=True)}, stored=True)


def _same_name_twice(path: Path) -> Path:
    """workbook.xml lists `victims` twice (no spreadsheet program writes it): a scan keyed by
    name would see only one of the two sheets."""
    write_xlsx(path, {"submission": submission_sheet(), "victims": GOOD + FAR, "small": GOOD})
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["xl/workbook.xml"] = members["xl/workbook.xml"].replace(b'name="small"', b'name="victims"')
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def _years(rows: int) -> tuple[int, int]:
    return 2000, 2000 + _years_spanned(rows) - 1


def _years_spanned(rows: int) -> int:
    return len({row[0] for row in consistent_victims(rows, 2000, MANY_CITIZENSHIPS)})


def _deep(depth: int) -> str:
    return "<x>" * depth + "</x>" * depth


def _zip_bomb(path: Path, member: str, megabytes: int = 120, extra: dict | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in (extra or {}).items():
            archive.writestr(name, text)
        with archive.open(member, "w", force_zip64=True) as stream:
            zeros = bytes(1 << 20)
            for _ in range(megabytes):
                stream.write(zeros)
    return path


def _many_members(path: Path, count: int) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("victims.csv", victims_csv())
        for i in range(count):
            archive.writestr(f"notes/n{i}.txt", "x")
    return path


def _fifo_folder(folder: Path) -> Path:
    csv_folder(folder, {})
    os.mkfifo(folder / "victims.csv")  # opened for reading, it would wait for a writer forever
    return folder


def _socket_folder(folder: Path) -> Path:
    csv_folder(folder, {})
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "victims.csv"))
    server.close()  # the socket file stays
    return folder


def _symlink_folder(folder: Path) -> Path:
    csv_folder(folder, {})
    (folder / "victims.csv").symlink_to("/etc/hostname")
    return folder


def _fifo_file(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    os.mkfifo(folder / "victims.csv")
    return folder / "victims.csv"


def _symlink_file(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = workbook(folder / "real.xlsx")
    (folder / "link.xlsx").symlink_to(target)
    return folder / "link.xlsx"


def _long_cell_csv(folder: Path) -> Path:
    rows = victims_csv().splitlines()
    rows[3] = rows[3].rsplit(",", 2)[0] + "," + "x" * 40_000 + "," + rows[3].rsplit(",", 1)[1]
    return csv_folder(folder, {"victims.csv": "\n".join(rows) + "\n"})


def _long_cell_csv_quoted(folder: Path) -> Path:
    text = victims_csv() + '2021,female,total,total,"' + "line\n" * 8_000 + '",3\n'
    return csv_folder(folder, {"victims.csv": text})


FRENCH_VICTIMS = i18n.sheet_name("victims", "fr")

CORPUS: dict[str, list[Case]] = {
    "huge extent": [
        Case("cell at XFD1048576", lambda d: workbook(d / "far.xlsx", GOOD + FAR), "limit-exceeded", "columns"),
        Case("cell at XFD1", lambda d: workbook(d / "wide.xlsx", GOOD.replace("</row>", '<c r="XFD1"><v>1</v></c></row>', 1)),
             "limit-exceeded", "columns"),
        Case("cell at J1048576 (10 columns)", lambda d: workbook(d / "tall.xlsx", GOOD + '<row r="1048576"><c r="J1048576"><v>1</v></c></row>'),
             "limit-exceeded", "cells"),
        Case("two sheets named victims, the first with a far cell",
             lambda d: _same_name_twice(d / "same_name.xlsx"), "limit-exceeded", "columns"),
        Case("far cell in an unknown sheet", lambda d: workbook(d / "notes.xlsx", notes=rows_xml([["a note"]]) + FAR), "limit-exceeded", "columns"),
        Case("dimension says A1:B2, a cell at XFD1048576",
             lambda d: write_xlsx(d / "lie.xlsx", {"submission": submission_sheet(), "victims": GOOD + FAR}, dimension="A1:B2"),
             "limit-exceeded", "columns"),
        Case("dimension says A1:XFD1048576, 12 rows",
             lambda d: write_xlsx(d / "lie2.xlsx", {"submission": submission_sheet(), "victims": GOOD}, dimension="A1:XFD1048576"),
             None),
        Case("far cell, scan limits lifted: the child dies, not the run",
             lambda d: workbook(d / "abort.xlsx", GOOD + FAR), "limit-exceeded", "parse_memory_bytes",
             limits={"columns": 10**6, "cells": 10**12, "rows": 10**7, "parse_memory_bytes": 1024**3}, cli=True),
        Case("200,000 rows against parse_seconds 0.2: the child is killed, not the run",
             lambda d: workbook(d / "slow.xlsx", _many_rows(200_000), years=_years(200_000)),
             "limit-exceeded", "parse_seconds", limits={"parse_seconds": 0.2}),
    ],
    "many sheets": [
        Case("10,000 sheets", lambda d: write_xlsx(d / "sheets.xlsx", {"submission": submission_sheet(), "victims": GOOD,
                                                                      **{f"s{i}": "" for i in range(10_000)}}),
             "limit-exceeded", "sheets"),
        Case("101 sheets", lambda d: write_xlsx(d / "sheets101.xlsx", {"submission": submission_sheet(), "victims": GOOD,
                                                                      **{f"s{i}": "" for i in range(99)}}),
             "limit-exceeded", "sheets"),
        Case("zip of 3,000 members", lambda d: _many_members(d / "members.zip", 3_000), "limit-exceeded", "archive_members"),
    ],
    "many rows": [
        Case("honest 700,000-row workbook (annotated copy skipped)",
             lambda d: workbook(d / "big.xlsx", _many_rows(700_000, extra_column=True), years=_years(700_000)),
             "unknown-column", slow=True),
        Case("50,000-row workbook over a lowered annotated_cells",
             lambda d: workbook(d / "mid.xlsx", _many_rows(50_000, extra_column=True), years=_years(50_000)),
             "unknown-column",
             limits={"annotated_cells": 100_000}),
        Case("CSV of 2,000,001 lines", lambda d: csv_folder(d / "lines", {"victims.csv": victims_csv() + "\n" * 2_000_001}),
             "limit-exceeded", "rows"),
        Case("CSV of 1,001 columns", lambda d: csv_folder(d / "wide", {"victims.csv": ",".join(HEADERS["victims"] + [f"x{i}" for i in range(995)]) + "\n"}),
             "limit-exceeded", "columns"),
        Case("workbook sheet of 30 rows over a rows limit of 20",
             lambda d: workbook(d / "rows.xlsx", GOOD + '<row r="30"><c r="A30"><v>1</v></c></row>'),
             "limit-exceeded", "rows", limits={"rows": 20}),
    ],
    "long cells": [
        Case("CSV cell of 40,000 characters", _long_cell_csv, "limit-exceeded", "text_length"),
        Case("CSV quoted cell of 8,000 lines", _long_cell_csv_quoted, "limit-exceeded", "text_length"),
        Case("workbook cell of 40,000 characters",
             lambda d: workbook(d / "long.xlsx", GOOD.replace("<t>ABW</t>", "<t>" + "y" * 40_000 + "</t>", 1)),
             "limit-exceeded", "text_length"),
    ],
    "large formula workbook": [
        Case("26 MB workbook, one formula without a value", lambda d: _formula_workbook(d / "formula.xlsx", 105_000),
             "formula-without-value", slow=True),
        Case("1 MB workbook, one formula without a value", lambda d: _formula_workbook(d / "formula1.xlsx", 4_000),
             "formula-without-value"),
    ],
    "huge file": [
        Case("3 GiB sparse .xlsx", lambda d: _sparse(d / "huge.xlsx"), "limit-exceeded", "file_bytes"),
        Case("3 GiB sparse .csv", lambda d: _sparse(d / "victims.csv"), "limit-exceeded", "file_bytes"),
        Case("3 GiB sparse victims.csv in a folder", lambda d: (_sparse(csv_folder(d / "folder", {}) / "victims.csv"), d / "folder")[1],
             "limit-exceeded", "file_bytes"),
    ],
    "zip bomb": [
        Case("120 MB of zeros as a worksheet", lambda d: _zip_bomb(d / "bomb.xlsx", "xl/worksheets/sheet1.xml", extra={"xl/workbook.xml": "<workbook/>"}),
             "limit-exceeded", "compression_ratio"),
        Case("120 MB of zeros as victims.csv", lambda d: _zip_bomb(d / "bomb.zip", "victims.csv"), "limit-exceeded", "compression_ratio"),
        Case("450 MB of zeros as victims.csv", lambda d: _zip_bomb(d / "bomb450.zip", "victims.csv", 450), "limit-exceeded", "unpacked_bytes"),
        Case("120 MB of zeros as sharedStrings of a real workbook",
             lambda d: _zip_bomb(d / "strings.xlsx", "xl/sharedStrings.xml", extra=_members(workbook(d / "base.xlsx"))),
             "limit-exceeded", "compression_ratio"),
    ],
    "deep XML nesting": [
        Case("100,000 nested elements in a sheet", lambda d: workbook(d / "deep.xlsx", GOOD + f"<row r=\"20\"><c r=\"A20\"><is>{_deep(100_000)}</is></c></row>"),
             None),
        Case("100,000 nested elements in workbook.xml",
             lambda d: write_xlsx(d / "deepbook.xlsx", {"submission": submission_sheet(), "victims": GOOD}, workbook_extra=_deep(100_000)),
             None),
    ],
    "duplicate tables": [
        Case("sheets victims and Victims", lambda d: workbook(d / "twice.xlsx", Victims=GOOD), "table-given-twice"),
        Case("sheet victims and its French name", lambda d: workbook(d / "twice_fr.xlsx", **{FRENCH_VICTIMS: GOOD}), "table-given-twice"),
        Case("sheet victims and its English title", lambda d: workbook(d / "twice_title.xlsx", **{i18n.table_title("victims", "en"): GOOD}),
             "table-given-twice"),
        Case("victims.csv and VICTIMS.CSV in a folder",
             lambda d: csv_folder(d / "folder", {"victims.csv": victims_csv(), "VICTIMS.CSV": victims_csv(5)}), "table-given-twice"),
        Case("victims.csv and old/victims.csv in a folder",
             lambda d: csv_folder(d / "folder_old", {"victims.csv": victims_csv(), "old/victims.csv": victims_csv(5)}),
             "table-given-twice"),
        Case("victims.csv and victimes.csv in a folder",
             lambda d: csv_folder(d / "folder_fr", {"victims.csv": victims_csv(), f"{FRENCH_VICTIMS}.csv": victims_csv(5)}), "table-given-twice"),
        Case("victims.csv and old/victims.csv in a zip",
             lambda d: csv_zip(d / "twice.zip", {"victims.csv": victims_csv(), "old/victims.csv": victims_csv(5)}), "table-given-twice"),
        Case("old/victims.csv first, then victims.csv, in a zip",
             lambda d: csv_zip(d / "twice_order.zip", {"old/victims.csv": victims_csv(5), "victims.csv": victims_csv()}), "table-given-twice"),
        Case("Victims.csv and victims.csv in a zip",
             lambda d: csv_zip(d / "twice_case.zip", {"Victims.csv": victims_csv(), "victims.csv": victims_csv(5)}), "table-given-twice"),
    ],
    "not a regular file": [
        Case("FIFO victims.csv in a folder", lambda d: _fifo_folder(d / "fifo"), "unreadable-file", cli=True),
        Case("FIFO given as the file", _fifo_file, "unreadable-file", cli=True),
        Case("socket victims.csv in a folder", lambda d: _socket_folder(d / "socket"), "unreadable-file", cli=True),
        Case("symbolic link victims.csv in a folder", lambda d: _symlink_folder(d / "link"), "unreadable-file"),
        Case("symbolic link given as the file", _symlink_file, "unreadable-file"),
    ],
}


# -- identifiers, personal data, formulas, a submission of the wrong country -------------------

def _submission_xlsx(path: Path, victims_body: str = GOOD, **fields) -> Path:
    """A small valid workbook whose submission row has `fields` over the defaults."""
    row = {**SUBMISSION, **fields}
    return write_xlsx(path, {"submission": rows_xml([list(row), list(row.values())]), "victims": victims_body})


def _submission_csv(folder: Path, **fields) -> Path:
    """The same as a CSV folder, written with the csv module (any text survives quoting)."""
    folder.mkdir(parents=True, exist_ok=True)
    row = {**SUBMISSION, **fields}
    with (folder / "submission.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([list(row), list(row.values())])
    (folder / "victims.csv").write_text(victims_csv(), encoding="utf-8")
    return folder


def _count_cell(text: str, value: str) -> str:
    """The CSV text with the first data row's count replaced by `value`."""
    header, first, *rest = text.splitlines()
    return "\n".join([header, first.rsplit(",", 1)[0] + "," + value, *rest]) + "\n"


def _named(name: str) -> Callable[[Path], Path]:
    return lambda d: workbook(d / name)


ORGAN_HEADER = [*HEADERS["organ_removal_cases"], "court_decision_reference", "summary"]
ORGAN_ROW = {"case_reference": "OR-2021-01", "year": 2021, "stage": "prosecution", "victims_total": 2,
             "victims_female": "", "victims_male": "", "victims_children": "", "victims_citizenship": "NPL",
             "material_removed": "kidney", "recruitment_countries": "NPL", "removal_countries": "IND",
             "recipient_countries": "", "medical_professionals_involved": "yes",
             "court_decision_reference": "High Court, 123/2022",
             "summary": "Recruited with promises of work; kidneys removed in a private clinic."}


def _organ_case(path: Path, **fields) -> Path:
    row = {**ORGAN_ROW, **fields}
    return workbook(path, organ_removal_cases=rows_xml([ORGAN_HEADER, [row[c] for c in ORGAN_HEADER]]))


def _tripled(rows: list[list]) -> list[list]:
    return [rows[0], *([*row[:-1], row[-1] * 3] for row in rows[1:])]


LOADED_FIRST = lambda d: workbook(d / "first.xlsx", years=(2021, 2021))  # noqa: E731 - a case's `before`
LONG_SUMMARY = "Recruited abroad with promises of work. " * 30 + "Write to jean.dupont@gmail.com for the file."

CORPUS.update({
    "identifiers from cells and names": [
        *(Case(f"country cell {text[:40]!r}", (lambda d, text=text: _submission_xlsx(d / "id.xlsx", country=text)),
               "unknown-country")
          for text in ("../", "../../etc/passwd", "/etc/passwd", "..\\..\\Windows\\win.ini", "FRA/../../x",
                       "%2e%2e%2f", "C:\\Temp\\x", "x" * 300, "\u202eARF")),
        Case("country cell with a NUL and a line break (CSV)",
             lambda d: _submission_csv(d / "nul", country="FRA\x00\n../x"), "unknown-country"),
        Case("file name with a line break", _named("forged\nINFO run ok.xlsx"), None),
        Case("file name with a right-to-left override", _named("report\u202egpj.xlsx"), None),
        Case("file name of 250 characters", _named("a" * 245 + ".xlsx"), None),
    ],
    "personal data": [
        Case("telephone in the institution",
             lambda d: _submission_xlsx(d / "pd1.xlsx", institution="Ministry, call +33 6 12 34 56 78"),
             "personal-data", secret="+33 6 12 34 56 78"),
        Case("e-mail in the institution (CSV)",
             lambda d: _submission_csv(d / "pd2", institution="Ministry (jean.dupont@gmail.com)"),
             "personal-data", secret="jean.dupont@gmail.com"),
        Case("passport number in the case reference",
             lambda d: _organ_case(d / "pd3.xlsx", case_reference="Passport AB1234567"),
             "personal-data", secret="AB1234567"),
        Case("passport number in the court decision reference",
             lambda d: _organ_case(d / "pd4.xlsx", court_decision_reference="passeport n° 12AB34567"),
             "personal-data", secret="12AB34567"),
        Case("a name after M. in the summary",
             lambda d: _organ_case(d / "pd5.xlsx", summary="M. Dupont a été recruté à Lyon."),
             "personal-data", secret="M. Dupont"),
        Case("a name after السيد in the summary",
             lambda d: _organ_case(d / "pd6.xlsx", summary="تم تجنيد السيد أحمد في القاهرة."),
             "personal-data", secret="السيد أحمد"),
        Case("a name after г-н in the summary",
             lambda d: _organ_case(d / "pd7.xlsx", summary="г-н Иванов был завербован в Москве."),
             "personal-data", secret="Иванов"),
        Case("an over-long summary holding an e-mail",
             lambda d: _organ_case(d / "pd8.xlsx", summary=LONG_SUMMARY),
             "personal-data", secret="jean.dupont@gmail.com"),
        Case("a date of birth in the summary",
             lambda d: _organ_case(d / "pd9.xlsx", summary="The victim, born 12/03/1990, was recruited."),
             "personal-data", secret="12/03/1990"),
    ],
    "formulas in cells": [
        *(Case(f"sex cell {text!r}", (lambda d, text=text: workbook(
            d / "f.xlsx", GOOD.replace("<t>total</t>", f"<t>{escape(text)}</t>", 1))), "unknown-code")
          for text in ("=cmd|' /C calc'!A0", "@SUM(1+1)", '=HYPERLINK("http://example.invalid","click")',
                       "+1+1", "-2+3", "\t=1+1")),
        Case("count cell '=1+1' in a CSV",
             lambda d: csv_folder(d / "fcsv", {"victims.csv": _count_cell(victims_csv(), "=1+1")}),
             "not-an-integer"),
    ],
    "a submission of the wrong country": [
        Case("every figure of the country's held data changed",
             lambda d: workbook(d / "again.xlsx", rows_xml(_tripled(victims_rows(12))), years=(2021, 2021)),
             "replaces-most-figures", before=LOADED_FIRST),
        Case("file named FRA_2021.xlsx, country cell THA",
             lambda d: workbook(d / "FRA_2021.xlsx"), "country-differs-from-file-name"),
        Case("period 2020-2021 without rows for 2020, held for 2020",
             lambda d: workbook(d / "only2021.xlsx", years=(2020, 2021)), "year-without-rows",
             before=lambda d: workbook(d / "first2020.xlsx", rows_xml(
                 [victims_rows(1)[0], *([2020, *row[1:]] for row in victims_rows(12)[1:])]), years=(2020, 2020))),
    ],
})


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name != "xl/sharedStrings.xml"}


def all_cases() -> list[tuple[str, Case]]:
    return [(kind, case) for kind, cases in CORPUS.items() for case in cases]


# -- running a case through the real pipeline ---------------------------------------------------

def run_case(case: Case, folder: Path) -> dict:
    """Build the case in `folder` and put it through the pipeline as `glotip validate` does,
    compared with and recorded into a real DuckDB warehouse: assess, then process (load)."""
    from pipeline import submission as sequence
    from schemas.limits import Limits
    from warehouse.session import Warehouse

    limits = Limits(**case.limits)
    with Warehouse(folder / "glotip.duckdb") as warehouse:
        if case.before is not None:
            (folder / "before").mkdir()
            first = sequence.assess_file(case.before(folder / "before"), limits=limits)
            sequence.process(first, warehouse, reports_dir=folder / "reports-before", run_id="before")
        path = case.build(folder)
        assessment = sequence.assess_file(path, limits=limits)
        outcome = sequence.process(assessment, warehouse, reports_dir=folder / "reports", run_id="hostile")
    return {"status": outcome.status, "report": outcome.report,
            "reader_peak_mb": (assessment.parsed.reader_peak_bytes or 0) / 1024**2,
            "rules": sorted({f.rule for f in outcome.findings}),
            "limits": sorted({f.params.get("limit") for f in outcome.findings if f.rule == "limit-exceeded"})}


def validate_command(path: Path, folder: Path, limits: dict, timeout: float) -> subprocess.CompletedProcess:
    """`glotip validate` in a subprocess, with `limits` as GLOTIP_LIMITS_* variables."""
    environment = {**os.environ, **{f"GLOTIP_LIMITS_{name.upper()}": str(value) for name, value in limits.items()},
                   "GLOTIP_CONFIG": str(folder / "absent.toml"), "GLOTIP_DB": str(folder / "absent.duckdb")}
    return subprocess.run([sys.executable, "-m", "cli", "validate", str(path), "--reports", str(folder / "reports")],
                          capture_output=True, text=True, timeout=timeout, env=environment,
                          cwd=Path(__file__).resolve().parents[1])


def _run_one(kind: str, name: str) -> None:
    case = next(c for k, c in all_cases() if k == kind and c.name == name)
    with tempfile.TemporaryDirectory(prefix="glotip-hostile-") as folder:
        print(json.dumps(run_case(case, Path(folder))))


def table() -> str:
    """Every case in its own child process: a markdown table per class."""
    lines = ["| class | cases | outcome | max time | max peak memory: case process / reader child |",
             "|---|---|---|---|---|"]
    for kind, cases in CORPUS.items():
        outcomes, times, peaks, reader_peaks = [], [], [], [0.0]
        for case in cases:
            started = time.monotonic()
            child = subprocess.Popen([sys.executable, "-m", "tests.hostile_corpus", "--run", kind, case.name],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     cwd=Path(__file__).resolve().parents[1])
            _, status, usage = os.wait4(child.pid, 0)
            times.append(time.monotonic() - started)
            peaks.append(usage.ru_maxrss / 1024)
            output = child.stdout.read().strip().splitlines()
            child.wait() if child.returncode is None else None
            result = json.loads(output[-1]) if output and status == 0 else None
            if result is None:
                outcomes.append(f"{case.name}: FAILED ({child.stderr.read().strip().splitlines()[-1:]})")
            else:
                reader_peaks.append(result["reader_peak_mb"])
                got = ", ".join(result["limits"]) or ", ".join(result["rules"]) or "no finding"
                outcomes.append(f"{case.name}: {result['status']} ({got})".replace("|", "\\|"))
        lines.append(f"| {kind} | {len(cases)} | {'<br>'.join(outcomes)} | {max(times):.1f} s | {max(peaks):,.0f} MB / {max(reader_peaks):,.0f} MB |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", action="store_true", help="run every case, print the markdown table")
    parser.add_argument("--run", nargs=2, metavar=("CLASS", "CASE"), help="run one case, print its outcome as JSON")
    arguments = parser.parse_args()
    if arguments.run:
        _run_one(*arguments.run)
    else:
        print(table())


if __name__ == "__main__":
    main()
