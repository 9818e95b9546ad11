"""What the warehouse already holds for a country: the history that new submissions are
compared with (`schemas.history.check_against_history`).

The current views (`victims`, `offenders`, `repatriated`) hold, for each country and year, the
figures of the latest accepted submission or of the imported published data; their rows are
returned as one long frame so the comparison needs nothing from DuckDB.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from schemas.history import HISTORY_TABLES

HISTORY_COLUMNS = ["table", "year", "sex", "age", "form", "citizenship", "stage",
                   "country_of_detection", "count", "suppressed", "submission_id"]


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
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    return pd.concat(frames, ignore_index=True).reindex(columns=HISTORY_COLUMNS)


def held_figures_at(db_path: str | Path, country: str | None) -> pd.DataFrame:
    """The same, opening the warehouse read-only (none yet: nothing held)."""
    if not Path(db_path).exists():
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    with duckdb.connect(str(db_path), read_only=True) as connection:
        try:
            return held_figures(connection, country)
        except duckdb.CatalogException:  # a warehouse file without the views yet
            return pd.DataFrame(columns=HISTORY_COLUMNS)
