"""Broken, odd and hostile files, generated here at test time: each gets a report that says what
is wrong, within limits of size and time; none crashes; none writes outside its folder.
Then property-based tests (hypothesis) over the CSV reader.
"""

from __future__ import annotations

from schemas.messages import render_location, render_message

import csv
import io
import re
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from schemas.validate import validate_submission
from tests.builders import SUBMISSION_HEADER, VICTIMS_HEADER, submission_row, write_csv_zip, write_submission, write_workbook
from transforms.prepare import prepare_submission
from schemas.limits import Limits
from transforms.readers import column_number, read_submission

SECONDS_PER_FILE = 10  # generous on a loaded 2-core machine; each case takes well under a second


def check(path: Path):
    """Read and validate one file as the flow does; bounded in time; never raises."""
    started = time.monotonic()
    result = validate_submission(prepare_submission(path))
    assert time.monotonic() - started < SECONDS_PER_FILE
    return result


def rules(result) -> set[str]:
    return {f.rule for f in result.findings}


def csv_folder(folder: Path, victims_text: str, encoding: str = "utf-8",
               submission: list | None = None, delimiter: str = ",") -> Path:
    row = dict(zip(SUBMISSION_HEADER, submission or submission_row("NGA", 2021, 2022)))
    return write_submission(folder, {"victims": victims_text}, row, lineterminator="\n",
                            encoding=encoding, delimiter=delimiter)


GOOD_VICTIMS = ("year,sex,age,form,citizenship,count\n"
                "2021,total,total,total,total,10\n2021,female,total,total,total,6\n"
                "2022,total,total,total,Côte d'Ivoire,4\n")


# -- encodings and separators -----------------------------------------------------------------

@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "latin-1", "cp1252"])
def test_encodings_are_read_exactly(tmp_path, encoding):
    institution = "Ministère de l’Intérieur" if encoding != "latin-1" else "Ministère de l'Intérieur"
    folder = csv_folder(tmp_path / encoding, GOOD_VICTIMS, encoding,
                        submission=[*submission_row("NGA", 2021, 2022)[:3], institution,
                                    "focal.point@ministry.gov", "fr", "1"])
    result = check(folder)
    assert rules(result) == set(), [render_message(f) for f in result.findings]
    assert result.details.institution == institution
    assert list(result.tables["victims"]["citizenship"]) == ["total", "total", "CIV"]


def test_semicolons_and_decimal_commas_from_european_excel(tmp_path):
    text = ("year;sex;age;form;citizenship;count\n2021;total;total;total;total;10,0\n"
            "2021;female;total;total;total;6\n2022;total;total;total;total;1.757\n")
    result = check(csv_folder(tmp_path / "eu", text, "cp1252", delimiter=";"))
    victims = result.tables["victims"]
    assert list(victims["count"].iloc[:2]) == [10, 6]
    # `1.757` is a thousands separator in one country and a decimal in another: asked, not guessed
    [finding] = result.findings
    assert (finding.rule, finding.line, finding.value) == ("not-an-integer", 4, "1.757")


def test_undecodable_bytes_are_reported(tmp_path):
    text = GOOD_VICTIMS.encode("cp1252", errors="replace") + b"2022,male,total,total,total,1\x81\n"
    folder = csv_folder(tmp_path / "bad", "")
    (folder / "victims.csv").write_bytes(text)
    result = check(folder)
    assert "encoding-replaced" in rules(result)


# -- spreadsheets -----------------------------------------------------------------------------

def workbook_with(path: Path, rows: list[list], edit=None) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "submission"
    sheet.append(SUBMISSION_HEADER)
    sheet.append(submission_row("NGA", 2021, 2022))
    victims = workbook.create_sheet("victims")
    victims.append(VICTIMS_HEADER)
    for row in rows:
        victims.append(row)
    if edit:
        edit(workbook)
    workbook.save(path)
    return path


ROWS = [[2021, "total", "total", "total", "total", 10], [2021, "female", "total", "total", "total", 6],
        [2022, "total", "total", "total", "total", 4]]


