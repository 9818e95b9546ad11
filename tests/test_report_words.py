"""The reports speak the submitter's words in all six languages: real reports of the sample
submissions (the real pipeline, a DuckDB warehouse for the changes table) read back from
report.html, findings.csv, annotated.xlsx and message.eml, with no internal column key, no raw
code where a label exists, no Markdown backtick and no count in the wrong plural form."""

from __future__ import annotations

import csv
import email
import email.policy
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pipeline import submission as sequence
from reporting.annotate import COMMENT_AUTHOR
from schemas import codelists as cl
from schemas import i18n
from schemas.countries import country_name
from schemas.tables import TABLES
from warehouse.session import Warehouse

SAMPLES = Path(__file__).resolve().parent.parent / "sample_submissions"
# sample -> its country; PHL has one of each common mistake, UKR warnings, EGY an Arabic
# template, MEX Spanish CSV files; CHANGED is FRA resubmitted with figures changed
CASES = {"PHL_2022_errors.xlsx": "PHL", "UKR_2021-2022_warnings.xlsx": "UKR",
         "EGY_2022_ar_template.xlsx": "EGY", "MEX_2022": "MEX", "CHANGED": "FRA"}
# Identifiers shown on purpose, kept out of the reader's way: the file's name, the submission
# id, the sha256, rule codes (class `ref`), the submitted value (`val`), the cell (`loc`).
SHOWN_AS_IS = {"ref", "val", "loc"}


class VisibleText(HTMLParser):
    """The text a reader sees on the page, without the identifiers shown as they are."""

    VOID = {"br", "meta", "hr", "img", "input", "link", "wbr"}

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.stack: list[bool] = []  # per open element: whether its text is skipped

    def handle_starttag(self, tag, attrs):
        if tag in self.VOID:
            return
        classes = set((dict(attrs).get("class") or "").split())
        skipped = tag in ("style", "script", "title") or bool(classes & SHOWN_AS_IS)
        self.stack.append(skipped or (bool(self.stack) and self.stack[-1]))

    def handle_endtag(self, tag):
        if tag not in self.VOID and self.stack:
            self.stack.pop()

    def handle_data(self, data):
        if not (self.stack and self.stack[-1]):
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = VisibleText()
    parser.feed(page)
    return re.sub(r"[ \t\r\n]+", " ", " ".join(parser.parts)).strip()  # no-break spaces kept


def changed_copy(folder: Path) -> Path:
    """FRA_2021-2022.xlsx with three figures changed, one of them a citizenship's."""
    workbook = load_workbook(SAMPLES / "FRA_2021-2022.xlsx")
    sheet = workbook["victims"]
    header = [cell.value for cell in sheet[1]]
    count, citizenship = header.index("count") + 1, header.index("citizenship") + 1
    changed = 0
    for row in range(2, sheet.max_row + 1):
        if len(str(sheet.cell(row, citizenship).value or "")) == 3 and isinstance(sheet.cell(row, count).value, int):
            sheet.cell(row, count).value += 1
            changed += 1
        if changed == 3:
            break
    path = folder / "FRA_2021-2022.xlsx"
    workbook.save(path)
    return path


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[tuple[str, str], Path]:
    """(case, language) -> the report folder, written by the pipeline."""
    folder = tmp_path_factory.mktemp("words")
    written = {}
    with Warehouse(folder / "w.duckdb") as warehouse:
        first = sequence.assess_file(SAMPLES / "FRA_2021-2022.xlsx")
        sequence.process(first, warehouse, reports_dir=folder / "first", load=True)
        for case in CASES:
            path = changed_copy(folder) if case == "CHANGED" else SAMPLES / case
            assessment = sequence.assess_file(path)
            for language in i18n.LANGUAGES:
                outcome = sequence.process(assessment, warehouse if case == "CHANGED" else None,
                                           reports_dir=folder / case / language, load=False,
                                           language=language, source_path=str(path))
                written[(case, language)] = Path(outcome.report)
    return written


def texts_of(report_dir: Path) -> dict[str, str]:
    """Each output's words a reader reads (values typed by the submitter left out)."""
    texts = {"report.html": visible_text((report_dir / "report.html").read_text(encoding="utf-8"))}
    with (report_dir / "findings.csv").open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts["findings.csv"] = "\n".join(f"{row['column']}\n{row['message']}\n{row['hint']}" for row in rows)
    texts["findings.csv value"] = "\n".join(row["value"] for row in rows)
    if (report_dir / "annotated.xlsx").exists():
        workbook = load_workbook(report_dir / "annotated.xlsx")
        texts["annotated.xlsx"] = "\n".join(  # the findings' comments (the template's own are not ours)
            cell.comment.text for sheet in workbook for row in sheet.iter_rows() for cell in row
            if cell.comment is not None and cell.comment.author == COMMENT_AUTHOR)
    if (report_dir / "message.eml").exists():
        message = email.message_from_bytes((report_dir / "message.eml").read_bytes(),
                                           policy=email.policy.default)
        texts["message.eml"] = f"{message['Subject']}\n{message.get_body(('plain',)).get_content()}"
    return texts


