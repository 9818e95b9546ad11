"""Benchmark: secondary suppression of the drafting pack, the old greedy method (each table on
its own, benchmarks/greedy_suppression.py) against the release-wide integer program
(reporting/disclosure.py), both judged by the same audit (the attacker's LPs over every table
of the release together).

    .venv/bin/python benchmarks/suppression.py                       # builds both warehouses
    .venv/bin/python benchmarks/suppression.py --sample-db var/glotip.duckdb --imported-db other.duckdb
    .venv/bin/python benchmarks/suppression.py --years 2013 2018

Warehouses (built under --workdir, default var/benchmark/suppression, unless given):
- sample: every entry of sample_submissions/ through the product's own sequence
  (pipeline.submission: assess, process), then the real dataUNODC export imported into it;
- imported: the real export (tests/data/data_glotip_2025-04-14.xlsx) alone.
A release is the drafting pack of one year (`glotip report --year`); every year with data is
measured, and a synthetic release (60 countries x sex x age, 5 regions, world) shows how the
solver scales. Per release and method: cells hidden as `x` (and `<5`), the value hidden (sum of
the `x` cells' counts), the largest `x`, solver time, and the audit (exposed cells: 0 passes).
Prints a table; writes results.json under --workdir.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import pandas as pd  # noqa: E402

import greedy_suppression as greedy  # noqa: E402
from reporting import disclosure as sdc  # noqa: E402
from reporting import drafting_pack  # noqa: E402
from tests.builders import sex_age_release_table  # noqa: E402

EXPORT = ROOT / "tests" / "data" / "data_glotip_2025-04-14.xlsx"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=ROOT / "var" / "benchmark" / "suppression")
    parser.add_argument("--sample-db", type=Path, help="an existing warehouse instead of building the sample one")
    parser.add_argument("--imported-db", type=Path, help="an existing warehouse instead of importing the export")
    parser.add_argument("--years", type=int, nargs="*", help="only these years")
    parser.add_argument("--time-limit", type=float, default=sdc.DEFAULT_TIME_LIMIT)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    warehouses = {"sample": args.sample_db or build_sample(args.workdir / "sample" / "glotip.duckdb"),
                  "imported": args.imported_db or build_imported(args.workdir / "imported" / "glotip.duckdb")}
    results = {"cores": os.cpu_count(), "load_average": os.getloadavg(), "releases": []}
    for name, db in warehouses.items():
        for year in args.years or years_of(db):
            results["releases"].append({"warehouse": name, "year": year, **measure_year(db, year, args.time_limit)})
    results["releases"].append({"warehouse": "synthetic", "year": None,
                                **measure(synthetic_release(), {}, [], args.time_limit)})
    print_table(results["releases"])
    (args.workdir / "results.json").write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(f"\nresults: {args.workdir / 'results.json'}")


# ------------------------------------------------------------------ warehouses

def build_sample(db: Path) -> Path:
    from pipeline import submission as sequence
    from warehouse.session import Warehouse

    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        received = dt.datetime(2025, 5, 1, tzinfo=dt.timezone.utc)
        for entry in sorted((ROOT / "sample_submissions").iterdir()):
            if entry.name == "README.md":
                continue
            assessment = sequence.assess_file(entry)
            with Warehouse(db) as warehouse:
                sequence.process(assessment, warehouse, reports_dir=db.parent / "reports", run_id="benchmark",
                                 received_at=received)
        import_export(db)
    return db


def build_imported(db: Path) -> Path:
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        import_export(db)
    return db


def import_export(db: Path) -> None:
    from transforms.dataunodc import prepare_export, read_export
    from warehouse import snapshot
    from warehouse.dataunodc import load_export
    from warehouse.session import Warehouse

    with Warehouse(db) as warehouse:
        load_export(warehouse.connection, prepare_export(read_export(EXPORT)))
    snapshot.publish(Warehouse(db))


def years_of(db: Path) -> list[int]:
    from warehouse.queries import run_standard_query
    from warehouse.snapshot import open_snapshot

    with open_snapshot(db) as connection:
        return sorted(int(y) for y in run_standard_query(connection, "countries_reporting")["year"].unique())


# ------------------------------------------------------------------ one release, both methods

def measure_year(db: Path, year: int, time_limit: float) -> dict:
    """The pack's tables for `year` (their cells as the pack builds them), both ways."""
    from warehouse.snapshot import open_snapshot

    with open_snapshot(db) as connection:
        pack = drafting_pack.build_pack(connection, year, time_limit)
    release = pack.release
    cells = [sdc.TableCells(t.name, t.frame.drop(columns=["display", "status"]), t.relations) for t in release.tables]
    # The relations between tables (through cells published nowhere), as the pack states them.
    links = [r for r in release.relations if any(k in release.unpublished for k in (r[0], *r[1]))]
    return measure(cells, release.unpublished, links, time_limit)