def test_merged_cells_are_reported_with_what_they_hide(tmp_path):
    path = workbook_with(tmp_path / "merged.xlsx", ROWS,
                         lambda wb: wb["victims"].merge_cells("A2:A3"))
    result = check(path)
    merged = [f for f in result.findings if f.rule == "merged-cells"]
    assert [render_message(f) for f in merged] == [
        "The cells A2:A3 of `victims` are merged: only the first cell keeps the value, the "
        "others are read as empty."]
    assert ("missing-value", "victims!A3") in {(f.rule, render_location(f.location)) for f in result.findings}


def test_hidden_sheet_is_reported(tmp_path):
    def hide(workbook):
        extra = workbook.create_sheet("old data")
        extra.append(["year", "count"])
        extra.sheet_state = "hidden"

    result = check(workbook_with(tmp_path / "hidden.xlsx", ROWS, hide))
    assert {"hidden-sheet", "unknown-table"} <= rules(result)


def test_formula_without_cached_value_is_an_error_at_its_cell(tmp_path):
    rows = ROWS + [[2022, "female", "total", "total", "total", "=F3-2"]]
    result = check(workbook_with(tmp_path / "formula.xlsx", rows))
    formula = [f for f in result.findings if f.rule == "formula-without-value"]
    assert [(render_location(f.location), f.value) for f in formula] == [("victims!F5", "=F3-2")]
    assert result.has_errors


def test_totals_row_extra_and_renamed_columns(tmp_path):
    def edit(workbook):
        sheet = workbook["victims"]
        sheet["G1"] = "comments"  # an extra column
        sheet["F1"] = "number"  # `count` renamed
    rows = ROWS + [["Total", None, None, None, None, 20]]
    result = check(workbook_with(tmp_path / "columns.xlsx", rows, edit))
    assert {"totals-row", "unknown-column", "missing-column"} <= rules(result)


def test_empty_sheets(tmp_path):
    workbook = Workbook()
    workbook.active.title = "submission"
    workbook.create_sheet("victims")
    workbook.save(tmp_path / "empty.xlsx")
    result = check(tmp_path / "empty.xlsx")
    assert result.has_errors and "missing-header" not in rules(result) or result.findings


# -- damaged and hostile files ----------------------------------------------------------------

def unreadable_message(result) -> str:
    [finding] = result.findings
    assert finding.rule == "unreadable-file"
    return render_message(finding)


def limit_named(result) -> str:
    [finding] = result.findings
    assert finding.rule == "limit-exceeded" and "Beyond the limits" in render_message(finding)
    return finding.params["limit"]


def test_password_protected_workbook(tmp_path):
    # an encrypted .xlsx is an OLE compound file (Excel's "Encrypt with password")
    path = tmp_path / "protected.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096))
    assert "password-protected" in unreadable_message(check(path))


