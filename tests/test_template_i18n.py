"""A template in each UN language, filled in as a submitter would, reads back to codes."""

from __future__ import annotations

import re

import pytest
from openpyxl import load_workbook

from schemas import codelists as cl
from schemas import i18n
from schemas.tables import LIST_SEPARATOR, TABLES
from schemas.validate import validate_submission
from transforms.prepare import prepare_submission
from transforms.template import write_template

ROWS = [("total", "total", "total", "total", 10), ("female", "total", "total", "total", 6),
        ("male", "total", "total", "total", 4), ("total", "child", "sexual_exploitation", "unknown", 3),
        ("total", "adult", "forced_labour", "total", 7)]


def fill_translated(path, language):
    """Pick every coded value by its label in `language`, as the dropdowns offer them."""
    write_template(path, language=language)
    workbook = load_workbook(path)
    submission = workbook[i18n.sheet_name("submission", language)]
    for column, value in enumerate(["FRA", 2022, 2022, "Ministère", "pf@example.gouv.fr"], start=1):
        submission.cell(row=2, column=column, value=value)
    victims = workbook[i18n.sheet_name("victims", language)]
    for row, (sex, age, form, citizenship, count) in enumerate(ROWS, start=2):
        victims.cell(row=row, column=1, value=2022)
        victims.cell(row=row, column=2, value=i18n.code_label("sex", sex, language))
        victims.cell(row=row, column=3, value=i18n.code_label("age", age, language))
        victims.cell(row=row, column=4, value=i18n.code_label("form", form, language))
        victims.cell(row=row, column=5, value=i18n.code_label("citizenship_special", citizenship, language))
        victims.cell(row=row, column=6, value=count)
    workbook.save(path)
    return path


@pytest.mark.parametrize("language", ["fr", "ar", "zh", "ru", "es"])
def test_translated_template_is_read_back_to_codes(tmp_path, language):
    path = fill_translated(tmp_path / f"template_{language}.xlsx", language)
    result = validate_submission(prepare_submission(path))
    assert result.findings == []
    victims = result.tables["victims"]
    assert list(victims["sex"]) == [r[0] for r in ROWS]
    assert list(victims["age"]) == [r[1] for r in ROWS]
    assert list(victims["form"]) == [r[2] for r in ROWS]
    assert list(victims["citizenship"]) == [r[3] for r in ROWS]
    assert result.details.language == language  # prefilled by the template, as a label


def test_french_template_is_in_french_and_arabic_sheets_run_right_to_left(tmp_path):
    french = load_workbook(write_template(tmp_path / "fr.xlsx", language="fr"))
    assert french.sheetnames[0] == "mode d’emploi"
    victims = french["Victimes détectées"]
    assert [c.value for c in victims[1]] == ["Année", "Sexe", "Groupe d’âge", "Forme d’exploitation",
                                            "Nationalité", "Victimes"]
    assert "Féminin" in [c.value for c in french["lists"]["A"]]
    assert "traite des personnes" in " ".join(str(c.value) for row in french.worksheets[0].iter_rows() for c in row)
    arabic = load_workbook(write_template(tmp_path / "ar.xlsx", language="ar"))
    assert arabic["الضحايا المكتشفون"].sheet_view.rightToLeft


def test_english_template_is_unchanged_by_default(tmp_path):
    workbook = load_workbook(write_template(tmp_path / "en.xlsx"))
    assert workbook.sheetnames == ["instructions", "lists", "submission", "victims", "offenders",
                                   "repatriated", "organ_removal_cases"]


@pytest.mark.parametrize(("english", "translated", "language"), [
    ("FRA_2021-2022.xlsx", "FRA_2021-2022_fr_template.xlsx", "fr"),
    ("EGY_2022.xlsx", "EGY_2022_ar_template.xlsx", "ar"),
])
def test_translated_template_sample_reads_as_the_english_one(english, translated, language):
    from tests.conftest import SAMPLES

    english, translated = SAMPLES / english, SAMPLES / translated
    if not (english.exists() and translated.exists()):
        pytest.skip("samples not generated")
    a = validate_submission(prepare_submission(english))
    b = validate_submission(prepare_submission(translated))
    assert b.findings == [] and b.details.language == language
    for table in a.tables:
        left = a.tables[table].drop(columns="_line").reset_index(drop=True).astype(str)
        right = b.tables[table].drop(columns="_line").reset_index(drop=True).astype(str)
        assert left.equals(right), table


def _instruction_examples(workbook, language):
    """{table: {header: example}} as the instructions sheet of the template shows them."""
    sheet_of = {i18n.sheet_name(table, language): table for table in TABLES}
    examples, table = {}, None
    for row in workbook.worksheets[0].iter_rows(values_only=True):
        first = str(row[0] or "")
        if first.startswith(f"{i18n.ui('sheet', language)}: "):
            table = sheet_of[first.split(": ", 1)[1]]
            examples[table] = {}
        elif table and len(row) > 5 and row[1] and row[5] != i18n.ui("example", language):
            examples[table][row[1]] = row[5]
    return examples


