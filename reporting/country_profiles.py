"""Country profiles of a Global Report edition: one page per country with figures for the
edition's year (HTML, PNG and SVG charts), as the Global Report's country profiles have it:
detected victims by sex and age and by form over the trend years, flows in (victims detected in
the country, by citizenship) and out (its nationals detected abroad, as the countries of
detection report them, and its repatriated nationals, as it reports them: two ends of the same
victims, never added), persons prosecuted and convicted, and its organ-removal cases.

Disclosure control is the pack's (reporting/disclosure.py): every count of persons on a profile
is a cell of the one release the pack protects together. The profiles' cells are four long
tables of the pack (`profile_tables`, called by `build_pack`), keyed as the pack keys the same
figure elsewhere, so that a figure shown twice is one cell: a country's sex/age and form cells
are the sex/age and SDG tables' `victims_exact_countries` cells; a country's victims by
citizenship are the cells whose regional sums the flows and origin tables publish. Every sum a
reader can form from the profiles is a relation of the release (a country-year's total and its
parts; the regions' reported totals, the origin and flow-type tables, the world's prosecuted
and convicted as the sums of the countries' figures), kept only where the figures bear it out,
as the pack's own links are. The pages read `display`/`status` of the protected frames, never
`count`.

Organ-removal cases are shown by their codes (stage, outcome, what was removed, medical
professionals, countries); their free texts only through the personal-data screen of the
case-law export (reporting/case_law.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; no display on a server
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from jinja2 import Environment, PackageLoader, select_autoescape  # noqa: E402

from reporting import disclosure as sdc  # noqa: E402
from reporting import drafting_pack as pack_tables  # noqa: E402  (it imports this module when called)
from reporting.case_law import case_law_records  # noqa: E402
from reporting.chart_style import (PALETTE, SUPPRESSED_COLOUR, SUPPRESSED_HATCH, bold_weight, save,  # noqa: E402
                                   use_language)
from schemas import codelists as cl  # noqa: E402
from schemas import i18n  # noqa: E402
from schemas.countries import country_name  # noqa: E402
from schemas.regions import area_name  # noqa: E402

PROFILES_DIR = "profiles"
SEX_AGE_CATEGORIES = ("girls", "boys", "women", "men")
FORM_CATEGORIES = ("sexual_exploitation", "forced_labour", "removal_of_organs")
STAGES = ("prosecuted", "convicted")
SEXES = ("female", "male")
HIDDEN = ("primary", "secondary")  # statuses of a suppressed cell (`<5`, `x`)
TOP_ORIGINS = 10  # origins drawn on a profile's chart; its table lists them all
VICTIMS, FLOWS, OFFENDERS, CASES = "profile_victims", "profile_flows", "profile_offenders", "profile_organ_cases"


# ------------------------------------------------------------------ reading

def read_profile_data(connection, year: int) -> dict[str, pd.DataFrame]:
    """What the profiles add to the pack's data (exact values; internal): every country-year of
    the trend years, the edition year's victims by citizenship (detected and repatriated), each
    country's prosecuted and convicted, and the organ-removal cases as screened case-law
    records."""
    first_year = year - pack_tables.TREND_YEARS + 1
    by_country = pack_tables.run_standard_query(connection, "country_profiles")
    by_country = by_country[(by_country["year"] >= first_year) & (by_country["year"] <= year)]
    # The `flows` view is the definition of a flow (warehouse/sql/004_analyst.sql); cells
    # published upstream as `<5` (no count) are left out, as the pack's regional sums leave them.
    flows = connection.execute(
        "SELECT perspective, origin, destination, coalesce(origin_region, 'Unclassified') AS origin_region, "
        "destination_region, flow_type, sum(count) AS count FROM flows "
        "WHERE year = ? AND count IS NOT NULL GROUP BY ALL ORDER BY ALL", [year]).df()
    # As the standard query `offenders_trend` counts them, country by country: grand totals
    # (age, citizenship and form `total`), by sex where reported.
    offenders = connection.execute(
        """SELECT country, year,
                  sum(count) FILTER (WHERE stage = 'prosecuted' AND sex = 'total') AS prosecuted,
                  sum(count) FILTER (WHERE stage = 'prosecuted' AND sex = 'female') AS prosecuted_female,
                  sum(count) FILTER (WHERE stage = 'prosecuted' AND sex = 'male') AS prosecuted_male,
                  sum(count) FILTER (WHERE stage = 'convicted' AND sex = 'total') AS convicted,
                  sum(count) FILTER (WHERE stage = 'convicted' AND sex = 'female') AS convicted_female,
                  sum(count) FILTER (WHERE stage = 'convicted' AND sex = 'male') AS convicted_male
           FROM offenders
           WHERE age = 'total' AND citizenship = 'total' AND form = 'total' AND year BETWEEN ? AND ?
           GROUP BY country, year ORDER BY country, year""", [first_year, year]).df()
    cases = [record for record in case_law_records(connection) if first_year <= record["year"] <= year]
    return {"profile_countries": by_country.reset_index(drop=True), "profile_flows": flows,
            "profile_offenders": offenders, "profile_cases": pd.DataFrame(cases)}


# ------------------------------------------------------------------ the profiles' tables

Protect = Callable[[str, pd.DataFrame, list], "sdc.ProtectedTable"]


def profile_tables(data: dict[str, pd.DataFrame], year: int, protect: Protect,
                   language: str = i18n.DEFAULT_LANGUAGE) -> list:
    """The profiles' four long tables of the pack (victims, flows, offenders, cases), their
    counts protected with the rest of the release."""
    return [_victims_table(data, year, protect, language), _flows_table(data, year, protect, language),
            _offenders_table(data, year, protect, language), _cases_table(data, year, language)]


def _holding(frame: pd.DataFrame, relations: list[sdc.Relation]) -> list[sdc.Relation]:
    """The relations the figures bear out (a reader relies on a sum only where it holds)."""
    counts = frame["count"].astype("float64").to_numpy()
    return [(t, ps) for t, ps in relations if ps and abs(counts[t] - counts[ps].sum()) < sdc.TOLERANCE]


def _victims_table(data, year: int, protect: Protect, language: str):
    """Each country-year of the trend years: its cells by sex and age and by form (as
    `country_cells` makes them add up), a category only where it was reported; a country-year
    whose source published some cells as `<5` (not exact) shows the cells the source gives,
    with no sum between them. The trend table's regional totals are the sums of the
    countries' reported totals, the forms table's regional cells the sums of their forms."""
    countries = data["profile_countries"]
    cells = countries[countries["exact"]].reset_index(drop=True)  # the view's measures, adding up
    reported = cells[list(SEX_AGE_CATEGORIES) + list(FORM_CATEGORIES)].notna()
    rows = []  # country, region, year, exact, breakdown, category, count, key
    region_of = dict(zip(countries["country"], countries["region"]))

    def add(country, year_, breakdown, category, count, key, exact=True):
        rows.append((country, region_of.get(country, ""), int(year_), exact, breakdown, category, float(count), key))
        return len(rows) - 1

    relations: list[sdc.Relation] = []
    total_position: dict[tuple[str, int], int] = {}
    for i, record in enumerate(cells.itertuples(index=False)):
        key = lambda category, y=int(record.year), c=record.country: pack_tables._country_cell_key(y, c, category)  # noqa: E731
        total = add(record.country, record.year, "total", "total", record.total, key("total"))
        total_position[(record.country, int(record.year))] = total
        for breakdown, categories, rest in (("sex_age", SEX_AGE_CATEGORIES, "other_or_unknown"),
                                            ("form", FORM_CATEGORIES, "other_purposes")):
            shown = [c for c in categories if reported.at[i, c]]
            if not shown:
                continue  # not reported: the profile says so, never 0
            parts = [add(record.country, record.year, breakdown, c, getattr(record, c), key(c)) for c in shown]
            parts.append(add(record.country, record.year, breakdown, rest, getattr(record, rest), key(rest)))
            relations.append((total, parts))
    # Not exact (the source published some cells as `<5`): the cells it gives, as it gives
    # them, with no sum between them (its `<5` parts are unknown).
    for record in countries[~countries["exact"]].itertuples(index=False):
        y = int(record.year)
        if pd.notna(record.total):
            total_position[(record.country, y)] = add(record.country, y, "total", "total", record.total,
                                                      sdc.cell_key("victims_reported_total", year=y, area=record.country),
                                                      exact=False)
        for breakdown, categories in (("sex_age", SEX_AGE_CATEGORIES), ("form", FORM_CATEGORIES)):
            for c in categories:
                if pd.notna(getattr(record, c)):
                    add(record.country, y, breakdown, c, getattr(record, c),
                        sdc.cell_key("victims_reported", year=y, area=record.country,
                                     **pack_tables.CATEGORY_DIMENSIONS[c]), exact=False)
    # The trend table's regional totals: the sums of the exact countries' totals (the view's
    # measures, as the standard query sums them). Kept where every such total is the one shown here.
    shown_total = {(r[0], r[2]): r[6] for r in rows if r[4] == "total"}
    trend = data["sex_age_trend"]
    for region, group in cells.groupby("region"):
        for year_, in_year in group.groupby("year"):
            regional = trend[(trend["region"] == region) & (trend["year"] == year_)]["total"]
            members = in_year[in_year["total"].notna()]
            if len(regional) != 1 or pd.isna(regional.iloc[0]) or members.empty:
                continue
            if any(shown_total.get((c, int(year_))) != t for c, t in zip(members["country"], members["total"])):
                continue
            whole = add(f"region:{region}", year_, "region_total", "total", regional.iloc[0],
                        pack_tables._country_cell_key(int(year_), f"region:{region}", "total"))
            relations.append((whole, [total_position[(c, int(year_))] for c in members["country"]]))
    # The forms table's regional cells are tied to the exact countries' form cells by the pack
    # (drafting_pack.form_links): the same keys as here.
    frame = pd.DataFrame(rows, columns=["country", "region", "year", "exact", "breakdown", "category", "count", "key"])
    protected = protect(VICTIMS, frame, _holding(frame, relations))
    shown = protected.frame[~protected.frame["country"].str.startswith("region:")]
    table = pd.DataFrame({
        _say("iso3", language): shown["country"],
        _say("country", language): [country_name(c, language) for c in shown["country"]],
        _say("year", language): shown["year"],
        _say("breakdown", language): [_say("sex_age" if b == "sex_age" else "form" if b == "form" else "total", language)
                                      for b in shown["breakdown"]],
        _say("category", language): [category_label(c, language) for c in shown["category"]],
        _say("victims", language): shown["display"].map(sdc.published_number),
    })
    return pack_tables.PackTable(VICTIMS, _say("table_victims", language, first_year=str(_first_year(year)),
                                               year=str(year)),
                                 table.reset_index(drop=True), [protected], _say("sex_age_note", language),
                                 column_kinds={_say("year", language): pack_tables.YEAR})


def _flows_table(data, year: int, protect: Protect, language: str):
    """The edition year's victims by country of detection and citizenship (each cell once: a
    country's flows in and its nationals' flows out are the same cells), each country's total
    with a known citizenship, and the repatriated by the reporting country of origin. Linked
    to the origin and flow-type tables, whose regional cells are sums of these."""
    flows = data["profile_flows"]
    detected = flows[flows["perspective"] == "detection"].reset_index(drop=True)
    rows = []  # perspective, destination, origin, count, key

    def add(perspective, destination, origin, count, key):
        rows.append((perspective, destination, origin, float(count), key))
        return len(rows) - 1

    citizenship_key = lambda destination, **d: sdc.cell_key("victims_with_citizenship", year=year,  # noqa: E731
                                                           destination=destination, **d)
    cell = {(r.destination, r.origin): add("detection", r.destination, r.origin, r.count,
                                           citizenship_key(r.destination, origin=r.origin))
            for r in detected.itertuples(index=False)}
    relations: list[sdc.Relation] = []
    totals = {}
    for destination, group in detected.groupby("destination", sort=True):
        totals[destination] = add("detection", destination, None, group["count"].sum(), citizenship_key(destination))
        relations.append((totals[destination], [cell[(destination, o)] for o in group["origin"]]))
    # The origin and flow-type tables' regional cells, where they are these cells' sums.
    origins = data["origins"][["destination_region", "origin_region", "victims"]]
    regional = {(r.destination_region, r.origin_region): r.victims for r in origins.itertuples(index=False)}
    by_region = detected[detected["destination_region"].notna()]
    for (region, origin_region), group in by_region.groupby(["destination_region", "origin_region"]):
        relations.append((add("region", f"region:{region}", f"region:{origin_region}",
                              regional.get((region, origin_region), np.nan),
                              pack_tables._citizenship_key(year, region, origin=f"region:{origin_region}")),
                          [cell[(d, o)] for d, o in zip(group["destination"], group["origin"])]))
    flow_shares = data["flow_shares"].set_index("destination_region")
    for (region, flow_type), group in by_region.groupby(["destination_region", "flow_type"]):
        published = flow_shares.at[region, flow_type] if region in flow_shares.index else np.nan
        relations.append((add("region", f"region:{region}", flow_type, published,
                              pack_tables._citizenship_key(year, region, flow=flow_type)),
                          [cell[(d, o)] for d, o in zip(group["destination"], group["origin"])]))
    for region, group in by_region.groupby("destination_region"):
        published = flow_shares.at[region, "victims"] if region in flow_shares.index else np.nan
        relations.append((add("region", f"region:{region}", None, published,
                              pack_tables._citizenship_key(year, region)),
                          [totals[d] for d in group["destination"].unique()]))
    for r in flows[flows["perspective"] == "repatriation"].itertuples(index=False):
        add("repatriation", r.destination, r.origin, r.count,
            sdc.cell_key("victims_repatriated", year=year, origin=r.origin, destination=r.destination))
    frame = pd.DataFrame(rows, columns=["perspective", "destination", "origin", "count", "key"])
    # A regional cell whose table does not publish it (NaN) is dropped with its relation.
    frame["count"] = frame["count"].astype("float64")
    keep = frame["count"].notna().to_numpy()
    relations = [(t, ps) for t, ps in relations if keep[t]]
    protected = protect(FLOWS, frame, _holding(frame.fillna({"count": -1.0}), relations))
    shown = protected.frame[protected.frame["perspective"] != "region"]
    table = pd.DataFrame({
        _say("perspective", language): [_say(p, language) for p in shown["perspective"]],
        _say("country_of_detection", language): [country_name(c, language) for c in shown["destination"]],
        _say("citizenship", language): [country_name(c, language) if isinstance(c, str) else _say("total", language)
                                        for c in shown["origin"]],
        _say("victims", language): shown["display"].map(sdc.published_number),
    })
    return pack_tables.PackTable(FLOWS, _say("table_flows", language, year=str(year)), table.reset_index(drop=True),
                                 [protected], _say("table_flows_note", language))


def _offenders_table(data, year: int, protect: Protect, language: str):
    """Each country's prosecuted and convicted by year, by sex where reported (the rest of the
    total is its own cell, so the three add up); the world's figures of the offenders table are
    the sums of the countries'."""
    offenders = data["profile_offenders"]
    rows = []  # country, year, stage, sex, count, key

    def add(country, year_, stage, sex, count, key):
        rows.append((country, int(year_), stage, sex, float(count), key))
        return len(rows) - 1

    relations: list[sdc.Relation] = []
    world_parts: dict[tuple[str, int], list[int]] = {}
    for r in offenders.itertuples(index=False):
        for stage in STAGES:
            total, female, male = (getattr(r, stage), getattr(r, f"{stage}_female"), getattr(r, f"{stage}_male"))
            key = lambda sex, s=stage: sdc.cell_key(f"persons_{s}", year=int(r.year), area=r.country, sex=sex)  # noqa: E731
            if pd.notna(total):
                position = add(r.country, r.year, stage, "total", total, key(None))
                world_parts.setdefault((stage, int(r.year)), []).append(position)
            if pd.notna(female) and pd.notna(male):
                parts = [add(r.country, r.year, stage, "female", female, key("female")),
                         add(r.country, r.year, stage, "male", male, key("male"))]
                if stage == "convicted":  # the offenders table's women and men convicted
                    world_parts.setdefault(("convicted_women", int(r.year)), []).append(parts[0])
                    world_parts.setdefault(("convicted_men", int(r.year)), []).append(parts[1])
                if pd.notna(total) and total >= female + male:
                    parts.append(add(r.country, r.year, stage, "sex_other_or_unknown", total - female - male,
                                     key("other_or_unknown")))
                    relations.append((position, parts))
    trend = data["offenders"].set_index("year")
    for (measure, year_), parts in world_parts.items():
        published = trend.at[year_, measure] if year_ in trend.index else np.nan
        if pd.notna(published):
            relations.append((add("world", year_, measure, "total", published,
                                  sdc.cell_key(f"persons_{measure}", year=year_)), parts))
    frame = pd.DataFrame(rows, columns=["country", "year", "stage", "sex", "count", "key"])
    protected = protect(OFFENDERS, frame, _holding(frame, relations))
    shown = protected.frame[protected.frame["country"] != "world"]
    table = pd.DataFrame({
        _say("iso3", language): shown["country"],
        _say("country", language): [country_name(c, language) for c in shown["country"]],
        _say("year", language): shown["year"],
        _say("stage", language): [_say(s, language) for s in shown["stage"]],
        _say("sex", language): [_say(s, language) for s in shown["sex"]],
        _say("persons", language): shown["display"].map(sdc.published_number),
    })
    return pack_tables.PackTable(OFFENDERS, _say("table_offenders", language, first_year=str(_first_year(year)),
                                                 year=str(year)), table.reset_index(drop=True), [protected],
                                 _say("table_offenders_note", language),
                                 column_kinds={_say("year", language): pack_tables.YEAR})


