"""Read a submitted file into `TableFrame`s of strings that remember where each value was.

Accepted forms: the Excel template (.xlsx), or the same tables as CSV files named after the
tables (`victims.csv`, ...) in a folder or a .zip. Whatever goes wrong while reading becomes a
finding (`unreadable-file`, `missing-header`, ...), never an exception: the caller always gets
a `ParsedSubmission` it can report on.
"""

from __future__ import annotations

import csv
import datetime as dt
import errno
import hashlib
import io
import re
import stat
import sys
import zipfile
from dataclasses import dataclass
from itertools import chain
from pathlib import Path, PurePosixPath

import pandas as pd

from schemas import codelists as cl
from schemas import i18n
from schemas.findings import LINE, Finding, ParsedSubmission, TableFrame, column_letter, make_finding
from schemas.limits import Limits
from schemas.personal_data import shown_file_name
from schemas.tables import TABLES

# Errors reading our own archived copy that say nothing about the file: the entry is retried by
# the next run (pipeline/submission.py), never rejected
_NOT_THE_FILES_FAULT = frozenset({errno.ENOMEM, errno.EIO, errno.EACCES, errno.EPERM, errno.ENOSPC,
                                  errno.EMFILE, errno.ENFILE, errno.EAGAIN, errno.EINTR, errno.ENOENT})
HEADER_SEARCH_ROWS = 20
# Sheets of our own template that hold no data.
TEMPLATE_SHEETS = {"instructions", "lists", "codelists", "read me", "readme"}
TOTALS_ROW_WORDS = {"total", "totals", "sum", "grand total", "subtotal"}


class UnreadableFile(Exception):
    """A file that cannot be read at all: `reason` is a code of the catalogue's UI strings
    (`unreadable.<reason>`), `params` fill it."""

    def __init__(self, reason: str, **params):
        super().__init__(reason)
        self.reason = reason
        self.params = params

    def finding(self) -> Finding:
        return make_finding("unreadable-file", reason=self.reason, **self.params)


class LimitExceeded(Exception):
    """A file beyond one of the limits (schemas/limits.py): `limit` is the setting's name."""

    def __init__(self, limit: str, actual: float, allowed: float, **where):
        super().__init__(f"{limit}: {actual} > {allowed}")
        self.limit, self.actual, self.allowed, self.where = limit, actual, allowed, where

    def finding(self) -> Finding:
        return make_finding("limit-exceeded", limit=self.limit, actual=self.actual,
                            allowed=self.allowed, **self.where)


def check_limit(limits: Limits, limit: str, actual: float, **where) -> None:
    allowed = getattr(limits, limit)
    if actual > allowed:
        raise LimitExceeded(limit, actual, allowed, **where)


def read_submission(path: str | Path, limits: Limits) -> ParsedSubmission:
    """Read one submission within `limits`. Each limit is checked before the work it protects:
    the size before the file is hashed, the sheets and each sheet's extent before calamine
    builds its grid. A file beyond a limit gets a `limit-exceeded` finding and no tables."""
    path = Path(path)
    parsed = ParsedSubmission(path=str(path), file_name=shown_file_name(path.name), sha256="",
                              file_format="unknown", size_bytes=0)
    try:
        check_regular(path)
        parsed.size_bytes = size_of(path)
        check_limit(limits, "file_bytes", parsed.size_bytes)
        parsed.sha256 = sha256_of(path)
        if path.is_dir():
            parsed.file_format = "csv-folder"
            # subfolders too, as in a zip: `old/victims.csv` next to `victims.csv` is reported,
            # never silently ignored
            files = [(p.relative_to(path).as_posix(), p.name, p.read_bytes)
                     for p in sorted(path.rglob("*"), key=lambda p: (len(p.parts), p.as_posix()))
                     if p.suffix.lower() == ".csv" and p.is_file()
                     and not any(part.startswith(".") for part in p.relative_to(path).parts)]
            _read_csv_tables(parsed, files, limits)
        else:
            kind = sniff(path)
            parsed.file_format = kind
            if kind == "xlsx":
                _read_workbook(parsed, path, limits)
            elif kind == "csv-zip":
                _read_csv_tables(parsed, _zip_members(path, limits, parsed.read_findings), limits)
            elif kind == "csv":
                _read_csv_tables(parsed, [(path.name, path.name, path.read_bytes)], limits)
            else:
                raise _unknown_kind(path)
        _check_text_length(parsed, limits)
    except (UnreadableFile, LimitExceeded) as problem:
        parsed.tables.clear()
        parsed.read_findings.append(problem.finding())
    except MemoryError:  # this machine's limit, not the file's fault: never a rejection; retried
        raise  # (in the isolated reader's child, the caller names the memory limit: transforms/isolated.py)
    except OSError as problem:
        if problem.errno in _NOT_THE_FILES_FAULT:  # our disk or rights: retried, not rejected
            raise
        parsed.tables.clear()
        parsed.read_findings.append(make_finding(
            "unreadable-file", reason="unexpected", error=f"{type(problem).__name__}: {str(problem)[:300]}"))
    except Exception as problem:  # noqa: BLE001 - a broken file must yield a report, not a traceback
        parsed.tables.clear()
        parsed.read_findings.append(make_finding(
            "unreadable-file", reason="unexpected", error=f"{type(problem).__name__}: {str(problem)[:300]}"))
    return parsed


def check_regular(path: Path) -> None:
    """Never open a link (it may point anywhere), a pipe (it would hang), a device or a socket:
    the path itself, or anything inside a folder."""
    members = [path, *sorted(path.rglob("*"))] if _is_plain_dir(path) else [path]
    for member in members:
        if not _is_plain_dir(member) and not stat.S_ISREG(member.lstat().st_mode):
            raise UnreadableFile("not_a_regular_file",
                                 name=member.relative_to(path.parent).as_posix())


def _is_plain_dir(path: Path) -> bool:
    return stat.S_ISDIR(path.lstat().st_mode)


