"""Benchmark: how long two everyday commands take, as whole processes (start-up included).

    .venv/bin/python benchmarks/commands.py              # prints the dict below
    .venv/bin/python benchmarks/commands.py --runs 9 --workdir /tmp/commands

- `glotip sql "select 1"` against a small warehouse's published snapshot (`--db` under the
  work folder): the start-up of the command, DuckDB and the output (issue 14: <= 0.3 s);
- `glotip validate` of a typical 5,000-row workbook (tests/builders.py), its reports written
  under the work folder, no warehouse to compare with (issue 14: <= 0.8 s).

Each is run `runs` times after one run that is not counted (it compiles and caches what the
next ones reuse); the figure is the median of the wall seconds from the process's start to its
exit (`time.perf_counter` around `subprocess.run`). The machine's load moves these figures:
compare before and after in the same minutes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GLOTIP = Path(sys.executable).parent / "glotip"  # the command of this virtualenv
WORKBOOK_ROWS = 5_000


def measure_commands(work: Path, runs: int = 5) -> dict:
    """Median wall seconds of `glotip sql "select 1"` and of `glotip validate` of a 5,000-row
    workbook, each over `runs` runs; the files they need are made under `work`."""
    from tests.builders import write_workbook
    from warehouse import snapshot
    from warehouse.session import Warehouse

    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    workbook = write_workbook(work / "KEN_5000.xlsx", "KEN", rows=WORKBOOK_ROWS, first_year=2015)
    db = work / "commands.duckdb"
    if not snapshot.snapshot_path(db).is_file():
        snapshot.publish(Warehouse(db))  # an empty warehouse and its snapshot: all `select 1` needs
    commands = {
        "sql_select_1_s": [str(GLOTIP), "sql", "select 1", "--db", str(db)],
        # no --db: the default warehouse (var/glotip.duckdb under `work`) does not exist
        "validate_5000_s": [str(GLOTIP), "validate", str(workbook), "--reports", str(work / "reports")],
    }
    # the user's own settings stay out: no glotip.toml, no GLOTIP_* variable
    environment = {name: value for name, value in os.environ.items() if not name.startswith("GLOTIP_")}
    environment["GLOTIP_CONFIG"] = str(work / "absent.toml")
    seconds: dict[str, list[float]] = {name: [] for name in commands}
    for run in range(runs + 1):
        for name, command in commands.items():  # in turn: a change in the machine's load hits both
            started = time.perf_counter()
            done = subprocess.run(command, cwd=work, env=environment, capture_output=True, text=True)
            elapsed = time.perf_counter() - started
            if done.returncode != 0:
                raise RuntimeError(f"{' '.join(command)} ended with {done.returncode}:\n{done.stdout}{done.stderr}")
            if run:  # the first run is not counted
                seconds[name].append(elapsed)
    return {**{name: round(statistics.median(values), 3) for name, values in seconds.items()}, "runs": runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workdir", type=Path, help="Default: a new temporary folder, removed afterwards.")
    args = parser.parse_args()
    if args.workdir:
        print(measure_commands(args.workdir, args.runs))
        return
    with tempfile.TemporaryDirectory(prefix="glotip-commands-") as folder:
        print(measure_commands(Path(folder), args.runs))


if __name__ == "__main__":
    main()
