"""The drafting pack of a Global Report edition: tables (one .xlsx, a sheet per table, and CSV),
charts (PNG and SVG) and an index page, from the analysts' snapshot, in any of the six languages.

One definition per measure: every count of victims by country comes from the warehouse's view
`victim_measures` (warehouse/sql/006_measures.sql) through the standard queries, and every
regional or world figure is the standard queries' sum over the countries whose figures are exact
(no cell published as `<5`); so a total or a share is the same number in a query, a table and a
chart. A breakdown a country did not report is "not reported", never 0.

Everything here is meant for publication, so every count of persons goes through disclosure
control (reporting/disclosure.py), all tables of the pack as one release: each cell has a key
from its data, so a figure shown in two tables is one cell; small counts are shown as `<5`,
optimal secondary suppression (`x`) keeps each of them anywhere in 1 to 4 for a reader of every
table, and the audit (disclosure_audit.csv) fails the pack before anything is written if one
is not. Shares and rates are computed only from published cells. Tables are built so that
their totals are exactly the sums of their parts (other-or-unknown categories take the rest):
the relations the attacker uses are then the relations that hold (checked).
Exact values stay in the warehouse for internal analysis (`glotip sql`).

Each table keeps its cells language-independent (`PackTable.protected`: codes, English region
names, keys), so the release is the same whatever the language; only `title`, `note` and the
published `table` (labels, country and region names) are said in the pack's language.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
from babel.dates import format_date
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from schemas import codelists as cl
from schemas import i18n
from schemas.countries import country_name
from schemas.regions import WORLD, area_name
from reporting import disclosure as sdc
from reporting import sdmx
from reporting.chart_style import save, use_language
from reporting.pack_charts import flows_figure, forms_figure, sex_age_figure, trends_figure
from reporting.safe import neutralise_frame, workbook_cell
from warehouse.snapshot import open_snapshot, use_as_of
from warehouse.queries import run_standard_query

TOTAL_LABEL = "Total"
SEX_AGE = ("girls", "boys", "women", "men")
SDG_FORMS = ("sexual_exploitation", "forced_labour", "removal_of_organs")
# The forms of the forms table, in the codelist's order; `unknown` is the view's `form_unknown`
# (unknown or not reported), so that a region's forms add up to its total.
FORMS = tuple(code for code in cl.FORM.codes if code != cl.TOTAL)
TREND_YEARS = 10
# The sex and age (or form) of each category of the sex/age, forms and SDG tables, for their cell
# keys: the same figure in two tables gets the same key (reporting/disclosure.py links them).
CATEGORY_DIMENSIONS = {
    "girls": {"sex": "female", "age": "child"}, "boys": {"sex": "male", "age": "child"},
    "women": {"sex": "female", "age": "adult"}, "men": {"sex": "male", "age": "adult"},
    "other_or_unknown": {"sex_age": "other_or_unknown"}, "total": {},
    "female": {"sex": "female"}, "male": {"sex": "male"}, "sex_other_or_unknown": {"sex": "other_or_unknown"},
    "child": {"age": "child"}, "adult": {"age": "adult"}, "age_unknown": {"age": "unknown"},
    "other_purposes": {"form": "other_purposes"}, **{form: {"form": form} for form in FORMS},
}
# How a table builder has its cells protected: `protect(name, frame, relations)`. The release is
# protected as a whole, so `build_pack` runs the builders twice: first to collect every table's
# cells (sdc.ReleaseDraft), then with the solved release (sdc.release_table).
Protect = Callable[[str, pd.DataFrame, list], "sdc.ProtectedTable"]
# How a published column is formatted in the workbook (`PackTable.column_kinds`; a column not
# named there holds counts of persons or of countries).
SHARE, RATE, YEAR = "share", "rate", "year"


@dataclass
class PackTable:
    name: str
    title: str
    table: pd.DataFrame                      # as published, in the pack's language (suppressed cells as `<5` / `x`)
    protected: list[sdc.ProtectedTable]      # the disclosure-controlled parts (may be empty)
    note: str = ""
    column_kinds: dict[str, str] = field(default_factory=dict)  # published column -> SHARE, RATE or YEAR


class NoDataForYear(LookupError):
    """No country's figures for the edition's year: there is nothing to draft a pack from."""

    def __init__(self, year: int, years_with_data: list[int]):
        self.year, self.years_with_data = year, years_with_data
        held = (f"the warehouse holds {years_with_data[0]} to {years_with_data[-1]}"
                if years_with_data else "the warehouse holds no figures yet")
        super().__init__(f"No figures for {year}: {held}. Nothing was written.")


# ------------------------------------------------------------------ reading

def read_pack_data(connection, year: int) -> dict[str, pd.DataFrame]:
    """The standard queries the pack is built from (exact values; internal). Every victims
    figure comes from the view `victim_measures`: per country (`profiles`) and summed over the
    exact countries by region (`sex_age`, `forms`, `sex_age_trend`)."""
    first_year = year - TREND_YEARS + 1
    trend_years = lambda frame: frame[(frame["year"] >= first_year) & (frame["year"] <= year)]  # noqa: E731
    return {
        "profiles": run_standard_query(connection, "country_profiles", {"year": year}),
        "sex_age": run_standard_query(connection, "victims_by_sex_age", {"year": year}),
        "forms": run_standard_query(connection, "forms_of_exploitation", {"year": year}),
        "sex_age_trend": trend_years(run_standard_query(connection, "victims_by_sex_age")),
        "flow_shares": run_standard_query(connection, "flow_shares", {"year": year}),
        "origins": run_standard_query(connection, "main_origins", {"year": year, "top": 1000}),
        "offenders": trend_years(run_standard_query(connection, "offenders_trend")),
        "coverage": trend_years(run_standard_query(connection, "countries_reporting")),
        "organ_cases": trend_years(run_standard_query(connection, "organ_removal_cases")),
        "organ_material": trend_years(run_standard_query(connection, "organ_removal_material")),
        "population": connection.execute(
            "SELECT country, population, source FROM population WHERE year = ?", [year]).df(),
        "data_as_of": connection.execute(
            "SELECT max(sy.loaded_at) AS loaded_at FROM current_country_years AS c "
            "JOIN submission_years AS sy ON sy.submission_id = c.submission_id AND sy.year = c.year").df(),
    }


# ------------------------------------------------------------------ words

def say(key: str, language: str, **values) -> str:
    """A text of the pack's tables (`schemas/publication.py` PACK) in `language`."""
    return i18n.ui(f"pack.{key}", language, **values)


