"""Benchmark: our full path against DuckDB's own CSV load, Excel read rate, a scheduled run.

    .venv/bin/python benchmarks/run.py                 # everything (about 3 minutes on 2 cores)
    .venv/bin/python benchmarks/run.py --skip-scheduled
    .venv/bin/python benchmarks/run.py --rows 200000   # a quicker look

Generates, under --workdir (default var/benchmark, kept between runs):
- a 1,000,000-row victims submission as CSV files (submission.csv + victims.csv);
- a 100,000-row Excel submission;
- 193 typical submissions (500 victims rows each; every third an .xlsx, the others .zip).
Measures, each in a fresh process so that peak memory (max RSS) is its own:
- DuckDB `read_csv` of victims.csv into a table of a new DuckDB file;
- our full path on the same submission: read, every validation rule, load, report;
- reading the Excel submission (rows/s);
- the scheduled-size run: `glotip ingest` of the 193 submissions against a running Prefect
  server (started here on loopback unless PREFECT_API_URL is set).
Prints a table and writes results.json next to the data.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGETS = {"ratio": 2.0, "peak_mb": 600, "excel_rows_per_s": 150_000, "scheduled_s": 30}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "benchmark")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--excel-rows", type=int, default=100_000)
    parser.add_argument("--submissions", type=int, default=193)
    parser.add_argument("--skip-scheduled", action="store_true")
    parser.add_argument("--only-scheduled", action="store_true", help="only the 193-submission run")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child[0]](*args.child[1:])))
        return
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    csv_folder, workbook, inbox = generate(work, args.rows, args.excel_rows, args.submissions)
    results = {"rows": args.rows, "excel_rows": args.excel_rows, "cores": os.cpu_count()}
    if not args.only_scheduled:
        results["duckdb"] = child("duckdb", str(csv_folder / "victims.csv"), str(work / "duckdb_only.duckdb"))
        results["full"] = child("full", str(csv_folder), str(work / "full_path.duckdb"), str(work / "reports"))
        results["excel"] = child("excel", str(workbook))
    if not args.skip_scheduled:
        results["scheduled"] = scheduled_run(work, inbox, args.submissions)
    (work / "results.json").write_text(json.dumps(results, indent=2))
    print_table(results)


# -- data ---------------------------------------------------------------------------------------

def generate(work: Path, rows: int, excel_rows: int, submissions: int):
    from tests.builders import write_csv_folder, write_csv_zip, write_workbook

    csv_folder = work / f"victims_{rows}"
    if not (csv_folder / "victims.csv").exists():
        started = time.perf_counter()
        write_csv_folder(csv_folder, "NGA", rows=rows, first_year=2000, citizenships=225)
        print(f"generated {csv_folder} in {time.perf_counter() - started:.1f} s", flush=True)
    workbook = work / f"victims_{excel_rows}.xlsx"
    if not workbook.exists():
        started = time.perf_counter()
        write_workbook(workbook, "KEN", rows=excel_rows, first_year=1990)
        print(f"generated {workbook} in {time.perf_counter() - started:.1f} s", flush=True)
    inbox = work / f"inbox_{submissions}"
    if not inbox.exists():
        from schemas.countries import country_codes

        staging = work / "inbox.staging"
        shutil.rmtree(staging, ignore_errors=True)
        countries = sorted(country_codes())
        for number in range(submissions):
            country = countries[number % len(countries)]
            name = f"{number:03}_{country}"
            if number % 3 == 0:
                write_workbook(staging / f"{name}.xlsx", country, rows=500, first_year=2015)
            else:
                write_csv_zip(staging / f"{name}.zip", country, rows=500, first_year=2015)
        staging.rename(inbox)
    return csv_folder, workbook, inbox


# -- measurements, each in its own process --------------------------------------------------------

def child(kind: str, *args: str) -> dict:
    completed = subprocess.run([sys.executable, __file__, "--child", kind, *args],
                               capture_output=True, text=True, cwd=ROOT)
    if completed.returncode != 0:
        raise SystemExit(f"{kind} failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    print(f"{kind}: {result}", flush=True)
    return result


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def measure_duckdb(csv_path: str, db_path: str) -> dict:
    import duckdb

    Path(db_path).unlink(missing_ok=True)
    started = time.perf_counter()
    with duckdb.connect(db_path) as connection:
        connection.execute("CREATE TABLE victims AS SELECT * FROM read_csv(?)", [csv_path])
        rows = connection.execute("SELECT count(*) FROM victims").fetchall()[0][0]
    return {"seconds": time.perf_counter() - started, "rows": rows, "peak_mb": _peak_mb()}


def measure_full(folder: str, db_path: str, reports: str) -> dict:
    """The product's own per-submission sequence (pipeline.submission), each step timed."""
    from pipeline import submission as sequence
    from warehouse.session import Warehouse

    Path(db_path).unlink(missing_ok=True)
    Path(db_path + ".wal").unlink(missing_ok=True)
    phases: dict[str, float] = {}

    def timed(name, function, *args):
        clock = time.perf_counter()
        try:
            return function(*args)
        finally:
            phases[name] = phases.get(name, 0.0) + time.perf_counter() - clock

    started = time.perf_counter()
    with Warehouse(db_path) as warehouse:
        timed("open", lambda: warehouse.connection)
        assessment = sequence.assess_file(folder, step=timed)
        outcome = sequence.process(assessment, warehouse, reports_dir=reports, run_id="benchmark",
                                   step=timed)
    seconds = time.perf_counter() - started
    rows = outcome.rows_loaded
    return {"seconds": seconds, "rows": rows, "status": outcome.status,
            "findings": outcome.errors + outcome.warnings, "rows_per_s": rows / seconds,
            "phases": {k: round(v, 3) for k, v in phases.items()}, "peak_mb": _peak_mb()}