def word(text: str) -> re.Pattern:
    """`text` as a whole word: not inside a longer name (`victims.csv`, `contact_email`)."""
    return re.compile(rf"(?<![\w.\-/@]){re.escape(text)}(?![\w.\-/@])")


def internal_keys(language: str) -> set[str]:
    """Column keys that are not what the reader sees: with an underscore, or (in the languages
    whose words they are not) any key unlike its title."""
    keys = set()
    for name, spec in TABLES.items():
        for column in spec.columns:
            title = i18n.column_title(name, column, language)
            if column == title:
                continue
            if "_" in column or (language != "en" and column.lower() not in title.lower()):
                keys.add(column)
    return keys - WORDS_OF.get(language, set())


WORDS_OF = {"fr": {"institution"}, "es": set()}  # keys that are also words of the language


def raw_codes(language: str) -> set[str]:
    """Codelist codes unlike any label of the language: `sexual_exploitation`, `female` in
    French; in English, the codes no label spells (with an underscore)."""
    labels = " ".join(i18n.code_label(codelist.name, code, language).lower()
                      for codelist in (*cl.CODELISTS.values(), cl.CITIZENSHIP_SPECIAL)
                      for code in codelist.codes)
    codes = set()
    for codelist in (*cl.CODELISTS.values(), cl.CITIZENSHIP_SPECIAL):
        if codelist.name in ("language",):
            continue
        for code in codelist.codes:
            if "_" in code or (language != "en" and not word(code.lower()).search(labels)):
                codes.add(code)
    return codes


@pytest.mark.parametrize("language", i18n.LANGUAGES)
@pytest.mark.parametrize("case", CASES)
def test_reports_speak_the_submitters_words(reports, case, language):
    report_dir = reports[(case, language)]
    texts = texts_of(report_dir)
    keys, codes = internal_keys(language), raw_codes(language)
    iso3 = CASES[case]
    problems = []
    for output, text in texts.items():
        if "`" in text:
            problems.append(f"{output}: a Markdown backtick: {text[text.index('`') - 40:][:100]!r}")
        if output == "findings.csv value":  # the submitter's own texts, except codes we wrote
            if word(iso3).search(text) or any(word(code).search(text) for code in codes if "_" in code):
                problems.append(f"{output}: codes in a value: {text!r}")
            continue
        problems += [f"{output}: column key {key!r}" for key in keys if word(key).search(text)]
        problems += [f"{output}: code {code!r}" for code in codes if word(code).search(text)]
        if word(iso3).search(text):
            problems.append(f"{output}: the country's code {iso3} where its name belongs")
    assert problems == [], "\n".join(problems)
    assert country_name(iso3, language) in texts["report.html"]


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_counts_are_said_in_the_plural_form_of_their_number(reports, language):
    """The tables' row counts of the PHL report (1, 17, 3, 0, 0 rows), and a row count for
    1, 2, 5 and 21 rows: each said in its number's CLDR form, and in no other form."""
    page = (reports[("PHL_2022_errors.xlsx", language)] / "report.html").read_text(encoding="utf-8")
    page = visible_text(page)
    rows = {"submission": 1, "victims": 17, "offenders": 3}
    for table, n in rows.items():
        title = i18n.table_title(table, language)
        right = i18n.ui("rows_read", language, count=n, table=title, n=n)
        assert right in page, (language, right)
        for form in i18n.plural_categories(language):
            wrong = i18n.text(f"ui.rows_read.{form}", language).format(table=title, n=n)
            assert wrong == right or not re.search(re.escape(wrong) + r"(?![\w\u064b-\u065f\u0670])", page), (language, wrong)
    for n in (1, 2, 5, 21):
        form = i18n.plural_category(n, language)
        said = i18n.ui("rows_read", language, count=n, table="T", n=n)
        assert said == i18n.text(f"ui.rows_read.{form}", language).format(table="T", n=n)
    if language == "fr":
        assert "Soumission\u202f: 1 ligne" in page and "1 lignes" not in page


def test_a_column_is_named_by_the_header_its_sheet_shows(tmp_path):
    """A French template reported in English: the column is `Sexe` as its sheet heads it (the
    finding carries the header as read), the allowed values in English labels, never `sex`."""
    workbook = load_workbook(SAMPLES / "FRA_2021-2022_fr_template.xlsx")
    sheet = workbook["Victimes détectées"]
    header = [cell.value for cell in sheet[1]]
    sheet.cell(2, header.index("Sexe") + 1).value = "Feminin-e"
    path = tmp_path / "FRA_2021-2022.xlsx"
    workbook.save(path)
    assessment = sequence.assess_file(path)
    [finding] = [f for f in assessment.findings if f.rule == "unknown-code"]
    assert finding.params["headers"] == {"sex": "Sexe"}
    from schemas.messages import render_hint, render_message
    assert render_message(finding, "en", marked=False) == "“Feminin-e” is not an allowed value for “Sexe”."
    assert render_hint(finding, "en", marked=False).endswith("allowed: Total, Female, Male, Other, or Unknown.")
    assert render_message(finding, "ru", marked=False) == "«Feminin-e» не является допустимым значением для «Sexe»."