def region_label(region: str, language: str) -> str:
    """A region as the tables name it (schemas.regions.area_name)."""
    return area_name(region, language)


def _countries_text(codes: list[str], language: str, most: int = 12) -> str:
    names = [country_name(code, language) for code in codes]
    return i18n.format_list(names[:most], language) + (" …" if len(names) > most else "")


# ------------------------------------------------------------------ tables

def _country_cell_key(year: int, area: str | None, category: str) -> str:
    """A cell of the countries with exact figures (view `victim_measures`), or of their sums by
    region (`region:<name>`) and for the world (None)."""
    return sdc.cell_key("victims_exact_countries", year=year, area=area, **CATEGORY_DIMENSIONS[category])


def _area_of(region: str) -> str | None:
    return None if region == WORLD else f"region:{region}"


def _regions(summed: pd.DataFrame) -> pd.DataFrame:
    """The standard queries' regional rows with at least one exact country (no World row)."""
    return summed[(summed["region"] != WORLD) & (summed["countries"] > 0)]


def victims_by_sex_age_table(countries: pd.DataFrame, sex_age: pd.DataFrame, year: int, protect: Protect,
                             language: str = "en") -> PackTable:
    """Countries, regions and the world x girls, boys, women, men, other or unknown, total. A
    country that gave no sex and age breakdown has no count in its four categories (status
    `missing`: "not reported"); its victims are all other or unknown."""
    categories = [*SEX_AGE, "other_or_unknown", "total"]
    rows = []
    for record in countries.itertuples(index=False):
        rows += [("country", record.region, record.name, record.country, c, getattr(record, c),
                  _country_cell_key(year, record.country, c)) for c in categories]
    summed = pd.concat([_regions(sex_age), sex_age[sex_age["region"] == WORLD]])
    for record in summed.itertuples(index=False):
        level = "world" if record.region == WORLD else "region"
        rows += [(level, record.region, record.region, None, c, getattr(record, c),
                  _country_cell_key(year, _area_of(record.region), c)) for c in categories]
    frame = pd.DataFrame(rows, columns=["level", "region", "area", "country", "category", "count", "key"])
    frame["count"] = pd.to_numeric(frame["count"], errors="coerce").astype("float64")
    parent_of = dict(zip(countries["name"], countries["region"])) | {r: WORLD for r in _regions(sex_age)["region"]}
    relations = _among_reported(frame, lambda cells: (
        sdc.additive_relations(cells, "category", "total", ["area"])
        + sdc.hierarchy_relations(cells, "area", parent_of, ["category"])))
    protected = protect("victims_by_sex_age", frame, relations)
    wide = _wide(protected.frame, ["level", "region", "area"], "category", categories)
    level_order = {"world": 0, "region": 1, "country": 2}
    wide = wide.sort_values(["region", "level", "area"], key=lambda s: s.map(level_order) if s.name == "level" else s)
    wide = pd.concat([wide[wide["level"] == "world"], wide[wide["level"] != "world"]], ignore_index=True)
    names = dict(zip(countries["name"], countries["country"]))
    table = pd.DataFrame({
        say("col.level", language): [region_label(WORLD, language) if level == "world" else say(f"level.{level}", language)
                                     for level in wide["level"]],
        say("col.region", language): [region_label(r, language) for r in wide["region"]],
        say("col.area", language): [country_name(names[a], language) if level == "country" else region_label(a, language)
                                    for level, a in zip(wide["level"], wide["area"])],
    })
    for c in categories:
        table[say(f"col.{c}", language)] = wide[c]
    known = _sum_published(*(wide[c] for c in SEX_AGE))
    shares = {}
    for c in SEX_AGE:
        label = say("col.share", language, category=say(f"col.{c}", language))
        table[label] = _share(wide[c], known)
        shares[label] = SHARE
    return PackTable("victims_by_sex_age", say("title.victims_by_sex_age", language, year=str(year)),
                     _not_reported(table, language, list(shares)), [protected], say("note.victims_by_sex_age", language), shares)


