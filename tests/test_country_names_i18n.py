"""Country names as submitters write them, in each of the six UN languages and scripts: a
translated template filled with such names goes through the real pipeline into a DuckDB file
and lands with the right ISO3 codes; ambiguous names get a finding listing the candidates."""

from __future__ import annotations

import json

import duckdb
import pytest
from openpyxl import load_workbook

from pipeline import submission as sequence
from schemas import i18n
from schemas.countries import ambiguity, country_codes, country_name, resolve_country
from schemas.messages import render_message
from schemas.tables import TABLES
from schemas.validate import validate_submission
from transforms.prepare import prepare_submission
from transforms.template import write_template
from warehouse.session import Warehouse

UN_LANGUAGES = ["ar", "zh", "en", "fr", "ru", "es"]

# Per language: the reporting country, victims' citizenships, the country of detection of
# repatriated victims and an organ-removal case's countries, as a focal point would write them
# (vowel marks, traditional characters, ё, a variant spelling, accents left out), with the codes
# they mean.
FILLED = {
    "ar": {"country": ("مِصْر", "EGY"),
           "citizenships": [("السودان", "SDN"), ("جنوب السودان", "SSD"), ("اثيوبيا", "ETH"),
                            ("سورية", "SYR"), ("إريتريا", "ERI")],
           "detection": ("ليبيا", "LBY"),
           "organ": ([("السودان", "SDN"), ("اريتريا", "ERI")], [("مصر", "EGY")],
                     [("المملكة العربية السعودية", "SAU")])},
    "zh": {"country": ("中国", "CHN"),
           "citizenships": [("越南", "VNM"), ("缅甸", "MMR"), ("寮國", "LAO"), ("朝鲜", "PRK"),
                            ("南蘇丹", "SSD")],
           "detection": ("柬埔寨", "KHM"),
           "organ": ([("缅甸", "MMR"), ("柬埔寨", "KHM")], [("中國", "CHN")], [("刚果（金）", "COD")])},
    "en": {"country": ("Nigeria", "NGA"),
           "citizenships": [("Ghana", "GHA"), ("Niger", "NER"), ("South Sudan", "SSD"),
                            ("Cameroon", "CMR"), ("Benin", "BEN")],
           "detection": ("Libya", "LBY"),
           "organ": ([("Nigeria", "NGA"), ("Ghana", "GHA")], [("Nigeria", "NGA")], [("Libya", "LBY")])},
    "fr": {"country": ("Cote d'Ivoire", "CIV"),
           "citizenships": [("Burkina Faso", "BFA"), ("Guinée", "GIN"), ("Nigéria", "NGA"),
                            ("République démocratique du Congo", "COD"), ("Mali", "MLI")],
           "detection": ("Ghana", "GHA"),
           "organ": ([("Guinée", "GIN"), ("Mali", "MLI")], [("Côte d’Ivoire", "CIV")], [("Maroc", "MAR")])},
    "ru": {"country": ("Россия", "RUS"),
           "citizenships": [("Узбекистан", "UZB"), ("Таджикистан", "TJK"), ("Кыргызстан", "KGZ"),
                            ("Вьетнам", "VNM"), ("Южный Судан", "SSD")],
           "detection": ("Объединённые Арабские Эмираты", "ARE"),
           "organ": ([("Украина", "UKR"), ("Молдавия", "MDA")], [("Турция", "TUR")], [("Египет", "EGY")])},
    "es": {"country": ("México", "MEX"),
           "citizenships": [("Guatemala", "GTM"), ("Honduras", "HND"), ("El Salvador", "SLV"),
                            ("Venezuela", "VEN"), ("Republica Dominicana", "DOM")],
           "detection": ("Estados Unidos", "USA"),
           "organ": ([("Honduras", "HND"), ("Guatemala", "GTM")], [("México", "MEX")],
                     [("Estados Unidos", "USA")])},
}


