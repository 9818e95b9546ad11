"""Benchmark: what the country profiles add to the drafting pack's release (reporting/
country_profiles.py): release size (cells, relations), solver time and outcome, cells hidden
(`x`, `<5`) and the audit, for each year, without the profiles' tables and with them; and the
time to write the pages of one year.

    .venv/bin/python benchmarks/profiles_release.py                  # both warehouses, every year
    .venv/bin/python benchmarks/profiles_release.py --only known --pages 2022

Warehouses (built under --workdir, default var/benchmark/profiles): `known`, the known test
submissions (tests/analyst_data.py) through the product's own sequence, edition 2022; and
`imported`, the real dataUNODC export (tests/data/data_glotip_2025-04-14.xlsx), every year.
"Without" replaces the profiles' tables by none for the run (the pack as it was before them).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reporting import country_profiles, drafting_pack  # noqa: E402
from reporting import disclosure as sdc  # noqa: E402
from tests.analyst_data import build_imported_warehouse, build_known_warehouse  # noqa: E402
from warehouse.queries import run_standard_query  # noqa: E402
from warehouse.snapshot import open_snapshot  # noqa: E402


def build(workdir: Path, name: str) -> Path:
    folder = workdir / name
    shutil.rmtree(folder, ignore_errors=True)
    if name == "known":
        return build_known_warehouse(folder)
    return build_imported_warehouse(folder)


def measure(connection, year: int) -> dict:
    started = time.perf_counter()
    pack = drafting_pack.build_pack(connection, year)
    sdc.check_audit(pack.audit)  # raises if any cell is exposed
    solver = pack.release.solver
    return {"cells": len({k for t in pack.release.tables for k in t.frame["key"]}),
            "relations": len(pack.release.relations), "solver_s": solver.seconds, "outcome": solver.outcome,
            "x": int((pack.audit["shown"] == "x").sum()), "small": int((pack.audit["shown"] == "<5").sum()),
            "wall_s": round(time.perf_counter() - started, 2), "pack": pack}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "benchmark" / "profiles")
    parser.add_argument("--only", choices=["known", "imported"])
    parser.add_argument("--pages", type=int, help="also write the profiles of this year and time it")
    args = parser.parse_args()
    print("| warehouse | year | cells (without -> with) | relations | solver s | x | <5 | audit |")
    print("|---|---|---|---|---|---|---|---|")
    for name in [args.only] if args.only else ["known", "imported"]:
        db = build(args.workdir, name)
        with open_snapshot(db) as connection:
            years = sorted(int(y) for y in run_standard_query(connection, "countries_reporting")["year"].unique())
            for year in [2022] if name == "known" else years:
                with mock.patch.object(country_profiles, "profile_tables", lambda *a, **k: []):
                    before = measure(connection, year)
                after = measure(connection, year)
                print(f"| {name} | {year} | {before['cells']} -> {after['cells']} | {before['relations']} -> "
                      f"{after['relations']} | {before['solver_s']} -> {after['solver_s']} | {before['x']} -> "
                      f"{after['x']} | {before['small']} -> {after['small']} | passes ({after['outcome']}) |",
                      flush=True)
                if args.pages == year:
                    started = time.perf_counter()
                    pages = country_profiles.write_profiles(after["pack"], args.workdir / f"{name}_{year}", year)
                    print(f"  {name} {year}: {len(pages)} profiles written in "
                          f"{time.perf_counter() - started:.1f} s", flush=True)


if __name__ == "__main__":
    main()