def _check_text_length(parsed: ParsedSubmission, limits: Limits) -> None:
    """A cell longer than `text_length`: an error at the cell, its text not echoed."""
    for frame in parsed.tables.values():
        for column in frame.data.columns:
            if column == LINE or frame.data[column].dtype == "int64":
                continue
            lengths = frame.data[column].str.len().fillna(0).to_numpy()
            if len(lengths) and lengths.max() > limits.text_length:
                where = int(lengths.argmax())
                parsed.read_findings.append(make_finding(
                    "limit-exceeded", frame=frame, line=int(frame.data[LINE].iloc[where]),
                    column=column, limit="text_length", actual=int(lengths.max()),
                    allowed=limits.text_length))


# -- identifying the file ---------------------------------------------------------------------

def sniff(path: Path) -> str:
    """What a file is, from its content first and its name second."""
    with path.open("rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except zipfile.BadZipFile as problem:
            raise UnreadableFile("damaged_zip", error=str(problem)) from problem
        if "xl/workbook.xml" in names:
            return "xlsx"
        return "csv-zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile("old_or_protected")
    if path.suffix.lower() in (".csv", ".txt"):
        return "csv"
    return "unknown"


def _unknown_kind(path: Path) -> UnreadableFile:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        return UnreadableFile("not_a_workbook")
    if not path.suffix:
        return UnreadableFile("no_extension")
    return UnreadableFile("type_not_accepted", suffix=path.suffix)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    if path.is_dir():
        for member in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(member.relative_to(path).as_posix().encode())
            digest.update(hashlib.sha256(member.read_bytes()).digest())
        return digest.hexdigest()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def size_of(path: Path) -> int:
    """Bytes of a file, or of a folder's files, from their metadata (nothing is opened)."""
    if path.is_dir():
        return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file())
    return path.lstat().st_size


def _check_zip(path: Path, limits: Limits) -> None:
    """Refuse zip bombs before anything unpacks them: every size from the zip's directory."""
    with zipfile.ZipFile(path) as archive:
        infos = archive.infolist()
    unpacked = sum(info.file_size for info in infos)
    packed = max(1, sum(info.compress_size for info in infos))
    check_limit(limits, "unpacked_bytes", unpacked)
    if unpacked > limits.ratio_checked_above_bytes:
        check_limit(limits, "compression_ratio", round(unpacked / packed))
    sheets = sum(info.filename.startswith("xl/worksheets/") for info in infos)
    check_limit(limits, "sheets", sheets)  # before the members: the limit a workbook meets first
    check_limit(limits, "archive_members", len(infos))


def _zip_members(path: Path, limits: Limits, findings: list | None = None) -> list:
    """CSV members of a zip: (entry as named, base name, reader); folders inside the zip and
    `..` are ignored for the table's name but kept in `entry` (two entries for one table are
    reported, never one silently dropped).

    Nothing is ever extracted to disk: members are read into memory, so a name such as
    `../../victims.csv` cannot write anywhere; it is reported when `findings` is given.
    """
    _check_zip(path, limits)
    archive = zipfile.ZipFile(path)
    members = []
    for info in archive.infolist():
        name = PurePosixPath(info.filename.replace("\\", "/")).name
        if info.is_dir() or not name.lower().endswith(".csv") or name.startswith("."):
            continue
        if findings is not None and name != info.filename:
            findings.append(make_finding("archive-entry-path", entry=info.filename, value=name))
        members.append((info.filename, name, lambda info=info: archive.read(info)))
    return members


# -- matching names ---------------------------------------------------------------------------

def table_for_name(name: str) -> str | None:
    key = cl.match_key(Path(name).stem if name.lower().endswith(".csv") else name)
    for table, spec in TABLES.items():
        if key in (cl.match_key(table), cl.match_key(spec.title)) or key in _translated_sheet_names(table):
            return table
    return None


def warm_caches() -> None:
    """Compute once what every read looks up (names and headers in six languages): the
    isolated reader's forkserver calls it, so that each child it forks starts with it."""
    import pickle

    for table in TABLES:
        table_for_name(table)
        _header_lookup(table)
    _is_instructions_sheet("")
    # the first use of pyarrow's CSV reader and kernels, pandas' Arrow strings and pickling
    # costs about 40 ms: a tiny table through the same path, its result thrown away
    parsed = ParsedSubmission(path="", file_name="", sha256="", file_format="csv", size_bytes=0)
    header = ",".join(TABLES["victims"].columns)
    _add_columnar_table(parsed, "victims", "victims.csv", "csv",
                        *_csv_columns(f"{header}\n2021,a,b,c,d,1\n".encode(), 2, "victims", "victims.csv", Limits()),
                        strip=_stripped)
    _add_sheet_columnar(parsed, "victims", "victims", [list(TABLES["victims"].columns), [2021.0, "a", "b", "c", "d", 1.0]])
    _check_text_length(parsed, Limits())
    pickle.dumps(parsed)


def _translated_sheet_names(table: str) -> set[str]:
    """The table's sheet name in a template of any of the six languages (`--lang fr`)."""
    return {cl.match_key(i18n.sheet_name(table, language)) for language in i18n.LANGUAGES} | {
        cl.match_key(i18n.table_title(table, language)) for language in i18n.LANGUAGES}


def _is_instructions_sheet(sheet_name: str) -> bool:
    return cl.match_key(sheet_name) in {cl.match_key(name) for name in i18n.titles_in_all_languages("ui.instructions_sheet")}


def _header_lookup(table: str) -> dict[str, str]:
    spec = TABLES[table]
    lookup = {}
    for column in spec.columns:
        lookup[cl.match_key(column)] = column
        title = spec.schema.columns[column].title
        if title:
            lookup[cl.match_key(title)] = column
    for column in spec.columns:  # the headers of a translated template (`glotip template --lang`)
        for title in i18n.titles_in_all_languages(f"column.{table}.{column}.title"):
            lookup.setdefault(cl.match_key(title), column)
    # Translated templates written before every column had its own title headed a coded
    # column by its codelist's title ("Oui / Non / Inconnu"): still read, where one column
    # of the table takes that codelist.
    codelists = [spec.column_meta(column).get("codelist") for column in spec.columns]
    for column, codelist in zip(spec.columns, codelists):
        if codelist and codelists.count(codelist) == 1:
            for title in i18n.titles_in_all_languages(f"codelist.{codelist}.title"):
                lookup.setdefault(cl.match_key(title), column)
    return lookup