def fill(path, language: str, case: dict, citizenships=None):
    """The translated template, filled in as a submitter would: codes by their labels in the
    language, countries by their names as written in it."""
    write_template(path, language=language)
    workbook = load_workbook(path)

    def sheet(table):
        return workbook[i18n.sheet_name(table, language)]

    def label(codelist, code):
        return i18n.coded_value(codelist, code, language)

    def write(table, row, values: dict):
        for column, value in values.items():
            sheet(table).cell(row=row, column=TABLES[table].columns.index(column) + 1, value=value)

    write("submission", 2, {"country": case["country"][0], "year_from": 2022, "year_to": 2022,
                            "institution": "Ministry", "contact_email": "focal.point@example.org"})
    rows = citizenships or case["citizenships"]
    counts = list(range(3, 3 + len(rows)))
    total = i18n.coded_value("citizenship_special", "total", language)
    for row, (citizenship, count) in enumerate([(total, sum(counts))]
                                               + [(name, n) for (name, _), n in zip(rows, counts)],
                                               start=2):
        write("victims", row, {"year": 2022, "sex": label("sex", "total"), "age": label("age", "total"),
                               "form": label("form", "total"), "citizenship": citizenship,
                               "count": count})
    organ_row = len(rows) + 3  # the organ-removal victims, as the case below counts them
    write("victims", organ_row, {"year": 2022, "sex": label("sex", "total"), "age": label("age", "total"),
                                 "form": label("form", "removal_of_organs"), "citizenship": total,
                                 "count": 2})
    write("repatriated", 2, {"year": 2022, "country_of_detection": case["detection"][0],
                             "sex": label("sex", "total"), "age": label("age", "total"), "count": 2})
    victims_of, removed_in, recipients_of = (";".join(name for name, _ in names) for names in case["organ"])
    write("organ_removal_cases", 2, {
        "case_reference": "C-1", "year": 2022, "stage": label("case_stage", "prosecution"),
        "victims_total": 2, "victims_female": 1, "victims_male": 1, "victims_children": 0,
        "victims_citizenship": victims_of, "material_removed": label("material_removed", "kidney"),
        "recruitment_countries": victims_of, "removal_countries": removed_in,
        "recipient_countries": recipients_of,
        "medical_professionals_involved": label("yes_no_unknown", "yes")})
    workbook.save(path)
    return path


@pytest.mark.parametrize("language", UN_LANGUAGES)
def test_a_template_filled_with_names_in_its_language_is_accepted_with_their_codes(tmp_path, language):
    case = FILLED[language]
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    path = fill(inbox / f"submission_{language}.xlsx", language, case)
    options = sequence.InboxOptions(str(inbox), str(tmp_path / "reports"), str(tmp_path / "archive"),
                                    settle_seconds=0)
    with Warehouse(tmp_path / "w.duckdb") as warehouse:
        outcome = sequence.ingest_entry(path, warehouse, options, run_id="run-1")
    assert outcome.status == "accepted", [f.to_dict() for f in outcome.findings]
    iso3 = case["country"][1]
    assert outcome.submission_id.startswith(f"{iso3}-")
    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as connection:
        def rows(sql):
            return connection.execute(sql, [outcome.submission_id]).fetchall()

        assert rows("SELECT country FROM submissions WHERE submission_id = ?") == [(iso3,)]
        citizenships = rows("SELECT citizenship FROM fact_victims WHERE submission_id = ? "
                            "AND citizenship <> 'total'")
        assert sorted(c for (c,) in citizenships) == sorted(code for _, code in case["citizenships"])
        assert rows("SELECT country_of_detection FROM fact_repatriated WHERE submission_id = ?") == [
            (case["detection"][1],)]
        [(victims_of, removed_in, recipients_of)] = rows(
            "SELECT victims_citizenship, removal_countries, recipient_countries "
            "FROM fact_organ_removal_cases WHERE submission_id = ?")
    assert [victims_of, removed_in, recipients_of] == [[code for _, code in names] for names in case["organ"]]
    report = json.loads((tmp_path / "reports" / outcome.submission_id / "report.json").read_text(encoding="utf-8"))
    assert report["country"] == iso3  # the report keeps its country


AMBIGUOUS = {  # a name that could mean two countries, and what it could mean
    "en": ("Korea", ["KOR", "PRK"]),
    "ar": ("كوريا", ["KOR", "PRK"]),
    "ru": ("Корея", ["KOR", "PRK"]),
}


@pytest.mark.parametrize("language", ["en", "ar", "ru"])
def test_an_ambiguous_name_gets_a_finding_listing_its_candidates_in_the_report_language(tmp_path, language):
    name, candidates = AMBIGUOUS[language]
    case = FILLED[language]
    citizenships = case["citizenships"][:2] + [(name, None)]
    path = fill(tmp_path / f"ambiguous_{language}.xlsx", language, case, citizenships=citizenships)
    result = validate_submission(prepare_submission(path))
    [finding] = [f for f in result.findings if f.table == "victims" and "country" in f.rule]
    assert (finding.rule, finding.value, finding.params["candidates"]) == ("ambiguous-country", name, candidates)
    message = render_message(finding, language)
    for code in candidates:
        assert country_name(code, language) in message