def test_zip_bomb_disguised_as_xlsx(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open("xl/worksheets/sheet1.xml", "w") as member:
            zeros = bytes(1 << 20)
            for _ in range(120):  # 120 MB of zeros pack into about 120 KB
                member.write(zeros)
    assert path.stat().st_size < 1024**2
    assert limit_named(check(path)) == "compression_ratio"


def test_zip_bomb_of_csv(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("victims.csv", "w") as member:
            for _ in range(120):
                member.write(b"0" * (1 << 20))
    assert limit_named(check(path)) == "compression_ratio"


def test_a_200_mb_file_is_refused_quickly(tmp_path):
    path = tmp_path / "huge.csv"
    with path.open("wb") as handle:
        handle.truncate(200 * 1024**2)  # sparse: nothing is written to the disk
    started = time.monotonic()
    result = check(path)
    [finding] = result.findings
    assert (finding.rule, finding.params["limit"]) == ("limit-exceeded", "file_bytes")
    assert "200.0 MB" in render_message(finding)
    assert time.monotonic() - started < 5 and path.stat().st_size > Limits().file_bytes


def test_truncated_workbook(tmp_path):
    whole = write_workbook(tmp_path / "whole.xlsx", rows=200).read_bytes()
    path = tmp_path / "truncated.xlsx"
    path.write_bytes(whole[: len(whole) // 2])
    assert "cut short" in unreadable_message(check(path))


def test_binary_junk_with_an_xlsx_name(tmp_path):
    path = tmp_path / "junk.xlsx"
    path.write_bytes(bytes(range(256)) * 64)
    assert "not an Excel workbook" in unreadable_message(check(path))


def test_path_separators_in_zip_entries_write_nothing_anywhere(tmp_path):
    submission = tmp_path / "work" / "traversal.zip"
    submission.parent.mkdir()
    good = write_csv_zip(tmp_path / "good.zip")
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(submission, "w") as archive:
        archive.writestr("../../submission.csv", source.read("submission.csv"))
        archive.writestr("/tmp/..\\victims.csv", source.read("victims.csv"))
    before = sorted(p for p in tmp_path.rglob("*"))
    result = check(submission)
    assert sorted(p for p in tmp_path.rglob("*")) == before
    assert not (tmp_path.parent / "submission.csv").exists()
    paths = [f for f in result.findings if f.rule == "archive-entry-path"]
    assert {f.value for f in paths} == {"submission.csv", "victims.csv"}
    assert not result.has_errors and len(result.tables["victims"]) == 50


# -- personal data ----------------------------------------------------------------------------

CASES_HEADER = ("case_reference,year,stage,victims_total,material_removed,"
                "medical_professionals_involved,summary\n")


@pytest.mark.parametrize("summary, what", [
    ("Victim Mrs. Amina Bello was recruited by a broker", "a personal name"),
    ("a man named Kofi Mensah sold a kidney", "a personal name"),
    ("Contact the victim at amina.bello@example.org", "an e-mail address"),
    ("Broker reachable on +234 803 123 4567", "a telephone number"),
    ("Passport no. A1234567 seized", "a passport or identity-card number"),
    ("Victim born 12/03/1990 in Kano", "a date of birth"),
])
def test_personal_data_in_free_text_is_rejected_and_withheld(tmp_path, summary, what):
    folder = csv_folder(tmp_path / "cases", GOOD_VICTIMS)
    (folder / "organ_removal_cases.csv").write_text(
        CASES_HEADER + f'OR-1,2021,convicted,1,kidney,yes,"{summary}"\n', encoding="utf-8")
    result = check(folder)
    [finding] = [f for f in result.findings if f.rule == "personal-data"]
    assert (finding.severity, finding.value, render_location(finding.location)) == (
        "error", None, "organ_removal_cases.csv, line 2, column 7")
    assert what in render_message(finding) and summary not in str([f.to_dict() for f in result.findings])


def test_ordinary_case_summaries_pass_the_screen(tmp_path):
    folder = csv_folder(tmp_path / "cases", GOOD_VICTIMS)
    (folder / "organ_removal_cases.csv").write_text(
        CASES_HEADER + 'OR-1,2021,convicted,1,kidney,yes,"Recruited in Nepal with promises of '
        'work; called the police after surgery in a private clinic; Supreme Court 123/2022."\n',
        encoding="utf-8")
    assert "personal-data" not in rules(check(folder))


# -- property-based: the CSV reader -----------------------------------------------------------

CELL_TEXT = st.text(alphabet=st.sampled_from(list("ab yzAZ09,;\"'\n\t\u00a0éü’€-.")), max_size=8)
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "cp1252"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(CELL_TEXT, min_size=6, max_size=6), max_size=12),
       encoding=st.sampled_from(ENCODINGS), delimiter=st.sampled_from([",", ";"]))
def test_csv_reader_keeps_every_value_and_its_physical_line(tmp_path_factory, rows, encoding, delimiter):
    rows = [[v.replace("\n", "\n") for v in row] for row in rows if cl_first(row)]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(VICTIMS_HEADER)
    expected, line = [], 2
    for row in rows:
        writer.writerow(row)
        values = [v.strip() or None for v in row]
        if any(values):
            expected.append((line, values))
        line += 1 + sum(v.count("\n") for v in row)
    folder = tmp_path_factory.mktemp("prop")
    (folder / "victims.csv").write_bytes(buffer.getvalue().encode(encoding))
    parsed = read_submission(folder, Limits())
    assert [f.rule for f in parsed.read_findings] == []
    frame = parsed.tables["victims"].data
    got = [(int(line), [None if v is None or v != v else v for v in values])
           for line, *values in frame[["_line", *VICTIMS_HEADER]].itertuples(index=False)]
    assert got == expected


def cl_first(row: list[str]) -> bool:
    """Rows a person would not type as data: a `total` label in the first cell is a totals row."""
    return row[0].strip().lower() not in ("total", "totals", "sum", "subtotal", "grand total")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=4096), suffix=st.sampled_from([".csv", ".xlsx", ".zip", ".txt"]),
       prefix=st.sampled_from([b"", b"PK\x03\x04", b"\xef\xbb\xbf", b"\xff\xfe"]))
