"""Build schemas/reference/countries.csv (build-time tool, never used at run time).

Usage (from the repo root):
    .venv/bin/python scripts/build_countries.py \
        --m49 /work/shared/data/real/iso3166_m49_regions.csv \
        --glotip /work/shared/data/real/data_glotip_2025-04-14.xlsx

Inputs are passed as arguments so the project never reads the shared folder by itself.
Sources and licences of every column: SOURCES.md next to this file.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd
import pycountry

OUTPUT = Path(__file__).resolve().parents[1] / "schemas" / "reference" / "countries.csv"
COLUMNS = [
    "iso3", "iso2", "m49_code", "name", "official_name",
    "region", "subregion", "intermediate_region",
    "glotip_region", "glotip_subregion", "name_glotip",
]


def read_m49(path: Path) -> pd.DataFrame:
    # keep_default_na=False: Namibia's alpha-2 is "NA" and must stay a string.
    m49 = pd.read_csv(path, dtype=str, keep_default_na=False)
    return pd.DataFrame({
        "iso3": m49["alpha-3"],
        "iso2": m49["alpha-2"],
        "m49_code": m49["country-code"].str.zfill(3),
        "name": m49["name"],
        "region": m49["region"],
        "subregion": m49["sub-region"],
        "intermediate_region": m49["intermediate-region"],
    })


def read_glotip_countries(path: Path) -> pd.DataFrame:
    """One row per Iso3_code of the export with its Country, Region, Subregion texts."""
    raw = pd.read_excel(path, sheet_name="data_glotip_1", engine="calamine", header=None, dtype=str)
    header_row = raw.index[raw.iloc[:, 0] == "Iso3_code"][0]  # after the 2 preamble rows
    data = raw.iloc[header_row + 1:].set_axis(raw.iloc[header_row].tolist(), axis=1)
    data = data[data["Iso3_code"].notna() & (data["Iso3_code"].str.strip() != "")]
    combos = data[["Iso3_code", "Country", "Region", "Subregion"]].drop_duplicates()
    clashes = combos[combos["Iso3_code"].duplicated(keep=False)]
    if not clashes.empty:  # one code with two names or regions: a human must decide
        sys.exit(f"export has conflicting Country/Region per Iso3_code:\n{clashes}")
    return combos.rename(columns={
        "Iso3_code": "iso3", "Country": "name_glotip",
        "Region": "export_region", "Subregion": "export_subregion",
    })


def official_name(iso3: str) -> str:
    country = pycountry.countries.get(alpha_3=iso3)
    return getattr(country, "official_name", "") or ""


def build(m49_path: Path, glotip_path: Path) -> pd.DataFrame:
    countries = read_m49(m49_path)
    export = read_glotip_countries(glotip_path)

    unknown = sorted(set(export["iso3"]) - set(countries["iso3"]))
    if unknown:
        sys.exit(f"export Iso3_code values missing from the M49 table: {unknown}")
    if set(countries["iso3"]) != {c.alpha_3 for c in pycountry.countries}:
        sys.exit("M49 table and pycountry disagree on the set of ISO 3166-1 codes")

    countries["official_name"] = countries["iso3"].map(official_name)
    countries = countries.merge(export, on="iso3", how="left").fillna("")

    # GLOTIP grouping: what the export says where it covers the country, otherwise the rule
    # (M49 region; M49 sub-region, which already is "Latin America and the Caribbean" /
    # "Sub-Saharan Africa" for the countries M49 splits further by intermediate region).
    in_export = countries["name_glotip"] != ""
    countries["glotip_region"] = countries["region"].where(~in_export, countries["export_region"])
    countries["glotip_subregion"] = countries["subregion"].where(~in_export, countries["export_subregion"])

    differs = in_export & (
        (countries["glotip_region"] != countries["region"])
        | (countries["glotip_subregion"] != countries["subregion"])
    )
    if differs.any():  # not an error: the export is authoritative, but say so
        print("export grouping differs from the M49 rule for:", file=sys.stderr)
        print(countries.loc[differs, ["iso3", "region", "subregion", "glotip_region",
                                      "glotip_subregion"]].to_string(), file=sys.stderr)

    countries = countries[COLUMNS].sort_values("iso3").reset_index(drop=True)
    assert countries["iso3"].is_unique and len(countries) == 249, len(countries)
    return countries


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m49", type=Path, required=True, help="lukes all/all.csv")
    parser.add_argument("--glotip", type=Path, required=True, help="dataUNODC data_glotip .xlsx")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    countries = build(args.m49, args.glotip)
    countries.to_csv(args.out, index=False, encoding="utf-8", lineterminator="\n")
    print(f"wrote {len(countries)} rows to {args.out}")


if __name__ == "__main__":
    main()
