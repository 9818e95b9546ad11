"""English texts of the publication outputs: the drafting pack's tables and page, its charts,
the country profiles and the SDG 16.2.2 SDMX file. Said through `schemas.i18n` like the
submitter reports (`i18n.ui("pack.<key>", language)`); each area's five translations are
`schemas/i18n/<area>/<lang>.json`, keyed `ui.<area>.<key>`.

One dictionary per area (its keys get the prefix `<area>.`): the areas change apart.
"""

from __future__ import annotations

from schemas.portal_text import PORTAL

# The drafting pack's tables: titles, column labels, notes and sources (reporting/drafting_pack.py).
PACK: dict[str, str] = {
    "not_reported": "not reported",
    # table titles
    "title.victims_by_sex_age": "Detected victims by sex and age, {year}",
    "title.forms_by_region": "Detected victims by form of exploitation and region, {year}",
    "title.victims_trend": "Detected victims by region and year",
    "title.offenders_trend": "Persons prosecuted and convicted, by year",
    "title.flows_by_type": "Detected victims by flow type and region of detection, {year}",
    "title.origin_destination": "Detected victims by region of origin (columns) and region of detection (rows), {year}",
    "title.countries_reporting": "Countries reporting, by year",
    "title.organ_removal": "Trafficking for the removal of organs: cases by year",
    "title.sdg_16_2_2": "SDG 16.2.2: detected victims per 100,000 population, {year}",
    # notes under each table
    "note.victims_by_sex_age": ("Girls and boys are 0 to 17 years old. Other or unknown: victims of other or "
                                "unknown sex or age, and all victims of the countries that gave no breakdown by "
                                "sex and age. Shares are of the victims of known sex and age, in the countries "
                                "reporting sex and age."),
    "note.forms_by_region": ("Unknown or not reported: victims whose form of exploitation is unknown or was not "
                             "reported. Shares are of the victims of known form, in the countries reporting forms."),
    "note.victims_trend": ("Totals of the countries with exact figures for the year (the same totals as the "
                           "other tables); the last row gives the number of countries counted."),
    "note.offenders_trend": "Share of women: among convicted persons of known sex, in the countries reporting sex.",
    "note.flows_by_type": ("Countries of detection reporting victims by citizenship. Shares are of the victims "
                           "of known citizenship detected in the region."),
    "note.origin_destination": "Region of origin: the victims' citizenship.",
    "note.countries_reporting": "Countries that reported any figure on victims or on offenders for the year.",
    "note.organ_removal": ("Cases are court and police cases, counted without suppression; victims are "
                           "disclosure-controlled like every other count of persons."),
    "note.sdg_16_2_2": ("Denominator: total population of the country and year. A breakdown the country did not "
                        "report is marked as not reported; the rate is empty where the count is suppressed or "
                        "the population is not known."),
    "note.no_population": "No population is loaded for {year}.",
    "note.left_out": "Left out: countries whose {year} figures include cells published as <5 (not exact): {countries}.",
    "note.shares": "Shares are given where every count they are made of is published.",
    # the notes-and-sources block of each sheet
    "notes": "Notes",
    "source": ("Source: UNODC, Global Report on Trafficking in Persons data collection: Member States' "
               "submissions to UNODC and the published dataUNODC figures."),
    "legend": ("<5: a count of 1 to 4 persons. x: a count hidden so that no count of 1 to 4 can be worked out "
               "from the published figures."),
    "as_of": "Data as of {date}.",
    "as_of_snapshot": "Data as current at the publication of the warehouse snapshot.",
    # column labels and row labels
    "col.level": "Level",
    "level.region": "Region",
    "level.country": "Country",
    "col.region": "Region",
    "col.area": "Country or area",
    "col.country": "Country",
    "col.year": "Year",
    "col.destination_region": "Region of detection",
    "col.from_region": "From {region}",
    "col.total": "Total",
    "col.girls": "Girls",
    "col.boys": "Boys",
    "col.women": "Women",
    "col.men": "Men",
    "col.other_or_unknown": "Other or unknown",
    "col.form_unknown": "Unknown or not reported",
    "col.share": "{category} (share)",
    "col.domestic": "Domestic",
    "col.intra_regional": "Intra-regional",
    "col.trans_regional": "Trans-regional",
    "col.unclassified": "Unclassified",
    "col.countries_counted": "Countries counted",
    "col.prosecuted": "Prosecuted",
    "col.convicted": "Convicted",
    "col.convicted_women": "Convicted: women",
    "col.convicted_men": "Convicted: men",
    "col.countries_prosecuted": "Countries reporting prosecutions",
    "col.countries_convicted": "Countries reporting convictions",
    "col.women_share_of_convicted": "Women among the convicted (share)",
    "col.countries_reporting_victims": "Countries reporting victims",
    "col.countries_reporting_offenders": "Countries reporting offenders",
    "col.countries_reporting_any": "Countries reporting victims or offenders",
    "col.cases": "Cases",
    "col.victims": "Victims",
    "col.reporting_countries": "Countries reporting cases",
    "col.countries_involved": "Countries involved",
    "col.removal_countries": "Countries where organs were removed",
    "col.medical_professionals_yes": "Cases with medical professionals involved",
    "col.medical_professionals_no": "Cases without medical professionals involved",
    "col.medical_professionals_unknown": "Cases with involvement of medical professionals unknown",
    "col.cases_material": "Cases: {material}",
    "col.breakdown": "Breakdown",
    "col.category": "Category",
    "col.population": "Population",
    "col.rate": "Victims per 100,000 population",
    "breakdown.total": "Total",
    "breakdown.sex": "Sex",
    "breakdown.age": "Age",
    "breakdown.form": "Form of exploitation",
    "category.sex_other_or_unknown": "Other or unknown sex",
    "category.age_unknown": "Unknown age",
    "category.other_purposes": "Other purposes",
}