def test_any_bytes_give_a_report_never_an_exception(tmp_path_factory, content, suffix, prefix):
    path = tmp_path_factory.mktemp("junk") / f"submission{suffix}"
    path.write_bytes(prefix + content)
    started = time.monotonic()
    result = validate_submission(prepare_submission(path))
    assert time.monotonic() - started < SECONDS_PER_FILE
    assert result.findings  # something is always said about junk


# The columnar CSV reader must give exactly what the row-by-row reader gives, or step aside:
# on the bytes as read (any encoding), alone or as the member of a zip.
LINE_TEXT = st.lists(st.text(alphabet=st.sampled_from(list("ab 09\"'\t\u00a0\u2003\x1féü€\ufffd-.,;\n")), max_size=5)
                     | st.sampled_from(["total", " Total ", "Grand total", "2021", ""]),
                     min_size=8, max_size=8)
HEADERS = [VICTIMS_HEADER, ["year", "sex", "count"], ["Year", " sex ", "age", "form", "citizenship", "count", "notes"],
           ["title of the file"], ["count", "count", "year", "sex"]]
ENCODINGS = ["utf-8", "utf-8-sig", "cp1252", "utf-16", "utf-8 with a bad byte"]


def _encoded(text: str, encoding: str) -> bytes:
    if encoding == "utf-8 with a bad byte":  # decoded as Windows-1252, or U+FFFD after a BOM
        return text.encode("utf-8").replace(b"2", b"\xff2", 1)
    return text.encode(encoding, errors="replace")


@settings(max_examples=200, deadline=None)
@given(header=st.sampled_from(HEADERS), lines=st.lists(LINE_TEXT, max_size=10),
       preamble=st.booleans(), delimiter=st.sampled_from([",", ";"]),
       ending=st.sampled_from(["\n", "\r\n"]), blank_lines=st.lists(st.integers(0, 12), max_size=3),
       ragged=st.booleans(), encoding=st.sampled_from(ENCODINGS), final_newline=st.booleans(),
       in_zip=st.booleans())
