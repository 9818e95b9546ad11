"""Extract CLDR's alternative territory names (alt="short" / alt="variant") for the six UN
languages into schemas/reference/country_names_cldr_alt.csv.

Babel ships CLDR's standard territory names only (`Locale.territories`); the alternative
forms ("Congo (DRC)", "США", "جمهورية الكونغو") are in CLDR's XML, e.g. Debian's
unicode-cldr-core package (`apt-get download unicode-cldr-core`, then `dpkg-deb -x`):

    .venv/bin/python scripts/build_cldr_alt_names.py \
        /path/to/usr/share/unicode/cldr/common/main
"""

from __future__ import annotations

import csv
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "schemas" / "reference" / "country_names_cldr_alt.csv"
# CLDR locale file -> the language it names (zh_Hant: traditional characters, language zh)
LOCALES = {"ar": "ar", "zh": "zh", "zh_Hant": "zh", "en": "en", "fr": "fr", "ru": "ru", "es": "es"}


def main(cldr_main: str) -> None:
    with open(ROOT / "schemas" / "reference" / "countries.csv", encoding="utf-8") as handle:
        iso3_of = {row["iso2"]: row["iso3"] for row in csv.DictReader(handle)}
    rows = []
    for locale, language in LOCALES.items():
        tree = ElementTree.parse(Path(cldr_main) / f"{locale}.xml")
        for territory in tree.iter("territory"):
            alt, code = territory.get("alt"), territory.get("type")
            name = (territory.text or "").strip("\u200b ").strip()
            if alt and code in iso3_of and name:
                rows.append({"iso3": iso3_of[code], "language": language, "locale": locale,
                             "alt": alt, "name": name})
    with open(TARGET, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["iso3", "language", "locale", "alt", "name"],
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"{TARGET}: {len(rows)} names")


if __name__ == "__main__":
    main(sys.argv[1])