# ------------------------------------------------------------------ resolution, unit level

@pytest.mark.parametrize("sudan, south_sudan", [
    ("Sudan", "South Sudan"), ("Soudan", "Soudan du Sud"), ("Sudán", "Sudán del Sur"),
    ("السودان", "جنوب السودان"), ("سودان", "جنوب السودان"), ("苏丹", "南苏丹"), ("蘇丹", "南蘇丹"),
    ("Судан", "Южный Судан"),
])
def test_sudan_and_south_sudan_are_told_apart_in_every_script(sudan, south_sudan):
    assert (resolve_country(sudan).iso3, resolve_country(south_sudan).iso3) == ("SDN", "SSD")


@pytest.mark.parametrize("text, candidates", [
    ("Korea", ("KOR", "PRK")), ("كوريا", ("KOR", "PRK")), ("Корея", ("KOR", "PRK")),
    ("Korean", ("KOR", "PRK")), ("Congolese", ("COD", "COG")), ("Dominican", ("DMA", "DOM")),
])
def test_an_ambiguous_name_is_not_resolved_and_says_what_it_could_mean(text, candidates):
    result = resolve_country(text)
    assert (result.kind, result.iso3, result.method, result.candidates) == (
        "unresolved", None, "ambiguous", candidates)


def test_a_list_is_ambiguous_only_when_every_name_it_misses_is_ambiguous():
    assert ambiguity("NPL;Korea", ";") == ("KOR", "PRK")
    assert ambiguity("unknown;Korean;Congolese", ";") == ("COD", "COG", "KOR", "PRK")
    assert ambiguity("Korea;Atlantis", ";") == ()  # Atlantis is simply unknown
    assert ambiguity("Korea;Atlantis") == ()  # one name, not a list
    assert ambiguity("Atlantis") == ambiguity("KOR") == ambiguity("") == ()


@pytest.mark.parametrize("text, iso3", [
    # Congo: the UN names the Republic of the Congo "Congo" in every language; the DRC by its
    # full name or CLDR's short forms
    ("Congo", "COG"), ("Конго", "COG"), ("Конго (ДРК)", "COD"), ("刚果（金）", "COD"),
    ("刚果（布）", "COG"), ("刚果民主共和国", "COD"), ("جمهورية الكونغو الديمقراطية", "COD"),
    ("الكونغو - كينشاسا", "COD"), ("الكونغو - برازافيل", "COG"),
    # Guinea and the other Guineas; Niger and Nigeria; Dominica and the Dominican Republic
    ("Guinea", "GIN"), ("Guinea-Bissau", "GNB"), ("غينيا", "GIN"), ("غينيا بيساو", "GNB"),
    ("غينيا الاستوائية", "GNQ"), ("几内亚", "GIN"), ("几内亚比绍", "GNB"), ("Гвинея", "GIN"),
    ("Экваториальная Гвинея", "GNQ"), ("Niger", "NER"), ("Nigeria", "NGA"), ("النيجر", "NER"),
    ("نيجيريا", "NGA"), ("尼日尔", "NER"), ("尼日利亚", "NGA"), ("Нигер", "NER"),
    ("Нигерия", "NGA"), ("Dominica", "DMA"), ("Dominican Republic", "DOM"), ("دومينيكا", "DMA"),
    ("جمهورية الدومينيكان", "DOM"), ("多米尼克", "DMA"), ("多米尼加共和国", "DOM"),
    # Korea by its full or short names
    ("كوريا الجنوبية", "KOR"), ("كوريا الشمالية", "PRK"), ("韩国", "KOR"), ("朝鲜", "PRK"),
    ("Южная Корея", "KOR"), ("Республика Корея", "KOR"), ("КНДР", "PRK"),
])
def test_names_that_look_alike_resolve_to_their_own_country(text, iso3):
    assert resolve_country(text).iso3 == iso3, resolve_country(text)


@pytest.mark.parametrize("demonym, iso3", [
    ("Egyptian", "EGY"), ("Égyptienne", "EGY"), ("Egipcia", "EGY"), ("مصرية", "EGY"),
    ("مصري", "EGY"), ("египтянин", "EGY"), ("埃及人", "EGY"), ("中國人", "CHN"),
    ("سوداني", "SDN"), ("南苏丹人", "SSD"), ("苏丹人", "SDN"), ("суданец", "SDN"),
])
def test_common_demonyms_resolve_in_the_six_languages(demonym, iso3):
    assert resolve_country(demonym).iso3 == iso3