CASE_COLUMNS = {  # column -> its label's key (PROFILE)
    "country": "country", "year": "year", "stage": "stage", "outcome": "outcome",
    "material_removed": "material_removed", "medical_professionals_involved": "medical_professionals",
    "countries_involved": "countries_involved", "court": "court", "decision_date": "decision_date",
    "summary": "summary"}


@dataclass
class CasesTable(pack_tables.PackTable):
    """The cases' table of the pack, and the screened case-law records it was made from: each
    profile says its cases in its own language."""
    records: list[dict] = field(default_factory=list)


def _cases_table(data, year: int, language: str) -> CasesTable:
    """The organ-removal cases of the trend years, by their codes; free texts as the case-law
    export screened them (withheld ones say so). No count of persons: nothing to protect."""
    records = data["profile_cases"].to_dict("records") if len(data["profile_cases"]) else []
    return CasesTable(CASES, _say("table_cases", language, first_year=str(_first_year(year)), year=str(year)),
                      cases_frame(records, language), [], _say("table_cases_note", language),
                      column_kinds={_say("year", language): pack_tables.YEAR}, records=records)


def cases_frame(records: list[dict], language: str) -> pd.DataFrame:
    """Cases as a table in `language`: a row per case, labelled columns."""
    table = pd.DataFrame([case_row(record, language) for record in records], columns=list(CASE_COLUMNS))
    return table.rename(columns={c: _say(key, language) for c, key in CASE_COLUMNS.items()})