# The drafting pack's charts (reporting/pack_charts.py).
CHART: dict[str, str] = {
    "suppressed": "suppressed (<5 or x)",
    "source": "Source: UNODC, Global Report on Trafficking in Persons, national data. Counts of 1 to 4 "
              "persons are shown as <5; x: hidden so that no small count can be worked out.",
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
    "subtitle": "GLOTIP drafting pack {year}: figures reported for {first_year} to {year}",
    "region": "Region: {region}",
    "index_title": "Country profiles, {year}",
    "back_to_pack": "Back to the drafting pack",
    "all_profiles": "All country profiles",
    "disclosure_note": ("Counts of 1 to 4 persons are shown as <5; counts shown as x are hidden so that no "
                        "small count can be worked out from the totals of this page or of any other table "
                        "of the pack (checked before anything is written)."),
    "source": "Source: UNODC, Global Report on Trafficking in Persons data collection (national submissions).",
    "not_reported": "not reported",
    "no_figures": "No figures reported for these years.",
    "not_available": "not available",
    "not_exact": ("{years}: the source publishes some of these figures as <5; the figures it gives are "
                  "shown as it gives them, the others as “not available” (below 5 or not reported)."),
    "year": "Year",
    # victims by sex and age
    "section_sex_age": "Detected victims by sex and age",
    "girls": "Girls",
    "boys": "Boys",
    "women": "Women",
    "men": "Men",
    "other_or_unknown": "Other or unknown",
    "total": "Total",
    "sex_age_note": "Girls and boys are 0 to 17 years old. Other or unknown: sex or age not reported.",
    # victims by form
    "section_forms": "Detected victims by form of exploitation",
    "other_purposes": "Other or unknown forms",
    # flows
    "section_flows_in": "Victims detected in {country}, by citizenship, {year}",
    "section_flows_out": "Nationals of {country} detected in other countries, {year}",
    "section_repatriated": "Nationals of {country} repatriated, by country of detection, {year}",
    "flows_note": ("Detected abroad: as the countries of detection report their victims' citizenship. "
                   "Repatriated: as {country} reports it. The two describe the same victims from two "
                   "ends and are never added."),
    "citizenship": "Citizenship",
    "country_of_detection": "Country of detection",
    "victims": "Victims",
    "no_flows": "Not reported.",
    # prosecutions and convictions
    "section_offenders": "Persons prosecuted and convicted",
    "prosecuted": "Prosecuted",
    "convicted": "Convicted",
    "female": "Female",
    "male": "Male",
    "sex_other_or_unknown": "Sex other or unknown",
    # organ removal
    "section_cases": "Cases of trafficking for the removal of organs",
    "no_cases": "No case reported for these years.",
    "stage": "Stage",
    "outcome": "Outcome",
    "material_removed": "What was removed",
    "medical_professionals": "Medical professionals involved",
    "countries_involved": "Countries involved",
    "court": "Court",
    "decision_date": "Decision date",
    "summary": "Summary",
    "withheld": "withheld: it may hold personal data",
    # charts
    "chart_sex_age": "{country}: detected victims by sex and age",
    "chart_forms": "{country}: detected victims by form of exploitation",
    "chart_offenders": "{country}: persons prosecuted and convicted",
    "chart_origins": "{country}: victims detected by citizenship, {year}",
    "axis_victims": "Detected victims",
    "axis_persons": "Persons",
    "suppressed": "suppressed (<5 or x)",
    # the pack's long tables of the profiles (sheets and CSV)
    "table_victims": "Country profiles: detected victims by sex, age and form, {first_year} to {year}",
    "table_flows": "Country profiles: victims by citizenship and country of detection, {year}",
    "table_offenders": "Country profiles: persons prosecuted and convicted, {first_year} to {year}",
    "table_flows_note": ("Detected: victims by country of detection and citizenship, as the countries of "
                         "detection report them. Repatriated: as the countries of origin report them. The "
                         "two describe the same victims from two ends and are never added."),
    "table_cases": "Country profiles: cases of trafficking for the removal of organs, {first_year} to {year}",
    "table_cases_note": "Case briefs: texts that may hold personal data are withheld. No count of persons is shown.",
    "table_offenders_note": ("Grand totals of each country and year; by sex where the country reports it, "
                             "sex other or unknown being the rest of the total."),
    "country": "Country",
    "iso3": "ISO3",
    "breakdown": "Breakdown",
    "category": "Category",
    "perspective": "Perspective",
    "detection": "Detected (by citizenship)",
    "repatriation": "Repatriated",
    "persons": "Persons",
    "sex": "Sex",
    "sex_age": "Sex and age",
    "form": "Form of exploitation",
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

# the portal's pages are an area too, written in their own module
AREAS = {"pack": PACK, "chart": CHART, "profile": PROFILE, "page": PAGE, "portal": PORTAL}
