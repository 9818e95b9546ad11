"""A template in each UN language, filled in as a submitter would, reads back to codes."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from schemas import i18n
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