def measure(cells: list[sdc.TableCells], unpublished: dict[str, float], links: list, time_limit: float) -> dict:
    started = time.perf_counter()
    old_tables = [greedy.protect(t.name, t.frame, t.relations) for t in cells]
    old_seconds = time.perf_counter() - started
    old = sdc.Release([sdc.ProtectedTable(t.name, t.frame, t.relations) for t in old_tables],
                      _relations(cells, links), dict(unpublished))
    new = sdc.protect_release(cells, unpublished, links, time_limit)
    return {"greedy": summary(old, old_seconds, "per table"),
            "optimal": summary(new, new.solver.seconds, new.solver.outcome)}


def _relations(cells: list[sdc.TableCells], links: list) -> list[sdc.KeyRelation]:
    by_key = list(links)
    for table in cells:
        keys = list(table.frame["key"])
        by_key += [(keys[t], [keys[p] for p in ps]) for t, ps in table.relations]
    return by_key


def summary(release: sdc.Release, seconds: float, outcome: str) -> dict:
    """What a method hid (each cell key once, however many tables show it) and the audit."""
    shown = pd.concat([t.frame[["key", "count", "status"]] for t in release.tables]).drop_duplicates("key")
    hidden = shown[shown["status"] == "secondary"]
    audit = sdc.audit_release(release)
    exposed = audit[audit["exposed"] != ""]
    return {"small": int((shown["status"] == "primary").sum()), "hidden_x": len(hidden),
            "value_hidden": int(hidden["count"].sum()), "largest_hidden": int(hidden["count"].max()) if len(hidden) else 0,
            "seconds": round(seconds, 3), "outcome": outcome, "exposed": len(exposed),
            "exposed_examples": [f"{r.key}: {r.exposed}" for r in exposed.head(3).itertuples()]}


def synthetic_release(countries: int = 60, seed: int = 0) -> list[sdc.TableCells]:
    """Sex x age (with totals) for `countries` countries in 5 regions and the world."""
    table = sex_age_release_table(countries, regions=5, seed=seed, values=[0, 1, 2, 3, 4, 5, 9, 30, 120])
    return [sdc.TableCells("synthetic_sex_age", table.frame, table.relations)]


def print_table(releases: list[dict]) -> None:
    print(f"{'release':<16} {'<5':>4} | {'greedy: x':>9} {'value':>7} {'largest':>7} {'s':>6} {'exposed':>7} | "
          f"{'optimal: x':>10} {'value':>7} {'largest':>7} {'s':>6} {'exposed':>7}  outcome")
    for r in releases:
        g, o = r["greedy"], r["optimal"]
        if not (g["small"] or g["hidden_x"] or o["hidden_x"]):
            continue  # no small count: nothing to compare
        name = f"{r['warehouse']} {r['year'] or ''}".strip()
        print(f"{name:<16} {o['small']:>4} | {g['hidden_x']:>9} {g['value_hidden']:>7} {g['largest_hidden']:>7} "
              f"{g['seconds']:>6.2f} {g['exposed']:>7} | {o['hidden_x']:>10} {o['value_hidden']:>7} "
              f"{o['largest_hidden']:>7} {o['seconds']:>6.2f} {o['exposed']:>7}  {o['outcome']}")
    quiet = [f"{r['warehouse']} {r['year']}" for r in releases if not (r["greedy"]["small"] or r["optimal"]["hidden_x"])]
    if quiet:
        print(f"no small count (nothing hidden either way): {', '.join(quiet)}")


if __name__ == "__main__":
    main()
