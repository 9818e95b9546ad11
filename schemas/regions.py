"""Regions of the UN M49 standard: their official names in the six languages and their codes.

A region reaches the outputs by its English M49 name (`dim_country.region`, `region_groupings`,
"World"): `region_name` says it in a report's language and `region_code` gives its M49 numeric
code (SDG 16.2.2's REF_AREA). Both read `reference/m49_regions.csv`, built from the M49 table
by `scripts/build_m49_regions.py` (UNSD's names: CLDR's where they are UNSD's wording, the UN
terminology where CLDR words the area otherwise, e.g. "Latin America and the Caribbean", not
CLDR's "Latin America"). A region of an analyst's own grouping, unknown to M49, keeps the name
it was loaded with and has no code.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd

from schemas import i18n

WORLD = "World"  # the world's row of the outputs, as M49 names it
UNCLASSIFIED = "Unclassified"  # the standard queries' region of a country outside the grouping


@cache
def _regions_by_english_name() -> dict[str, dict[str, str]]:
    """English M49 name -> its row: m49_code, level, parent_code, and a name per language."""
    path = resources.files("schemas").joinpath("reference", "m49_regions.csv")
    with path.open(encoding="utf-8") as handle:
        table = pd.read_csv(handle, dtype=str, keep_default_na=False)
    return {row["en"]: row for row in table.to_dict("records")}


def region_name(region: str, language: str) -> str:
    """`region` (an English M49 name) in `language`; other names as they are."""
    row = _regions_by_english_name().get(region)
    return row.get(language, region) if row else region


def region_code(region: str) -> str | None:
    """The M49 numeric code of `region` (an English M49 name, or "World"), three digits as M49
    writes them ("002", "419", "001"); None for a name M49 does not have."""
    row = _regions_by_english_name().get(region)
    return row["m49_code"] if row else None


def area_name(region: str, language: str) -> str:
    """A region of the outputs' rows in `language`: the world and M49 regions by their UN
    names, `Unclassified` by its label, an analyst's own region as it was loaded. The one
    naming the tables, charts and profiles share."""
    if region == UNCLASSIFIED:
        return i18n.ui("pack.col.unclassified", language)
    return region_name(region, language)