def case_row(record: dict, language: str) -> dict:
    """A case as the profile says it: codes by their labels, countries by their names, a
    screened text withheld when the screen found what may be personal data."""
    def codes(codelist: str, value) -> str:
        values = value if isinstance(value, list) else [value] if value else []
        return i18n.format_list([i18n.code_label(codelist, v, language) for v in values], language)

    involved = []
    for column in ("victims_nationalities", "offenders_nationalities", "recruitment_countries",
                  "removal_countries", "recipient_countries"):
        involved += [c for c in record.get(column) or [] if c not in ("total", cl.UNKNOWN) and c not in involved]
    withheld = record.get("withheld") or {}
    text = lambda key: _say("withheld", language) if key in withheld else (record.get(key) or "")  # noqa: E731
    return {"country": country_name(record["country"], language), "year": int(record["year"]),
            "stage": codes("case_stage", record.get("stage")), "outcome": codes("case_outcome", record.get("outcome")),
            "material_removed": codes("material_removed", record.get("material_removed")),
            "medical_professionals_involved": codes("yes_no_unknown", record.get("medical_professionals_involved")),
            "countries_involved": i18n.format_list([country_name(c, language) for c in involved], language),
            "court": text("court"), "decision_date": record.get("decision_date") or "", "summary": text("summary")}


