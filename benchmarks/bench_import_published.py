"""Benchmark: importing the published dataUNODC export (the full real file, 58,769 rows).

    .venv/bin/python benchmarks/bench_import_published.py            # read, prepare, load x3
    .venv/bin/python benchmarks/bench_import_published.py --flow     # plus the Prefect flow
    .venv/bin/python benchmarks/bench_import_published.py --file other_export.xlsx

Times each phase of the import with plain functions (best and median of --repeat runs, each
into a fresh DuckDB file): read (calamine, header search, text), prepare (checks, mapping,
country resolution, repeated keys, parts against totals), load (one transaction). Compares
with DuckDB's own readers of the same data: `read_xlsx` (the `excel` extension; skipped when it
cannot be installed, e.g. offline) and `read_csv` of a .csv copy of the export, and imports that
.csv copy too. `--flow` runs `import_published` once (a temporary Prefect server starts first;
its start-up is reported apart). Prints a table; writes results.json under --workdir.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_FILE = ROOT / "tests" / "data" / "data_glotip_2025-04-14.xlsx"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, default=DEFAULT_FILE)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "benchmark" / "published")
    parser.add_argument("--flow", action="store_true", help="also time the Prefect flow")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)

    from transforms.dataunodc import prepare_export, read_export
    from warehouse.dataunodc import load_export
    from warehouse.session import Warehouse

    def import_once(path: Path, db: Path) -> dict:
        db.unlink(missing_ok=True)
        times = {}
        started = time.perf_counter()
        export = read_export(path)
        times["read"] = time.perf_counter() - started
        mark = time.perf_counter()
        prepared = prepare_export(export)
        times["prepare"] = time.perf_counter() - mark
        mark = time.perf_counter()
        with Warehouse(db) as warehouse:
            load_export(warehouse.connection, prepared)
        times["load"] = time.perf_counter() - mark
        times["total"] = time.perf_counter() - started
        return {"times": times, "rows": prepared.stats.rows_read, "stats": prepared.stats}

    results = {"file": str(args.file), "cores": os.cpu_count(), "load_average": os.getloadavg()}
    runs = [import_once(args.file, args.workdir / "import.duckdb") for _ in range(args.repeat)]
    rows = runs[0]["rows"]
    results["import"] = _summary(runs, rows)
    stats = runs[0]["stats"]
    results["outcome"] = {
        "rows_read": stats.rows_read, "rows_loaded": stats.rows_loaded,
        "rows_quarantined": stats.rows_quarantined,
        "quarantined_by_reason": stats.quarantined_by_reason, "fact_rows": stats.fact_rows,
        "citizenship_share_resolved_to_country": stats.citizenship.share_resolved_to_country,
        "repatriation_share_resolved_to_country": stats.repatriation.share_resolved_to_country,
    }

    # the same data as .csv: DuckDB's reader against ours
    csv_copy = args.workdir / f"{args.file.stem}.csv"
    export = read_export(args.file)
    with csv_copy.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        labels = export.frame.header_labels
        writer.writerow([labels[c] for c in labels])
        writer.writerows(export.rows[list(labels)].fillna("").itertuples(index=False))
    results["duckdb_read_csv"] = _duckdb("read_csv", csv_copy, args.workdir, args.repeat)
    results["duckdb_read_xlsx"] = _duckdb("read_xlsx", args.file, args.workdir, args.repeat)
    results["import_csv"] = _summary(
        [import_once(csv_copy, args.workdir / "import_csv.duckdb") for _ in range(args.repeat)], rows)

    if args.flow:
        results["flow"] = _flow(args.file, args.workdir)

    _print(results, rows)
    (args.workdir / "results.json").write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(f"\nresults: {args.workdir / 'results.json'}")


def _summary(runs: list[dict], rows: int) -> dict:
    phases = runs[0]["times"].keys()
    best = {p: min(r["times"][p] for r in runs) for p in phases}
    median = {p: statistics.median(r["times"][p] for r in runs) for p in phases}
    return {"best_s": best, "median_s": median, "rows_per_s": rows / best["total"]}


def _duckdb(reader: str, path: Path, workdir: Path, repeat: int) -> dict:
    import duckdb

    times = []
    for _ in range(repeat):
        db = workdir / f"duckdb_{reader}.duckdb"
        db.unlink(missing_ok=True)
        started = time.perf_counter()
        try:
            with duckdb.connect(str(db)) as connection:
                options = ", header = false" if reader == "read_xlsx" else ", all_varchar = true"
                connection.execute(f"CREATE TABLE export AS SELECT * FROM {reader}(?{options})", [str(path)])
                count = connection.execute("SELECT count(*) FROM export").fetchall()[0][0]
        except duckdb.Error as problem:
            return {"available": False, "error": str(problem).splitlines()[0][:200]}
        times.append(time.perf_counter() - started)
    return {"available": True, "rows": count, "best_s": min(times), "rows_per_s": count / min(times)}


def _flow(path: Path, workdir: Path) -> dict:
    os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="glotip-bench-prefect-"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
    from prefect.testing.utilities import prefect_test_harness

    from flows.import_published import import_published

    db = workdir / "flow.duckdb"
    db.unlink(missing_ok=True)
    started = time.perf_counter()
    with prefect_test_harness(server_startup_timeout=180):
        server = time.perf_counter() - started
        mark = time.perf_counter()
        result = import_published(str(path), str(db), str(workdir / "reports"))
        flow = time.perf_counter() - mark
    return {"server_start_s": server, "flow_s": flow, "import_s_inside_flow": result["seconds"],
            "status": result["status"]}


def _print(results: dict, rows: int) -> None:
    load = ", ".join(f"{v:.1f}" for v in results["load_average"])
    print(f"\nImport of {Path(results['file']).name}: {rows:,} rows; {results['cores']} cores, "
          f"load average {load}\n")
    print(f"{'what':44} {'seconds':>9} {'rows/s':>11}")
    for key, label in (("import", "our import of the .xlsx (best)"), ("import_csv", "our import of the .csv copy (best)")):
        item = results[key]
        print(f"{label:44} {item['best_s']['total']:9.2f} {item['rows_per_s']:11,.0f}")
        for phase in ("read", "prepare", "load"):
            print(f"  {phase:42} {item['best_s'][phase]:9.2f}")
    for key, label in (("duckdb_read_xlsx", "DuckDB read_xlsx into a table"),
                       ("duckdb_read_csv", "DuckDB read_csv of the .csv copy into a table")):
        item = results[key]
        if item["available"]:
            print(f"{label:44} {item['best_s']:9.2f} {item['rows_per_s']:11,.0f}")
        else:
            print(f"{label:44} {'n/a':>9}  ({item['error']})")
    if "flow" in results:
        flow = results["flow"]
        print(f"{'Prefect flow import_published':44} {flow['flow_s']:9.2f} {rows / flow['flow_s']:11,.0f}")
        print(f"  {'(temporary Prefect server start, apart)':42} {flow['server_start_s']:9.2f}")
    outcome = results["outcome"]
    print(f"\nrows loaded {outcome['rows_loaded']:,}, quarantined {outcome['rows_quarantined']:,} "
          f"{outcome['quarantined_by_reason']}; citizenship rows resolved to a country "
          f"{outcome['citizenship_share_resolved_to_country']:.1%}")


if __name__ == "__main__":
    main()
