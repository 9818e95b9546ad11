"""The drafting pack of a Global Report edition: tables (one .xlsx, a sheet per table, and CSV),
charts (PNG and SVG) and an index page, from the analysts' snapshot.

Everything here is meant for publication, so every count of persons goes through disclosure
control (reporting/disclosure.py), all tables of the pack as one release: each cell has a key
from its data, so a figure shown in two tables is one cell; small counts are shown as `<5`,
optimal secondary suppression (`x`) keeps each of them anywhere in 1 to 4 for a reader of every
table, and the audit (disclosure_audit.csv) fails the pack before anything is written if one
is not. Shares and rates are computed only from published cells. Tables are built so that
their totals are exactly the sums of their parts (other-or-unknown categories take the rest):
the relations the attacker uses are then the relations that hold (checked).
Exact values stay in the warehouse for internal analysis (`glotip sql`).
"""

from __future__ import annotations

import html
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from schemas import codelists as cl
from reporting import disclosure as sdc
from reporting.pack_charts import chart_flows, chart_forms, chart_sex_age, chart_trends
from reporting.safe import neutralise_frame
from warehouse.snapshot import open_snapshot, use_as_of
from warehouse.queries import run_standard_query

WORLD = "World"
TOTAL_LABEL = "Total"
SEX_AGE = ("girls", "boys", "women", "men")
SEX_AGE_LABELS = {"girls": "Girls", "boys": "Boys", "women": "Women", "men": "Men",
                  "other_or_unknown": "Other or unknown", "total": TOTAL_LABEL}
SDG_FORMS = ("sexual_exploitation", "forced_labour", "removal_of_organs")
TREND_YEARS = 10
# The sex and age of each category of the sex/age and SDG tables, for their cell keys: the same
# figure in both tables gets the same key (reporting/disclosure.py links them).
CATEGORY_DIMENSIONS = {
    "girls": {"sex": "female", "age": "child"}, "boys": {"sex": "male", "age": "child"},
    "women": {"sex": "female", "age": "adult"}, "men": {"sex": "male", "age": "adult"},
    "other_or_unknown": {"sex_age": "other_or_unknown"}, "total": {},
    "female": {"sex": "female"}, "male": {"sex": "male"}, "sex_other_or_unknown": {"sex": "other_or_unknown"},
    "child": {"age": "child"}, "adult": {"age": "adult"}, "age_unknown": {"age": "unknown"},
    "other_purposes": {"form": "other"}, **{form: {"form": form} for form in SDG_FORMS},
}
# How a table builder has its cells protected: `protect(name, frame, relations)`. The release is
# protected as a whole, so `build_pack` runs the builders twice: first to collect every table's
# cells (sdc.ReleaseDraft), then with the solved release (sdc.release_table).
Protect = Callable[[str, pd.DataFrame, list], "sdc.ProtectedTable"]


@dataclass
class PackTable:
    name: str
    title: str
    table: pd.DataFrame                      # as published (suppressed cells as `<5` / `x`)
    protected: list[sdc.ProtectedTable]      # the disclosure-controlled parts (may be empty)
    note: str = ""


class NoDataForYear(LookupError):
    """No country's figures for the edition's year: there is nothing to draft a pack from."""

    def __init__(self, year: int, years_with_data: list[int]):
        self.year, self.years_with_data = year, years_with_data
        held = (f"the warehouse holds {years_with_data[0]} to {years_with_data[-1]}"
                if years_with_data else "the warehouse holds no figures yet")
        super().__init__(f"No figures for {year}: {held}. Nothing was written.")


# ------------------------------------------------------------------ reading

def read_pack_data(connection, year: int) -> dict[str, pd.DataFrame]:
    """The standard queries the pack is built from (exact values; internal)."""
    first_year = year - TREND_YEARS + 1
    trend_years = lambda frame: frame[(frame["year"] >= first_year) & (frame["year"] <= year)]  # noqa: E731
    return {
        "profiles": run_standard_query(connection, "country_profiles", {"year": year}),
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
    }


# ------------------------------------------------------------------ consistent country cells