def forms_by_region_table(forms: pd.DataFrame, year: int, protect: Protect, language: str = "en") -> PackTable:
    """Regions and the world x the forms of exploitation reported in the year, the rest
    (unknown or not reported) and the total: the same totals as the sex/age table."""
    present = [code for code in FORMS if forms.loc[forms["form"] == code, "victims"].sum() > 0 or code == cl.UNKNOWN]
    counts = forms.pivot_table(index="region", columns="form", values="victims", aggfunc="sum").reindex(columns=present)
    counts = counts.astype("float64").fillna(0)
    reporting = forms[forms["form"] != cl.UNKNOWN].groupby("region")["countries"].max().reindex(counts.index).fillna(0)
    counts.loc[reporting == 0, [c for c in present if c != cl.UNKNOWN]] = np.nan  # no country reported forms
    counts["total"] = counts.sum(axis=1)
    counts.loc[WORLD] = counts.sum(min_count=1)
    frame = counts.stack(future_stack=True).rename("count").reset_index().rename(columns={"form": "category"})
    frame.columns = ["region", "category", "count"]
    frame["key"] = [_country_cell_key(year, _area_of(r), c) for r, c in zip(frame["region"], frame["category"])]
    relations = _among_reported(frame, lambda cells: (
        sdc.additive_relations(cells, "category", "total", ["region"])
        + sdc.hierarchy_relations(cells, "region", {r: WORLD for r in counts.index if r != WORLD}, ["category"])))
    protected = protect("forms_by_region", frame, relations)
    wide = _world_first(_wide(protected.frame, ["region"], "category", [*present, "total"]), "region")
    labels = {code: i18n.code_label("form", code, language) for code in present} | {
        cl.UNKNOWN: say("col.form_unknown", language), "total": say("col.total", language)}
    table = pd.DataFrame({say("col.region", language): [region_label(r, language) for r in wide["region"]]})
    for code in [*present, "total"]:
        table[labels[code]] = wide[code]
    known = _difference_published(wide["total"], wide[cl.UNKNOWN])
    shares = {}
    for code in present:
        if code != cl.UNKNOWN:
            label = say("col.share", language, category=labels[code])
            table[label] = _share(wide[code], known)
            shares[label] = SHARE
    return PackTable("forms_by_region", say("title.forms_by_region", language, year=str(year)),
                     _not_reported(table, language, list(shares)), [protected], say("note.forms_by_region", language), shares)


def victims_trend_table(trend: pd.DataFrame, protect: Protect, language: str = "en") -> PackTable:
    """Regions and the world x years: the total of the exact countries (the sex/age table's
    totals), with the number of countries counted (long frame column `countries`)."""
    rows = pd.concat([_regions(trend), trend[(trend["region"] == WORLD) & (trend["countries"] > 0)]])
    frame = rows[["region", "year", "total", "countries"]].rename(columns={"total": "count"}).reset_index(drop=True)
    frame["count"] = frame["count"].astype("float64")
    frame["key"] = [_country_cell_key(int(y), _area_of(r), "total") for r, y in zip(frame["region"], frame["year"])]
    frame = frame[["region", "year", "count", "key", "countries"]]
    relations = sdc.hierarchy_relations(frame, "region", {r: WORLD for r in _regions(trend)["region"]}, ["year"])
    protected = protect("victims_trend", frame, relations)
    years = sorted(int(y) for y in frame["year"].unique())
    wide = _world_first(_wide(protected.frame, ["region"], "year", years), "region")
    table = pd.DataFrame({say("col.region", language): [region_label(r, language) for r in wide["region"]]})
    for y in years:
        table[str(y)] = wide[y]
    counted = frame[frame["region"] == WORLD].set_index("year")["countries"]
    table.loc[len(table)] = [say("col.countries_counted", language), *(int(counted.get(y, 0)) for y in years)]
    return PackTable("victims_trend", say("title.victims_trend", language), _not_reported(table, language),
                     [protected], say("note.victims_trend", language))


def _citizenship_key(year: int, destination: str, **dimensions) -> str:
    """Victims by region of detection with a known citizenship: the flows and origin tables
    share their totals by region of detection."""
    area = None if destination in (WORLD, TOTAL_LABEL) else f"region:{destination}"
    return sdc.cell_key("victims_with_citizenship", year=year, destination=area, **dimensions)


def flows_table(flow_shares: pd.DataFrame, year: int, protect: Protect, language: str = "en") -> PackTable:
    types = ["domestic", "intra_regional", "trans_regional", "unclassified"]
    counts = flow_shares.set_index("destination_region")[types].astype("float64").fillna(0)
    counts.loc[WORLD] = counts.sum()
    counts["total"] = counts.sum(axis=1)
    frame = counts.stack().rename("count").reset_index().rename(columns={"level_1": "flow_type"})
    frame.columns = ["destination_region", "flow_type", "count"]
    frame["key"] = [_citizenship_key(year, d, flow=None if t == "total" else t)
                    for d, t in zip(frame["destination_region"], frame["flow_type"])]
    relations = (sdc.additive_relations(frame, "flow_type", "total", ["destination_region"])
                 + sdc.hierarchy_relations(frame, "destination_region",
                                           {r: WORLD for r in counts.index if r != WORLD}, ["flow_type"]))
    protected = protect("flows_by_type", frame, relations)
    wide = _world_first(_wide(protected.frame, ["destination_region"], "flow_type", [*types, "total"]),
                        "destination_region")
    table = pd.DataFrame({say("col.destination_region", language):
                          [region_label(r, language) for r in wide["destination_region"]]})
    for t in [*types, "total"]:
        table[say(f"col.{t}", language)] = wide[t]
    shares = {}
    for t in types[:3]:
        label = say("col.share", language, category=say(f"col.{t}", language))
        table[label] = _share(wide[t], wide["total"])
        shares[label] = SHARE
    return PackTable("flows_by_type", say("title.flows_by_type", language, year=str(year)),
                     _not_reported(table, language, list(shares)), [protected], say("note.flows_by_type", language), shares)


