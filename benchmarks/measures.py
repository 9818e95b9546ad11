"""One definition per measure, checked on a warehouse: the world's girls' share and total
victims of a year as the standard queries give them and as the drafting pack's tables show
them (sex/age table, forms table, trend, SDG table), and the countries left out (a cell
published as `<5`). After issue 13 every column of a row says the same number.

    .venv/bin/python benchmarks/measures.py --db /tmp/w/glotip.duckdb --years 2021 2022

The warehouse's snapshot must be published by this code (`glotip publish --db ...`), so that it
holds the view `victim_measures`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from reporting import disclosure as sdc  # noqa: E402
from reporting import drafting_pack  # noqa: E402
from warehouse.queries import run_standard_query  # noqa: E402
from warehouse.snapshot import open_snapshot  # noqa: E402


def measure(db: Path, year: int) -> dict:
    with open_snapshot(db) as connection:
        query = run_standard_query(connection, "victims_by_sex_age", {"year": year}).set_index("region").loc["World"]
        forms = run_standard_query(connection, "forms_of_exploitation", {"year": year})
        pack = drafting_pack.build_pack(connection, year)
    tables = {t.name: t.table for t in pack.tables}
    long = {p.name: p.frame for t in pack.tables for p in t.protected}
    world = tables["victims_by_sex_age"].iloc[0]
    trend = long["victims_trend"]
    sdg = long["sdg_16_2_2"]
    return {
        "year": year,
        "girls share: query": query["girls_share"],
        "girls share: sex/age table": world["Girls (share)"],
        "total: query": int(query["total"]),
        "total: forms query": int(forms["victims"].sum()),
        "total: sex/age table": world["Total"],
        "total: forms table": tables["forms_by_region"].iloc[0]["Total"],
        "total: trend": sdc.published_number(trend[(trend["region"] == "World") & (trend["year"] == year)]["display"].iloc[0]),
        "total: SDG table (sum)": int(sdg[sdg["category"] == "total"]["count"].sum()),
        "countries counted": int(query["countries"]),
        "countries left out": int(query["countries_left_out"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--years", type=int, nargs="+", required=True)
    args = parser.parse_args()
    rows = pd.DataFrame([measure(args.db, year) for year in args.years]).set_index("year").T
    print(rows.to_string())


if __name__ == "__main__":
    main()