# ------------------------------------------------------------------ words

def _say(key: str, language: str, **values) -> str:
    return i18n.ui(f"profile.{key}", language, **values)


def _first_year(year: int) -> int:
    return year - pack_tables.TREND_YEARS + 1


def category_label(category: str, language: str) -> str:
    """A category of the profiles' cells in `language`: forms by the codelist's labels."""
    if category in FORM_CATEGORIES:
        return i18n.code_label("form", category, language)
    return _say(category, language)


# ------------------------------------------------------------------ the pages

def write_profiles(pack, out_dir: Path, year: int, language: str = i18n.DEFAULT_LANGUAGE,
                   only: set[str] | None = None) -> list[tuple[str, str, str]]:
    """One page per country with figures for `year` (`profiles/<ISO3>.html`, its charts beside
    it; `only` these ISO3 codes when given) and `profiles/index.html`; returns (ISO3, country
    name, href relative to `out_dir`) for the pack's index page."""
    out = Path(out_dir) / PROFILES_DIR
    out.mkdir(parents=True, exist_ok=True)
    by_name = {table.name: table for table in pack.tables}
    victims = by_name[VICTIMS].protected[0].frame
    flows = by_name[FLOWS].protected[0].frame
    offenders = by_name[OFFENDERS].protected[0].frame
    cases = by_name[CASES].records
    edition = victims[(victims["year"] == year) & ~victims["country"].str.startswith("region:")]
    countries = sorted((c for c in edition["country"].unique() if only is None or c in only),
                       key=lambda c: country_name(c, language))
    template = _environment().get_template("profile.html")
    written = []
    for country in countries:
        name = country_name(country, language)
        page = {
            "country": country, "name": name,
            "region": area_name(_region_of(victims, country), language),
            "sex_age": _by_year(victims[(victims["country"] == country) & victims["breakdown"].isin(["sex_age", "total"])],
                                [*SEX_AGE_CATEGORIES, "other_or_unknown", "total"], language),
            "forms": _by_year(victims[(victims["country"] == country) & victims["breakdown"].isin(["form", "total"])],
                              [*FORM_CATEGORIES, "other_purposes", "total"], language),
            "not_exact": _not_exact_years(victims[victims["country"] == country], language),
            "flows_in": _flow_rows(flows[(flows["perspective"] == "detection") & (flows["destination"] == country)],
                                   "origin", language),
            "flows_out": _flow_rows(flows[(flows["perspective"] == "detection") & (flows["origin"] == country)
                                          & (flows["destination"] != country)], "destination", language),
            "repatriated": _flow_rows(flows[(flows["perspective"] == "repatriation") & (flows["origin"] == country)],
                                      "destination", language),
            "offenders": _offender_rows(offenders[offenders["country"] == country], year, language),
            "cases": cases_frame([r for r in cases if r["country"] == country], language).iloc[:, 1:],
        }
        page["charts"] = _charts(victims[victims["country"] == country], flows, offenders[offenders["country"] == country],
                                 country, out, year, language)
        html = template.render(page=page, year=year, first_year=_first_year(year), language=language,
                               direction="rtl" if language in i18n.RIGHT_TO_LEFT else "ltr",
                               say=lambda key, **values: _say(key, language, **values))
        (out / f"{country}.html").write_text(html, encoding="utf-8")
        written.append((country, name, f"{PROFILES_DIR}/{country}.html"))
    index = _environment().get_template("profile_index.html").render(
        profiles=[(name, f"{iso3}.html") for iso3, name, _ in written], year=year, language=language,
        direction="rtl" if language in i18n.RIGHT_TO_LEFT else "ltr",
        say=lambda key, **values: _say(key, language, **values))
    (out / "index.html").write_text(index, encoding="utf-8")
    return written


