"""SDG indicator 16.2.2 for the SDG Global Database, as SDMX-CSV following the SDG data
structure definition (IAEG-SDGs' SDG DSD).

Indicator 16.2.2, "Number of victims of human trafficking per 100,000 population, by sex, age
and form of exploitation" (UNODC is custodian), is reported as series: VC_HTF_DETV (detected
victims, number) and its forms VC_HTF_DETVSX (sexual exploitation), VC_HTF_DETVFL (forced
labour), VC_HTF_DETVOG (removal of organs), VC_HTF_DETVOP (other purposes); the same with an R
(VC_HTF_DETVR, ...) per 100,000 population. One SDMX-CSV 2.0 row per observation, the DSD's
15 dimensions (a dimension without a breakdown is `_T`), TIME_PERIOD, OBS_VALUE and its
attributes (docs/analysts.md, "SDG 16.2.2 for the SDG Global Database", cites the DSD).

Every figure comes from the pack's release, as published (`display`, `status`): the exact
counts are never read. A cell shown as `<5` or `x` is not an observation: it is left out (the
DSD's OBS_VALUE is a number and it has no confidentiality attribute), and no rate is computed
from it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from reporting import disclosure as sdc
from schemas.countries import load_countries
from schemas.regions import region_code

# SDMX-CSV 2.0's first columns: what structure the rows follow, and how to take them.
STRUCTURE = "dataflow"
STRUCTURE_ID = "IAEG-SDGs:DF_SDG_GLH(1.12)"   # the SDG Global Database's dataflow (SDG DSD)
ACTION = "I"                                   # information: the data as they stand
# The SDG DSD's dimensions, in its order; TIME_PERIOD is its time dimension.
DIMENSIONS = ("FREQ", "REPORTING_TYPE", "SERIES", "REF_AREA", "SEX", "AGE", "URBANISATION",
              "INCOME_WEALTH_QUANTILE", "EDUCATION_LEV", "OCCUPATION", "CUST_BREAKDOWN",
              "COMPOSITE_BREAKDOWN", "DISABILITY_STATUS", "ACTIVITY", "PRODUCT", "TIME_PERIOD")
# The DSD's attributes written: the three mandatory ones, then the conditional ones we fill.
ATTRIBUTES = ("OBS_STATUS", "UNIT_MULT", "UNIT_MEASURE", "NATURE", "SOURCE_DETAIL", "COMMENT_OBS")
COLUMNS = ("STRUCTURE", "STRUCTURE_ID", "ACTION", *DIMENSIONS, "OBS_VALUE", *ATTRIBUTES)
NO_BREAKDOWN = "_T"
COUNT_UNIT, RATE_UNIT = "NUMBER", "PER_100000_POP"
RATE_DECIMALS = 4
SOURCE = "UNODC, Global Report on Trafficking in Persons data collection"
RATE_SOURCE = SOURCE + "; population: table `population` of the GLOTIP warehouse"
REGIONAL_COMMENT = ("Sum over the countries of the region with exact figures for the year in the "
                    "drafting pack, not an estimate for the whole region.")

# The pack's SDG 16.2.2 cells (category codes of the `sdg_16_2_2` table) as series, SEX, AGE.
# Sex or age not known, and the sex-by-age cells, have no SDG code here: they are not written.
CATEGORIES: dict[str, tuple[str, str, str]] = {
    "total": ("VC_HTF_DETV", NO_BREAKDOWN, NO_BREAKDOWN),
    "female": ("VC_HTF_DETV", "F", NO_BREAKDOWN),
    "male": ("VC_HTF_DETV", "M", NO_BREAKDOWN),
    "child": ("VC_HTF_DETV", NO_BREAKDOWN, "Y0T17"),
    "adult": ("VC_HTF_DETV", NO_BREAKDOWN, "Y_GE18"),
    "sexual_exploitation": ("VC_HTF_DETVSX", NO_BREAKDOWN, NO_BREAKDOWN),
    "forced_labour": ("VC_HTF_DETVFL", NO_BREAKDOWN, NO_BREAKDOWN),
    "removal_of_organs": ("VC_HTF_DETVOG", NO_BREAKDOWN, NO_BREAKDOWN),
    "other_purposes": ("VC_HTF_DETVOP", NO_BREAKDOWN, NO_BREAKDOWN),
}
COUNT_SERIES = tuple(dict.fromkeys(series for series, _, _ in CATEGORIES.values()))
RATE_SERIES = tuple(f"{series}R" for series in COUNT_SERIES)


@dataclass
class SdmxSummary:
    """What the file holds, for the pack's index page."""
    observations: int
    counts: int
    rates: int
    hidden_left_out: int          # cells published as `<5` or `x`: no observation, no rate