# -- Excel ------------------------------------------------------------------------------------

def _read_workbook(parsed: ParsedSubmission, path: Path, limits: Limits) -> None:
    from python_calamine import CalamineWorkbook, SheetVisibleEnum  # heavy: only for workbooks

    _check_zip(path, limits)  # sizes from the zip's directory: a bomb is never unpacked
    sheets = workbook_sheets(path, limits)  # counted in workbook.xml before any sheet is read
    extents = [sheet_extent(path, member, limits, name) for name, member in sheets]  # every one
    parsed.cells = sum(extent.cells for extent in extents)
    by_name: dict[str, tuple[str, SheetExtent]] = {}
    for (name, member), extent in zip(sheets, extents):
        by_name.setdefault(name, (member, extent))  # a name given twice: calamine reads the first
    workbook = CalamineWorkbook.from_path(str(path))
    hidden = {sheet.name for sheet in workbook.sheets_metadata if sheet.visible != SheetVisibleEnum.Visible}
    read_from: dict[str, str] = {}  # table -> the sheet it was read from
    for sheet_name in workbook.sheet_names:
        table = table_for_name(sheet_name)
        template_sheet = cl.match_key(sheet_name) in TEMPLATE_SHEETS or _is_instructions_sheet(sheet_name)
        if sheet_name in hidden and not template_sheet:  # our template hides its `lists` sheet
            parsed.read_findings.append(make_finding("hidden-sheet", sheet=sheet_name))
        if sheet_name not in by_name:  # calamine sees a sheet workbook.xml does not list
            raise UnreadableFile("unexpected", error=f"sheet {sheet_name!r} not in workbook.xml")
        if table is None:
            if not template_sheet:
                rows = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=True)
                if any(any(_text(v) for v in row) for row in rows):
                    parsed.read_findings.append(make_finding("unknown-table", name=sheet_name))
            continue
        if table in read_from:  # an old sheet renamed, a translated name and the English one
            parsed.read_findings.append(make_finding(
                "table-given-twice", table=table, first=read_from[table], second=sheet_name))
            continue
        read_from[table] = sheet_name
        sheet = workbook.get_sheet_by_name(sheet_name)
        rows = sheet.to_python(skip_empty_area=False)
        if not _add_sheet_columnar(parsed, table, sheet_name, rows):
            _add_table(parsed, table, sheet_name, "sheet", [[_text(v) for v in row] for row in rows], first_line=1)
        del rows
        if table in parsed.tables:
            _report_merged_cells(parsed, parsed.tables[table], sheet.merged_cell_ranges or [])
            member, extent = by_name[sheet_name]
            if extent.has_formula:
                _report_formulas_without_value(parsed, parsed.tables[table], path, member)


def _report_merged_cells(parsed: ParsedSubmission, frame: TableFrame, ranges: list) -> None:
    """calamine keeps a merged range's value in its first cell only: say so, below the header."""
    for (first_row, first_column), (last_row, last_column) in ranges:
        if last_row + 1 <= frame.header_line:
            continue  # a title banner above the header is harmless
        where = f"{column_letter(first_column + 1)}{first_row + 1}:{column_letter(last_column + 1)}{last_row + 1}"
        parsed.read_findings.append(make_finding("merged-cells", table=frame.table, range=where))


def _report_formulas_without_value(parsed: ParsedSubmission, frame: TableFrame, path: Path,
                                   member: str) -> None:
    """calamine reads a formula's cached result; a formula never calculated has none."""
    positions = {position: column for column, position in frame.column_positions.items()}
    for reference, formula in formulas_without_value(path, member):
        letters = reference.rstrip("0123456789")
        if not letters or letters == reference:
            continue
        line, position = int(reference[len(letters):]), column_number(letters)
        if line > frame.header_line and position in positions:
            parsed.read_findings.append(make_finding(
                "formula-without-value", frame=frame, line=line, column=positions[position],
                value=f"={formula}"))