def _environment() -> Environment:
    return Environment(loader=PackageLoader("reporting", "templates"),
                       autoescape=select_autoescape(["html"], default_for_string=True, default=True))


def _region_of(victims: pd.DataFrame, country: str) -> str:
    """The country's region as the grouping names it (English; said by `area_name`)."""
    regions = victims.loc[victims["country"] == country, "region"]
    return str(regions.iloc[0]) if len(regions) else ""


def shown_text(display: str, language: str) -> str:
    """A published cell as the page says it: a number in the language's way; `<5` and `x` as
    they are (hidden, never a number)."""
    if display in (sdc.SMALL_LABEL, sdc.SECONDARY_LABEL):
        return display
    return i18n.format_number(int(display), language)


def _by_year(rows: pd.DataFrame, categories: list[str], language: str) -> dict:
    """A table of years (rows) by categories (columns): each cell's `display` as text, "not
    reported" where the category was not reported (never 0), "not available" in a year whose
    source gives some cells as `<5` (a cell it does not give may be either)."""
    table = []
    for y in sorted(int(y) for y in rows["year"].unique()):
        in_year = rows[rows["year"] == y].set_index("category")
        missing = "not_reported" if in_year["exact"].all() else "not_available"
        table.append({"year": str(y), "cells": [_cell(in_year, c, language, missing) for c in categories]})
    return {"headers": [category_label(c, language) for c in categories], "rows": table}


