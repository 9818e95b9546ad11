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
    "data_as_of": "Figures as current on {date}.",
    "data_current": "Figures as current at the last publication of the analysts' snapshot.",
    "suppression_note": "Counts of 1 to 4 persons are shown as {small}. Cells shown as {hidden} are "
                        "hidden so that no small count can be worked out from the totals; this was "
                        "checked across all tables together before anything was written.",
    "workbook": "All tables in one workbook",
    "contents": "Contents",
    "section_audit": "Disclosure control",
    "audit_summary": "Disclosure audit: suppressed cells across all tables together: {suppressed} "
                     "(shown as {small}: {small_count}; shown as {hidden}: {hidden_count}); "
                     "cells exposed: {exposed}.",
    "audit_passed": "Given everything published, each count shown as {small} can be anything from "
                    "1 to 4, and no hidden cell can be worked out.",
    "audit_failed": "Some suppressed cells can be worked out from what is published: this pack "
                    "must not be published.",
    "audit_intervals": "Feasible interval of each suppressed cell",
    "solver": "Secondary suppression solved as one integer programme (HiGHS) in {seconds} s: {outcome}.",
    "solver.optimal": "optimal",
    "solver.no_small_cell_linked": "no small count to protect",
    "solver.time_limit_fallback": "time limit reached, protected by the fallback method",
    "solver.time_limit_protected": "protected, time limit reached before optimality was proven",
    "section_charts": "Charts",
    "chart_alt": "Chart {name}",
    "chart_svg": "Vector version (SVG)",
    "section_tables": "Tables",
    "table_csv": "CSV file",
    "table_suppressed": "Suppressed cells: {cells}",
    "table_first_rows": "First {shown} of {total} rows; all rows are in the CSV file and the workbook.",
    "section_sdmx": "SDG indicator 16.2.2 for the SDG Global Database",
    "sdmx_file": "SDMX-CSV file following the SDG data structure definition",
    "sdmx_summary": "Observations: {observations} (counts: {counts}; rates per 100,000 population: "
                    "{rates}). Suppressed cells left out: {hidden}.",
    "sdmx_note": "Series VC_HTF_DETV (detected victims) by sex and age, and by form of exploitation "
                 "(VC_HTF_DETVSX, VC_HTF_DETVFL, VC_HTF_DETVOG, VC_HTF_DETVOP); rates per "
                 "100,000 population in the series ending in R. Areas by their M49 codes.",
    "section_profiles": "Country profiles",
    "no_profiles": "This pack has no country profiles.",
    "generated_by": "Generated by the GLOTIP submissions pipeline (UNODC) from the analysts' snapshot.",
}

AREAS = {"pack": PACK, "chart": CHART, "profile": PROFILE, "page": PAGE}
