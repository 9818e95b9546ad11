"""One file end to end: `glotip ingest` of sample_submissions/EGY_2022.xlsx alone in an inbox,
against a running Prefect server (PREFECT_API_URL must be set), timed from the command's start
to its process's end, with the phases read from the run's Prefect log.

    export PREFECT_API_URL=http://127.0.0.1:4200/api     # `prefect server start` running
    .venv/bin/python benchmarks/one_file.py --runs 5
    .venv/bin/python benchmarks/one_file.py --runs 5 --checkout /tmp/before   # an older checkout too

With --checkout, each round runs the older checkout's `cli.py` (a `git archive` of it, using
this virtualenv) and then this one's, alternately, so that a change in the machine's load hits
both alike. Each run is a fresh process in a new temporary folder (its own warehouse, reports,
archive). Printed per run: total; start -> the flow's "Beginning" line; -> "published for
analysts"; -> the flow's "Finished" line; -> process exit; and the report task alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_submissions" / "EGY_2022.xlsx"
PHASES = ("total", "start->begin", "begin->published", "published->finished", "finished->exit", "report task")


def one_run(checkout: Path) -> tuple[float, ...]:
    with tempfile.TemporaryDirectory(prefix="glotip-one-file-") as folder:
        folder = Path(folder)
        (folder / "inbox").mkdir()
        shutil.copy(SAMPLE, folder / "inbox")
        env = {**os.environ, "GLOTIP_SETTLE_SECONDS": "0"}
        started = time.time()
        done = subprocess.run([sys.executable, str(checkout / "cli.py"), "ingest", "inbox", "--db", "w.duckdb",
                               "--reports", "reports", "--archive", "archive"],
                              cwd=folder, env=env, capture_output=True, text=True)
        ended = time.time()
        if done.returncode != 0:
            sys.exit(done.stdout + done.stderr)
        [log] = (folder / "reports" / "runs").glob("*/prefect.log")
        text = log.read_text(encoding="utf-8")

    def at(pattern: str) -> float:  # Prefect's log has local times of day, to the millisecond
        hhmmss = re.search(r"^(\d\d:\d\d:\d\d\.\d+) \|.*" + pattern, text, re.M).group(1)
        return dt.datetime.combine(dt.date.fromtimestamp(started), dt.time.fromisoformat(hhmmss)).timestamp()

    begin, published, finished = at("Beginning flow run"), at("published for analysts"), at("Flow run .* Finished in state")
    return (ended - started, begin - started, published - begin, finished - published, ended - finished,
            at("Task run 'report-.*Finished") - at("Task run 'load-.*Finished"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--checkout", type=Path, help="an older checkout to time alternately with this one")
    arguments = parser.parse_args()
    if not os.environ.get("PREFECT_API_URL"):
        sys.exit("Set PREFECT_API_URL to a running Prefect server (`prefect server start`).")
    checkouts = {"this checkout": ROOT} | ({str(arguments.checkout): arguments.checkout} if arguments.checkout else {})
    runs: dict[str, list[tuple[float, ...]]] = {name: [] for name in checkouts}
    for _ in range(arguments.runs):
        for name, checkout in reversed(checkouts.items()):
            runs[name].append(one_run(checkout))
    for name, rows in runs.items():
        print(f"{name}:")
        for row in rows:
            print("  " + "  ".join(f"{phase} {value:.2f}" for phase, value in zip(PHASES, row)))
        totals = [row[0] for row in rows]
        print(f"  median {statistics.median(totals):.2f} s, range {min(totals):.2f}-{max(totals):.2f} s; "
              "phase medians: " + ", ".join(f"{phase} {statistics.median(column):.2f}"
                                            for phase, column in zip(PHASES[1:], list(zip(*rows))[1:])))
    print("load average: " + " ".join(f"{load:.2f}" for load in os.getloadavg()))


if __name__ == "__main__":
    main()
