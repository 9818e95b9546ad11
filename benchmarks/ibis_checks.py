"""Evaluation: the victims table's column checks as a pandera Ibis schema on DuckDB.

    .venv/bin/pip install "ibis-framework[duckdb]>=12,<13"   # not a dependency of the project
    .venv/bin/python benchmarks/ibis_checks.py FOLDER [--runs 3]

The Ibis schema is generated from the one declaration (`schemas.tables`, the table's
TableSpec): the same columns, nullability and checks; the registered `country` check becomes
the `isin` it stands for. It is timed against today's pandas run of the value checks
(`schemas.validate._value_findings`) on the typed victims table, passing and with 1% of its
rows failing (half an unknown sex code, half a negative count). Figures: docs/operations.md,
"Validation on other engines".
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BUILTIN = {"isin", "notin", "equal_to", "greater_than", "greater_than_or_equal_to", "less_than",
           "less_than_or_equal_to", "in_range", "str_length", "str_matches"}


def ibis_schema(spec):
    """`spec`'s pandera declaration as a pandera Ibis schema (checks it cannot carry raise)."""
    import ibis.expr.datatypes as dt
    import pandera.ibis as pi

    from schemas.tables import allowed_countries

    columns = {}
    for name, column in spec.schema.columns.items():
        checks = []
        for check in column.checks:
            statistics_ = dict(check.statistics)
            if check.name == "country":
                checks.append(pi.Check.isin(sorted(allowed_countries(statistics_["special"] or None))))
            elif check.name in BUILTIN:
                checks.append(getattr(pi.Check, check.name)(**statistics_))
            else:
                raise NotImplementedError(f"no Ibis execution of the check {check.name}")
        dtype = dt.int64 if str(column.dtype) == "Int64" else dt.string
        columns[name] = pi.Column(dtype, checks=checks, nullable=column.nullable)
    return pi.DataFrameSchema(columns)


def measure_ibis_checks(folder: str, runs: int = 3) -> dict:
    import ibis
    import numpy as np
    import pandera.ibis as pi
    import pyarrow as pa

    from schemas.findings import LINE
    from schemas.tables import TABLES
    from schemas.validate import _value_findings, validate_submission
    from transforms.prepare import prepare_submission

    spec = TABLES["victims"]
    schema = ibis_schema(spec)
    parsed = prepare_submission(folder)
    frame = parsed.tables["victims"]
    typed = validate_submission(parsed).tables["victims"]
    failing = typed.copy()
    rows = np.random.default_rng(0).choice(len(failing), len(failing) // 100, replace=False)
    half = len(rows) // 2
    failing["sex"] = failing["sex"].mask(failing.index.isin(failing.index[rows[:half]]), "femal")
    failing["count"] = failing["count"].mask(failing.index.isin(failing.index[rows[half:]]), -1)

    def on_ibis(table):
        arrow = pa.table({c: pa.array(table[c], from_pandas=True) for c in [*spec.columns, LINE]})
        try:
            schema.validate(ibis.memtable(arrow), lazy=True)
            return 0
        except pi.errors.SchemaErrors as errors:
            return len(errors.failure_cases)

    def on_pandas(table):
        return len(_value_findings(spec, spec.schema, frame, table, set()))

    result = {"rows": len(typed), "runs": runs}
    for label, table in (("passing", typed), ("failing_1pct", failing)):
        for name, run in (("ibis", on_ibis), ("pandas", on_pandas)):
            seconds = []
            for _ in range(runs):
                started = time.perf_counter()
                found = run(table)
                seconds.append(time.perf_counter() - started)
            result[f"{label}_{name}_s"] = round(statistics.median(seconds), 3)
            result[f"{label}_{name}_failures"] = found
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder")
    parser.add_argument("--runs", type=int, default=3)
    arguments = parser.parse_args()
    print(json.dumps(measure_ibis_checks(arguments.folder, arguments.runs)))
