"""Benchmark: our read of a CSV folder against DuckDB's own `read_csv`, in one process.

    .venv/bin/python benchmarks/read_csv.py FOLDER            # FOLDER holds victims.csv
    .venv/bin/python benchmarks/read_csv.py FOLDER --runs 5   # medians of 5 alternating runs

`measure_read(folder)` times, in this process, DuckDB's `read_csv` of the folder's victims.csv
into an in-memory table and our `transforms.prepare.prepare_submission(folder, Limits())` (read
and normalise: every value, line and finding the pipeline validates). Ours runs first, so that
`peak_mb` (the process's max RSS, imports included) is that of our read, not DuckDB's table.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def _duckdb_read(csv_path: Path) -> tuple[float, int]:
    import duckdb

    started = time.perf_counter()
    with duckdb.connect() as connection:
        connection.execute("CREATE TABLE victims AS SELECT * FROM read_csv(?)", [str(csv_path)])
        rows = connection.execute("SELECT count(*) FROM victims").fetchall()[0][0]
    return time.perf_counter() - started, rows


def _our_read(folder: Path, limits) -> tuple[float, int]:
    from transforms.prepare import prepare_submission

    started = time.perf_counter()
    parsed = prepare_submission(folder, limits)
    seconds = time.perf_counter() - started
    return seconds, len(parsed.tables["victims"].data)


def measure_read(folder: str, limits=None) -> dict:
    """DuckDB's read_csv of FOLDER/victims.csv and our prepare_submission(FOLDER), timed in
    this process (imports and the readers' caches warmed first, as in a running flow)."""
    import duckdb  # noqa: F401 - imported before the clock starts, as pandas and pyarrow are

    from schemas.limits import Limits
    from transforms.readers import warm_caches

    warm_caches()
    folder_path = Path(folder)
    start_mb = _peak_mb()
    ours_s, rows = _our_read(folder_path, limits or Limits())
    peak_mb = _peak_mb()
    duckdb_s, duckdb_rows = _duckdb_read(folder_path / "victims.csv")
    return {"duckdb_s": round(duckdb_s, 3), "ours_s": round(ours_s, 3), "ratio": round(ours_s / duckdb_s, 2),
            "rows": rows, "duckdb_rows": duckdb_rows, "peak_mb": round(peak_mb), "start_mb": round(start_mb)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder")
    parser.add_argument("--runs", type=int, default=1, help="alternating runs; medians printed last")
    parser.add_argument("--big", action="store_true",
                        help="limits raised for a 10M-row file (rows, file_bytes: the defaults refuse it)")
    args = parser.parse_args()
    limits = None
    if args.big:
        from schemas.limits import Limits

        limits = Limits(file_bytes=2**40, rows=10**9)
    runs = [measure_read(args.folder, limits) for _ in range(args.runs)]
    for run in runs:
        print(json.dumps(run), flush=True)
    if args.runs > 1:
        medians = {key: statistics.median(run[key] for run in runs) for key in ("duckdb_s", "ours_s", "ratio")}
        print(json.dumps({"median": medians, "rows": runs[0]["rows"], "peak_mb": runs[0]["peak_mb"]}))


if __name__ == "__main__":
    main()