def origin_destination_table(origins: pd.DataFrame, year: int, protect: Protect, language: str = "en") -> PackTable:
    matrix = origins.pivot_table(index="destination_region", columns="origin_region", values="victims",
                                 aggfunc="sum").astype("float64").fillna(0)
    matrix[TOTAL_LABEL] = matrix.sum(axis=1)
    matrix.loc[TOTAL_LABEL] = matrix.sum()
    frame = matrix.stack().rename("count").reset_index()
    frame.columns = ["destination_region", "origin_region", "count"]
    frame["key"] = [_citizenship_key(year, d, origin=None if o == TOTAL_LABEL else f"region:{o}")
                    for d, o in zip(frame["destination_region"], frame["origin_region"])]
    relations = (sdc.additive_relations(frame, "origin_region", TOTAL_LABEL, ["destination_region"])
                 + sdc.additive_relations(frame, "destination_region", TOTAL_LABEL, ["origin_region"]))
    protected = protect("origin_destination", frame, relations)
    wide = _wide(protected.frame, ["destination_region"], "origin_region", list(matrix.columns))
    said = lambda region: say("col.total", language) if region == TOTAL_LABEL else region_label(region, language)  # noqa: E731
    table = pd.DataFrame({say("col.destination_region", language): [said(r) for r in wide["destination_region"]]})
    for origin in matrix.columns:
        label = said(origin) if origin == TOTAL_LABEL else say("col.from_region", language, region=said(origin))
        table[label] = wide[origin]
    return PackTable("origin_destination", say("title.origin_destination", language, year=str(year)),
                     _not_reported(table, language), [protected], say("note.origin_destination", language))


def offenders_table(offenders: pd.DataFrame, protect: Protect, language: str = "en") -> PackTable:
    counted = ["prosecuted", "convicted", "convicted_women", "convicted_men"]
    frame = offenders.melt(id_vars="year", value_vars=counted, var_name="category", value_name="count")
    frame["count"] = frame["count"].astype("float64")
    frame["key"] = [sdc.cell_key(f"persons_{c}", year=int(y)) for c, y in zip(frame["category"], frame["year"])]
    protected = protect("offenders_trend", frame, [])  # no additive relation between these
    wide = _wide(protected.frame, ["year"], "category", counted)
    wide = wide.merge(offenders[["year", "countries_prosecuted", "countries_convicted"]], on="year")
    table = pd.DataFrame({say("col.year", language): wide["year"].astype(int)})
    for column in [*counted, "countries_prosecuted", "countries_convicted"]:
        table[say(f"col.{column}", language)] = wide[column]
    share = say("col.women_share_of_convicted", language)
    table[share] = _share(wide["convicted_women"], _sum_published(wide["convicted_women"], wide["convicted_men"]))
    return PackTable("offenders_trend", say("title.offenders_trend", language), _not_reported(table, language, [share]),
                     [protected], say("note.offenders_trend", language),
                     {say("col.year", language): YEAR, share: SHARE})


def coverage_table(coverage: pd.DataFrame, language: str = "en") -> PackTable:
    # Numbers of countries, not of persons: no suppression needed.
    table = pd.DataFrame({say(f"col.{column}", language): coverage[column].astype(int).to_numpy()
                          for column in ("year", "countries_reporting_victims", "countries_reporting_offenders",
                                         "countries_reporting_any")})
    return PackTable("countries_reporting", say("title.countries_reporting", language), table, [],
                     say("note.countries_reporting", language), {say("col.year", language): YEAR})


def organ_removal_table(cases: pd.DataFrame, material: pd.DataFrame, protect: Protect,
                        language: str = "en") -> PackTable:
    frame = cases[["year", "victims"]].rename(columns={"victims": "count"}).reset_index(drop=True)
    frame["count"] = frame["count"].astype("float64")
    frame["key"] = [sdc.cell_key("victims_in_organ_removal_cases", year=int(y)) for y in frame["year"]]
    protected = protect("organ_removal", frame, [])
    countries = lambda text: _countries_text(text.split("; "), language, most=1000) if text else ""  # noqa: E731
    table = pd.DataFrame({
        say("col.year", language): cases["year"].astype(int).to_numpy(),
        say("col.cases", language): cases["cases"].astype(int).to_numpy(),
        say("col.victims", language): protected.frame["display"].map(sdc.published_number).to_numpy(),
        say("col.reporting_countries", language): cases["reporting_countries"].astype(int).to_numpy(),
        say("col.countries_involved", language): cases["countries_involved"].fillna("").map(countries).to_numpy(),
        say("col.removal_countries", language): cases["removal_countries"].fillna("").map(countries).to_numpy(),
    })
    for answer in ("yes", "no", "unknown"):
        table[say(f"col.medical_professionals_{answer}", language)] = cases[f"medical_professionals_{answer}"].astype(int).to_numpy()
    if not material.empty:
        by_material = material.pivot_table(index="year", columns="material", values="cases", aggfunc="sum")
        by_material = by_material.reindex(cases["year"]).fillna(0).astype(int)
        for code in by_material.columns:
            label = say("col.cases_material", language, material=i18n.code_label(cl.MATERIAL_REMOVED.name, code, language))
            table[label] = by_material[code].to_numpy()
    return PackTable("organ_removal", say("title.organ_removal", language), _not_reported(table, language),
                     [protected], say("note.organ_removal", language), {say("col.year", language): YEAR})


SDG_BREAKDOWNS = {
    "sex": ["female", "male", "sex_other_or_unknown"],
    "age": ["child", "adult", "age_unknown"],
    "form": [*SDG_FORMS, "other_purposes"],
}


def _sdg_category_label(category: str, language: str) -> str:
    if category in ("female", "male"):
        return i18n.code_label("sex", category, language)
    if category in ("child", "adult"):
        return i18n.code_label("age", category, language)
    if category in SDG_FORMS:
        return i18n.code_label("form", category, language)
    if category == "total":
        return say("col.total", language)
    return say(f"category.{category}", language)