def _cell(cells: pd.DataFrame, at, language: str, missing: str = "not_reported") -> dict:
    """A cell of a page: its published text, whether it is hidden, or why it has none."""
    if at not in cells.index:
        return {"text": _say(missing, language), "hidden": False, "missing": True}
    return {"text": shown_text(cells.at[at, "display"], language), "hidden": cells.at[at, "status"] in HIDDEN,
            "missing": False}


def _not_exact_years(rows: pd.DataFrame, language: str) -> str:
    years = sorted({int(y) for y in rows.loc[~rows["exact"].astype(bool), "year"]})
    return _say("not_exact", language, years=i18n.format_list([str(y) for y in years], language)) if years else ""


def _flow_rows(rows: pd.DataFrame, other: str, language: str) -> list[dict]:
    """Countries (of citizenship or detection) by published count, largest first; hidden ones
    last; the total (a country's victims with a known citizenship) first."""
    rows = rows.assign(value=sdc.published_values(rows["display"].map(sdc.published_number)))
    total = rows[rows[other].isna()]
    parts = rows[rows[other].notna()].sort_values(["value", other], ascending=[False, True], na_position="last")
    listed = [{"name": country_name(r[other], language), "text": shown_text(r["display"], language),
               "hidden": r["status"] in HIDDEN} for _, r in parts.iterrows()]
    if len(total):
        r = total.iloc[0]
        listed.insert(0, {"name": _say("total", language), "text": shown_text(r["display"], language),
                          "hidden": r["status"] in HIDDEN, "total": True})
    return listed


def _offender_rows(rows: pd.DataFrame, year: int, language: str) -> dict:
    columns = [(stage, sex) for stage in STAGES for sex in ("total", "female", "male", "sex_other_or_unknown")]
    headers = [f"{_say(stage, language)}: {_say('total' if sex == 'total' else sex, language)}"
               if sex != "total" else _say(stage, language) for stage, sex in columns]
    table = []
    for y in sorted(int(y) for y in rows["year"].unique()):
        in_year = rows[rows["year"] == y].set_index(["stage", "sex"])
        table.append({"year": str(y), "cells": [_cell(in_year, c, language) for c in columns]})
    return {"headers": headers, "rows": table}


# ------------------------------------------------------------------ the charts