def country_cells(profiles: pd.DataFrame) -> pd.DataFrame:
    """Per country, cells whose totals are exactly the sums of their parts: the total is the
    largest of the reported total and each breakdown's sum; the rest of each breakdown goes to
    an other-or-unknown category. Cells not reported (or published as `<5` upstream) count 0."""
    numbers = profiles.drop(columns=["country", "name", "region", "year", "suppressed_cells"])
    numbers = numbers.astype("float64").fillna(0)
    female = np.maximum(numbers["female"], numbers["girls"] + numbers["women"])
    male = np.maximum(numbers["male"], numbers["boys"] + numbers["men"])
    child = np.maximum(numbers["child"], numbers["girls"] + numbers["boys"])
    adult = np.maximum(numbers["adult"], numbers["women"] + numbers["men"])
    forms = numbers[list(SDG_FORMS)].sum(axis=1)
    total = np.maximum.reduce([numbers["total"], female + male, child + adult,
                               numbers[list(SEX_AGE)].sum(axis=1), forms])
    cells = profiles[["country", "name", "region"]].copy()
    for column in SEX_AGE:
        cells[column] = numbers[column]
    cells["other_or_unknown"] = total - numbers[list(SEX_AGE)].sum(axis=1)
    cells["female"], cells["male"], cells["sex_other_or_unknown"] = female, male, total - female - male
    cells["child"], cells["adult"], cells["age_unknown"] = child, adult, total - child - adult
    for column in SDG_FORMS:
        cells[column] = numbers[column]
    cells["other_purposes"] = total - forms
    cells["total"] = total
    reported = profiles.drop(columns=["country", "name", "region", "year"]).notna()
    cells["reported_sex"] = (reported["female"] | reported["male"] | reported["girls"] | reported["boys"]
                             | reported["women"] | reported["men"]).to_numpy()
    cells["reported_age"] = (reported["child"] | reported["adult"] | reported["girls"] | reported["boys"]
                             | reported["women"] | reported["men"]).to_numpy()
    cells["reported_form"] = reported[list(SDG_FORMS)].any(axis=1).to_numpy()
    return cells.reset_index(drop=True)


# ------------------------------------------------------------------ tables

def _country_cell_key(year: int, area: str | None, category: str) -> str:
    """A cell of the countries with exact figures (`country_cells`), or of their regional sums."""
    return sdc.cell_key("victims_exact_countries", year=year, area=area, **CATEGORY_DIMENSIONS[category])


def victims_by_sex_age_table(cells: pd.DataFrame, year: int, protect: Protect) -> PackTable:
    """Countries, regions and the world x girls, boys, women, men, other or unknown, total."""
    categories = [*SEX_AGE, "other_or_unknown", "total"]
    rows = []
    for record in cells.itertuples(index=False):
        for category in categories:
            rows.append(("country", record.region, record.name, category, getattr(record, category),
                         _country_cell_key(year, record.country, category)))
    regional = cells.groupby("region")[categories].sum()
    for region, values in regional.iterrows():
        rows += [("region", region, region, c, values[c], _country_cell_key(year, f"region:{region}", c))
                 for c in categories]
    rows += [("world", WORLD, WORLD, c, regional[c].sum(), _country_cell_key(year, None, c)) for c in categories]
    frame = pd.DataFrame(rows, columns=["level", "region", "area", "category", "count", "key"])
    parent_of = {name: region for name, region in zip(cells["name"], cells["region"])}
    parent_of |= {region: WORLD for region in regional.index}
    relations = (sdc.additive_relations(frame, "category", "total", ["area"])
                 + sdc.hierarchy_relations(frame, "area", parent_of, ["category"]))
    protected = protect("victims_by_sex_age", frame, relations)
    table = _wide(protected.frame, ["level", "region", "area"], "category", categories)
    table = table.rename(columns=SEX_AGE_LABELS)
    for label in ("Girls", "Boys", "Women", "Men"):
        table[f"{label} (share)"] = _share(table[label], table[TOTAL_LABEL])
    level_order = {"world": 0, "region": 1, "country": 2}
    table = table.sort_values(["region", "level", "area"], key=lambda s: s.map(level_order) if s.name == "level" else s)
    table = pd.concat([table[table["level"] == "world"], table[table["level"] != "world"]])
    return PackTable("victims_by_sex_age", f"Detected victims by sex and age, {year}", table, [protected],
                     "Girls and boys are 0 to 17 years old. Other or unknown: sex or age not reported.")


