"""English texts of the publication outputs: the drafting pack's tables and page, its charts,
the country profiles and the SDG 16.2.2 SDMX file. Said through `schemas.i18n` like the
submitter reports (`i18n.ui("pack.<key>", language)`); each area's five translations are
`schemas/i18n/<area>/<lang>.json`, keyed `ui.<area>.<key>`.

One dictionary per area (its keys get the prefix `<area>.`): the areas change apart.
"""

from __future__ import annotations

# The drafting pack's tables: titles, column labels, notes and sources (reporting/drafting_pack.py).
PACK: dict[str, str] = {
    "not_reported": "not reported",
}


# The drafting pack's charts (reporting/pack_charts.py).
CHART: dict[str, str] = {
    "suppressed": "suppressed (<5 or x)",
    "source": "Source: UNODC, Global Report on Trafficking in Persons, national data. Counts of 1 to 4 "
              "persons are shown as <5; x: hidden so that no small count can be worked out.",
    "world": "World",
    "unclassified": "Region not known",
    "victims_axis": "Detected victims",
    "category.girls": "Girls",
    "category.boys": "Boys",
    "category.women": "Women",
    "category.men": "Men",
    "category.other_or_unknown": "Sex or age not reported",
    "sex_age_title": "Detected victims by sex and age, {year}",
    "forms_title": "Detected victims by form of exploitation, {year}",
    "trends_title": "Detected victims and persons prosecuted and convicted, by year",
    "trend_victims_title": "Detected victims, by region",
    "trend_offenders_title": "Persons prosecuted and convicted",
    "prosecuted": "Prosecuted",
    "convicted": "Convicted",
    "countries_victims": "Countries reporting victims",
    "countries_offenders": "Countries reporting prosecutions or convictions",
    "flows_title": "Detected victims by region of origin and region of detection, {year}",
    "flows_origin": "Region of origin (citizenship)",
    "flows_detection": "Region of detection",
    "flows_scale": "{n} victims",
    "flows_hidden": "Flows hidden by disclosure control (<5 or x): {n}; they make up the hatched "
                    "part of each region's bar.",
    "flows_unlabelled": "Bands too narrow for their number: {n} (every figure is in the pack's "
                        "table of origins and destinations).",
}


# The country profiles (reporting/country_profiles.py).
PROFILE: dict[str, str] = {
    "title": "Country profile: {country}",
}


# The pack's index page and the SDG 16.2.2 SDMX file (reporting/drafting_pack.py, reporting/sdmx.py).
PAGE: dict[str, str] = {
    "title": "GLOTIP drafting pack, {year}",
}

AREAS = {"pack": PACK, "chart": CHART, "profile": PROFILE, "page": PAGE}
