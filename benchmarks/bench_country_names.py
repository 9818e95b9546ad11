"""Benchmark and coverage of the country-name resolver (schemas/countries.py).

    .venv/bin/python benchmarks/bench_country_names.py
    .venv/bin/python benchmarks/bench_country_names.py --export EXPORT.xlsx --before main

With `--export` (a dataUNODC GLOTIP export, e.g. /work/shared/data/real/data_glotip_2025-04-14.xlsx)
it also resolves the export's distinct citizenship and country-of-repatriation texts with the
resolver of git revision `--before` (default `main`, run from a `git archive` of its schemas/ in
a child process) and with this checkout's, and prints texts and rows resolved before and after,
the texts whose resolution changed among those resolved before (must be 0) and the texts
newly resolved. Always: the figures on the hand-written variants of tests/data/
country_name_variants.csv (texts naming one country resolved, wrong, refused as ambiguous).

Prints: the cold index build time (in a fresh process: import, the earlier tiers, then the
UN-language tiers, built only when a text misses the earlier ones; best of 5),
the number of keys and how many are ambiguous, and for the six UN languages how many of
CLDR's territory names (Babel) and pycountry's translated names of the 249 countries resolve
back to their own ISO3 code (and CLDR's alternative names, reference/country_names_cldr_alt.csv),
and which do not (ambiguous or claimed by another country); whether every name
`country_name` shows resolves back.
"""

from __future__ import annotations

import argparse
import gettext
import json
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from io import BytesIO
from pathlib import Path

import pandas as pd

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


# Resolves the texts given as JSON on stdin; prints [kind, iso3, method] per text.
RESOLVE = ("import json, sys; from schemas.countries import resolve_country as r; "
           "print(json.dumps([[x.kind, x.iso3, x.method] for x in map(r, json.load(sys.stdin))]))")
DIMENSIONS = ("by citizenship", "by country of repatriation")


def export_texts(path: Path) -> pd.DataFrame:
    """Distinct (dimension, Category text) of the citizenship and repatriation rows, with rows."""
    raw = pd.read_excel(path, header=None, dtype=str, engine="calamine")
    header = next(i for i in range(10) if "Dimension" in set(raw.iloc[i].astype(str)))
    frame = raw.iloc[header + 1:].set_axis(raw.iloc[header].astype(str), axis=1)
    frame = frame[frame["Dimension"].isin(DIMENSIONS)]
    counts = frame.groupby(["Dimension", frame["Category"].fillna("")]).size()
    return counts.rename("rows").reset_index().rename(columns={"Category": "text"})


def resolve_at_revision(revision: str, texts: list[str]) -> list[list]:
    """Resolve texts with the schemas/ package of a git revision (in a child process)."""
    archive = subprocess.run(["git", "archive", "--format=tar", revision, "schemas"], cwd=ROOT,
                             check=True, capture_output=True).stdout
    with tempfile.TemporaryDirectory() as folder:
        with tarfile.open(fileobj=BytesIO(archive)) as tar:
            tar.extractall(folder, filter="data")
        done = subprocess.run([sys.executable, "-c", RESOLVE], cwd=folder, check=True,
                              input=json.dumps(texts), capture_output=True, text=True)
    return json.loads(done.stdout)


def before_after(path: Path, revision: str) -> None:
    from schemas.countries import resolve_country

    texts = export_texts(path)
    before = resolve_at_revision(revision, texts["text"].tolist())
    after = [[x.kind, x.iso3, x.method] for x in map(resolve_country, texts["text"])]
    texts["before"] = [f"{kind}:{iso3}" if kind == "country" else kind for kind, iso3, _ in before]
    texts["after"] = [f"{kind}:{iso3}" if kind == "country" else kind for kind, iso3, _ in after]
    texts["after_method"] = [method for _, _, method in after]
    print(f"\nexport {path.name}: before = {revision}, after = this checkout")
    for dimension, group in texts.groupby("Dimension"):
        for label in ("before", "after"):
            resolved = group[label] != "unresolved"
            print(f"  {dimension:28} {label:6} resolved {resolved.sum()}/{len(group)} texts, "
                  f"{group.loc[resolved, 'rows'].sum()}/{group['rows'].sum()} rows")
    was_resolved = texts["before"] != "unresolved"
    changed = texts[was_resolved & (texts["before"] != texts["after"])]
    print(f"  resolved before and changed after: {len(changed)} texts")
    for row in changed.itertuples():
        print(f"    {row.text!r}: {row.before} -> {row.after}")
    gained = texts[~was_resolved & (texts["after"] != "unresolved")]
    print(f"  newly resolved: {len(gained)} texts, {gained['rows'].sum()} rows")
    for row in gained.itertuples():
        print(f"    {row.text!r} ({row.rows} rows): {row.after} by {row.after_method}")


def variants_figures() -> None:
    from schemas.countries import country_codes, resolve_country

    variants = pd.read_csv(ROOT / "tests" / "data" / "country_name_variants.csv", dtype=str,
                           keep_default_na=False)
    start = time.perf_counter()
    results = [resolve_country(text) for text in variants["text"]]
    seconds = time.perf_counter() - start
    got = pd.Series([r.iso3 if r.kind == "country" else
                     "ambiguous" if r.method == "ambiguous" else "none" for r in results])
    method = pd.Series([r.method for r in results])
    one = variants["expected"].isin(country_codes())
    right = one & (got == variants["expected"])
    wrong = (got.isin(country_codes())) & (got != variants["expected"])
    refused = one & (got == "ambiguous")
    print(f"\nvariants (tests/data/country_name_variants.csv): {len(variants)} texts, "
          f"{one.sum()} naming one country: resolved {right.sum()} "
          f"({right.sum() / one.sum():.1%}), wrong {wrong.sum()}, refused as ambiguous "
          f"{refused.sum()}, unresolved {(one & (got == 'none')).sum()}; "
          f"not one country: {(~one).sum()}, all left unresolved: "
          f"{(got[~one] == variants.loc[~one, 'expected']).all()}; {seconds:.2f} s cold")
    print("  by method:", dict(Counter(method[right])))
    for group, rows in variants.assign(right=right, one=one).groupby("group"):
        print(f"  {group:12} {rows['right'].sum()}/{rows['one'].sum()}")
    for row in variants[one & ~right].itertuples():
        print(f"  missed: {row.text!r} (expected {row.expected}, got {got[row.Index]})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--export", type=Path, help="a dataUNODC GLOTIP export (.xlsx)")
    parser.add_argument("--before", default="main", help="git revision to compare with")
    args = parser.parse_args()
    variants_figures()
    if args.export:
        before_after(args.export, args.before)
    coverage()


def coverage() -> None:
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