def test_columnar_csv_reader_equals_the_row_by_row_reader(tmp_path_factory, header, lines, preamble, delimiter,
                                                          ending, blank_lines, ragged, encoding, final_newline,
                                                          in_zip):
    from schemas.findings import ParsedSubmission
    from transforms.readers import (_add_columnar_table, _add_table, _csv_columns, _csv_rows, _stripped, decode_text,
                                    utf8_bytes)

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=ending)
    if preamble:
        writer.writerow(["GLOTIP submission"])
    writer.writerow(header)
    width = len(header)
    writer.writerows(line[:width - (ragged and number % 3 == 2)] for number, line in enumerate(lines))
    physical = buffer.getvalue().split(ending)
    for position in blank_lines:
        physical.insert(min(position, len(physical)), "")
    text = ending.join(physical)
    if not final_newline and text.endswith(ending):
        text = text[:-len(ending)]
    raw = _encoded(text, encoding)

    def parsed():
        return ParsedSubmission(path="x", file_name="victims.csv", sha256="0", file_format="csv", size_bytes=0)

    slow = parsed()
    decoded, encoding_finding = decode_text(raw, "victims.csv")
    slow.read_findings += [encoding_finding] if encoding_finding else []
    _add_table(slow, "victims", "victims.csv", "csv", _csv_rows(decoded), first_line=1)
    if in_zip:  # the whole read: the zip's member through whichever path takes it
        path = tmp_path_factory.mktemp("zipped") / "submission.zip"
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("victims.csv", raw)
        fast = read_submission(path, Limits())
    else:
        fast = parsed()
        data, encoding_finding = utf8_bytes(raw, "victims.csv")
        assert data.decode("utf-8") == decoded
        fast.read_findings += [encoding_finding] if encoding_finding else []
        columns = _csv_columns(data, data.count(b"\n"), "victims", "victims.csv", Limits())
        if columns is None:
            return  # it stepped aside: the row-by-row reader alone decides
        assert _add_columnar_table(fast, "victims", "victims.csv", "csv", *columns, strip=_stripped)
    assert [(f.rule, f.line, f.column, f.value, render_message(f)) for f in fast.read_findings] == \
           [(f.rule, f.line, f.column, f.value, render_message(f)) for f in slow.read_findings]
    assert fast.tables.keys() == slow.tables.keys()
    for name, frame in slow.tables.items():
        other = fast.tables[name]
        assert (other.column_positions, other.header_labels, other.header_line) == (
            frame.column_positions, frame.header_labels, frame.header_line)
        pd.testing.assert_frame_equal(other.data, frame.data)


def test_the_columnar_csv_reader_takes_what_it_should():
    """The property above holds whether or not the fast path takes a file: these it must take."""
    from schemas.findings import ParsedSubmission
    from transforms.readers import _add_columnar_table, _csv_columns, _stripped, utf8_bytes

    body = [["2021", "female", "adult", " sexual ", "NGA", "3"], ["", "", "", "", "", ""], ["2022", "male", "", "", "Côte d'Ivoire", "1,5"]]
    for delimiter, ending, bom, blank in [(",", "\n", False, False), (";", "\r\n", True, True), (",", "\r\n", False, True)]:
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter, lineterminator=ending).writerows([VICTIMS_HEADER, *body])
        text = buffer.getvalue() + (ending if blank else "")
        data, finding = utf8_bytes(text.encode("utf-8-sig" if bom else "utf-8"), "victims.csv")
        parsed = ParsedSubmission(path="x", file_name="victims.csv", sha256="0", file_format="csv", size_bytes=0)
        columns = _csv_columns(data, data.count(b"\n"), "victims", "victims.csv", Limits())
        assert finding is None and columns is not None
        assert _add_columnar_table(parsed, "victims", "victims.csv", "csv", *columns, strip=_stripped)
        frame = parsed.tables["victims"].data
        assert frame["_line"].tolist() == [2, 4] and frame["form"].tolist()[0] == "sexual"
        assert frame["citizenship"].tolist()[1] == "Côte d'Ivoire" and frame["age"].isna().tolist() == [False, True]


# The columnar sheet reader must give what `_text` cell by cell gives (calamine's value types).
CELL = st.one_of(st.just(""), st.text(alphabet=st.sampled_from(list("ab 09\t\u00a0é-.")), max_size=5),
                 st.sampled_from(["total", "Total", "2021", " sex "]),
                 st.floats(allow_nan=True, allow_infinity=True, width=64),
                 st.integers(-3, 3000).map(float), st.integers(0, 99), st.booleans(),
                 st.dates().map(lambda d: d))