def measure_excel(path: str) -> dict:
    from schemas.limits import Limits
    from transforms.readers import read_submission

    started = time.perf_counter()
    parsed = read_submission(path, Limits())
    seconds = time.perf_counter() - started
    rows = sum(len(frame.data) for frame in parsed.tables.values())
    return {"seconds": seconds, "rows": rows, "rows_per_s": rows / seconds,
            "findings": len(parsed.read_findings), "peak_mb": _peak_mb()}


CHILDREN = {"duckdb": measure_duckdb, "full": measure_full, "excel": measure_excel}


# -- the scheduled-size run -------------------------------------------------------------------------

def scheduled_run(work: Path, inbox: Path, submissions: int) -> dict:
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "DO_NOT_TRACK": "1",
           "GLOTIP_SETTLE_SECONDS": "0", "PREFECT_LOGGING_LEVEL": "WARNING"}
    server = None
    if "PREFECT_API_URL" not in env:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        env["PREFECT_HOME"] = str(work / "prefect_home")
        env["PREFECT_API_URL"] = f"http://127.0.0.1:{port}/api"
        server = subprocess.Popen([str(Path(sys.executable).parent / "prefect"), "server", "start",
                                   "--host", "127.0.0.1", "--port", str(port)], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
        _wait_for_server(env["PREFECT_API_URL"])
    try:
        run_dir = work / "scheduled"
        shutil.rmtree(run_dir, ignore_errors=True)
        shutil.copytree(inbox, run_dir / "inbox")
        started = time.perf_counter()
        completed = subprocess.run(
            [sys.executable, str(ROOT / "cli.py"), "ingest", str(run_dir / "inbox"),
             "--db", str(run_dir / "w.duckdb"), "--reports", str(run_dir / "reports"),
             "--archive", str(run_dir / "archive"), "--move-processed"],
            env=env, cwd=ROOT, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        if completed.returncode != 0:
            raise SystemExit(f"scheduled run failed:\n{completed.stdout[-3000:]}\n{completed.stderr[-3000:]}")
        import duckdb

        with duckdb.connect(str(run_dir / "w.duckdb"), read_only=True) as connection:
            loaded, rows = connection.execute(
                "SELECT count(*), sum(rows_loaded) FROM submissions WHERE status = 'accepted'").fetchall()[0]
        result = {"seconds": seconds, "submissions": submissions, "accepted": loaded, "rows": int(rows or 0)}
        print(f"scheduled: {result}", flush=True)
        return result
    finally:
        if server is not None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)


def _wait_for_server(api: str) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api}/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("the Prefect server did not start within 120 s")


def print_table(results: dict) -> None:
    lines = []
    if "full" in results:
        lines += single_lines(results)
    if "scheduled" in results:
        scheduled = results["scheduled"]
        lines.append((f"scheduled run, {scheduled['submissions']} submissions", f"{scheduled['seconds']:.1f} s",
                      f"{scheduled['accepted']} accepted", f"target < {TARGETS['scheduled_s']} s"))
    width = max(len(line[0]) for line in lines)
    for line in lines:
        print(f"{line[0]:<{width}}  {line[1]:>12}  {line[2]:>18}  {line[3]}")


def single_lines(results: dict) -> list[tuple]:
    duck, full, excel = results["duckdb"], results["full"], results["excel"]
    ratio = full["seconds"] / duck["seconds"]
    return [
        ("DuckDB read_csv into a table", f"{duck['seconds']:.2f} s", f"{duck['rows'] / duck['seconds']:,.0f} rows/s", ""),
        ("full path (read, validate, load, report)", f"{full['seconds']:.2f} s", f"{full['rows_per_s']:,.0f} rows/s",
         f"{ratio:.1f}x DuckDB (target <= {TARGETS['ratio']}x)"),
        ("  phases", ", ".join(f"{k} {v:.2f} s" for k, v in full["phases"].items()), "", ""),
        ("peak memory, full path", f"{full['peak_mb']:.0f} MB", "", f"target < {TARGETS['peak_mb']} MB"),
        ("Excel read", f"{excel['seconds']:.2f} s", f"{excel['rows_per_s']:,.0f} rows/s",
         f"target >= {TARGETS['excel_rows_per_s']:,} rows/s"),
    ]


if __name__ == "__main__":
    main()