def _charts(victims: pd.DataFrame, flows: pd.DataFrame, offenders: pd.DataFrame, country: str, out: Path,
            year: int, language: str) -> dict[str, str]:
    """The profile's charts, PNG and SVG under `out`; returns {PNG name: title} (the title is
    the image's text alternative on the page). The one place where a chart's language is set."""
    with use_language(language):  # the language's fonts, right to left in Arabic
        return _draw_charts(victims, flows, offenders, country, out, year, language)


def _draw_charts(victims: pd.DataFrame, flows: pd.DataFrame, offenders: pd.DataFrame, country: str, out: Path,
                 year: int, language: str) -> dict[str, str]:
    name = country_name(country, language)
    written: dict[str, str] = {}

    def keep(files: list[str], title: str) -> None:
        written.update({f: title for f in files if f.endswith(".png")})

    for breakdown, categories, rest, chart, title in (
            ("sex_age", SEX_AGE_CATEGORIES, "other_or_unknown", "victims", "chart_sex_age"),
            ("form", FORM_CATEGORIES, "other_purposes", "forms", "chart_forms")):
        rows = victims[victims["breakdown"].isin([breakdown, "total"])]
        if (rows["breakdown"] == breakdown).any():
            title = _say(title, language, country=name)
            keep(chart_stacked_years(rows, [*categories, rest], title, _say("axis_victims", language), out,
                                     f"{country}_{chart}", language), title)
    if len(offenders):
        title = _say("chart_offenders", language, country=name)
        keep(chart_offenders(offenders, title, out, f"{country}_offenders", language), title)
    origins = flows[(flows["perspective"] == "detection") & (flows["destination"] == country) & flows["origin"].notna()]
    if len(origins):
        title = _say("chart_origins", language, country=name, year=str(year))
        keep(chart_origins(origins, title, out, f"{country}_origins", language), title)
    return written


def _value(display: str) -> float:
    number = sdc.published_number(display)
    return float(number) if isinstance(number, int) else np.nan


def _hidden_patch(axis, language: str) -> Patch:
    return Patch(facecolor=SUPPRESSED_COLOUR, hatch=SUPPRESSED_HATCH, edgecolor="white", label=_say("suppressed", language))


NOT_AVAILABLE_COLOUR = "#EEEEEE"  # the rest of a total whose parts the source gives in part


def chart_stacked_years(rows: pd.DataFrame, categories: list[str], title: str, axis_label: str, out: Path,
                        name: str, language: str) -> list[str]:
    """Stacked bars by year of the published cells, each labelled, the total on top, the value
    axis from zero. What is hidden is drawn hatched: the rest of a published total when parts
    are hidden, a marked stub when the total is hidden too. In a year the source gives in part
    (`exact` false), the rest of its total is drawn plain, as not available."""
    years = sorted(int(y) for y in rows.loc[rows["breakdown"] != "total", "year"].unique())
    by_year = {y: rows[rows["year"] == y].set_index("category") for y in years}
    totals = [_value(by_year[y].at["total", "display"]) if "total" in by_year[y].index else np.nan for y in years]
    tallest = max([t for t in totals if not np.isnan(t)] or [1.0])
    stub = 0.03 * tallest
    figure, axis = plt.subplots(figsize=(9, 4.2))
    bottoms = np.zeros(len(years))
    for i, category in enumerate(categories):
        heights = np.nan_to_num(np.array([_value(by_year[y].at[category, "display"]) if category in by_year[y].index
                                          else 0.0 for y in years], dtype=float))
        colour = PALETTE[i % len(PALETTE)]
        bars = axis.bar([str(y) for y in years], heights, bottom=bottoms, color=colour,
                        label=category_label(category, language), edgecolor="white", linewidth=0.5)
        for bar, height, bottom in zip(bars, heights, bottoms):
            if height >= 0.06 * tallest:  # a label that fits inside its segment
                axis.text(bar.get_x() + bar.get_width() / 2, bottom + height / 2, i18n.format_number(height, language),
                          ha="center", va="center", fontsize=7,
                          color="white" if colour in ("#0072B2", "#009E73", "#D55E00", "#000000") else "black")
        bottoms += heights
    drawn_hidden = drawn_missing = False
    for position, (y, total) in enumerate(zip(years, totals)):
        cells = by_year[y]
        hidden = cells["status"].isin(HIDDEN)
        rest = total - bottoms[position] if not np.isnan(total) else np.nan
        if hidden.any():  # the hidden parts together (the rest of the total), or a stub
            height = rest if not np.isnan(rest) and rest > 0 else stub
            axis.bar([str(y)], [height], bottom=bottoms[position], color=SUPPRESSED_COLOUR, hatch=SUPPRESSED_HATCH,
                     edgecolor="white", linewidth=0.5)
            bottoms[position] += height
            drawn_hidden = True
        elif not cells["exact"].all() and not np.isnan(rest) and rest > 0:
            axis.bar([str(y)], [rest], bottom=bottoms[position], color=NOT_AVAILABLE_COLOUR, edgecolor="#BBBBBB",
                     linewidth=0.5)
            bottoms[position] += rest
            drawn_missing = True
        if "total" in cells.index:
            axis.text(position, bottoms[position], shown_text(cells.at["total", "display"], language),
                      ha="center", va="bottom", fontsize=8, fontweight=bold_weight(language))
    axis.set_ylim(0, max(tallest, float(bottoms.max(initial=0))) * 1.15)
    axis.set_ylabel(axis_label)
    axis.set_title(title, fontsize=11)
    handles, _ = axis.get_legend_handles_labels()
    handles += [_hidden_patch(axis, language)] if drawn_hidden else []
    handles += [Patch(facecolor=NOT_AVAILABLE_COLOUR, edgecolor="#BBBBBB", label=_say("not_available", language))
                ] if drawn_missing else []
    axis.legend(handles=handles, ncol=4, fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.1))
    axis.spines[["top", "right"]].set_visible(False)
    return save(figure, out, name)