def forms_by_region_table(forms: pd.DataFrame, year: int, protect: Protect) -> PackTable:
    present = [code for code in cl.FORM.codes if code in set(forms["form"]) and code != cl.TOTAL]
    counts = forms.pivot_table(index="region", columns="form", values="victims", aggfunc="sum").reindex(columns=present).fillna(0)
    counts.loc[WORLD] = counts.sum()
    counts["total"] = counts.sum(axis=1)
    frame = counts.stack().rename("count").reset_index().rename(columns={"form": "category"})
    frame["key"] = [sdc.cell_key("victims_by_form", year=year, area=None if r == WORLD else f"region:{r}",
                                 form=None if c == "total" else c) for r, c in zip(frame["region"], frame["category"])]
    relations = (sdc.additive_relations(frame, "category", "total", ["region"])
                 + sdc.hierarchy_relations(frame, "region", {r: WORLD for r in counts.index if r != WORLD}, ["category"]))
    protected = protect("forms_by_region", frame, relations)
    labels = {code: cl.FORM.label(code) for code in present} | {"total": TOTAL_LABEL}
    table = _wide(protected.frame, ["region"], "category", [*present, "total"]).rename(columns=labels)
    for code in present:
        if code != cl.UNKNOWN:
            table[f"{labels[code]} (share)"] = _share(table[labels[code]], table[TOTAL_LABEL])
    return PackTable("forms_by_region", f"Detected victims by form of exploitation and region, {year}",
                     _world_first(table, "region"), [protected],
                     "Shares are of all detected victims with a reported form, where both counts are published.")


def victims_trend_table(trend: pd.DataFrame, protect: Protect) -> PackTable:
    regional = trend[trend["region"] != WORLD]
    frame = regional[["region", "year", "total_victims"]].rename(columns={"total_victims": "count"})
    world = frame.groupby("year", as_index=False)["count"].sum().assign(region=WORLD)
    frame = pd.concat([frame, world], ignore_index=True)
    frame["key"] = [sdc.cell_key("victims_reported_total", year=int(y), area=None if r == WORLD else f"region:{r}")
                    for r, y in zip(frame["region"], frame["year"])]
    relations = sdc.hierarchy_relations(frame, "region", {r: WORLD for r in regional["region"]}, ["year"])
    protected = protect("victims_trend", frame, relations)
    table = _wide(protected.frame, ["region"], "year", sorted(frame["year"].unique()))
    table.columns = [str(c) for c in table.columns]
    return PackTable("victims_trend", "Detected victims by region and year", _world_first(table, "region"),
                     [protected], "Reported totals of the countries with data for that year.")


def _citizenship_key(year: int, destination: str, **dimensions) -> str:
    """Victims by region of detection with a known citizenship: the flows and origin tables
    share their totals by region of detection."""
    area = None if destination in (WORLD, TOTAL_LABEL) else f"region:{destination}"
    return sdc.cell_key("victims_with_citizenship", year=year, destination=area, **dimensions)


def flows_table(flow_shares: pd.DataFrame, year: int, protect: Protect) -> PackTable:
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
    labels = {"domestic": "Domestic", "intra_regional": "Intra-regional",
              "trans_regional": "Trans-regional", "unclassified": "Unclassified", "total": TOTAL_LABEL}
    table = _wide(protected.frame, ["destination_region"], "flow_type", [*types, "total"]).rename(columns=labels)
    for t in types[:3]:
        table[f"{labels[t]} (share)"] = _share(table[labels[t]], table[TOTAL_LABEL])
    return PackTable("flows_by_type", f"Detected victims by flow type and region of detection, {year}",
                     _world_first(table, "destination_region"), [protected],
                     "Countries of detection reporting victims by citizenship.")


def origin_destination_table(origins: pd.DataFrame, year: int, protect: Protect) -> PackTable:
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
    table = _wide(protected.frame, ["destination_region"], "origin_region", list(matrix.columns))
    table = table.rename(columns={c: f"from {c}" for c in matrix.columns if c != TOTAL_LABEL})
    return PackTable("origin_destination", f"Detected victims by region of origin (columns) and of detection (rows), {year}",
                     table, [protected], "Region of origin: the victims' citizenship.")


def offenders_table(offenders: pd.DataFrame, protect: Protect) -> PackTable:
    counted = ["prosecuted", "convicted", "convicted_women", "convicted_men"]
    frame = offenders.melt(id_vars="year", value_vars=counted, var_name="category", value_name="count")
    frame["key"] = [sdc.cell_key(f"persons_{c}", year=int(y)) for c, y in zip(frame["category"], frame["year"])]
    protected = protect("offenders_trend", frame, [])  # no additive relation between these
    table = _wide(protected.frame, ["year"], "category", counted)
    table = table.merge(offenders[["year", "countries_prosecuted", "countries_convicted"]], on="year")
    table["Women among convicted (share)"] = _share(table["convicted_women"],
                                                    _sum_published(table["convicted_women"], table["convicted_men"]))
    table = table.rename(columns={"prosecuted": "Prosecuted", "convicted": "Convicted",
                                  "convicted_women": "Convicted: women", "convicted_men": "Convicted: men"})
    return PackTable("offenders_trend", "Persons prosecuted and convicted, by year", table, [protected],
                     "Women's share: among convicted persons of known sex, in the countries reporting sex.")