@settings(max_examples=150, deadline=None)
@given(header=st.sampled_from(HEADERS), body=st.lists(st.lists(CELL, min_size=8, max_size=8), max_size=10),
       preamble=st.booleans())
def test_columnar_sheet_reader_equals_the_cell_by_cell_reader(header, body, preamble):
    from schemas.findings import ParsedSubmission
    from transforms.readers import _add_sheet_columnar, _add_table, _text

    width = max(len(header), 6)
    rows = ([["GLOTIP"] + [""] * (width - 1)] if preamble else []) + [list(header) + [""] * (width - len(header))]
    rows += [row[:width] for row in body]

    def parsed():
        return ParsedSubmission(path="x", file_name="x.xlsx", sha256="0", file_format="xlsx", size_bytes=0)

    slow = parsed()
    _add_table(slow, "victims", "victims", "sheet", [[_text(v) for v in row] for row in rows], first_line=1)
    fast = parsed()
    if not _add_sheet_columnar(fast, "victims", "victims", rows):
        return
    assert [(f.rule, f.line, f.column, f.value, render_message(f)) for f in fast.read_findings] == \
           [(f.rule, f.line, f.column, f.value, render_message(f)) for f in slow.read_findings]
    for name, frame in slow.tables.items():
        other = fast.tables[name]
        assert (other.column_positions, other.header_labels, other.header_line) == (
            frame.column_positions, frame.header_labels, frame.header_line)
        pd.testing.assert_frame_equal(other.data, frame.data)


# The sheet scan before calamine (transforms/readers.py `_scan_block`, numpy over the bytes) must
# find what these regexes find, on any bytes made of the pieces of a sheet's XML.
_CELL_TAG = re.compile(rb"<(?:[\w.-]+:)?c[\s/>]")
_REFERENCE_COLUMN = re.compile(rb'r="([A-Za-z]{1,3})[0-9]')
_REFERENCE_ROW = re.compile(rb'r="[A-Za-z]{1,3}([0-9]{1,9})"')
XML_PIECES = st.sampled_from([
    b'<c r="', b'<c', b'<c>', b'<c/>', b'<c\t', b'<c\n', b'<x:c ', b'<x:c>', b':c/', b'<col ', b'<cols>',
    b'<f', b'<f>', b'<x:f>', b':f ', b'<v>', b'</c>', b'<row r="', b'r="', b'ref="', b'="', b'"', b'=',
    b'>', b'/>', b' ', b'\t', b'A', b'z', b'Q', b'AB', b'xfd', b'ABCD', b'0', b'1', b'9', b'07', b'12',
    b'1048576', b'123456789', b'1234567890', b'\xc3\xa9', b'@', b'[', b'`', b'{', b'\x00'])


def _regex_scan(data: bytes):
    if b":c " in data or b":c>" in data or b":c/" in data:
        cells = len(_CELL_TAG.findall(data))
    else:
        cells = sum(data.count(b"<c" + end) for end in (b" ", b">", b"/", b"\t", b"\n", b"\r"))
    columns = [column_number(letters.decode()) for letters in _REFERENCE_COLUMN.findall(data)]
    rows = [int(digits) for digits in _REFERENCE_ROW.findall(data)]
    return (cells, b"<f" in data or b":f>" in data,
            (min(columns), max(columns)) if columns else None, (min(rows), max(rows)) if rows else None)


@settings(max_examples=400, deadline=None)
@given(pieces=st.lists(XML_PIECES, max_size=80), rest=st.lists(XML_PIECES, max_size=10))
def test_sheet_scan_finds_what_the_regexes_find(pieces, rest):
    from transforms.readers import _PAD, _scan_block

    def scan(data, size):
        found = _scan_block(data + _PAD, size)
        return found.cell_tags, found.has_formula, found.columns, found.rows

    data = b"".join(pieces)
    assert scan(data, len(data)) == _regex_scan(data)
    # a block cut after its last `>`: what follows it (the next block's start) changes nothing
    block = data + b">"
    assert scan(block + b"".join(rest), len(block)) == _regex_scan(block)
