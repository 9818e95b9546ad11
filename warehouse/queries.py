"""The standard queries of the Global Report's drafters: `warehouse/queries/NAME.sql`.

Each file starts with `-- Question: ...` (the one question it answers) and `-- Params: a=, b=3`
(its parameters and their defaults; empty means NULL, i.e. "all"). In the SQL a parameter is
`$name`, always passed as text and cast where it is used, so that `--param year=2020` on the
command line and `{"year": 2020}` from Python behave the same.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # `glotip sql` reads the answer without pandas (`execute_standard_query`)
    import pandas as pd

QUERY_DIR = Path(__file__).with_name("queries")
_PARAM = re.compile(r"\$([A-Za-z_]\w*)")


@dataclass(frozen=True)
class StandardQuery:
    name: str
    question: str
    defaults: dict[str, str | None]
    sql: str


def query_names() -> list[str]:
    return sorted(path.stem for path in QUERY_DIR.glob("*.sql"))


def load_query(name: str) -> StandardQuery:
    path = QUERY_DIR / f"{name}.sql"
    if not re.fullmatch(r"[a-z0-9_]+", name) or not path.exists():
        raise KeyError(f"no standard query `{name}`; known: {', '.join(query_names())}")
    sql = path.read_text(encoding="utf-8")
    question, defaults = "", {}
    for line in sql.splitlines():
        if line.startswith("-- Question:"):
            question = line.removeprefix("-- Question:").strip()
        elif line.startswith("-- Params:"):
            for item in line.removeprefix("-- Params:").split(","):
                if item.strip():
                    key, _, value = item.partition("=")
                    defaults[key.strip()] = value.strip() or None
    used = set(_PARAM.findall(sql))
    if used != set(defaults):
        raise ValueError(f"{path.name}: `-- Params:` declares {sorted(defaults)} but the SQL uses {sorted(used)}")
    return StandardQuery(name, question, defaults, sql)


def run_standard_query(connection: duckdb.DuckDBPyConnection, name: str,
                       params: dict[str, object] | None = None) -> pd.DataFrame:
    """Run one standard query; `params` override the declared defaults."""
    return execute_standard_query(connection, name, params).df()


def execute_standard_query(connection: duckdb.DuckDBPyConnection, name: str,
                           params: dict[str, object] | None = None) -> duckdb.DuckDBPyConnection:
    """`run_standard_query`, its answer left in DuckDB: the connection, ready to fetch."""
    query = load_query(name)
    params = dict(params or {})
    unknown = set(params) - set(query.defaults)
    if unknown:
        raise KeyError(f"`{name}` takes no parameter {', '.join(sorted(unknown))}; "
                       f"it takes: {', '.join(query.defaults) or 'none'}")
    values = {key: None if (value := params.get(key, default)) is None else str(value)
              for key, default in query.defaults.items()}
    return connection.execute(query.sql, values)


def parse_params(pairs: list[str]) -> dict[str, str]:
    """`["year=2020", "top=5"]` -> {"year": "2020", "top": "5"}."""
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"a parameter is key=value, not `{pair}`")
        params[key.strip()] = value.strip()
    return params