def sdg_table(countries: pd.DataFrame, population: pd.DataFrame, year: int, protect: Protect,
              language: str = "en") -> PackTable:
    """SDG 16.2.2: victims per 100,000 population by country, for the total, sex, age and form.
    A breakdown the country did not report has no cells (the published table says so)."""
    rows = []
    for record in countries.itertuples(index=False):
        rows.append((record.country, record.name, "total", "total", record.total))
        for breakdown, categories in SDG_BREAKDOWNS.items():
            if getattr(record, f"reported_{breakdown}"):
                rows += [(record.country, record.name, breakdown, c, getattr(record, c)) for c in categories]
    frame = pd.DataFrame(rows, columns=["country", "name", "breakdown", "category", "count"])
    frame["count"] = frame["count"].astype("float64")
    frame["key"] = [_country_cell_key(year, country, category)
                    for country, category in zip(frame["country"], frame["category"])]
    relations = []
    for _, group in frame.groupby("country", sort=False):
        positions = list(group.index)
        total = positions[0]
        for breakdown in SDG_BREAKDOWNS:
            parts = [p for p in positions if frame.at[p, "breakdown"] == breakdown]
            if parts:
                relations.append((total, parts))
    protected = protect("sdg_16_2_2", frame, relations)
    shown = protected.frame[["country", "breakdown", "category", "display"]].copy()
    reported = {(c, b) for c, b in zip(shown["country"], shown["breakdown"])}
    not_reported = [(c, b, "", "") for c in countries["country"] for b in SDG_BREAKDOWNS if (c, b) not in reported]
    shown = pd.concat([shown, pd.DataFrame(not_reported, columns=shown.columns)], ignore_index=True)
    order = {b: i for i, b in enumerate(["total", *SDG_BREAKDOWNS])}
    shown = shown.assign(_country=shown["country"].map(lambda c: country_name(c, language)),
                         _order=shown["breakdown"].map(order)).sort_values(["_country", "_order"], kind="stable")
    people = population.set_index("country")["population"]
    published = pd.to_numeric(shown["display"], errors="coerce")
    rate = (published * 100000 / shown["country"].map(people)).round(4)
    rate_label = say("col.rate", language)
    table = pd.DataFrame({
        say("col.country", language): shown["_country"].to_numpy(),
        say("col.breakdown", language): [say(f"breakdown.{b}", language) for b in shown["breakdown"]],
        say("col.category", language): [_sdg_category_label(c, language) if c else "" for c in shown["category"]],
        say("col.victims", language): shown["display"].map(sdc.published_number).to_numpy(),
        say("col.population", language): shown["country"].map(people).to_numpy(),
        rate_label: rate.to_numpy(),
    })
    note = say("note.sdg_16_2_2", language)
    if population.empty:
        note += " " + say("note.no_population", language, year=str(year))
    return PackTable("sdg_16_2_2", say("title.sdg_16_2_2", language, year=str(year)),
                     _not_reported(table, language, [rate_label, say("col.population", language)]),
                     [protected], note, {rate_label: RATE})


# ------------------------------------------------------------------ helpers

def _among_reported(frame: pd.DataFrame, relations_of: Callable[[pd.DataFrame], list]) -> list[sdc.Relation]:
    """Relations among the reported cells only, by position in `frame`: a category a country did
    not report has no count, and its absence must not break the relations that hold without it."""
    reported = frame[frame["count"].notna()]
    positions = reported.index.to_numpy()
    return [(int(positions[total]), [int(positions[p]) for p in parts]) for total, parts in relations_of(reported)]


def _wide(protected: pd.DataFrame, index: list[str], column: str, order: list) -> pd.DataFrame:
    """The published cells as a wide frame: counts as whole numbers, `<5` and `x` as text, a
    cell not reported as None."""
    wide = protected.pivot(index=index, columns=column, values="display").reindex(columns=order)
    wide = wide.reset_index()
    wide.columns.name = None
    # Column by column as objects, so that published counts stay whole numbers next to `<5`.
    return pd.DataFrame({c: pd.Series([sdc.published_number(v) for v in wide[c]] if c not in index else wide[c],
                                      dtype=object) for c in wide.columns})


def _share(part: pd.Series, whole: pd.Series) -> pd.Series:
    """part / whole from published numbers, as a fraction (formatted as a percentage where
    shown); None where either is hidden or not reported, or the whole is 0."""
    ratio = (sdc.published_values(part) / sdc.published_values(whole).replace(0, np.nan)).round(4)
    return pd.Series([None if pd.isna(v) else float(v) for v in ratio], index=part.index, dtype=object)


def _sum_published(*columns: pd.Series) -> pd.Series:
    total = sum(sdc.published_values(c) for c in columns)
    return pd.Series([None if pd.isna(v) else int(v) for v in total], index=columns[0].index, dtype=object)


def _difference_published(whole: pd.Series, part: pd.Series) -> pd.Series:
    rest = sdc.published_values(whole) - sdc.published_values(part)
    return pd.Series([None if pd.isna(v) else int(v) for v in rest], index=whole.index, dtype=object)


def _not_reported(table: pd.DataFrame, language: str, blank: list[str] = ()) -> pd.DataFrame:
    """The published table with no empty cell left as None/NaN: a count that was not reported
    says so ("not reported", never 0); in the `blank` columns (shares, rates: a part hidden or
    not reported) it is left blank."""
    table = table.reset_index(drop=True).astype(object)
    text = say("not_reported", language)
    for column in table.columns:
        filler = "" if column in blank else text
        table[column] = [filler if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v
                         for v in table[column]]
    return table


def _world_first(table: pd.DataFrame, column: str) -> pd.DataFrame:
    return pd.concat([table[table[column] == WORLD], table[table[column] != WORLD]], ignore_index=True)


