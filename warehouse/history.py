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

from schemas.history import HISTORY_TABLES, breakdown_columns

HISTORY_COLUMNS = ["table", "year", "sex", "age", "form", "citizenship", "stage",
                   "country_of_detection", "count", "submission_id"]


def held_figures(connection: duckdb.DuckDBPyConnection, country: str | None) -> pd.DataFrame:
    """Every current cell for `country` in the count tables, one row per cell."""
    if not country:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    selects = []
    for table in HISTORY_TABLES:
        present = ["year", *breakdown_columns(table)]
        columns = [f'"{c}"' if c in present else f'NULL::VARCHAR AS "{c}"'
                   for c in HISTORY_COLUMNS[1:-2]]
        selects.append(f"SELECT '{table}' AS \"table\", {', '.join(columns)}, \"count\", submission_id "
                       f"FROM {table} WHERE country = $country")
    sql = " UNION ALL ".join(selects) + " ORDER BY 1, 2"
    return connection.execute(sql, {"country": country}).df()


def held_figures_at(db_path: str | Path, country: str | None) -> pd.DataFrame:
    """The same, opening the warehouse read-only (none yet: nothing held)."""
    if not Path(db_path).exists():
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    with duckdb.connect(str(db_path), read_only=True) as connection:
        try:
            return held_figures(connection, country)
        except duckdb.CatalogException:  # a warehouse file without the views yet
            return pd.DataFrame(columns=HISTORY_COLUMNS)
