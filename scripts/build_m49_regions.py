"""Build schemas/reference/m49_regions.csv (build-time tool, never used at run time).

Usage (from the repo root):
    .venv/bin/python scripts/build_m49_regions.py \
        --m49 /work/shared/data/real/iso3166_m49_regions.csv

One row per UN M49 geographical region (World, regions, sub-regions, intermediate regions) with
its numeric code, level, parent and official name in the six UN languages. English names and
codes come from the M49 table (the same file `build_countries.py` reads); the other languages
take CLDR's name of the same code (Babel) where it is UNSD's wording, and `UN_NAMES` below
where CLDR names the area otherwise (CLDR's "Latin America" for 419, "Southeast Asia",
"Australasia", "Micronesian Region", ...). Sources: SOURCES.md next to the output.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from babel import Locale

OUTPUT = Path(__file__).resolve().parents[1] / "schemas" / "reference" / "m49_regions.csv"
LANGUAGES = ("ar", "zh", "fr", "ru", "es")
LEVELS = (("region", "region-code"), ("sub-region", "sub-region-code"),
          ("intermediate-region", "intermediate-region-code"))
WORLD = ("001", "world", "", "World")

# UNSD's M49 names where CLDR words the area differently (UN terminology, as UNSD publishes
# M49 in the six languages). Every other name is CLDR's for the same code.
UN_NAMES: dict[str, dict[str, str]] = {
    "001": {"ru": "Мир"},
    "005": {"es": "América del Sur"},
    "018": {"ar": "الجنوب الأفريقي"},
    "021": {"ar": "أمريكا الشمالية", "zh": "北美洲", "ru": "Северная Америка",
            "es": "América septentrional"},
    "029": {"ar": "منطقة البحر الكاريبي", "ru": "Карибский бассейн"},
    "035": {"es": "Asia sudoriental"},
    "053": {"ar": "أستراليا ونيوزيلندا", "zh": "澳大利亚和新西兰", "fr": "Australie et Nouvelle-Zélande",
            "ru": "Австралия и Новая Зеландия", "es": "Australia y Nueva Zelandia"},
    "057": {"ar": "ميكرونيزيا", "zh": "密克罗尼西亚", "fr": "Micronésie", "es": "Micronesia"},
    "061": {"zh": "波利尼西亚"},
    "202": {"ru": "Африка к югу от Сахары"},
    "419": {"ar": "أمريكا اللاتينية ومنطقة البحر الكاريبي", "zh": "拉丁美洲和加勒比",
            "fr": "Amérique latine et Caraïbes", "ru": "Латинская Америка и Карибский бассейн",
            "es": "América Latina y el Caribe"},
}


def read_areas(path: Path) -> pd.DataFrame:
    """The M49 table's regions, sub-regions and intermediate regions, each once, with its parent."""
    m49 = pd.read_csv(path, dtype=str, keep_default_na=False)
    rows = {WORLD[0]: WORLD}
    for depth, (name_column, code_column) in enumerate(LEVELS):
        parent_code = LEVELS[depth - 1][1] if depth else None
        for record in m49.to_dict("records"):
            if not record[name_column]:
                continue
            code = record[code_column].zfill(3)
            parent = record[parent_code].zfill(3) if parent_code else WORLD[0]
            row = (code, name_column, parent, record[name_column])
            if rows.setdefault(code, row) != row:
                raise SystemExit(f"M49 table names {code} twice differently: {rows[code]} / {row}")
    return pd.DataFrame(rows.values(), columns=["m49_code", "level", "parent_code", "en"])


def build(m49_path: Path) -> pd.DataFrame:
    areas = read_areas(m49_path)
    for language in LANGUAGES:
        cldr = Locale(language).territories
        areas[language] = [UN_NAMES.get(code, {}).get(language) or cldr[code] for code in areas["m49_code"]]
    unused = {code for code in UN_NAMES if code not in set(areas["m49_code"])}
    assert not unused, f"UN_NAMES for codes M49 does not have: {unused}"
    assert areas["m49_code"].is_unique and areas["en"].is_unique
    return areas.sort_values("m49_code").reset_index(drop=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--m49", type=Path, required=True, help="lukes all/all.csv")
    parser.add_argument("--out", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    areas = build(args.m49)
    areas.to_csv(args.out, index=False, encoding="utf-8", lineterminator="\n")
    print(f"wrote {len(areas)} rows to {args.out}")


if __name__ == "__main__":
    main()