@pytest.mark.parametrize("written, plain, iso3", [
    ("مِصْر", "مصر", "EGY"),                                   # vowel marks (harakat)
    ("الجزائـــر", "الجزائر", "DZA"),                            # tatweel
    ("الامارات العربية المتحدة", "الإمارات العربية المتحدة", "ARE"),  # alef with or without hamza
    ("اريتريا", "إريتريا", "ERI"),
    ("الولايات المتحده", "الولايات المتحدة", "USA"),              # final teh marbuta as heh
    ("Объединённые Арабские Эмираты", "Объединенные Арабские Эмираты", "ARE"),  # ё / е
    ("РОССИЯ", "россия", "RUS"),                                # case, Cyrillic
    ("中國", "中国", "CHN"), ("臺灣", "台湾", "TWN"), ("俄羅斯", "俄罗斯", "RUS"),  # traditional
    ("（中国）", "中国", "CHN"), ("ＵＳＡ", "USA", "USA"),           # full-width forms
    ("Бермудские острова", "Бермудские о-ва", "BMU"),            # CLDR's Russian abbreviation
    ("Виргинские острова (Великобритания)", "Виргинские о-ва (Великобритания)", "VGB"),
])
def test_spelling_variants_resolve_alike(written, plain, iso3):
    assert resolve_country(plain).iso3 == iso3
    assert resolve_country(written).iso3 == iso3, resolve_country(written)


@pytest.mark.parametrize("language", UN_LANGUAGES)
def test_every_country_name_shown_resolves_back_to_its_code(language):
    codes = sorted(country_codes())
    assert len(codes) == 249
    wrong = {code: country_name(code, language) for code in codes
             if resolve_country(country_name(code, language)).iso3 != code}
    assert wrong == {}


def test_a_name_that_tells_two_countries_apart_by_a_city_is_shown_by_its_variant():
    assert country_name("COG", "ar") == "جمهورية الكونغو"
    assert country_name("COD", "ar") == "جمهورية الكونغو الديمقراطية"
    assert country_name("EGY", "zh") == "埃及" and country_name("RUS", "ru") == "Россия"


@pytest.mark.parametrize("language", UN_LANGUAGES)
def test_country_columns_of_the_template_offer_the_names_in_its_language(tmp_path, language):
    workbook = load_workbook(write_template(tmp_path / f"t_{language}.xlsx", language=language))
    victims = workbook[i18n.sheet_name("victims", language)]
    letter = chr(ord("A") + TABLES["victims"].columns.index("citizenship"))
    [validation] = [v for v in victims.data_validations.dataValidation if str(v.sqref).startswith(letter)]
    sheet_name, cells = validation.formula1.split("!")
    first, last = (int(part.split("$")[-1]) for part in cells.split(":"))
    column = cells.split("$")[1]
    offered = [workbook[sheet_name][f"{column}{row}"].value for row in range(first, last + 1)]
    specials = [i18n.coded_value("citizenship_special", code, language) for code in ("total", "unknown")]
    assert offered[:2] == specials and len(offered) == 2 + 249
    assert country_name("EGY", language) in offered
    assert sorted(resolve_country(name).iso3 for name in offered[2:]) == sorted(country_codes())


def test_an_ambiguous_reporting_country_is_a_finding_and_names_no_folder(tmp_path):
    case = dict(FILLED["ar"], country=("كوريا", None))
    path = fill(tmp_path / "ambiguous_country.xlsx", "ar", case)
    assessment = sequence.assess_file(path)
    [finding] = [f for f in assessment.findings if f.table == "submission"]
    assert (finding.rule, finding.column, finding.params["candidates"]) == (
        "ambiguous-country", "country", ["KOR", "PRK"])
    assert assessment.submission_id.startswith("UNK-")


def test_naming_a_country_builds_no_resolver_index():
    """A report names its country in the submitter's language without building the resolver's
    index of every language (CLDR's names in six languages: half a second per report); the
    names it returns are checked to resolve back above. In a fresh process: the index, once
    built, is kept for the process."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    script = ("from schemas import countries\n"
              "print([countries.country_name('EGY', language) for language in "
              "('ar', 'zh', 'en', 'fr', 'ru', 'es')])\n"
              "print(countries._index.cache_info().currsize, countries._earlier_index.cache_info().currsize)")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    names, built = done.stdout.strip().splitlines()
    assert "مصر" in names and "埃及" in names and "Egypt" in names
    assert built == "0 0"