# ------------------------------------------------------------------ the pack

@dataclass
class Pack:
    tables: list[PackTable]
    release: sdc.Release          # every protected table, protected together
    audit: pd.DataFrame           # every suppressed cell's feasible interval (sdc.audit_release)
    data_as_of: str | None = None  # the day the latest figures the pack counts were loaded
    population: pd.DataFrame = field(default_factory=pd.DataFrame)  # the year's, for SDG 16.2.2 rates


def sex_age_links(countries: pd.DataFrame, year: int) -> tuple[dict[str, float], list[sdc.KeyRelation]]:
    """What ties the SDG table's sex and age margins to the sex/age table's cells, as relations
    with a cell published nowhere: female = girls + women + females of unknown age (likewise
    male, child, adult). They hold because the view `victim_measures` makes each margin at
    least the sum of its cross cells; a reader can rely on them, so the audit and the solver do."""
    unpublished: dict[str, float] = {}
    relations: list[sdc.KeyRelation] = []
    margins = (("female", ("girls", "women"), {"sex": "female", "age": "unknown"}, "reported_sex"),
               ("male", ("boys", "men"), {"sex": "male", "age": "unknown"}, "reported_sex"),
               ("child", ("girls", "boys"), {"sex": "unknown", "age": "child"}, "reported_age"),
               ("adult", ("women", "men"), {"sex": "unknown", "age": "adult"}, "reported_age"))
    for record in countries.itertuples(index=False):
        for margin, parts, rest, shown in margins:
            # the SDG table leaves a breakdown out where not reported, the sex/age table its cells
            if not (getattr(record, shown) and record.reported_sex_age):
                continue
            rest_key = sdc.cell_key("victims_exact_countries", year=year, area=record.country, **rest)
            unpublished[rest_key] = getattr(record, margin) - sum(getattr(record, p) for p in parts)
            relations.append((_country_cell_key(year, record.country, margin),
                              [*(_country_cell_key(year, record.country, p) for p in parts), rest_key]))
    return unpublished, relations


def form_links(countries: pd.DataFrame, draft: sdc.ReleaseDraft, year: int) -> list[sdc.KeyRelation]:
    """What ties the forms table to the SDG table: a region's victims of an SDG form are its
    countries' (the same exact countries, the same view), where both are shown."""
    shown = {key for table in draft.tables for key, count in zip(table.frame["key"], table.frame["count"])
             if not pd.isna(count)}
    links = []
    reporting = countries[countries["reported_form"]]
    for region, group in reporting.groupby("region"):
        for form in SDG_FORMS:
            total = _country_cell_key(year, _area_of(region), form)
            parts = [_country_cell_key(year, country, form) for country in group["country"]]
            if total in shown and all(p in shown for p in parts):
                links.append((total, parts))
    return links


def flow_links(draft: sdc.ReleaseDraft, year: int) -> list[sdc.KeyRelation]:
    """What ties the flows table to the origin table: victims detected in a region who are
    citizens of that region are its domestic plus intra-regional victims. Kept for each region
    where the figures bear it out (a reader can rely on a definition only where it holds)."""
    counts = {key: count for table in draft.tables for key, count in zip(table.frame["key"], table.frame["count"])}
    flows = next((t.frame for t in draft.tables if t.name == "flows_by_type"), pd.DataFrame(columns=["destination_region"]))
    links = []
    for region in flows["destination_region"].unique():
        same_region = _citizenship_key(year, region, origin=f"region:{region}")
        parts = [_citizenship_key(year, region, flow=flow) for flow in ("domestic", "intra_regional")]
        if all(k in counts for k in (same_region, *parts)) and counts[same_region] == sum(counts[p] for p in parts):
            links.append((same_region, parts))
    return links


def build_pack(connection, year: int, suppression_seconds: float = sdc.DEFAULT_TIME_LIMIT,
               language: str = "en") -> Pack:
    """The pack's tables in `language`, protected as one release (the same release whatever
    the language), and its audit; NoDataForYear when no country has figures for `year`."""
    from reporting import country_profiles  # imported here: it builds on this module's tables

    data = read_pack_data(connection, year)
    data |= country_profiles.read_profile_data(connection, year)
    profiles = data["profiles"]
    if profiles.empty:
        years = run_standard_query(connection, "countries_reporting")["year"]
        raise NoDataForYear(year, sorted(int(y) for y in years.unique()))
    # Country tables need exact figures: a country whose cells include published `<5` values
    # (count unknown) is left out of them, and of every regional sum (the standard queries too).
    countries = profiles[profiles["exact"]].reset_index(drop=True)
    left_out = sorted(profiles.loc[~profiles["exact"], "country"])

    def tables_with(protect: Protect) -> list[PackTable]:
        return [
            victims_by_sex_age_table(countries, data["sex_age"], year, protect, language),
            forms_by_region_table(data["forms"], year, protect, language),
            victims_trend_table(data["sex_age_trend"], protect, language),
            offenders_table(data["offenders"], protect, language),
            flows_table(data["flow_shares"], year, protect, language),
            origin_destination_table(data["origins"], year, protect, language),
            coverage_table(data["coverage"], language),
            organ_removal_table(data["organ_cases"], data["organ_material"], protect, language),
            sdg_table(countries, data["population"], year, protect, language),
            *country_profiles.profile_tables(data, year, protect, language),
        ]

    draft = sdc.ReleaseDraft()
    tables_with(draft.table)  # first pass: every table's cells
    unpublished, links = sex_age_links(countries, year)
    release = draft.protect(unpublished, links + form_links(countries, draft, year) + flow_links(draft, year),
                            time_limit=suppression_seconds)
    tables = tables_with(partial(sdc.release_table, release))
    if left_out:
        note = " " + say("note.left_out", language, year=str(year), countries=_countries_text(left_out, language))
        for table in tables:
            if table.name in ("victims_by_sex_age", "forms_by_region", "victims_trend", "sdg_16_2_2"):
                table.note += note
    loaded = data["data_as_of"]["loaded_at"].dropna()
    data_as_of = pd.Timestamp(loaded.iloc[0]).date().isoformat() if len(loaded) else None
    return Pack(tables, release, sdc.audit_release(release), data_as_of, data["population"])


