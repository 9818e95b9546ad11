"""Benchmark: our read of an Excel submission against calamine's own parse of the same file.

    .venv/bin/python benchmarks/excel_read.py                      # a 100,000-row workbook
    .venv/bin/python benchmarks/excel_read.py --rows 20000
    .venv/bin/python benchmarks/excel_read.py --path some.xlsx

Both are timed in this one process, alternately (calamine first each time), best of 3: the
ratio calamine_s / ours_s is what the machine's load does not change much (1.0: ours costs no
more than calamine's parse; 0.8: ours takes 1.25x its time). The workbook is generated with the
tests' builder under --workdir (default var/benchmark, kept between runs), as benchmarks/run.py does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

REPEATS = 3


def calamine_parse(path: str) -> int:
    """calamine's own parse: every sheet to Python lists, nothing else; the rows it gave."""
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(path)
    return sum(len(workbook.get_sheet_by_name(name).to_python()) for name in workbook.sheet_names)


def our_read(path: str) -> int:
    """The product's read (limits' scans, calamine, text columns, findings); the table rows."""
    from schemas.limits import Limits
    from transforms.readers import read_submission

    parsed = read_submission(path, Limits())
    if parsed.read_findings:  # a benchmark of a read that failed would measure nothing
        raise SystemExit(f"the workbook read with findings: {[f.rule for f in parsed.read_findings]}")
    return sum(len(frame.data) for frame in parsed.tables.values())


def measure_excel(path: str) -> dict:
    """calamine's parse and our read of `path`, best of 3 each, in this process. Besides the
    wall-clock figures, the same in processor time (`*_cpu_s`, `cpu_ratio`): steadier when
    other work shares the machine's cores."""
    calamine_parse(path)  # imports and first-use costs out of the timings, for both
    our_read(path)
    times: dict[str, list[tuple[float, float]]] = {"calamine": [], "ours": []}
    rows = 0
    for _ in range(REPEATS):
        for name, read in (("calamine", calamine_parse), ("ours", our_read)):
            wall, cpu = time.perf_counter(), time.process_time()
            counted = read(path)
            times[name].append((time.perf_counter() - wall, time.process_time() - cpu))
            rows = counted if name == "ours" else rows
    calamine_s, ours_s = (min(wall for wall, _ in times[name]) for name in ("calamine", "ours"))
    calamine_cpu, ours_cpu = (min(cpu for _, cpu in times[name]) for name in ("calamine", "ours"))
    return {"calamine_s": round(calamine_s, 4), "ours_s": round(ours_s, 4),
            "ratio": round(calamine_s / ours_s, 3), "rows": rows, "rows_per_s": round(rows / ours_s),
            "calamine_cpu_s": round(calamine_cpu, 4), "ours_cpu_s": round(ours_cpu, 4),
            "cpu_ratio": round(calamine_cpu / ours_cpu, 3)}


def workbook(workdir: Path, rows: int) -> Path:
    from tests.builders import write_workbook

    path = workdir / f"victims_{rows}.xlsx"
    if not path.exists():
        workdir.mkdir(parents=True, exist_ok=True)
        write_workbook(path, "KEN", rows=rows, first_year=1990)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "benchmark")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--path", type=Path, help="a workbook to read instead of the generated one")
    args = parser.parse_args()
    path = args.path or workbook(args.workdir, args.rows)
    print(json.dumps(measure_excel(str(path))))


if __name__ == "__main__":
    main()