@cache
def _m49_by_iso3() -> dict[str, str]:
    countries = load_countries()
    return dict(zip(countries["iso3"], countries["m49_code"]))


def ref_area(area: str) -> str | None:
    """REF_AREA of a country (ISO3) or an M49 region ("World" too): the M49 numeric code as the
    SDG DSD's area codelist has it, without leading zeros ("4" Afghanistan, "1" World)."""
    code = _m49_by_iso3().get(area) or region_code(area)
    return str(int(code)) if code else None


def _observation(series: str, area: str, sex: str, age: str, year: int, value: str, unit: str,
                 nature: str, source: str, comment: str = "") -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, NO_BREAKDOWN)
    row.update(STRUCTURE=STRUCTURE, STRUCTURE_ID=STRUCTURE_ID, ACTION=ACTION, FREQ="A",
               REPORTING_TYPE="G", SERIES=series, REF_AREA=area, SEX=sex, AGE=age,
               TIME_PERIOD=str(year), OBS_VALUE=value, OBS_STATUS="A", UNIT_MULT="0",
               UNIT_MEASURE=unit, NATURE=nature, SOURCE_DETAIL=source, COMMENT_OBS=comment)
    return row


def _published_count(display, status) -> int | None:
    """The published number of a cell; None when it is hidden (`<5`, `x`) or empty."""
    if status in ("primary", "secondary"):
        return None
    number = sdc.published_number(display)
    return number if isinstance(number, int) else None


def sdg_observations(sdg: pd.DataFrame, regional: pd.DataFrame | None, population: pd.DataFrame,
                     year: int) -> tuple[pd.DataFrame, SdmxSummary]:
    """The SDMX-CSV rows of `year`: counts of the pack's `sdg_16_2_2` cells (its protected long
    frame: country, category, display, status) and their rates per 100,000 where the country's
    population is known; then the totals of regions and the world from `regional` (the
    `victims_by_sex_age` frame: level, region, category, display, status) where the SDG
    table has none. Hidden cells are counted, not written."""
    people = dict(zip(population["country"], population["population"])) if not population.empty else {}
    rows: list[dict[str, str]] = []
    written: set[tuple[str, str, str, str]] = set()
    hidden = 0
    for record in sdg.to_dict("records"):
        if record["category"] not in CATEGORIES:
            continue
        area = ref_area(record["country"])
        if area is None:
            continue
        series, sex, age = CATEGORIES[record["category"]]
        count = _published_count(record["display"], record["status"])
        if count is None:
            hidden += record["status"] in ("primary", "secondary")
            continue
        rows.append(_observation(series, area, sex, age, year, str(count), COUNT_UNIT, "C", SOURCE))
        written.add((series, area, sex, age))
        persons = people.get(record["country"])
        if persons and persons > 0:
            rate = round(count * 100000 / float(persons), RATE_DECIMALS)
            rows.append(_observation(f"{series}R", area, sex, age, year, f"{rate:.{RATE_DECIMALS}f}",
                                     RATE_UNIT, "C", RATE_SOURCE))
    if regional is not None:
        totals = regional[regional["level"].isin(["region", "world"]) & (regional["category"] == "total")]
        for record in totals.to_dict("records"):
            area = ref_area(record["region"])
            if area is None or ("VC_HTF_DETV", area, NO_BREAKDOWN, NO_BREAKDOWN) in written:
                continue
            count = _published_count(record["display"], record["status"])
            if count is None:
                hidden += record["status"] in ("primary", "secondary")
                continue
            # An aggregate of country data: no NATURE code of the DSD's list says that (C is
            # one country's data), so it is left empty and the comment says what it sums.
            rows.append(_observation("VC_HTF_DETV", area, NO_BREAKDOWN, NO_BREAKDOWN, year, str(count),
                                     COUNT_UNIT, "", SOURCE, REGIONAL_COMMENT))
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    rates = int(frame["UNIT_MEASURE"].eq(RATE_UNIT).sum())
    return frame, SdmxSummary(len(frame), len(frame) - rates, rates, int(hidden))


def write_sdg_16_2_2(release: sdc.Release, population: pd.DataFrame, year: int, path: Path) -> SdmxSummary:
    """Write `path` (SDMX-CSV 2.0, UTF-8) from the release's `sdg_16_2_2` and
    `victims_by_sex_age` tables; returns what it holds."""
    names = {table.name for table in release.tables}
    regional = release.table("victims_by_sex_age").frame if "victims_by_sex_age" in names else None
    frame, summary = sdg_observations(release.table("sdg_16_2_2").frame, regional, population, year)
    # Every field quoted only where needed; the texts are ours (no submitted text reaches here).
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return summary