def column_number(letters: str) -> int:
    """A -> 1, AA -> 27 (Excel's column names)."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
SCAN_BLOCK = 4 * 1024**2  # bytes of sheet XML scanned at a time


def workbook_sheets(path: Path, limits: Limits) -> list[tuple[str, str]]:
    """(sheet name, its member in the zip), from workbook.xml, streamed: a workbook with more
    than `sheets` sheets is refused before any sheet is read. A name listed twice stays twice
    (each sheet is scanned; the table is reported as given twice)."""
    import xml.etree.ElementTree as ET

    relations: dict[str, str] = {}
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        for name in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
            check_limit(limits, "unpacked_bytes", archive.getinfo(name).file_size if name in names else 0)
        if "xl/_rels/workbook.xml.rels" not in names:
            raise UnreadableFile("not_a_workbook")
        with archive.open("xl/_rels/workbook.xml.rels") as stream:
            for _, element in ET.iterparse(stream):
                if element.tag == f"{_PACKAGE_REL_NS}Relationship":
                    relations[element.get("Id") or ""] = element.get("Target") or ""
                element.clear()
        sheets: list[tuple[str, str]] = []
        count = 0
        with archive.open("xl/workbook.xml") as stream:
            for _, element in ET.iterparse(stream):
                if element.tag == f"{_SHEET_NS}sheet":
                    count += 1
                    check_limit(limits, "sheets", count)
                    target = relations.get(element.get(f"{_REL_NS}id") or "", "")
                    member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                    sheets.append((element.get("name") or "", member))
                element.clear()
    return sheets


@dataclass(frozen=True)
class SheetExtent:
    rows: int
    columns: int
    cells: int  # rows x columns: the grid calamine allocates for the sheet
    has_formula: bool


_CELL_TAG = re.compile(rb"<(?:[\w.-]+:)?c[\s/>]")
_PAD = b"\0" * 16  # after a block: what the scan looks at past a tag near its end


@dataclass(frozen=True)
class _BlockScan:
    cell_tags: int
    has_formula: bool
    columns: tuple[int, int] | None  # first and last column of the references, A = 1
    rows: tuple[int, int] | None


def _scan_block(data: bytes, size: int) -> _BlockScan:
    """The first `size` bytes of `data`, a block of sheet XML, in numpy passes over its `<`,
    `:` and `=` bytes:

    - cell tags: `<c` then one of ` >/\t\n\r`; or, where the block writes a namespace prefix
      (`<x:c>`, rare), the regex `_CELL_TAG`;
    - whether it may hold a formula: `<f` or `:f>` anywhere;
    - the extent of the cell references `r="F12"`, whatever comes before them: only cells carry
      one of this shape (rows have `r="12"`; merged ranges and links use `ref`), and another
      match could only widen the extent. A column is `r="` then 1-3 ASCII letters then a digit;
      a row needs 1-9 digits then `"` as well.

    tests/test_hostile_files.py holds it equal to those regexes. A tag or reference is read on
    past `size`: the block ends with `>`, or `data` with the 16 bytes of `_PAD`, so what is read
    there ends it, never extends it.
    """
    import numpy as np
    from numpy.lib.stride_tricks import sliding_window_view

    text = np.frombuffer(data, dtype=np.uint8)
    head = text[:size]
    colons = np.flatnonzero(head == ord(":"))
    prefixed, prefixed_end = text[colons + 1], text[colons + 2]
    if ((prefixed == ord("c")) & np.isin(prefixed_end, list(b" >/"))).any():
        cell_tags = len(_CELL_TAG.findall(data, 0, size))
    else:
        ends_cell_name = np.zeros(256, dtype=bool)
        ends_cell_name[list(b" >/\t\n\r")] = True
        cell_tags = int(np.count_nonzero(ends_cell_name[text[_pairs(text, size, b"<c") + 2]]))
    has_formula = bool(len(_pairs(text, size, b"<f")) or ((prefixed == ord("f")) & (prefixed_end == ord(">"))).any())
    equals = _pairs(text, size, b'="')
    starts = equals[text[equals - 1] == ord("r")] + 2  # a `="` at 0 reads the last byte: never `r`
    # what follows each `r="`: up to 3 letters and one more to see the run end, 9 digits, `"`
    window = sliding_window_view(text, 14)[starts]
    capitals = window[:, :4] & 0xDF  # ASCII letters in capitals; any other byte stays outside A-Z
    letter_run = _run_length((capitals >= ord("A")) & (capitals <= ord("Z")))
    columns, rows = [], []
    references = np.bincount(letter_run, minlength=5)  # by their number of letters
    for letters in (1, 2, 3):
        if not references[letters]:
            continue
        chosen = window if references[letters] == len(window) else window[letter_run == letters]
        digits = chosen[:, letters:letters + 10]
        digit_run = _run_length((digits >= ord("0")) & (digits <= ord("9")))
        referenced = digit_run >= 1
        chosen, digits, digit_run = _kept(chosen, referenced), _kept(digits, referenced), _kept(digit_run, referenced)
        column = np.zeros(len(chosen), dtype=np.int64)
        for k in range(letters):  # A = 1 ... Z = 26, AA = 27, either case
            column = column * 26 + (chosen[:, k] & 0xDF) - (ord("A") - 1)
        columns.append(column)
        closed = (digit_run <= 9) & (digits[np.arange(len(digits)), np.minimum(digit_run, 9)] == ord('"'))
        digits, digit_run = _kept(digits, closed), _kept(digit_run, closed)
        if len(digits) and (digits[:, 0] != ord("0")).all():
            # no leading zero: more digits, a larger number; only the shortest and the longest
            # can hold the first and the last row
            ends = (digit_run == digit_run.min()) | (digit_run == digit_run.max())
            digits, digit_run = digits[ends], digit_run[ends]
        row = np.zeros(len(digits), dtype=np.int64)
        for k in range(int(digit_run.max(initial=0))):
            row = np.where(k < digit_run, row * 10 + digits[:, k] - ord("0"), row)
        rows.append(row)
    columns = np.concatenate(columns) if columns else np.zeros(0, dtype=np.int64)
    rows = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    return _BlockScan(cell_tags, has_formula,
                      (int(columns.min()), int(columns.max())) if len(columns) else None,
                      (int(rows.min()), int(rows.max())) if len(rows) else None)


def _pairs(text, size: int, pair: bytes):
    """Where the two bytes `pair` start within the first `size` bytes of `text` (even offsets,
    then odd): two bytes at a time as 16-bit numbers, 3x faster than a pass byte by byte."""
    import numpy as np

    value = int.from_bytes(pair, sys.byteorder)
    found = [np.flatnonzero(text[offset:offset + (size - offset) // 2 * 2].view(np.uint16) == value) * 2 + offset
             for offset in (0, 1)]
    return np.concatenate(found)


def _kept(values, keep):
    """`values[keep]`, without the copy when every row is kept (nearly always)."""
    return values if keep.all() else values[keep]


def _run_length(flags):
    """Per row of a boolean matrix: how many of its first columns are all True (column by
    column: 5x an argmin along the rows, which loops per row)."""
    run = flags[:, 0].copy()
    length = run.astype("int8")
    for k in range(1, flags.shape[1]):
        run &= flags[:, k]
        length += run
    return length


def sheet_extent(path: Path, member: str, limits: Limits, sheet_name: str) -> SheetExtent:
    """The extent of a sheet from a streaming scan of its cells' references, before calamine
    allocates a dense grid of that size (one far cell, `XFD1048576`, is 17 billion cells).
    The `<dimension>` element is not trusted (nor read by calamine). Cells without a reference
    are counted against `cells`; anything that still slips through meets the memory limit of
    the isolated reader."""
    first_row = first_column = 1 << 62
    last_row = last_column = 0
    cell_tags = 0
    has_formula = False
    with zipfile.ZipFile(path) as archive:
        if member not in archive.namelist():
            return SheetExtent(0, 0, 0, False)
        with archive.open(member) as stream:
            carry = b""
            while True:
                block = stream.read(SCAN_BLOCK)
                data = carry + block + _PAD
                cut = len(data) - len(_PAD)
                if block:  # scan up to the last complete tag; the rest joins the next block
                    cut = data.rfind(b">", 0, cut) + 1
                    carry = data[cut:-len(_PAD)]
                    if len(carry) > SCAN_BLOCK:  # one tag of megabytes: not a spreadsheet
                        raise UnreadableFile("unexpected", error=f"{sheet_name}: a tag longer than {SCAN_BLOCK} bytes")
                scan = _scan_block(data, cut)
                cell_tags += scan.cell_tags
                check_limit(limits, "cells", cell_tags, sheet=sheet_name)
                has_formula = has_formula or scan.has_formula
                if scan.columns:
                    first_column, last_column = min(first_column, scan.columns[0]), max(last_column, scan.columns[1])
                if scan.rows:
                    first_row, last_row = min(first_row, scan.rows[0]), max(last_row, scan.rows[1])
                if not block:
                    break
    if not last_row:
        return SheetExtent(0, 0, cell_tags, has_formula)
    rows, columns = last_row - first_row + 1, last_column - first_column + 1
    check_limit(limits, "columns", columns, sheet=sheet_name)
    check_limit(limits, "rows", rows, sheet=sheet_name)
    check_limit(limits, "cells", rows * columns, sheet=sheet_name)
    return SheetExtent(rows, columns, max(rows * columns, cell_tags), has_formula)


_FORMULA_TAG = re.compile(rb"<(?:[\w.-]+:)?f[\s/>]")
_CELL_START = re.compile(rb"<(?:[\w.-]+:)?c\s[^>]*>")
_CELL_END = re.compile(rb"</(?:[\w.-]+:)?c>")
_FORMULA = re.compile(rb"<(?:[\w.-]+:)?f(?:\s[^>]*)?(?:/>|>(.*?)</(?:[\w.-]+:)?f>)", re.S)
_CACHED_VALUE = re.compile(rb"<(?:[\w.-]+:)?v(?:\s[^>]*)?>[^<]")
_ATTRIBUTE = {name: re.compile(rb"\s" + name + rb'="([^"]*)"') for name in (b"r", b"t")}


def formulas_without_value(path: Path, member: str) -> list[tuple[str, str]]:
    """(cell, formula) of each formula cell of the sheet that has no cached value.

    A byte scan, block by block: only the cells around a formula tag are looked at, so memory
    stays flat and time is one regex pass whatever the sheet's size (building the whole tree
    of a 26 MB sheet took gigabytes)."""
    import html

    found = []
    with zipfile.ZipFile(path) as archive, archive.open(member) as stream:
        carry = b""
        while True:
            block = stream.read(SCAN_BLOCK)
            data = carry + block
            if block:  # whole cells only: the rest joins the next block
                cut = max(data.rfind(b"</row>"), data.rfind(b"<row "))
                cut = cut if cut > 0 else data.rfind(b">") + 1
                data, carry = data[:cut], data[cut:]
            position = 0
            for tag in _FORMULA_TAG.finditer(data):
                if tag.start() < position:
                    continue  # within a cell already seen
                starts = list(_CELL_START.finditer(data, max(0, tag.start() - 4096), tag.start()))
                closing = _CELL_END.search(data, tag.end())
                if not starts or closing is None:
                    continue
                cell, position = data[starts[-1].start():closing.end()], closing.end()
                opening = starts[-1].group()
                reference, kind = (_ATTRIBUTE[name].search(opening) for name in (b"r", b"t"))
                formula = _FORMULA.search(cell)
                if formula and not _CACHED_VALUE.search(cell) and (kind is None or kind.group(1) != b"inlineStr"):
                    text = html.unescape((formula.group(1) or b"").decode("utf-8", "replace"))
                    found.append((reference.group(1).decode() if reference else "", text))
            if not block:
                break
    return found


def _add_sheet_columnar(parsed: ParsedSubmission, table: str, sheet_name: str, rows: list) -> bool:
    """A sheet as columns: the same result as `_text` cell by cell, 5x faster at 100k rows."""
    import numpy as np

    width = len(rows[0]) if rows else 0
    if width == 0 or any(map(width.__ne__, map(len, rows))):
        return False
    # the cells in one list, a column every `width`-th of it: one walk over the rows (zip(*rows)
    # makes an iterator per row, which the garbage collector walks: 10x slower)
    cells = list(chain.from_iterable(rows))
    columns = [_cells_as_text(cells[index::width]) for index in range(width)]
    return _add_columnar_table(parsed, table, sheet_name, "sheet", columns, np.arange(1, len(rows) + 1))


def _cells_as_text(values: list):
    """`_text` over a column: strings and whole-number floats in bulk, anything else per cell."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    try:  # a column of text: pyarrow takes str (and None, bytes: calamine gives neither) only
        return _stripped(pa.array(values, pa.string()))
    except pa.ArrowTypeError:
        pass
    kinds = set(map(type, values))
    if not kinds <= {str, float}:
        return pa.array([_text(v) for v in values], pa.string())
    # only str and float here, so isinstance is `type(v) is str`; in C, not a generator
    is_text = np.fromiter(map(str.__instancecheck__, values), dtype=bool, count=len(values))
    cells = np.array(values, dtype=object)
    numbers = np.zeros(len(values))
    numbers[~is_text] = cells[~is_text].astype(np.float64)
    whole = np.isfinite(numbers) & (numbers == np.trunc(numbers)) & (np.abs(numbers) < 2**53)
    if (~is_text & ~whole).any():  # 12.5, 1e20, nan: rare, exactly as `_text` writes them
        return pa.array([_text(v) for v in values], pa.string())
    numbers_text = pa.array(numbers.astype(np.int64)).cast(pa.string())
    if not is_text.any():
        return numbers_text
    # a column of numbers under its header: the few text cells put in place
    return pc.replace_with_mask(numbers_text, pa.array(is_text),
                                _stripped(pa.array(cells[is_text].tolist(), pa.string())))


