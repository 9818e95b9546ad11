"""A query's answer as `glotip sql` prints it: table, CSV or JSON, with one way of saying
"missing" and numbers written as people read them.

DuckDB hands pandas a nullable integer column as float64 (NaN for NULL), a sum as float64 and
an integer column with NULLs sometimes as Int64 (<NA>): printed as they come, one answer mixed
`nan`, `<NA>` and `12.0`. Here every cell becomes a plain Python value first: None when missing
(an empty cell in the table and the CSV, `null` in JSON), an int when the number is whole, a
float rounded to `SIGNIFICANT_DIGITS` otherwise (shares and rates: 0.123456 -> 0.1235,
1.23456 per 100,000 -> 1.235), with at least `MIN_DECIMALS` decimals kept on large figures.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import math
from typing import Any, TextIO

import numpy as np
import pandas as pd

from reporting.safe import neutralise_formula

SIGNIFICANT_DIGITS = 4
MIN_DECIMALS = 2
MISSING_TEXT = ""  # the table's and the CSV's text for a missing value (JSON: null)


def rounded(number: float) -> float:
    """`number` to SIGNIFICANT_DIGITS significant digits, keeping MIN_DECIMALS decimals."""
    if number == 0:
        return 0.0
    magnitude = math.floor(math.log10(abs(number)))
    return round(number, max(MIN_DECIMALS, SIGNIFICANT_DIGITS - 1 - magnitude))


def plain_value(value: Any) -> Any:
    """One cell as None, bool, int, float (rounded), str, or a list of such."""
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain_value(item) for key, item in value.items()}
    if value is None or value is pd.NaT or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating, decimal.Decimal)):
        number = float(value)
        if math.isinf(number):
            return None
        return int(number) if number.is_integer() else rounded(number)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime().isoformat(sep=" ")
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def plain_rows(frame: pd.DataFrame) -> list[list[Any]]:
    """Every row of `frame`, each cell a plain value (`plain_value`)."""
    return [[plain_value(value) for value in row] for row in frame.itertuples(index=False, name=None)]


def cell_text(value: Any) -> str:
    """A plain value as text for the table and the CSV."""
    if value is None:
        return MISSING_TEXT
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_csv(frame: pd.DataFrame, out: TextIO) -> None:
    """The CSV, every text cell (and column name) inert in a spreadsheet (reporting/safe.py)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([neutralise_formula(str(name)) for name in frame.columns])
    for row in plain_rows(frame):
        writer.writerow([neutralise_formula(cell_text(value)) if isinstance(value, (str, list))
                         else cell_text(value) for value in row])


def write_json(frame: pd.DataFrame, out: TextIO) -> None:
    """A list of records; a repeated column name keeps its last value, as pandas' own did."""
    names = [str(name) for name in frame.columns]
    records = [dict(zip(names, row)) for row in plain_rows(frame)]
    out.write(json.dumps(records, indent=2, ensure_ascii=False) + "\n")


def table_cells(frame: pd.DataFrame) -> list[list[str]]:
    """The table's cells as text."""
    return [[cell_text(value) for value in row] for row in plain_rows(frame)]
