"""Benchmark: the key rules (duplicates, parts against totals) on numpy and in DuckDB.

    .venv/bin/python benchmarks/rules.py                       # a 1M-row victims folder, made here
    .venv/bin/python benchmarks/rules.py FOLDER --runs 5       # a submission already written

Reads the submission once (`prepare_submission`), then times `validate_submission` with each
execution of the key rules forced, in turn (numpy, DuckDB, numpy, ...) so that both see the
same load on a shared machine; also `failing_totals` alone on the victims table. Medians of
the runs, and whether both executions gave the same findings.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def measure_rules(folder: str, runs: int = 3) -> dict:
    from schemas.tables import TABLES
    from schemas.totals import failing_totals
    from schemas.validate import totals_inputs, validate_submission
    from transforms.prepare import prepare_submission

    parsed = prepare_submission(folder)
    executions = {"pandas": None, "duckdb": 0}  # duckdb_rows: None never, 0 always
    seconds: dict[str, list[float]] = {f"{name}_s": [] for name in executions}
    totals: dict[str, list[float]] = {f"totals_{name}_s": [] for name in executions}
    findings = {}
    for _ in range(runs):
        for name, duckdb_rows in executions.items():
            started = time.perf_counter()
            result = validate_submission(parsed, duckdb_rows=duckdb_rows)
            seconds[f"{name}_s"].append(time.perf_counter() - started)
            findings[name] = result.findings
    spec = TABLES["victims"]
    inputs = totals_inputs(spec, result.tables["victims"], result.findings)
    if inputs is not None:
        valid, dimensions, complete = inputs
        for _ in range(runs):
            for name, duckdb_rows in executions.items():
                started = time.perf_counter()
                failing_totals(valid, spec.key, dimensions, "count", complete=complete,
                               duckdb_rows=duckdb_rows)
                totals[f"totals_{name}_s"].append(time.perf_counter() - started)
    medians = {k: round(statistics.median(v), 3) for k, v in {**seconds, **totals}.items() if v}
    return {**medians, "rows": sum(len(t.data) for t in parsed.tables.values()), "runs": runs,
            "findings": len(findings["pandas"]),
            "same_findings": findings["pandas"] == findings["duckdb"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", nargs="?", help="a submission (default: a victims folder made here)")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.folder:
        print(json.dumps(measure_rules(args.folder, args.runs)))
        return
    from tests.builders import write_csv_folder

    with tempfile.TemporaryDirectory() as work:
        folder = write_csv_folder(Path(work) / "victims", "NGA", rows=args.rows, first_year=2000,
                                  citizenships=225)
        print(json.dumps(measure_rules(str(folder), args.runs)))


if __name__ == "__main__":
    main()
