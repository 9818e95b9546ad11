"""Benchmark: every speed goal of the pipeline, as a ratio or a figure, from one run.

    .venv/bin/python benchmarks/run.py                   # everything (about 4 minutes on 2 cores)
    .venv/bin/python benchmarks/run.py --skip-scheduled  # without the 193-submission run
    .venv/bin/python benchmarks/run.py --ten-million     # also the 10M-row CSV (about 5 minutes more)
    .venv/bin/python benchmarks/run.py --rows 200000     # a quicker look
    .venv/bin/python benchmarks/run.py --markdown        # also print the README's table

Generates, under --workdir (default var/benchmark, kept between runs):
- a 1,000,000-row victims submission as CSV files (submission.csv + victims.csv);
- a 100,000-row Excel submission;
- 193 typical submissions (500 victims rows each; every third an .xlsx, the others .zip).
Measures, each in a fresh process so that peak memory (max RSS) is its own:
- DuckDB `read_csv` of victims.csv into a table of a new DuckDB file (the reference);
- our full path on the same submission: read, every validation rule, load, report;
- calamine's own parse of the Excel submission and our read of it, in the same process;
- `glotip sql "select 1"` and `glotip validate` of a 5,000-row workbook, as whole commands;
- the scheduled-size run: `glotip ingest` of the 193 submissions against a running Prefect
  server (started here on loopback unless PREFECT_API_URL is set);
- with --ten-million, the full path on a 10,000,000-row victims CSV under raised limits.
Prints one line per goal (the measure, its target, met or not) and writes results.json next to
the data: `goals` holds the same lines, the other keys every raw figure.
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

# The goals of issue 14: (what is measured, at most / at least, the target, its unit).
GOALS = {
    "full_over_duckdb": ("{rows:,}-row victims CSV: full path ÷ DuckDB read_csv into a table", "max", 1.5, "x"),
    "peak_mb": ("peak memory of that full path", "max", 400, "MB"),
    "excel_over_calamine": ("{excel_rows:,}-row Excel read: calamine's own parse ÷ our read", "min", 0.8, "x"),
    "sql_select_1_s": ('`glotip sql "select 1"`', "max", 0.3, "s"),
    "validate_5000_s": ("`glotip validate` of a 5,000-row workbook", "max", 0.8, "s"),
    "scheduled_s": ("193 typical submissions against a running Prefect server", "max", 15, "s"),
    "ten_million_peak_mb": ("10M-row victims CSV: peak memory of the full path", "max", 2048, "MB"),
}
TEN_MILLION = 10_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "benchmark")
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--excel-rows", type=int, default=100_000)
    parser.add_argument("--submissions", type=int, default=193)
    parser.add_argument("--command-runs", type=int, default=5, help="runs of each command (median)")
    parser.add_argument("--skip-scheduled", action="store_true")
    parser.add_argument("--only-scheduled", action="store_true", help="only the 193-submission run")
    parser.add_argument("--ten-million", action="store_true", help="also the 10M-row CSV")
    parser.add_argument("--markdown", action="store_true", help="also print the goals as a Markdown table")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child[0]](*args.child[1:])))
        return
    work = args.workdir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    results: dict = {"rows": args.rows, "excel_rows": args.excel_rows, "cores": os.cpu_count(),
                     "load_average": os.getloadavg()[0]}
    if not args.only_scheduled:
        csv_folder = victims_folder(work, args.rows, first_year=2000, citizenships=225)
        workbook = excel_workbook(work, args.excel_rows)
        results["duckdb"] = child("duckdb", str(csv_folder / "victims.csv"), str(work / "duckdb_only.duckdb"))
        results["full"] = child("full", str(csv_folder), str(work / "full_path.duckdb"), str(work / "reports"))
        results["excel"] = child("excel", str(workbook))
        results["commands"] = child("commands", str(work / "commands"), str(args.command_runs))
    if args.ten_million:
        # The victims table holds one row per cell (year × sex × age × form × citizenship): at
        # most 6.1M distinct cells in 1990-2100, so rows past 2100 are refused, cell by cell.
        folder = victims_folder(work, TEN_MILLION, first_year=1990, citizenships=249)
        results["ten_million"] = child("full", str(folder), str(work / "ten_million.duckdb"),
                                       str(work / "reports_10m"), "raised")
    if not args.skip_scheduled:
        inbox = typical_inbox(work, args.submissions)
        results["scheduled"] = scheduled_run(work, inbox, args.submissions)
    results["goals"] = goals(results)
    (work / "results.json").write_text(json.dumps(results, indent=2))
    print_goals(results["goals"], markdown=args.markdown)
    print(f"(load average {results['load_average']:.1f} at the start; {work / 'results.json'})")


# -- data ---------------------------------------------------------------------------------------

def victims_folder(work: Path, rows: int, *, first_year: int, citizenships: int) -> Path:
    from tests.builders import write_csv_folder

    folder = work / f"victims_{rows}"
    if not (folder / "victims.csv").exists():
        started = time.perf_counter()
        write_csv_folder(folder, "NGA", rows=rows, first_year=first_year, citizenships=citizenships)
        print(f"generated {folder} in {time.perf_counter() - started:.1f} s", flush=True)
    return folder


def excel_workbook(work: Path, rows: int) -> Path:
    from tests.builders import write_workbook

    workbook = work / f"victims_{rows}.xlsx"
    if not workbook.exists():
        started = time.perf_counter()
        write_workbook(workbook, "KEN", rows=rows, first_year=1990)
        print(f"generated {workbook} in {time.perf_counter() - started:.1f} s", flush=True)
    return workbook


def typical_inbox(work: Path, submissions: int) -> Path:
    from schemas.countries import country_codes
    from tests.builders import write_csv_zip, write_workbook

    inbox = work / f"inbox_{submissions}"
    if not inbox.exists():
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
    return inbox


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


def measure_full(folder: str, db_path: str, reports: str, limits: str = "default") -> dict:
    """The product's own per-submission sequence (pipeline.submission), each step timed.
    `limits`: "raised" lets a 10M-row file in (the defaults refuse it at 2M rows, 100 MiB)."""
    from pipeline import submission as sequence
    from schemas.limits import Limits
    from warehouse.session import Warehouse

    read_limits = Limits()
    if limits == "raised":
        read_limits = Limits(file_bytes=2 * 1024**3, rows=20_000_000, cells=400_000_000)
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
        assessment = sequence.assess_file(folder, step=timed, limits=read_limits)
        outcome = sequence.process(assessment, warehouse, reports_dir=reports, run_id="benchmark",
                                   step=timed)
    seconds = time.perf_counter() - started
    rows = outcome.rows_loaded
    return {"seconds": seconds, "rows": rows, "status": outcome.status,
            "findings": outcome.errors + outcome.warnings, "rows_per_s": rows / seconds,
            "phases": {k: round(v, 3) for k, v in phases.items()}, "peak_mb": _peak_mb()}


def measure_excel(path: str) -> dict:
    from benchmarks.excel_read import measure_excel as against_calamine

    return {**against_calamine(path), "peak_mb": _peak_mb()}


def measure_commands(work: str, runs: str) -> dict:
    from benchmarks.commands import measure_commands as commands

    return commands(Path(work), runs=int(runs))


CHILDREN = {"duckdb": measure_duckdb, "full": measure_full, "excel": measure_excel,
            "commands": measure_commands}


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


# -- the goals --------------------------------------------------------------------------------------

def goals(results: dict) -> dict[str, dict]:
    """Each goal measured in this run: its value, how it was had, the target and whether met."""
    measured: dict[str, tuple[float, str]] = {}
    if "full" in results:
        duck, full = results["duckdb"], results["full"]
        phases = ", ".join(f"{name} {seconds:.2f}" for name, seconds in full["phases"].items())
        measured["full_over_duckdb"] = (full["seconds"] / duck["seconds"],
                                        f"{full['seconds']:.2f} s ÷ {duck['seconds']:.2f} s "
                                        f"({full['rows']:,} rows {full['status']}; {phases} s)")
        measured["peak_mb"] = (full["peak_mb"], f"DuckDB's own load: {duck['peak_mb']:.0f} MB")
    if "excel" in results:
        excel = results["excel"]
        measured["excel_over_calamine"] = (excel["ratio"], f"{excel['calamine_s']:.2f} s ÷ {excel['ours_s']:.2f} s "
                                                           f"({excel['rows_per_s']:,.0f} rows/s)")
    if "commands" in results:
        commands = results["commands"]
        runs = f"median of {commands['runs']} runs"
        measured["sql_select_1_s"] = (commands["sql_select_1_s"], runs)
        measured["validate_5000_s"] = (commands["validate_5000_s"], runs)
    if "scheduled" in results:
        scheduled = results["scheduled"]
        measured["scheduled_s"] = (scheduled["seconds"], f"{scheduled['accepted']} of "
                                                         f"{scheduled['submissions']} accepted")
    if "ten_million" in results:
        ten = results["ten_million"]
        measured["ten_million_peak_mb"] = (ten["peak_mb"], f"completed in {ten['seconds']:.0f} s: "
                                                           f"{ten['status']}, {ten['findings']:,} findings, "
                                                           f"{ten['rows']:,} rows loaded")
    lines = {}
    for name, (value, how) in measured.items():
        label, sense, target, unit = GOALS[name]
        met = value <= target if sense == "max" else value >= target
        lines[name] = {"measure": label.format(**results), "value": round(value, 3), "unit": unit,
                       "how": how, "met": met,
                       "target": f"{'≤' if sense == 'max' else '≥'} {target}{'' if unit == 'x' else ' '}{unit}"}
    return lines


def _shown(line: dict) -> str:
    value = line["value"]
    return f"{value:,.0f} MB" if line["unit"] == "MB" else f"{value:.2f}{'' if line['unit'] == 'x' else ' '}{line['unit']}"


def print_goals(lines: dict[str, dict], markdown: bool) -> None:
    width = max((len(line["measure"]) for line in lines.values()), default=0)
    for line in lines.values():
        print(f"{line['measure']:<{width}}  {_shown(line):>9}  target {line['target']:<9}  "
              f"{'met' if line['met'] else 'NOT met'}  ({line['how']})")
    if markdown:
        print("\n| measure | measured | target | met |\n|---|---|---|---|")
        for line in lines.values():
            print(f"| {line['measure']} | {_shown(line)} ({line['how']}) | {line['target']} | "
                  f"{'yes' if line['met'] else 'no'} |")


if __name__ == "__main__":
    main()