def coverage_table(coverage: pd.DataFrame) -> PackTable:
    # Numbers of countries, not of persons: no suppression needed.
    return PackTable("countries_reporting", "Countries reporting, by year", coverage.reset_index(drop=True), [])


def organ_removal_table(cases: pd.DataFrame, material: pd.DataFrame, protect: Protect) -> PackTable:
    frame = cases[["year", "victims"]].rename(columns={"victims": "count"})
    frame["key"] = [sdc.cell_key("victims_in_organ_removal_cases", year=int(y)) for y in frame["year"]]
    protected = protect("organ_removal", frame, [])
    table = cases.drop(columns=["victims"]).copy()
    table.insert(2, "victims", protected.frame["display"].map(sdc.published_number).to_numpy())
    if not material.empty:
        by_material = material.pivot_table(index="year", columns="material", values="cases", aggfunc="sum").fillna(0)
        by_material.columns = [f"cases: {cl.MATERIAL_REMOVED.label(c).lower()}" for c in by_material.columns]
        table = table.merge(by_material.astype(int).reset_index(), on="year", how="left")
    return PackTable("organ_removal", "Trafficking for the removal of organs: cases by year", table, [protected],
                     "Cases are court and police cases, counted without suppression; victims are suppressed as other counts.")


def sdg_table(cells: pd.DataFrame, population: pd.DataFrame, year: int, protect: Protect) -> PackTable:
    """SDG 16.2.2: victims per 100,000 population by country, for the total, sex, age and form."""
    breakdowns = {
        "sex": ["female", "male", "sex_other_or_unknown"],
        "age": ["child", "adult", "age_unknown"],
        "form": [*SDG_FORMS, "other_purposes"],
    }
    rows = []
    for record in cells.itertuples(index=False):
        rows.append((record.country, record.name, "total", "total", record.total))
        for breakdown, categories in breakdowns.items():
            if getattr(record, f"reported_{breakdown}"):  # a breakdown not reported is left out
                rows += [(record.country, record.name, breakdown, c, getattr(record, c)) for c in categories]
    frame = pd.DataFrame(rows, columns=["country", "name", "breakdown", "category", "count"])
    frame["key"] = [_country_cell_key(year, country, category)
                    for country, category in zip(frame["country"], frame["category"])]
    relations = []
    for _, group in frame.groupby("country", sort=False):
        positions = list(group.index)
        total = positions[0]
        for breakdown in breakdowns:
            parts = [p for p in positions if frame.at[p, "breakdown"] == breakdown]
            if parts:
                relations.append((total, parts))
    protected = protect("sdg_16_2_2", frame, relations)
    table = protected.frame[["country", "name", "breakdown", "category", "display"]].rename(columns={"display": "victims"})
    table = table.merge(population[["country", "population"]], on="country", how="left")
    published = pd.to_numeric(table["victims"], errors="coerce")
    table["victims_per_100k"] = (published * 100000 / table["population"]).round(4)
    table["victims"] = table["victims"].map(sdc.published_number)
    table["population"] = table["population"].astype("Int64")
    note = ("Denominator: total population of the country and year (table `population`). "
            "The rate is empty where the count is suppressed or the population is not known.")
    if population.empty:
        note += f" No population is loaded for {year}: load one with `glotip load-population`."
    return PackTable("sdg_16_2_2", f"SDG 16.2.2: detected victims per 100,000 population, {year}", table,
                     [protected], note)


# ------------------------------------------------------------------ helpers

def _wide(protected: pd.DataFrame, index: list[str], column: str, order: list) -> pd.DataFrame:
    wide = protected.pivot(index=index, columns=column, values="display").reindex(columns=order)
    wide = wide.reset_index()
    wide.columns.name = None
    # Column by column as objects, so that published counts stay whole numbers next to `<5`.
    return pd.DataFrame({c: pd.Series([sdc.published_number(v) for v in wide[c]] if c not in index else wide[c],
                                      dtype=object) for c in wide.columns})


