"""Values from submissions, made safe for the spreadsheets that will open our outputs.

A cell text starting with `=`, `+`, `-` or `@` (or a tab or carriage return, which some
spreadsheets skip before looking) is run as a formula by Excel and LibreOffice: CSV/formula
injection (OWASP). Prefixing a `'` makes it text; the person still reads the value.

A plain number is not a formula: `-5` or `+3.5`, opened from a CSV, is read as the number it
says (nothing is evaluated, no name or function is called), so it is left as it is; prefixing
it would turn a negative count into the text `'-5`. Numbers (int, float) are never touched.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only `neutralise_frame` takes a frame: `glotip sql` starts without pandas
    import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?", re.ASCII)  # read as a number, run as nothing


def would_run(text: str) -> bool:
    """Whether a spreadsheet would evaluate this text as a formula."""
    return text.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(text)


def neutralise_formula(value: Any) -> Any:
    """Text that a spreadsheet would run becomes inert text; everything else (numbers, and
    text that reads as a plain number) is unchanged."""
    if isinstance(value, str) and would_run(value):
        return "'" + value
    return value


# Control characters an .xlsx cannot hold (openpyxl refuses the whole workbook for one); a
# submitted text may carry them (a CSV cell with a bell or an escape sequence).
NOT_IN_A_WORKBOOK = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


CELL_MAX_CHARS = 32_767  # Excel's limit: a longer cell makes Excel "repair" the file


def workbook_cell(value: Any) -> Any:
    """A value as an .xlsx cell may hold it: inert (`neutralise_formula`), each control
    character a workbook cannot hold shown as U+FFFD (the text stays readable, and the workbook
    is written), and no longer than Excel takes (cut, ending in `…`)."""
    if not isinstance(value, str):
        return value
    value = neutralise_formula(NOT_IN_A_WORKBOOK.sub("\ufffd", value))
    return value if len(value) <= CELL_MAX_CHARS else value[:CELL_MAX_CHARS - 1] + "…"


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` whose text cells (and column names) are inert in a spreadsheet: every
    CSV or Excel file we write, and `glotip sql --format csv`, goes through this."""
    import pandas as pd

    columns = {}
    for position in range(frame.shape[1]):  # by position: a query may repeat a column name
        column = frame.iloc[:, position]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            column = column.map(neutralise_formula)
        columns[position] = column
    inert = pd.DataFrame(columns, index=frame.index)
    inert.columns = [neutralise_formula(name) for name in frame.columns]
    return inert