def chart_offenders(rows: pd.DataFrame, title: str, out: Path, name: str, language: str) -> list[str]:
    """Prosecuted and convicted side by side by year; a hidden count drawn as a hatched stub."""
    years = sorted(int(y) for y in rows["year"].unique())
    figure, axis = plt.subplots(figsize=(9, 4))
    width = 0.38
    values = {stage: [rows[(rows["year"] == y) & (rows["stage"] == stage) & (rows["sex"] == "total")] for y in years]
              for stage in STAGES}
    tallest = max([_value(c["display"].iloc[0]) for cells in values.values() for c in cells
                   if len(c) and not np.isnan(_value(c["display"].iloc[0]))] or [1.0])
    for i, stage in enumerate(STAGES):
        for position, cell in enumerate(values[stage]):
            x = position + (i - 0.5) * width
            if not len(cell):
                continue
            value = _value(cell["display"].iloc[0])
            if np.isnan(value):
                axis.bar(x, 0.03 * tallest, width, color=SUPPRESSED_COLOUR, hatch=SUPPRESSED_HATCH, edgecolor="white")
                axis.text(x, 0.03 * tallest, cell["display"].iloc[0], ha="center", va="bottom", fontsize=8)
            else:
                axis.bar(x, value, width, color=PALETTE[i])
                axis.text(x, value, i18n.format_number(value, language), ha="center", va="bottom", fontsize=8)
    axis.set_xticks(range(len(years)), [str(y) for y in years])
    axis.set_ylim(0, tallest * 1.15)
    axis.set_ylabel(_say("axis_persons", language))
    axis.set_title(title, fontsize=11)
    axis.legend(handles=[Patch(color=PALETTE[i], label=_say(s, language)) for i, s in enumerate(STAGES)]
                + [_hidden_patch(axis, language)], fontsize=8, frameon=False, loc="upper center",
                bbox_to_anchor=(0.5, -0.1), ncol=3)
    axis.spines[["top", "right"]].set_visible(False)
    return save(figure, out, name)


def chart_origins(rows: pd.DataFrame, title: str, out: Path, name: str, language: str) -> list[str]:
    """The main citizenships of the victims detected (the largest published first, hidden
    ones drawn as hatched stubs), values labelled, the axis from zero."""
    rows = rows.assign(value=[_value(d) for d in rows["display"]])
    rows = rows.sort_values(["value", "origin"], ascending=[False, True], na_position="last").head(TOP_ORIGINS)
    figure, axis = plt.subplots(figsize=(9, 0.45 * len(rows) + 1.4))
    tallest = np.nanmax(rows["value"]) if rows["value"].notna().any() else 1.0
    labels = [country_name(o, language) for o in rows["origin"]]
    for position, (value, display) in enumerate(zip(rows["value"], rows["display"])):
        if np.isnan(value):
            axis.barh(position, 0.03 * tallest, color=SUPPRESSED_COLOUR, hatch=SUPPRESSED_HATCH, edgecolor="white")
            axis.text(0.03 * tallest, position, f" {display}", va="center", fontsize=8)
        else:
            axis.barh(position, value, color=PALETTE[0])
            axis.text(value, position, f" {i18n.format_number(value, language)}", va="center", fontsize=8)
    axis.set_yticks(range(len(rows)), labels)
    axis.invert_yaxis()
    axis.set_xlim(0, tallest * 1.2)
    axis.set_xlabel(_say("axis_victims", language))
    axis.set_title(title, fontsize=11)
    axis.spines[["top", "right"]].set_visible(False)
    if rows["value"].isna().any():
        axis.legend(handles=[_hidden_patch(axis, language)], fontsize=8, frameon=False, loc="lower right")
    return save(figure, out, name)