def cell_text(value) -> str | None:
    """A cell as the text a person would read in it (12.0 -> "12")."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    text = str(value).strip()
    return text or None


_text = cell_text  # the name used within this module

# -- CSV --------------------------------------------------------------------------------------

def _read_csv_tables(parsed: ParsedSubmission, files: list, limits: Limits) -> None:
    """`files`: (name as given, base name, reader of its bytes). Names are matched to tables
    without regard to case or folder; two files for one table are an error naming both."""
    if not files:
        raise UnreadableFile("no_csv_files", file_names=[f"{table}.csv" for table in TABLES])
    read_from: dict[str, str] = {}
    for entry, file_name, read_bytes in files:
        table = table_for_name(file_name)
        if table is None:
            parsed.read_findings.append(make_finding("unknown-table", name=file_name))
            continue
        if table in read_from:
            parsed.read_findings.append(make_finding(
                "table-given-twice", table=table, first=read_from[table], second=entry))
            continue
        read_from[table] = entry
        # one copy of the file at a time: a UTF-8 file stays the bytes it was read as (only
        # another encoding is decoded, within `file_bytes`, before the rows are counted)
        data, encoding_finding = utf8_bytes(read_bytes(), file_name)
        newlines = data.count(b"\n")
        check_limit(limits, "rows", newlines + 1, file=entry)
        if encoding_finding:
            parsed.read_findings.append(encoding_finding)
        columns = _csv_columns(data, newlines, table, file_name, limits)
        if columns is not None:
            del data  # the columns hold every value now: the file's bytes can go before the frame is built
            _add_columnar_table(parsed, table, file_name, "csv", *columns, strip=_stripped)
            continue
        text = data.decode("utf-8")
        del data
        rows = _csv_rows(text)
        check_limit(limits, "columns", max(map(len, rows), default=0), file=entry)
        _add_table(parsed, table, file_name, "csv", rows, first_line=1)


def _csv_columns(data: bytes, newlines: int, table: str, file_name: str,
                 limits: Limits) -> tuple[list, object] | None:
    """The fast path for a well-formed CSV: pyarrow parses the UTF-8 bytes (`utf8_bytes`, with
    `newlines` line feeds) into columns of raw text (`_stripped` makes cells of them) and the
    physical line of each row, for `_add_columnar_table`; None leaves the file to the
    row-by-row path.

    Same result as `_csv_rows` + `_add_table` on `data.decode()` (a property test holds them
    equal), about 10x faster at a million rows. It takes only files where each non-empty
    physical line is one record with the same number of fields as the first, and where the
    table's header is found; anything else (quoted line breaks, ragged rows, bare CR line ends,
    no header) goes the row-by-row way. pyarrow rather than DuckDB's `read_csv`: DuckDB parses
    and hands over Arrow in about 0.6 s at a million rows on this machine, pyarrow parses in
    0.07-0.12 s, and DuckDB gives no physical line per row either.
    """
    import pyarrow as pa
    from pyarrow import csv as pa_csv

    end_of_first = data.find(b"\n")
    first_line = data[:end_of_first] if end_of_first >= 0 else data
    delimiter = ";" if first_line.count(b";") > first_line.count(b",") else ","
    # (isspace stops at the first other byte: no copy of the file, unlike strip)
    if not data or data.isspace() or (b"\r" in data and data.count(b"\r") != data.count(b"\r\n")):
        return None
    if data.startswith(UTF8_BOM):  # a second BOM: pyarrow would drop it, the row path keeps it
        return None
    width = len(next(csv.reader([first_line.decode("utf-8").rstrip("\r")], delimiter=delimiter), []))
    if width == 0:
        return None
    check_limit(limits, "columns", width, file=file_name)
    try:
        arrow = pa_csv.read_csv(
            pa.BufferReader(data),
            read_options=pa_csv.ReadOptions(autogenerate_column_names=True, block_size=4 << 20),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, ignore_empty_lines=True,
                                              newlines_in_values=b'"' in data),
            convert_options=pa_csv.ConvertOptions(
                # large_string: what pandas' "str" columns hold, so no conversion later;
                # UTF-8 already checked by utf8_bytes
                column_types={f"f{i}": pa.large_string() for i in range(width)}, check_utf8=False,
                strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    if arrow.num_columns != width:
        return None
    lines = _record_lines(data, newlines, arrow.num_rows)
    if lines is None:
        return None  # a quoted line break or some other irregularity: count row by row
    columns = [arrow.column(i) for i in range(width)]
    if _find_header(_head_rows(columns, _stripped), _header_lookup(table)) is None:
        return None  # the row-by-row path reports a missing header, or an empty table
    return columns, lines


def _record_lines(data: bytes, newlines: int, records: int):
    """The physical line of each of `records` records when every non-empty line of `data` holds
    one (what pyarrow's `ignore_empty_lines` gives), else None."""
    import numpy as np

    lines = newlines + (not data.endswith(b"\n"))
    if records == lines:
        # as many records as lines: no blank line, no record over two lines, record i on line i
        return np.arange(1, records + 1, dtype=np.int64)
    raw = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(raw == 10)
    starts = np.concatenate(([0], ends + 1))
    ends = np.concatenate((ends, [len(raw)]))
    lengths = ends - starts
    carriage = lengths > 0
    carriage[carriage] = raw[ends[carriage] - 1] == 13
    non_empty = np.flatnonzero((lengths - carriage) > 0) + 1
    return non_empty if len(non_empty) == records else None


def _stripped(column):
    """Text cells as `value.strip() or None` does it, on a whole pyarrow column (chunked or not).

    Chunk by chunk, and a chunk nothing is trimmed from is kept as it is, its empty values
    marked missing in a new validity bitmap: a well-formed file's columns are never copied."""
    import pyarrow as pa

    if isinstance(column, pa.ChunkedArray):
        return pa.chunked_array([_stripped_chunk(chunk) for chunk in column.chunks], column.type)
    return _stripped_chunk(column)


def _stripped_chunk(chunk):
    import pyarrow as pa
    import pyarrow.compute as pc

    trimmed = pc.utf8_trim_whitespace(chunk) if _may_need_trimming(chunk) else chunk
    non_empty = pc.greater(pc.binary_length(trimmed), 0)
    if trimmed.offset == 0 and trimmed.null_count == 0:
        return pa.Array.from_buffers(trimmed.type, len(trimmed), [non_empty.buffers()[1], *trimmed.buffers()[1:]])
    return pc.if_else(non_empty, trimmed, pa.scalar(None, trimmed.type))


def _may_need_trimming(chunk) -> bool:
    """Whether a value of a pyarrow string array may start or end with whitespace: its first
    or last byte is an ASCII space or control byte, or not ASCII (U+00A0, U+3000...). Reads
    two bytes a value, where trimming would write every byte of the column anew."""
    import numpy as np
    import pyarrow as pa

    if len(chunk) == 0 or chunk.buffers()[2] is None:
        return False
    offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int64 if pa.types.is_large_string(chunk.type) else np.int32)
    offsets = offsets[chunk.offset:chunk.offset + len(chunk) + 1]
    text = np.frombuffer(chunk.buffers()[2], dtype=np.uint8)
    starts, ends = offsets[:-1], offsets[1:]
    filled = ends > starts
    edges = np.concatenate((text[starts[filled]], text[ends[filled] - 1]))
    return bool(len(edges)) and bool(edges.min() <= 0x20 or edges.max() >= 0x80)


