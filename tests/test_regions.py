"""M49 regions: UNSD's names in the six languages (not CLDR's where they differ) and their
numeric codes, agreeing with the country table's regions."""

from __future__ import annotations

import pytest

from schemas import i18n
from schemas.countries import load_countries
from schemas.regions import region_code, region_name


@pytest.mark.parametrize("region, language, name", [
    ("Latin America and the Caribbean", "en", "Latin America and the Caribbean"),
    ("Latin America and the Caribbean", "es", "América Latina y el Caribe"),
    ("Latin America and the Caribbean", "fr", "Amérique latine et Caraïbes"),
    ("South-eastern Asia", "en", "South-eastern Asia"),
    ("Australia and New Zealand", "ru", "Австралия и Новая Зеландия"),
    ("Micronesia", "zh", "密克罗尼西亚"),
    ("Sub-Saharan Africa", "ru", "Африка к югу от Сахары"),
    ("Africa", "ar", "أفريقيا"),          # CLDR's name where it is UNSD's wording
    ("World", "zh", "世界"),
])
def test_region_names_are_unsd_names(region, language, name):
    assert region_name(region, language) == name


def test_a_grouping_name_unknown_to_m49_stays_as_loaded():
    assert region_name("My own region", "fr") == "My own region"
    assert region_code("My own region") is None
    assert region_code("Latin America") is None  # CLDR's name is not M49's


def test_every_region_of_the_country_table_has_a_code_and_six_names():
    countries = load_countries()
    regions = set(countries["region"]) | set(countries["subregion"]) | set(countries["intermediate_region"])
    regions |= set(countries["glotip_region"]) | set(countries["glotip_subregion"])
    regions.discard("")
    for region in sorted(regions) + ["World"]:
        code = region_code(region)
        assert code is not None and len(code) == 3 and code.isdigit(), region
        names = {language: region_name(region, language) for language in i18n.LANGUAGES}
        assert names["en"] == region
        # Each language its own name (only Spanish and English share a few, e.g. "Asia").
        assert all(name.strip() for name in names.values())
        assert names["ar"] != region and names["zh"] != region and names["ru"] != region, region


def test_codes_are_m49s():
    assert [region_code(r) for r in ("World", "Africa", "Americas", "Asia", "Europe", "Oceania")] == \
        ["001", "002", "019", "142", "150", "009"]
    assert region_code("Latin America and the Caribbean") == "419"
    assert region_code("Sub-Saharan Africa") == "202"
