"""Benchmark and coverage of the country-name resolver (schemas/countries.py).

    .venv/bin/python benchmarks/bench_country_names.py

Prints: the cold index build time (in a fresh process: import, the earlier tiers, then the
UN-language tiers, built only when a text misses the earlier ones; best of 5),
the number of keys and how many are ambiguous, and for the six UN languages how many of
CLDR's territory names (Babel) and pycountry's translated names of the 249 countries resolve
back to their own ISO3 code (and CLDR's alternative names, reference/country_names_cldr_alt.csv),
and which do not (ambiguous or claimed by another country); whether every name
`country_name` shows resolves back.
"""

from __future__ import annotations

import gettext
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

BUILD = ("import time; t = time.perf_counter(); from schemas import countries; "
         "i = time.perf_counter(); countries._earlier_index(); e = time.perf_counter(); "
         "countries._index(); u = time.perf_counter(); print(i - t, e - i, u - e)")


def build_times(repeat: int = 5) -> tuple[float, ...]:
    runs = [tuple(map(float, subprocess.run([sys.executable, "-c", BUILD], cwd=ROOT, check=True,
                                            capture_output=True, text=True).stdout.split()))
            for _ in range(repeat)]
    return tuple(min(r[column] for r in runs) for column in range(3))


def main() -> None:
    import pycountry
    from babel import Locale

    from schemas import countries

    imported, earlier, un_languages = build_times()
    print(f"index build (cold process, best of 5): import {imported:.3f} s, earlier tiers "
          f"{earlier:.3f} s, then the UN-language tiers (on the first text the earlier miss) "
          f"{un_languages:.3f} s")
    index = countries._index()
    ambiguous = [key for key, match in index.items() if match.method == "ambiguous"]
    print(f"keys: {len(index)}, ambiguous: {len(ambiguous)}")
    rows = countries.load_countries()
    sources = {f"CLDR {lang}": {row.iso3: Locale.parse(lang).territories.get(row.iso2)
                                for row in rows.itertuples()}
               for lang in ("ar", "zh", "zh_Hant", "en", "fr", "ru", "es")}
    for lang in ("ar", "zh_CN", "en", "fr", "ru", "es"):
        catalogue = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang],
                                        fallback=lang == "en")
        sources[f"pycountry {lang}"] = {
            row.iso3: catalogue.gettext(pycountry.countries.get(alpha_3=row.iso3).name)
            for row in rows.itertuples()}
    alt = countries._cldr_alt_names()
    for (locale, kind), group in alt.groupby(["locale", "alt"]):
        sources[f"CLDR {locale} {kind}"] = dict(zip(group["iso3"], group["name"]))
    for source, names in sources.items():
        outcome = Counter()
        wrong = []
        for iso3, name in names.items():
            if not name:
                outcome["no name"] += 1
                continue
            result = countries.resolve_country(name)
            if result.kind == "country" and result.iso3 == iso3:
                outcome["ok"] += 1
            else:
                outcome[result.method if result.kind != "country" else "other country"] += 1
                wrong.append(f"{name} ({iso3} -> {result.iso3 or '/'.join(result.candidates) or result.method})")
        print(f"{source:22} {dict(outcome)}  {'; '.join(wrong)}")
    for lang in ("ar", "zh", "en", "fr", "ru", "es"):
        back = sum(countries.resolve_country(countries.country_name(code, lang)).iso3 == code
                   for code in rows["iso3"])
        print(f"country_name {lang}: {back}/{len(rows)} resolve back")


if __name__ == "__main__":
    main()