def _head_rows(columns: list, strip=None) -> list[list]:
    """The rows the header is looked for in, as cells (`strip` applied)."""
    head = [column[:HEADER_SEARCH_ROWS] for column in columns]
    head = [strip(values) for values in head] if strip is not None else head
    return [[values[r].as_py() for values in head] for r in range(min(HEADER_SEARCH_ROWS, len(columns[0]) if columns else 0))]


def _add_columnar_table(parsed: ParsedSubmission, table: str, source: str, kind: str,
                        columns: list, lines, strip=None) -> bool:
    """`_add_table` on columns (pyarrow string arrays, one per physical column) and the
    physical line of each row; False when it finds no header (the row path reports it).
    `strip` (`_stripped`), when given, makes cells of raw text: applied to the header rows
    and then only to the columns the table keeps."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    def cells(values):
        return strip(values) if strip is not None else values

    head = _head_rows(columns, strip)
    lookup = _header_lookup(table)
    header_index = _find_header(head, lookup)
    if header_index is None:
        return False  # the row-by-row path reports a missing header, or an empty table
    positions, labels, frame_stub = _map_header(parsed, table, source, kind, head[header_index],
                                                int(lines[header_index]), lookup)
    body = slice(header_index + 1, None)
    # whole columns, then the body: the reader's chunks start at 0, as `_stripped` keeps them
    by_position = {position: cells(columns[position - 1])[body] for position in positions.values()}
    mapped = {column: by_position[position] for column, position in positions.items()}
    body_lines = lines[body]
    keep = np.zeros(len(body_lines), dtype=bool)
    for values in mapped.values():
        keep |= pc.is_valid(values).to_numpy(zero_copy_only=False)
    first = by_position[1] if 1 in by_position else cells(columns[0])[body]
    totals_words = [v for v in pc.unique(first).to_pylist()
                    if v is not None and cl.match_key(v) in TOTALS_ROW_WORDS]
    if totals_words:
        candidates = np.flatnonzero(keep & pc.is_in(first, pa.array(totals_words, first.type)).to_numpy(zero_copy_only=False))
        year = mapped.get("year")
        for index in candidates:
            year_text = year[int(index)].as_py() if year is not None else None
            if year_text is None or not str(year_text).strip().isdigit():
                frame_stub.column_positions.update(positions)
                parsed.read_findings.append(make_finding(
                    "totals-row", frame=frame_stub, line=int(body_lines[index]),
                    column=next(iter(positions)), value=first[int(index)].as_py()))
                keep[index] = False
    del first, by_position
    if keep.all():  # the usual case: no copy of the columns
        frame = {name: pd.array(values, dtype="str") for name, values in mapped.items()}
        frame[LINE] = np.asarray(body_lines, dtype="int64")
    else:
        mask = pa.array(keep)
        frame = {name: pd.array(values.filter(mask), dtype="str") for name, values in mapped.items()}
        frame[LINE] = body_lines[keep].astype("int64")
    parsed.tables[table] = TableFrame(  # copy=False: pandas copied every column, 2 s at 10M rows
        table, source, kind, pd.DataFrame(frame, copy=False), column_positions=positions,
        header_labels=labels, header_line=int(lines[header_index]))
    return True


UTF8_BOM = b"\xef\xbb\xbf"


def utf8_bytes(raw: bytes, file_name: str) -> tuple[bytes, Finding | None]:
    """`decode_text(raw)` as UTF-8 bytes (`.decode("utf-8")` gives the same text): `raw`
    itself, less a BOM, when it is UTF-8; else the decoded text, encoded again."""
    if _is_utf8(raw):
        if not raw.startswith(UTF8_BOM):
            return raw, None
        # as decode_text: a U+FFFD in a file with a BOM is reported (bytes were replaced)
        finding = (make_finding("encoding-replaced", file=file_name, encoding=["UTF-8"])
                   if "\ufffd".encode() in raw else None)
        return raw[len(UTF8_BOM):], finding
    text, finding = decode_text(raw, file_name)
    return text.encode("utf-8"), finding


def _is_utf8(raw: bytes) -> bool:
    """Whether `raw.decode("utf-8")` would succeed, without building the str: Arrow's check
    (the same rules as Python's: no overlong forms, no surrogates) on the bytes in place."""
    import pyarrow as pa

    if raw.isascii():
        return True
    offsets = pa.array([0, len(raw)], pa.int64()).buffers()[1]
    try:
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(raw)]).cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


