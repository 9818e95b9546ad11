"""A query's answer as `glotip sql` prints it: table, CSV or JSON, with one way of saying
"missing" and numbers written as people read them.

The answer is read from DuckDB as Python values (`fetched`), without pandas: `glotip sql`
starts in a fraction of the time pandas takes to import. Every cell becomes a plain Python
value first: None when missing (NULL, NaN; an empty cell in the table and the CSV, `null` in
JSON), an int when the number is whole (a DECIMAL or DOUBLE sum too), a float rounded to
`SIGNIFICANT_DIGITS` otherwise (shares and rates: 0.123456 -> 0.1235, 1.23456 per 100,000 ->
1.235), with at least `MIN_DECIMALS` decimals kept on large figures. A cell of a pandas frame
(NaN, <NA>, NaT, numpy numbers) is read the same way.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import json
import math
from dataclasses import dataclass
from typing import Any, TextIO

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


# DuckDB's number types: their columns are right-aligned in the table (DECIMAL(p, s) too).
NUMBER_TYPES = {"tinyint", "smallint", "integer", "bigint", "hugeint", "utinyint", "usmallint",
                "uinteger", "ubigint", "uhugeint", "float", "double", "decimal"}


@dataclass(frozen=True)
class Answer:
    columns: list[str]
    numeric: list[bool]  # per column: a number type
    rows: list[tuple]


def fetched(result) -> Answer:
    """The answer a DuckDB connection holds after `execute`: its columns and rows."""
    description = result.description or []
    return Answer(columns=[str(column[0]) for column in description],
                  numeric=[column[1].id in NUMBER_TYPES for column in description],
                  rows=result.fetchall())


def plain_value(value: Any) -> Any:
    """One cell as None, bool, int, float (rounded), str, or a list of such."""
    if type(value).__module__.partition(".")[0] in ("numpy", "pandas"):
        value = _python_value(value)
    if isinstance(value, (list, tuple)):
        return [plain_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): plain_value(item) for key, item in value.items()}
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, (float, decimal.Decimal)):
        number = float(value)
        if math.isnan(number) or math.isinf(number):
            return None
        return int(number) if number.is_integer() else rounded(number)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _python_value(value: Any) -> Any:
    """A numpy or pandas cell as the Python value it stands for (None when missing). Both are
    imported already: the value is theirs."""
    import numpy as np
    import pandas as pd

    if isinstance(value, np.ndarray):
        return list(value)
    if pd.isna(value):  # NaN, <NA>, NaT
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, (np.bool_, np.number)):
        return value.item()
    return value


def plain_rows(answer: Answer) -> list[list[Any]]:
    """Every row of `answer`, each cell a plain value (`plain_value`)."""
    return [[plain_value(value) for value in row] for row in answer.rows]


def cell_text(value: Any) -> str:
    """A plain value as text for the table and the CSV."""
    if value is None:
        return MISSING_TEXT
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def write_csv(answer: Answer, out: TextIO) -> None:
    """The CSV, every text cell (and column name) inert in a spreadsheet (reporting/safe.py)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([neutralise_formula(name) for name in answer.columns])
    for row in plain_rows(answer):
        writer.writerow([neutralise_formula(cell_text(value)) if isinstance(value, (str, list))
                         else cell_text(value) for value in row])


def write_json(answer: Answer, out: TextIO) -> None:
    """A list of records; a repeated column name keeps its last value, as pandas' own did."""
    records = [dict(zip(answer.columns, row)) for row in plain_rows(answer)]
    out.write(json.dumps(records, indent=2, ensure_ascii=False) + "\n")


def table_cells(answer: Answer) -> list[list[str]]:
    """The table's cells as text."""
    return [[cell_text(value) for value in row] for row in plain_rows(answer)]