def _share(part: pd.Series, whole) -> pd.Series:
    whole = sdc.published_values(whole) if isinstance(whole, pd.Series) and whole.dtype == object else pd.to_numeric(whole)
    return (sdc.published_values(part) / whole.replace(0, np.nan)).round(4)


def _sum_published(a: pd.Series, b: pd.Series) -> pd.Series:
    return sdc.published_values(a) + sdc.published_values(b)


def _world_first(table: pd.DataFrame, column: str) -> pd.DataFrame:
    return pd.concat([table[table[column] == WORLD], table[table[column] != WORLD]], ignore_index=True)


# ------------------------------------------------------------------ the pack

@dataclass
class Pack:
    tables: list[PackTable]
    release: sdc.Release          # every protected table, protected together
    audit: pd.DataFrame           # every suppressed cell's feasible interval (sdc.audit_release)


def sex_age_links(cells: pd.DataFrame, year: int) -> tuple[dict[str, float], list[sdc.KeyRelation]]:
    """What ties the SDG table's sex and age margins to the sex/age table's cells, as relations
    with a cell published nowhere: female = girls + women + females of unknown age (likewise
    male, child, adult). They hold because `country_cells` makes each margin at least the sum
    of its cross cells; a reader can rely on them, so the audit and the solver do."""
    unpublished: dict[str, float] = {}
    relations: list[sdc.KeyRelation] = []
    margins = (("female", ("girls", "women"), {"sex": "female", "age": "unknown"}, "reported_sex"),
               ("male", ("boys", "men"), {"sex": "male", "age": "unknown"}, "reported_sex"),
               ("child", ("girls", "boys"), {"sex": "unknown", "age": "child"}, "reported_age"),
               ("adult", ("women", "men"), {"sex": "unknown", "age": "adult"}, "reported_age"))
    for record in cells.itertuples(index=False):
        for margin, parts, rest, shown in margins:
            if not getattr(record, shown):  # the SDG table leaves the breakdown out
                continue
            rest_key = sdc.cell_key("victims_exact_countries", year=year, area=record.country, **rest)
            unpublished[rest_key] = getattr(record, margin) - sum(getattr(record, p) for p in parts)
            relations.append((_country_cell_key(year, record.country, margin),
                              [*(_country_cell_key(year, record.country, p) for p in parts), rest_key]))
    return unpublished, relations


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


def build_pack(connection, year: int, suppression_seconds: float = sdc.DEFAULT_TIME_LIMIT) -> Pack:
    """The pack's tables, protected as one release, and its audit; NoDataForYear when no
    country has figures for `year`."""
    from reporting import country_profiles  # imported here: it builds on this module's tables

    data = read_pack_data(connection, year)
    data |= country_profiles.read_profile_data(connection, year)
    if data["profiles"].empty:
        years = run_standard_query(connection, "countries_reporting")["year"]
        raise NoDataForYear(year, sorted(int(y) for y in years.unique()))
    # Country tables need exact figures: a country whose cells include published `<5` values
    # (count unknown) is left out of them, not shown with zeros.
    profiles = data["profiles"]
    exact = profiles[profiles["suppressed_cells"] == 0]
    cells = country_cells(exact)
    left_out = sorted(profiles.loc[profiles["suppressed_cells"] > 0, "name"])

    def tables_with(protect: Protect) -> list[PackTable]:
        return [
            victims_by_sex_age_table(cells, year, protect),
            forms_by_region_table(data["forms"], year, protect),
            victims_trend_table(data["sex_age_trend"], protect),
            offenders_table(data["offenders"], protect),
            flows_table(data["flow_shares"], year, protect),
            origin_destination_table(data["origins"], year, protect),
            coverage_table(data["coverage"]),
            organ_removal_table(data["organ_cases"], data["organ_material"], protect),
            sdg_table(cells, data["population"], year, protect),
            *country_profiles.profile_tables(data, year, protect),
        ]

    draft = sdc.ReleaseDraft()
    tables_with(draft.table)  # first pass: every table's cells
    unpublished, links = sex_age_links(cells, year)
    release = draft.protect(unpublished, links + flow_links(draft, year), time_limit=suppression_seconds)
    tables = tables_with(partial(sdc.release_table, release))
    if left_out:
        for table in (t for t in tables if t.name in ("victims_by_sex_age", "sdg_16_2_2")):
            table.note += (f" Left out: {len(left_out)} countries whose {year} figures include cells "
                           f"published as <5 (not exact): {', '.join(left_out[:12])}"
                           + (", ..." if len(left_out) > 12 else "") + ".")
    return Pack(tables, release, sdc.audit_release(release))


