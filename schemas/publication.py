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
    "world": "World",
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
    "suppressed": "suppressed",
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
