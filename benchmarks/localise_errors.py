"""Measure error localisation (schemas/localise.py) on every table whose totals fail.

    .venv/bin/python benchmarks/localise_errors.py PUBLISHED_EXPORT [--samples DIR] [--seconds S]

e.g. `.venv/bin/python benchmarks/localise_errors.py /path/to/data_glotip_2025-04-14.xlsx`.

Two sources:
- the published dataUNODC export given (its `published-parts-exceed-total` cases): each
  country's table of the export is one table, counts within bounds (`<5` is 1 to 4), the
  parts of a total at most the total (the export drops zeros: no breakdown is known complete),
  as `transforms.dataunodc` checks them;
- every submission of `--samples` (default sample_submissions/), read and validated as the
  pipeline does (`parts-exceed-total`, `parts-differ-from-total`).

For each failing block of linked cells (one inconsistency, however many totals it fails) it
counts how many cells the smallest correction changes (1, 2, 3 or more), how many blocks have
tied minimal sets, and how many were too large or timed out; and the solver's time per table
(median, 95th percentile, maximum). Nothing is written.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("export", type=Path, help="the published dataUNODC export (.xlsx or .csv)")
    parser.add_argument("--samples", type=Path, default=ROOT / "sample_submissions")
    parser.add_argument("--seconds", type=float, default=None,
                        help="solver time per table (default: Limits().localise_seconds)")
    args = parser.parse_args()

    from schemas.limits import Limits

    seconds = args.seconds if args.seconds is not None else Limits().localise_seconds
    print(f"solver time bound per table: {seconds:g} s\n")
    report("published export", published_tables(args.export, seconds))
    report("sample submissions", sample_tables(args.samples, seconds))


def published_tables(path: Path, seconds: float) -> list[dict]:
    """One record per (country, table) of the export with a failing total."""
    from schemas.localise import localise_totals
    from schemas.totals import failing_totals
    from transforms.dataunodc import DIMENSION_COLUMNS, NOT_A_PART, TABLE_COLUMNS, prepare_export, read_export

    prepared = prepare_export(read_export(path))
    records = []
    for name, frame in prepared.tables.items():
        key = ["country"] + TABLE_COLUMNS[name]
        for country, table in frame.groupby("country", sort=True):
            table = table.reset_index(drop=True)
            failing = failing_totals(table, key, DIMENSION_COLUMNS[name], "count_min", "count_max",
                                     not_parts=NOT_A_PART, line="source_line")
            if not failing:
                continue
            started = time.perf_counter()
            located = localise_totals(table, key, DIMENSION_COLUMNS[name], "count_min", "count_max",
                                      not_parts=NOT_A_PART, failing_rows=[f.row for f in failing],
                                      seconds=seconds)
            blocks = _blocks(located)
            records.append({"table": f"{country} {name}", "failing": len(failing),
                            "seconds": time.perf_counter() - started, "blocks": blocks,
                            "suppressed_to_zero": sum(_suppressed_to_zero(block, table) for block in blocks)})
    return records


def _suppressed_to_zero(block, table) -> bool:
    """Whether a one-cell explanation of the block makes a `<5` cell (1 to 4) zero: the
    published data suggest some `<5` are zeros (docs/published-data.md)."""
    return any(len(changes) == 1 and changes[0].to == 0 and table["suppressed"].iat[changes[0].row]
               for changes in block.alternatives)


def sample_tables(folder: Path, seconds: float) -> list[dict]:
    """One record per table of a sample submission with a failing total."""
    from pipeline.submission import read_file
    from schemas.limits import Limits
    from schemas.localise import localise_totals
    from schemas.tables import TABLES
    from schemas.totals import failing_totals
    from schemas.validate import totals_inputs, validate_table

    records = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix == ".md":
            continue
        parsed = read_file(path, Limits())
        for name, frame in parsed.tables.items():
            spec = TABLES[name]
            findings, typed = validate_table(spec, frame, seconds)
            before = [f for f in findings if not f.rule.startswith("parts-")]  # the rule's input
            inputs = totals_inputs(spec, typed, before)
            if inputs is None:
                continue
            valid, dimensions, complete = inputs
            failing = failing_totals(valid, spec.key, dimensions, "count", complete=complete)
            if not failing:
                continue
            started = time.perf_counter()
            located = localise_totals(valid, spec.key, dimensions, "count", complete=complete,
                                      failing_rows=[f.row for f in failing], seconds=seconds)
            records.append({"table": f"{path.name} {name}", "failing": len(failing),
                            "seconds": time.perf_counter() - started, "blocks": _blocks(located)})
    return records


def _blocks(located: dict) -> list:
    """The distinct blocks (totals of one block share one Localisation)."""
    return list({id(item): item for item in located.values()}.values())


def report(title: str, records: list[dict]) -> None:
    from schemas.localise import MAX_ALTERNATIVES, SOLVED, TIMED_OUT, TOO_LARGE

    blocks = [block for record in records for block in record["blocks"]]
    solved = [b for b in blocks if b.status == SOLVED and b.alternatives]
    sizes = Counter(min(len(b.alternatives[0]), 3) for b in solved)
    print(f"== {title}")
    print(f"tables with a failing total: {len(records)}; failing totals: {sum(r['failing'] for r in records)}; "
          f"blocks: {len(blocks)} (cells per block: median {_median([b.cells for b in blocks])}, "
          f"max {max((b.cells for b in blocks), default=0)})")
    for size, label in ((1, "one cell"), (2, "two cells"), (3, "three or more")):
        print(f"  explained by {label}: {sizes[size]} ({_share(sizes[size], len(blocks))})")
    ties = [b for b in solved if len(b.alternatives) > 1]
    print(f"  ties (more than one minimal set): {len(ties)} ({_share(len(ties), len(blocks))}); "
          f"more than {MAX_ALTERNATIVES} (the ones listed): {sum(b.more for b in solved)}")
    one_cell_unique = sum(len(b.alternatives) == 1 and len(b.alternatives[0]) == 1 for b in solved)
    print(f"  one cell, and only one candidate: {one_cell_unique} ({_share(one_cell_unique, len(blocks))})")
    if any("suppressed_to_zero" in r for r in records):
        zero = sum(r["suppressed_to_zero"] for r in records)
        print(f"  explained by one `<5` cell being 0 (among its minimal sets): {zero} ({_share(zero, len(blocks))})")
    print(f"  too large: {sum(b.status == TOO_LARGE for b in blocks)}; "
          f"timed out: {sum(b.status == TIMED_OUT for b in blocks)}")
    times = sorted(r["seconds"] for r in records)
    if times:
        p95 = times[min(len(times) - 1, int(round(0.95 * (len(times) - 1))))]
        print(f"  solver time per table: median {statistics.median(times) * 1000:.0f} ms, "
              f"p95 {p95 * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms "
              f"({max(records, key=lambda r: r['seconds'])['table']}); total {sum(times):.1f} s")
    print()


def _median(values: list[int]) -> float:
    return statistics.median(values) if values else 0


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.0%}" if whole else "-"


if __name__ == "__main__":
    main()
