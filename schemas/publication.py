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
    "suppressed": "suppressed",
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
}

AREAS = {"pack": PACK, "chart": CHART, "profile": PROFILE, "page": PAGE}