def _codelist_of(table, column):
    meta = TABLES[table].column_meta(column)
    name = meta.get("codelist") or (meta.get("list_of") if meta.get("list_of") != "country" else None) \
        or meta.get("special")
    return cl.CODELISTS.get(name) or (cl.CITIZENSHIP_SPECIAL if name == cl.CITIZENSHIP_SPECIAL.name else None)


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_every_header_is_its_own_columns_title_and_every_example_is_in_the_language(tmp_path, language):
    """The class of fault of 'Yes / No / Unknown' heading the medical-professionals column: a
    header that names the column's values (its codelist), not the column. Every header is the
    column's own title in the language (translated, not the English fallback), distinct from
    the others; every example is written in the language: codes as the dropdown labels, words
    translated, countries as ISO3 codes, numbers as numbers."""
    workbook = load_workbook(write_template(tmp_path / "t.xlsx", language=language))
    examples = _instruction_examples(workbook, language)
    assert set(examples) == set(TABLES)
    for table, spec in TABLES.items():
        headers = [cell.value for cell in workbook[i18n.sheet_name(table, language)][1]]
        assert headers == [i18n.column_header(table, column, language) for column in spec.columns]
        assert len(set(headers)) == len(headers), headers
        assert list(examples[table]) == headers
        for column, header in zip(spec.columns, headers):
            if language != "en":
                assert header == i18n.translations(language)[f"column.{table}.{column}.title"]
            codelist = _codelist_of(table, column)
            if codelist:  # a header is never the list of its values
                labels = [i18n.code_label(codelist.name, code, language) for code in codelist.codes]
                assert cl.match_key(header) not in {cl.match_key(label) for label in labels}
                list_title = i18n.text(f"codelist.{codelist.name}.title", language)
                assert header != list_title or codelist.name in (column, f"case_{column}"), header
            example = str(examples[table][header])
            meta = spec.column_meta(column)
            if meta.get("free_text"):
                expected = (meta["example"] if language == "en"  # as said: French spacing applied
                            else i18n.typeset(i18n.translations(language)[f"column.{table}.{column}.example"],
                                              language))
                assert example == expected
            elif codelist:
                offered = {i18n.coded_value(codelist.name, code, language) for code in codelist.codes}
                for item in example.split(LIST_SEPARATOR):  # a country column: its codes, or ISO3
                    assert item in offered or (meta.get("country") and re.fullmatch("[A-Z]{3}", item)), \
                        (table, column, example)
            else:  # language-neutral: a number, ISO3 codes, an e-mail address, an ISO date
                assert re.fullmatch(r"\d+|[A-Z]{3}(;[A-Z]{3})*|[\w.]+@[\w.]+|\d{4}-\d{2}-\d{2}", example), \
                    (table, column, example)


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_the_templates_examples_typed_in_are_accepted(tmp_path, language):
    """A submitter who types each sheet's examples (as the instructions show them) into the
    template of their language gets a file that validates with no error."""
    path = write_template(tmp_path / f"t_{language}.xlsx", language=language)
    workbook = load_workbook(path)
    for table, examples in _instruction_examples(workbook, language).items():
        sheet = workbook[i18n.sheet_name(table, language)]
        for position, cell in enumerate(sheet[1], start=1):
            if sheet.cell(row=2, column=position).value is None:  # the template's own values stay
                value = examples[cell.value]
                sheet.cell(row=2, column=position, value=int(value) if str(value).isdigit() else value)
    workbook.save(path)
    result = validate_submission(prepare_submission(path))
    assert [f for f in result.findings if f.severity == "error"] == []
    assert set(result.tables) == set(TABLES)
    assert all(len(frame) == 1 for frame in result.tables.values())
    assert result.tables["organ_removal_cases"]["medical_professionals_involved"].tolist() == ["yes"]


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_a_template_sent_out_with_the_old_header_still_reads(tmp_path, language):
    """Translated templates written before the fix headed the medical-professionals column
    with its codelist's title ("Oui / Non / Inconnu"); those already filled in still read."""
    path = write_template(tmp_path / f"old_{language}.xlsx", language=language)
    workbook = load_workbook(path)
    examples = _instruction_examples(workbook, language)["organ_removal_cases"]
    sheet = workbook[i18n.sheet_name("organ_removal_cases", language)]
    for position, cell in enumerate(sheet[1], start=1):
        value = examples[cell.value]
        sheet.cell(row=2, column=position, value=int(value) if str(value).isdigit() else value)
    medical = TABLES["organ_removal_cases"].columns.index("medical_professionals_involved") + 1
    sheet.cell(row=1, column=medical, value=i18n.text("codelist.yes_no_unknown.title", language))
    workbook.save(path)
    result = validate_submission(prepare_submission(path))
    assert not [f for f in result.findings if f.rule in ("unknown-column", "missing-column")]
    assert result.tables["organ_removal_cases"]["medical_professionals_involved"].tolist() == ["yes"]