def build_tables(connection, year: int) -> list[PackTable]:
    """The pack's tables (`build_pack` without its release and audit)."""
    return build_pack(connection, year).tables


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
        pack = build_pack(connection, year, suppression_seconds)
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

    country_profiles.write_profiles(pack, out, year, language)  # profiles/<ISO3>.html: (iso3, name, href)
    _write_tables(pack, out, year, language)
    # The audit is public: intervals a reader can compute anyway, never the hidden values.
    summary = sdc.audit_summary(pack.audit, pack.release.solver)
    neutralise_frame(pack.audit.drop(columns=["sensitive"])).to_csv(out / "disclosure_audit.csv", index=False)
    (out / "disclosure_audit.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    (out / "index.html").write_text(_index_html(pack.tables, written_charts, year, as_of, summary, language),
                                    encoding="utf-8")


def _write_tables(pack: Pack, out: Path, year: int, language: str) -> None:
    """The workbook (a sheet per table) and one CSV per table, inert."""
    (out / "tables").mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(out / f"glotip_tables_{year}.xlsx", engine="openpyxl") as workbook:
        for table in pack.tables:
            inert = neutralise_frame(table.table)  # region names may come from a grouping file
            inert.to_excel(workbook, sheet_name=table.name[:31], index=False)
            inert.to_csv(out / "tables" / f"{table.name}.csv", index=False)


def _write_charts(pack: Pack, out: Path, year: int, language: str) -> list[str]:
    """Every chart, PNG and SVG; returns the files' names."""
    out.mkdir(parents=True, exist_ok=True)
    by_name = {t.name: t.table for t in pack.tables}
    return (chart_sex_age(by_name["victims_by_sex_age"], out, year)
            + chart_forms(by_name["forms_by_region"], out, year)
            + chart_trends(by_name["victims_trend"], by_name["offenders_trend"], out)
            + chart_flows(by_name["origin_destination"], out, year))


def _index_html(tables: list[PackTable], charts: list[str], year: int, as_of: str | None, audit: dict,
                language: str) -> str:
    e = html.escape
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>GLOTIP drafting pack {year}</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;font-size:12px;margin-bottom:1em}td,th{border:1px solid #ccc;padding:2px 6px}"
             "td{text-align:right}img{max-width:100%;border:1px solid #eee}.note{color:#555;font-size:13px}</style></head><body>",
             f"<h1>GLOTIP drafting pack, {year}</h1>",
             f"<p class='note'>Data as current {'at ' + e(as_of) if as_of else 'at publication of the snapshot'}. "
             "Counts of 1 to 4 persons are shown as <code>&lt;5</code>; cells shown as <code>x</code> are hidden so "
             "that no small count can be worked out from the totals (checked before writing). "
             f"All tables: <a href='glotip_tables_{year}.xlsx'>workbook</a>; each as CSV below.</p>",
             f"<p class='note'>Disclosure audit: {audit['suppressed_cells']} suppressed cells "
             f"({audit['shown_small']} <code>&lt;5</code>, {audit['shown_x']} <code>x</code>) across all tables "
             f"together; {audit['exposed']} exposed: every <code>&lt;5</code> count can be anything from 1 to 4 "
             "given everything published, and no hidden cell can be worked out. Each cell's feasible interval: "
             "<a href='disclosure_audit.csv'>disclosure_audit.csv</a>.</p>",
             "<h2>Charts</h2>"]
    parts += [f"<p><img src='charts/{e(c)}' alt='{e(c)}'><br><a href='charts/{e(c.replace('.png', '.svg'))}'>SVG</a></p>"
              for c in charts if c.endswith(".png")]
    parts.append("<h2>Tables</h2>")
    for table in tables:
        hidden = sum(p.suppressed for p in table.protected)
        parts.append(f"<h3>{e(table.title)}</h3><p class='note'>{e(table.note)} "
                     f"<a href='tables/{e(table.name)}.csv'>CSV</a>; {hidden} cells suppressed.</p>")
        parts.append(table.table.head(60).to_html(index=False, na_rep="", escape=True))
        if len(table.table) > 60:
            parts.append(f"<p class='note'>First 60 of {len(table.table)} rows; all in the CSV and workbook.</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
