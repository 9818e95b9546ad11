"""Translations: every rule, codelist label, table, column and UI string in all six languages,
with the same placeholders; labels and headers that read back to one code only."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from schemas import codelists as cl
from schemas import i18n
from schemas.catalogue import CATALOGUE
from schemas.publication import AREAS
from schemas.tables import TABLES

OTHER_LANGUAGES = [language for language in i18n.LANGUAGES if language != i18n.DEFAULT_LANGUAGE]


def stored(language: str) -> dict[str, str]:
    """What the files hold, each key once: the submitter reports' file and the publication
    areas' files (schemas/publication.py)."""
    folder = resources.files("schemas").joinpath("i18n")
    files = [folder.joinpath(f"{language}.json"), *(folder.joinpath(area, f"{language}.json") for area in AREAS)]
    keys: dict[str, str] = {}
    for path in files:
        held = json.loads(path.read_text(encoding="utf-8"))
        assert not set(held) & set(keys), f"{path}: keys stored twice"
        keys |= held
    return keys


def test_the_six_languages_are_the_codelist_of_report_languages():
    assert sorted(i18n.LANGUAGES) == sorted(cl.LANGUAGE.codes)


def test_english_covers_every_rule_label_table_and_column():
    english = i18n.english()
    for code in CATALOGUE:
        assert {f"rule.{code}.title", f"rule.{code}.message", f"rule.{code}.hint"} <= set(english)
    for name, spec in TABLES.items():
        assert f"table.{name}.title" in english
        assert all(f"column.{name}.{column}.title" in english for column in spec.columns)
    for codelist in cl.CODELISTS.values():
        assert all(f"codelist.{codelist.name}.{code}" in english for code in codelist.codes)


def expected_keys(language: str) -> dict[str, str]:
    """Every key a language must have -> its English text: a plural UI string in exactly the
    forms the language's CLDR plural rules need (English `.other` gives the placeholders)."""
    english = i18n.english()
    keys = {key: text for key, text in english.items()
            if not (key.startswith("ui.") and key[3:].rsplit(".", 1)[0] in i18n.PLURAL_UI)}
    for base in i18n.PLURAL_UI:
        for form in i18n.plural_categories(language):
            keys[f"ui.{base}.{form}"] = english[f"ui.{base}.other"]
    return keys


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_key_is_translated_with_the_same_placeholders(language):
    english, translated = expected_keys(language), stored(language)
    missing = sorted(set(english) - set(translated))
    assert missing == [], f"{language}: {len(missing)} strings not translated, e.g. {missing[:5]}"
    assert sorted(set(translated) - set(english)) == [], f"{language}: keys no longer used"
    empty = [key for key, text in translated.items() if not text.strip()]
    assert empty == []
    mismatched = [key for key in english if i18n.placeholders(english[key]) != i18n.placeholders(translated[key])]
    assert mismatched == [], f"{language}: placeholders differ in {mismatched}"


def test_plural_strings_come_in_the_forms_of_cldr_rules():
    """English declares `.one` and `.other` of each; Russian needs `few` and `many` too, Arabic
    six forms, Chinese one (Babel's CLDR plural rules)."""
    assert i18n.plural_categories("ru") == ["few", "many", "one", "other"]
    assert i18n.plural_categories("ar") == ["few", "many", "one", "other", "two", "zero"]
    assert i18n.plural_categories("zh") == ["other"]
    assert all(f"ui.{base}.one" in i18n.english() and f"ui.{base}.other" in i18n.english()
               for base in i18n.PLURAL_UI)
    assert {"rows_read", "rows_loaded", "errors", "warnings", "error_count", "email_more"} <= i18n.PLURAL_UI