def decode_text(raw: bytes, file_name: str) -> tuple[str, Finding | None]:
    """UTF-8 (with or without BOM) or UTF-16; anything else is read as Windows-1252."""
    if raw.startswith(b"\xef\xbb\xbf"):
        return _replaced(raw[3:].decode("utf-8", errors="replace"), file_name, ["UTF-8"])
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return _replaced(raw.decode("utf-16", errors="replace"), file_name, ["UTF-16"])
    try:
        return raw.decode("utf-8"), None
    except UnicodeDecodeError:
        return _replaced(raw.decode("cp1252", errors="replace"), file_name, ["UTF-8", "Windows-1252"])


def _replaced(text: str, file_name: str, encoding: list[str]) -> tuple[str, Finding | None]:
    """The text, and a finding when some bytes could not be decoded (they became U+FFFD)."""
    if "\ufffd" not in text:
        return text, None
    return text, make_finding("encoding-replaced", file=file_name, encoding=encoding)


def _csv_rows(text: str) -> list[list[str | None]]:
    """Rows by physical line: row i is line i + 1 (a quoted line break keeps the count right)."""
    first_line = text.split("\n", 1)[0]
    return csv_rows(text, ";" if first_line.count(";") > first_line.count(",") else ",")


def csv_rows(text: str, delimiter: str) -> list[list[str | None]]:
    """`_csv_rows` with a given delimiter (the published export's reader finds its own)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str | None]] = []
    lines_before = 0  # a record is on the line where it starts, as a text editor shows it
    for record in reader:
        while len(rows) < lines_before:  # lines taken up by quoted line breaks
            rows.append([])
        rows.append([value.strip() or None for value in record])
        lines_before = reader.line_num
    return rows


# -- shared -----------------------------------------------------------------------------------

def _add_table(parsed, table: str, source: str, kind: str, rows: list[list], first_line: int) -> None:
    lookup = _header_lookup(table)
    header_index = _find_header(rows, lookup)
    if header_index is None:
        if any(any(row) for row in rows):
            parsed.read_findings.append(make_finding("missing-header", table=table))
        else:
            parsed.tables[table] = TableFrame(table, source, kind, _frame({}, []))
        return
    positions, labels, frame_stub = _map_header(parsed, table, source, kind, rows[header_index],
                                                header_index + first_line, lookup)
    data_rows, lines = [], []
    for offset, row in enumerate(rows[header_index + 1:], start=header_index + 1 + first_line):
        values = [row[p - 1] if p - 1 < len(row) else None for p in positions.values()]
        if not any(values):
            continue
        if _is_totals_row(row, positions):
            frame_stub.column_positions.update(positions)
            parsed.read_findings.append(make_finding(
                "totals-row", frame=frame_stub, line=offset, column=next(iter(positions)),
                value=row[0]))
            continue
        data_rows.append(values)
        lines.append(offset)
    columns = dict(zip(positions, zip(*data_rows))) if data_rows else {c: () for c in positions}
    parsed.tables[table] = TableFrame(
        table, source, kind, _frame(columns, lines), column_positions=positions,
        header_labels=labels, header_line=header_index + first_line)


def _map_header(parsed, table: str, source: str, kind: str, header: list, header_line: int,
                lookup: dict[str, str]) -> tuple[dict[str, int], dict[str, str], TableFrame]:
    """Canonical column -> 1-based position, and as labelled; an unknown label is a finding."""
    positions: dict[str, int] = {}
    labels: dict[str, str] = {}
    frame_stub = TableFrame(table, source, kind, pd.DataFrame())
    for position, label in enumerate(header, start=1):
        if not label:
            continue
        column = lookup.get(cl.match_key(label))
        if column is None or column in positions:
            frame_stub.column_positions[label] = position
            parsed.read_findings.append(make_finding(
                "unknown-column", frame=frame_stub, line=header_line, column=label, value=label))
            continue
        positions[column] = position
        labels[column] = label
    return positions, labels, frame_stub


def _frame(columns: dict, lines: list[int]) -> pd.DataFrame:
    data = {name: pd.array(list(values), dtype="str") for name, values in columns.items()}
    data[LINE] = pd.array(lines, dtype="int64")
    return pd.DataFrame(data)


def _find_header(rows: list[list], lookup: dict[str, str]) -> int | None:
    return find_header(rows, lookup)


def find_header(rows: list[list], lookup: dict[str, str], *, required: set[str] | None = None,
                search_rows: int = HEADER_SEARCH_ROWS) -> int | None:
    """The index of the header among the first `search_rows` rows of text: the first row whose
    labels (by `cl.match_key`, through `lookup` to column keys) name every `required` column,
    or, without `required`, two of the columns (the published export's reader uses it too)."""
    needed = min(2, len(set(lookup.values())))
    for index, row in enumerate(rows[:search_rows]):
        matches = {lookup[key] for key in (cl.match_key(v) for v in row if v) if key in lookup}
        if required <= matches if required is not None else len(matches) >= needed:
            return index
    return None


def _is_totals_row(row: list, positions: dict[str, int]) -> bool:
    """A row someone typed a sum into: its first cell says total and the year is not a year."""
    first = row[0] if row else None
    if first is None or cl.match_key(first) not in TOTALS_ROW_WORDS:
        return False
    year_position = positions.get("year")
    year = row[year_position - 1] if year_position and year_position - 1 < len(row) else None
    return year is None or not str(year).strip().isdigit()