def build_tables(connection, year: int, language: str = "en") -> list[PackTable]:
    """The pack's tables (`build_pack` without its release and audit)."""
    return build_pack(connection, year, language=language).tables


def write_drafting_pack(db_path: str | Path, year: int, out_dir: str | Path,
                        as_of: str | None = None, suppression_seconds: float = sdc.DEFAULT_TIME_LIMIT,
                        language: str = "en") -> Path:
    """Write the pack for `year` from the snapshot of the warehouse at `db_path`; returns the
    index page. Raises NoDataForYear or DisclosureError (the audit found an exposed cell)
    before writing anything; any other failure leaves `out_dir` as it was (the pack is written
    aside, then moved in whole)."""
    out = Path(out_dir)
    with open_snapshot(db_path) as connection:
        if as_of:
            use_as_of(connection, as_of)
        pack = build_pack(connection, year, suppression_seconds, language)
    sdc.check_audit(pack.audit)  # the attacker's LPs over every published table together
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _write_pack(pack, staging, year, as_of, language)
        for written in sorted(staging.rglob("*")):
            if written.is_file():
                target = out / written.relative_to(staging)
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(written, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return out / "index.html"


def _write_pack(pack: Pack, out: Path, year: int, as_of: str | None, language: str) -> None:
    written_charts = _write_charts(pack, out / "charts", year, language)
    from reporting import country_profiles  # imported here: it builds on this module's tables

    profiles = country_profiles.write_profiles(pack, out, year, language)  # profiles/<ISO3>.html
    _write_tables(pack, out, year, language)
    # The audit is public: intervals a reader can compute anyway, never the hidden values.
    summary = sdc.audit_summary(pack.audit, pack.release.solver)
    neutralise_frame(pack.audit.drop(columns=["sensitive"])).to_csv(out / "disclosure_audit.csv", index=False)
    (out / "disclosure_audit.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    sdmx_summary = sdmx.write_sdg_16_2_2(pack.release, pack.population, year, out / SDMX_FILE)
    (out / "index.html").write_text(_index_html(pack.tables, written_charts, year, as_of, summary, language,
                                                sdmx_summary, profiles), encoding="utf-8")


def _write_tables(pack: Pack, out: Path, year: int, language: str) -> None:
    """The workbook (a sheet per table, formatted to paste into the report) and one CSV per
    table (one header row, plain numbers, shares as fractions), every cell inert."""
    (out / "tables").mkdir(parents=True, exist_ok=True)
    workbook = Workbook()
    workbook.remove(workbook.active)
    for table in pack.tables:
        inert = neutralise_frame(table.table)  # region names may come from a grouping file
        inert.to_csv(out / "tables" / f"{table.name}.csv", index=False)
        _write_sheet(workbook.create_sheet(table.name[:31]), table, inert, pack.data_as_of, language)
    workbook.save(out / f"glotip_tables_{year}.xlsx")


NUMBER_FORMATS = {SHARE: "0.0%", RATE: "#,##0.0000", YEAR: "0"}
COUNT_FORMAT = "#,##0"


def _write_sheet(sheet, table: PackTable, inert: pd.DataFrame, data_as_of: str | None, language: str) -> None:
    """The title on top, the header row frozen under it, numbers formatted (thousands
    separators, shares as percentages), then the notes-and-sources block; right to left in
    Arabic. Every cell is a value (workbook_cell: no formula)."""
    sheet.sheet_view.rightToLeft = language == "ar"
    sheet.append([workbook_cell(table.title)])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append([workbook_cell(str(c)) for c in inert.columns])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A3"
    formats = [NUMBER_FORMATS.get(table.column_kinds.get(c), COUNT_FORMAT) for c in table.table.columns]
    for values in inert.itertuples(index=False):
        sheet.append([workbook_cell(v.item() if isinstance(v, np.generic) else v) for v in values])
        for cell, number_format in zip(sheet[sheet.max_row], formats):
            if isinstance(cell.value, (int, float)):
                cell.number_format = number_format
            elif cell.value in (sdc.SMALL_LABEL, sdc.SECONDARY_LABEL):  # in line with the numbers
                cell.alignment = Alignment(horizontal="right")
    for position, column in enumerate(inert.columns, start=1):
        longest = max([len(str(column)) // 2, *(len(str(v)) for v in inert.iloc[:, position - 1])], default=8)
        sheet.column_dimensions[get_column_letter(position)].width = min(max(longest + 2, 9), 45)
    sheet.append([])
    sheet.append([workbook_cell(say("notes", language))])
    sheet.cell(sheet.max_row, 1).font = Font(bold=True)
    data_as = (say("as_of", language, date=format_date(date.fromisoformat(data_as_of), "long", locale=language))
               if data_as_of else say("as_of_snapshot", language))
    for line in (table.note, say("note.shares", language) if SHARE in table.column_kinds.values() else "",
                 say("legend", language), say("source", language), data_as):
        if line:
            sheet.append([workbook_cell(line.strip())])


def _write_charts(pack: Pack, out: Path, year: int, language: str) -> list[str]:
    """Every chart, PNG and SVG, in `language`; returns the files' names. Charts read the
    long protected frames (codes, `display`), never the translated tables nor exact counts."""
    out.mkdir(parents=True, exist_ok=True)
    frames = {t.name: t.protected[0].frame for t in pack.tables if t.protected}
    coverage = _countries_reporting(pack)
    with use_language(language):
        return (save(sex_age_figure(frames["victims_by_sex_age"], year, language), out, "victims_by_sex_age")
                + save(forms_figure(frames["forms_by_region"], year, language), out, "forms_by_region")
                + save(trends_figure(frames["victims_trend"], frames["offenders_trend"], coverage, language),
                       out, "trends")
                + save(flows_figure(frames["origin_destination"], year, language), out, "flows"))


def _countries_reporting(pack: Pack) -> pd.DataFrame:
    """Countries reporting victims and offenders by year, from the countries_reporting table
    (numbers of countries, not of persons: it has no protected frame). Its columns are read by
    position (year, victims, offenders, either), since their headers are in the pack's language."""
    table = next(t.table for t in pack.tables if t.name == "countries_reporting")
    columns = ["year", "countries_reporting_victims", "countries_reporting_offenders"]
    coverage = table.iloc[:, :3].set_axis(columns, axis=1)
    return coverage.astype({"year": int})


# The solver's outcomes (reporting/disclosure.py, SolverReport.outcome) said in the page's language.
SOLVER_OUTCOMES = {"optimal": "optimal", "no small cell linked": "no_small_cell_linked",
                   "time limit: fallback": "time_limit_fallback",
                   "protected; time limit before proven optimal": "time_limit_protected"}
PAGE_TABLE_ROWS = 60  # rows of each table shown on the page; the CSV and workbook hold them all
SDMX_FILE = "sdg_16_2_2.sdmx.csv"


def _cell(value, language: str) -> dict:
    """A published table cell as the page shows it: numbers the language's way, hidden cells
    (`<5`, `x`) and texts as they are, nothing for a missing value."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return {"text": "", "number": False}
    if value in (sdc.SMALL_LABEL, sdc.SECONDARY_LABEL):  # a hidden count is still a count
        return {"text": value, "number": True}
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        return {"text": str(value), "number": False}
    value = float(value)
    decimals = None if value.is_integer() else min(4, len(f"{value:.4f}".rstrip("0").split(".")[1]))
    return {"text": i18n.format_number(value, language, decimals=decimals), "number": True}


def _page_table(table: PackTable, language: str) -> dict:
    shown = table.table.head(PAGE_TABLE_ROWS)
    return {"name": table.name, "title": table.title, "note": table.note,
            "suppressed": sum(p.suppressed for p in table.protected),
            "headers": [str(c) for c in shown.columns], "total_rows": len(table.table),
            "rows": [[_cell(v, language) for v in row] for row in shown.itertuples(index=False)]}


def _currency(as_of: str | None, language: str) -> str:
    if not as_of:
        return i18n.ui("page.data_current", language)
    try:
        date = format_date(dt.date.fromisoformat(str(as_of)[:10]), "long", locale=language)
    except ValueError:
        date = str(as_of)
    return i18n.ui("page.data_as_of", language, date=date)


def _index_html(tables: list[PackTable], charts: list[str], year: int, as_of: str | None, audit: dict,
                language: str, sdmx_summary: "sdmx.SdmxSummary | None" = None,
                profiles: Sequence[tuple[str, str, str]] = ()) -> str:
    """The pack's index page in `language` (reporting/templates/pack_index.html): its tables,
    charts, the disclosure audit's summary, the SDG 16.2.2 SDMX file and the country profiles
    (`(iso3, name, href)`, as `write_profiles` returns them). Every text of the page's own is a
    `page.<key>` string (schemas/publication.py PAGE); table titles and notes come translated
    with their PackTables."""
    from jinja2 import Environment, PackageLoader, select_autoescape

    environment = Environment(loader=PackageLoader("reporting", "templates"),
                              autoescape=select_autoescape(["html"], default=True))
    solver = audit.get("solver")
    if solver:
        outcome = SOLVER_OUTCOMES.get(solver["outcome"])
        solver = {"seconds": solver["seconds"],
                  "outcome": i18n.ui(f"page.solver.{outcome}", language) if outcome else solver["outcome"]}
    pngs = [c for c in charts if c.endswith(".png")]
    chart_items = [{"png": c, "name": c.removesuffix(".png"),
                    "svg": c.replace(".png", ".svg") if c.replace(".png", ".svg") in charts else None} for c in pngs]
    sdmx_view = None if sdmx_summary is None else {"file": SDMX_FILE, **asdict(sdmx_summary)}
    right_to_left = language in i18n.RIGHT_TO_LEFT
    # In a right-to-left sentence `<5` and `x` are isolated left to right (LRI ... PDI): "<5" has no
    # strong direction of its own, so it would take the sentence's and show mirrored as "5>".
    symbol = (lambda text: f"\u2066{text}\u2069") if right_to_left else str
    return environment.get_template("pack_index.html").render(
        lang=language, direction="rtl" if right_to_left else "ltr",
        t=lambda key, **values: i18n.ui(f"page.{key}", language, **values),
        year=str(year), currency=_currency(as_of, language), workbook=f"glotip_tables_{year}.xlsx",
        small=symbol(sdc.SMALL_LABEL), hidden=symbol(sdc.SECONDARY_LABEL), audit=audit, solver=solver,
        charts=chart_items, tables=[_page_table(t, language) for t in tables], sdmx=sdmx_view,
        profiles=list(profiles))