@pytest.mark.parametrize(("language", "counts"), [
    ("en", {1: "1 row", 2: "2 rows", 5: "5 rows", 21: "21 rows", 1234: "1,234 rows"}),
    ("fr", {1: "1 ligne", 2: "2 lignes", 21: "21 lignes", 1234: "1\u202f234 lignes"}),
    ("ru", {1: "1 строка", 2: "2 строки", 5: "5 строк", 21: "21 строка", 22: "22 строки", 11: "11 строк"}),
    ("ar", {1: "1 صف", 2: "2 صفان", 5: "5 صفوف", 11: "11 صفًا", 100: "100 صف"}),
    ("es", {1: "1 fila", 2: "2 filas", 1234: "1.234 filas"}),
    ("zh", {1: "1 行", 5: "5 行"}),
])
def test_counts_take_the_plural_form_and_digits_of_the_language(language, counts):
    for n, expected in counts.items():
        assert i18n.ui("rows_read", language, count=n, table="T", n=n).endswith(expected), (language, n)


def test_numbers_lists_quotes_and_french_spacing():
    assert i18n.format_number(3072.5, "fr", 1) == "3\u202f072,5"
    assert i18n.format_list(["A", "B", "C"], "fr", "or") == "A, B ou C"
    assert i18n.format_list(["A", "B"], "ar", "enumeration") == "A\u060c B"
    assert i18n.format_list(["A", "B"], "zh", "enumeration") == "A\u3001B"
    assert i18n.quoted("x", "fr") == "«\u202fx\u202f»" and i18n.quoted("x", "ru") == "«x»"
    assert i18n.label_value("Pays", "Mali", "fr") == "Pays\u202f: Mali"
    assert i18n.label_value("国家", "马里", "zh") == "国家：马里"
    assert i18n.parenthesised("错误", "zh") == "（错误）" and i18n.parenthesised("x", "ru") == "(x)"
    # every French string said with a narrow no-break space before its colons
    assert " :" not in i18n.text("rule.unreadable-file.message", "fr")
    assert "\u202f:" in i18n.text("rule.unreadable-file.message", "fr")


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_rule_messages_are_really_translated(language):
    """A message copied from English would pass the key check: titles and messages must differ."""
    translated = stored(language)
    untranslated = [code for code in CATALOGUE
                    if translated[f"rule.{code}.message"] == CATALOGUE[code].message]
    assert untranslated == []


def test_un_terminology():
    assert "traite des personnes" in i18n.text("table.victims.description", "fr")
    assert "trata de personas" in i18n.text("table.victims.description", "es")
    assert "торговли людьми" in i18n.text("table.victims.description", "ru")
    assert "الاتجار بالأشخاص" in i18n.text("table.victims.description", "ar")
    assert "人口贩运" in i18n.text("table.victims.description", "zh")


def test_a_translated_label_or_header_reads_back_to_one_code_only():
    for codelist in (*cl.CODELISTS.values(), cl.CITIZENSHIP_SPECIAL):
        seen: dict[str, str] = {}
        for language in i18n.LANGUAGES:
            for code in codelist.codes:
                key = cl.match_key(i18n.code_label(codelist.name, code, language))
                assert seen.setdefault(key, code) == code, (codelist.name, language, key)
        for code in codelist.codes:  # no label is another code's code
            assert seen.get(cl.match_key(code), code) == code
    for name, spec in TABLES.items():
        seen = {}
        for language in i18n.LANGUAGES:
            for column in spec.columns:
                key = cl.match_key(i18n.column_title(name, column, language))
                assert seen.setdefault(key, column) == column, (name, language, key)


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_sheet_names_fit_excel_and_differ(language):
    names = [i18n.sheet_name(table, language) for table in TABLES]
    assert len(set(names)) == len(names)
    assert all(len(name) <= 31 and not set(name) & set("[]:*?/\\") for name in names)
    assert all(i18n.sheet_name(table, language) == i18n.table_title(table, language)
               for table in TABLES if language != "en"), "a title was cut to fit"


def test_unknown_language_is_refused_and_absent_language_is_english():
    with pytest.raises(ValueError):
        i18n.translations("xx")
    assert i18n.language_or_default(None) == "en"
    assert i18n.language_or_default(" FR ") == "fr"
    assert i18n.language_or_default("de") == "en"
