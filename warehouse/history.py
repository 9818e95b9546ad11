"""What the warehouse already holds for a country: the history that new submissions are
compared with (`schemas.history.check_against_history`).

The current views (`victims`, `offenders`, `repatriated`) hold, for each country and year, the
figures of the latest accepted submission or of the imported published data; their rows are
returned as one long frame so the comparison needs nothing from DuckDB.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from schemas.history import HISTORY_TABLES

HISTORY_COLUMNS = ["table", "year", "sex", "age", "form", "citizenship", "stage",
                   "country_of_detection", "count", "suppressed", "submission_id"]


def empty_history() -> pd.DataFrame:
    """Nothing held (a new country, or no warehouse to compare with)."""
    return pd.DataFrame(columns=HISTORY_COLUMNS)


def held_figures(connection: duckdb.DuckDBPyConnection, country: str | None) -> pd.DataFrame:
    """Every current cell for `country` in the count tables, one row per cell. `suppressed`
    marks a published `<5` (its `count` is NULL: the exact figure is not known)."""
    frames = []
    for table in HISTORY_TABLES if country else ():
        held = connection.execute(f"SELECT * FROM {table} WHERE country = ?", [country]).df()
        if held.empty:
            continue
        held.insert(0, "table", table)
        if "suppressed" not in held.columns:  # a warehouse from before the published import
            held["suppressed"] = False
        frames.append(held[[c for c in HISTORY_COLUMNS if c in held.columns]])
    if not frames:
        return empty_history()
    return pd.concat(frames, ignore_index=True).reindex(columns=HISTORY_COLUMNS)
