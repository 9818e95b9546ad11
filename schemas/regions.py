"""Regions of the UN M49 standard, named in the six languages.

A region reaches the outputs by its English name (`dim_country.region`, `region_groupings`):
`region_name` says it in a report's language, from CLDR's names of the M49 areas. A region of
an analyst's own grouping, unknown to M49, keeps the name it was loaded with.
"""

from __future__ import annotations

from functools import cache

from babel import Locale


@cache
def _m49_codes_by_english_name() -> dict[str, str]:
    """CLDR's English names of the M49 areas (numeric codes) -> code."""
    return {name: code for code, name in Locale("en").territories.items() if code.isdigit()}


def region_name(region: str, language: str) -> str:
    """`region` (an English M49 name) in `language`; other names as they are."""
    code = _m49_codes_by_english_name().get(region)
    if code is None or language == "en":
        return region
    return Locale(language).territories.get(code, region)
