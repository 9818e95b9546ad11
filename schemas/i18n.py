"""Translations of everything a submitter reads, in the six official UN languages.

English stays where it is declared (rules in `catalogue.py`, codelist labels in
`codelists.py`, tables and columns in `tables.py`, interface strings in `UI` below); the other
five languages are data, one flat JSON file per language in `schemas/i18n/<lang>.json` (and one
per area of the publication outputs, `schemas/i18n/<area>/<lang>.json`: schemas/publication.py), keyed:

    rule.<code>.title / .message / .hint      codelist.<name>.title, codelist.<name>.<code>
    table.<name>.title / .description         column.<table>.<column>.title / .description
                                              column.<table>.<column>.example (free text)
    ui.<key>

Message templates keep the English `{placeholders}`. `tests/test_i18n.py` fails when a key is
missing in any language or its placeholders differ; at run time a missing key falls back to
English (a report partly in English beats no report), which that test keeps from happening.

A UI string that holds a count comes in the plural forms of its language's CLDR rules, one key
each: `ui.rows_read.one`, `ui.rows_read.other` in English; `.one/.few/.many/.other` in Russian;
`.zero/.one/.two/.few/.many/.other` in Arabic; `.other` alone in Chinese (`PLURAL_UI`).
`ui(key, language, count=n)` picks the form (Babel's `Locale.plural_form`). Numbers, lists and
quotation marks follow the language too (`format_number`, `format_list`, `quoted`), and French
gets its narrow no-break space before `: ; ! ?` wherever a string is said (`text`).
"""

from __future__ import annotations

import json
import re
import string
from functools import cache
from importlib import resources
from typing import Any

from babel import Locale
from babel.dates import format_datetime
from babel.lists import format_list as babel_format_list
from babel.numbers import format_decimal, format_percent

from schemas import codelists as cl
from schemas.catalogue import CATALOGUE
from schemas.publication import AREAS as PUBLICATION_AREAS
from schemas.tables import TABLES

LANGUAGES = ("ar", "zh", "en", "fr", "ru", "es")  # the codes of codelists.LANGUAGE
DEFAULT_LANGUAGE = "en"
RIGHT_TO_LEFT = {"ar"}

# Interface strings of the reports, the e-mail, the annotated workbook and the template.
UI: dict[str, str] = {
    # report
    "report_title": "Validation report",
    "status.accepted": "Accepted",
    "status.accepted_with_warnings": "Accepted with warnings",
    "status.rejected": "Rejected",
    "status.duplicate": "Already received",
    "status.held": "Held for confirmation",
    "status.failed": "Failed",
    "status.validated": "Validated (not loaded)",
    "severity.error": "Error",
    "severity.warning": "Warning",
    "errors.one": "error",  # under its count on the report's card
    "errors.other": "errors",
    "warnings.one": "warning",
    "warnings.other": "warnings",
    "error_count.one": "{n} error",
    "error_count.other": "{n} errors",
    "warning_count.one": "{n} warning",
    "warning_count.other": "{n} warnings",
    "rows_read.one": "{table}: {n} row",
    "rows_read.other": "{table}: {n} rows",
    "rows_loaded.one": "{table}: {n} row loaded",
    "rows_loaded.other": "{table}: {n} rows loaded",
    "file_count.one": "{n} file",
    "file_count.other": "{n} files",
    "loaded_row_count.one": "{n} row loaded",
    "loaded_row_count.other": "{n} rows loaded",
    "unwritten_report_count.one": "{n} report could not be written",
    "unwritten_report_count.other": "{n} reports could not be written",
    "file": "File",
    "submission": "Submission",
    "country": "Country",
    "years": "Years",
    "received": "Received",
    "language": "Language",
    "note_released": "The UNODC data team confirmed this submission: its figures are now current "
                     "and replace those held for the same years.",
    "note_held_rejected": "The UNODC data team did not confirm this submission: nothing from it "
                          "was loaded. Correct it and send the whole file again.",
    "note_validated_only": "Validated only: nothing was loaded into the warehouse.",
    "held_note": "Nothing from this file replaces the figures held yet: it differs from them in "
                 "most cells, and waits for the UNODC data team's confirmation.",
    "note_refused_unreceived": "The file was refused before it was archived: it was not "
                               "recorded as a submission and stays in the inbox until it is "
                               "replaced or removed.",
    "annotated_skipped.one": "No annotated copy of the workbook: it has {cells} cell, over the "
                             "{allowed} an annotated copy is made for; findings.csv gives every "
                             "finding's cell.",
    "annotated_skipped.other": "No annotated copy of the workbook: it has {cells} cells, over the "
                               "{allowed} an annotated copy is made for; findings.csv gives every "
                               "finding's cell.",
    "rejected_note": "Nothing from this file was loaded. Correct the errors below and send the "
                     "whole file again.",
    "warnings_note": "The data were accepted. Please confirm or correct the figures marked "
                     "with a warning.",
    "supersedes_note": "This submission replaces the figures of {submissions} for the same years.",
    "findings_by_rule": "Findings by rule",
    "rule": "Rule",
    "severity": "Severity",
    "count": "Count",
    "how_to_fix": "How to fix",
    "all_findings": "All findings",
    "listing_capped.one": "The first {cap} of {total} finding are listed here; findings.csv "
                          "and report.json list them all.",
    "listing_capped.other": "The first {cap} of {total} findings are listed here; findings.csv "
                            "and report.json list them all.",
    "where": "Where",
    "value": "Value",
    "what_is_wrong": "What is wrong",
    "no_findings": "No findings: every check passed.",
    "changes_title": "Changes against the data already held",
    "changes_intro": "Compared with the figures held for {country}, {years} (from {submissions}): "
                     "{added} added, {removed} removed, {changed} changed.",
    "change.added": "added",
    "change.removed": "removed",
    "change.changed": "changed",
    "change": "Change",
    "table": "Table",
    "breakdown": "Breakdown",
    "old_value": "Old value",
    "new_value": "New value",
    "changes_capped.one": "The first {cap} of {total} change are listed here; report.json lists them all.",
    "changes_capped.other": "The first {cap} of {total} changes are listed here; report.json lists them all.",
    "no_changes": "No figure differs from the data already held.",
    "generated_by": "Generated by the GLOTIP submissions pipeline (UNODC).",
    # terminal (`glotip validate`): counts as labelled figures, like the report's cards
    "validate_result": "{status}. Errors: {errors}; warnings: {warnings}. Report: {report}",
    # e-mail
    "email_subject": "GLOTIP submission {file_name}: {status}",
    "email_greeting": "Dear colleague,",
    "email_received": "Thank you for your submission {file_name} ({country}, {years}) to the "
                      "Global Report on Trafficking in Persons.",
    "email_result": "Result of the validation: {status}, with {errors} and {warnings}.",
    "email_top_findings": "The main findings:",
    "email_more.one": "… and {n} more finding, listed in the attached report.",
    "email_more.other": "… and {n} more findings, listed in the attached report.",
    "email_attached": "The full report is attached (report.html), with the list of findings "
                      "(findings.csv).",
    "email_annotated": "The attached annotated.xlsx is a copy of your workbook with each finding "
                       "highlighted on its cell.",
    "email_resubmit": "Please correct the errors and send the whole file again.",
    "email_confirm": "Please confirm or correct the figures marked with a warning.",
    # the notice (reporting/notice.py): the report's link in the submitters' portal, on the next line
    "email_report_ready": "Your report is ready in the GLOTIP portal:",
    "email_sign_in": "Sign in with your portal account to read it in your language. Reports are "
                     "not sent by e-mail.",
    "email_report_in_portal": "The report is also in the GLOTIP portal (sign in with your portal "
                              "account):",
    "email_thanks": "No correction is needed. Thank you.",
    "email_signature": "UNODC, Global Report on Trafficking in Persons team",
    # annotated workbook and template
    "findings_sheet": "findings",
    "personal_data_blanked": "This cell was emptied: its text seemed to hold personal data. Write it "
                             "again without names, contact details, identity numbers or dates of "
                             "birth, and send the whole file again.",
    "message": "Message",
    "hint": "How to fix",
    "instructions_sheet": "instructions",
    "template_title": "GLOTIP data submission template",
    "template_version": "version {version}",
    "template_intro": "Fill in one row per cell of each breakdown. A dimension you do not break "
                      "down is “Total”; a category you do not know is “Unknown”. Give exact "
                      "counts (never “<5”). Pick values from the dropdown lists. Do not enter "
                      "names or any detail that identifies a person.",  # a sheet: no markup
    "sheet": "Sheet",
    "required": "required",
    "optional": "optional",
    "allowed_values": "Allowed values",
    "example": "Example",
    "country_values": "ISO 3166-1 alpha-3 code (e.g. NGA) or the country's name",
    "several_separated": "several separated by ;",
    "choose_from_list": "Choose a value from the list.",
    # parameters of rule messages (schemas.messages)
    "personal_data.email": "an e-mail address",
    "personal_data.telephone": "a telephone number",
    "personal_data.identity_number": "a passport or identity-card number",
    "personal_data.date_of_birth": "a date of birth",
    "personal_data.personal_name": "a personal name",
    "personal_data.not_screened": "personal data (the text could not be checked in time)",
    "withheld": "(withheld)",
    "unreadable.damaged_zip": "the file looks like a zip or .xlsx but is damaged ({error}); it may "
                              "have been cut short while copying",
    "unreadable.old_or_protected": "the workbook is password-protected or in the old .xls format; "
                                   "save it as an unprotected .xlsx workbook",
    "unreadable.not_a_workbook": "the file has an .xlsx name but is not an Excel workbook (its "
                                 "content is not a workbook); save it again from Excel as .xlsx",
    "unreadable.type_not_accepted": "files of type `{suffix}` are not accepted",
    "unreadable.no_extension": "files without an extension are not accepted",
    "unreadable.no_csv_files": "no CSV files were found; name them after the tables ({file_names})",
    "unreadable.not_an_export": "`{name}` is neither an .xlsx workbook nor a .csv file",
    "unreadable.unexpected": "{error}",
    "unreadable.not_a_regular_file": "`{name}` is not a regular file (a link, pipe, device or "
                                     "socket); it was not opened",
    # what a `limit-exceeded` finding names (schemas/limits.py; the setting's name follows)
    "limit.file_bytes": "the size of the file",
    "limit.unpacked_bytes": "the size of the archive unpacked",
    "limit.compression_ratio": "the compression ratio of the archive",
    "limit.ratio_checked_above_bytes": "the size of the archive unpacked",
    "limit.archive_members": "the number of files in the archive",
    "limit.sheets": "the number of sheets",
    "limit.rows": "the number of rows of a table",
    "limit.columns": "the number of columns of a sheet",
    "limit.cells": "the number of cells of a sheet",
    "limit.text_length": "the length of the text in a cell",
    "limit.parse_seconds": "the time needed to read it",
    "limit.parse_memory_bytes": "the memory needed to read it",
    "limit.annotated_cells": "the number of cells of the workbook",
    "seconds": "{n} s",
    "at_least": "more than {value}",  # a read stopped at its limit
    "line": "line {line}",
    "column_number": "column {column}",
    # parameters of the published import's rules (`published-*`)
    "count_range": "{low} to {high}",
    "and_more.one": "{listed} and {more} more",
    "and_more.other": "{listed} and {more} more",
    # the fewest cells to change (parts-* rules, schemas.localise) and the annotated workbook's marks
    "fewest_changes": "The fewest cells to change: {alternatives}.",
    "fewest_changes_more": "The fewest cells to change: {alternatives}; other corrections as small exist.",
    "change_cells": "change {cells}",
    "cell_change": "{cell} from {old} to {new}",
    "cell_change_at_least": "{cell} from {old} to {new} or more",
    "cell_change_at_most": "{cell} from {old} to {new} or less",
    "cell_change_between": "{cell} from {old} to a value from {low} to {high}",
    "part_of_total": "Part of the total in {cell}: {title}.",
    "suggested_change": "Suggested change (see the total in {cell}): {change}.",
    "summed.sub_forms": "one row per unlabelled sub-form of Other forms of exploitation",
    "summed.sub_forms_subtotals": ("one row per unlabelled sub-form of Other forms of "
                                   "exploitation; rows equal to the sum of others were taken as "
                                   "subtotals and left out"),
    "summed.age_groups": "one row per unlabelled age group: the values are this sex's rows by age",
    "published_label_for.indicator": " for {indicator}",
    "published_label_for.total_dimension": " for the dimension Total",
    "published_label_for.form_dimension": " for a form of exploitation",
    "published_expected.count": "a count (a whole number or `<5`)",
    "published_expected.year": "a year from {min_year} to {max_year}",
}
# The publication outputs' strings (schemas/publication.py): `ui.<area>.<key>`.
UI |= {f"{area}.{key}": text for area, texts in PUBLICATION_AREAS.items() for key, text in texts.items()}

# The UI strings that hold a count: stored once per plural form of each language (`ui.<key>.<form>`).
PLURAL_UI = frozenset(key.rsplit(".", 1)[0] for key in UI if key.endswith(".other"))
# Quotation marks, from CLDR's delimiters (common/main/<lang>.xml, quotationStart/End; Babel
# does not carry them). French adds its narrow no-break space inside; Arabic takes « », the
# marks its translated strings use (CLDR's ” “ is the alternative).
QUOTES = {"en": ("\u201c", "\u201d"), "zh": ("\u201c", "\u201d"), "es": ("\u00ab", "\u00bb"),
          "fr": ("\u00ab\u202f", "\u202f\u00bb"), "ru": ("\u00ab", "\u00bb"), "ar": ("\u00ab", "\u00bb")}
# The colon after a label, and the comma between the items of an enumeration.
COLONS = {"fr": "\u202f:", "zh": "\uff1a"}
LIST_SEPARATORS = {"ar": "\u060c ", "zh": "\u3001"}

_FILE_NAME = re.compile(r"^[a-z]{2}$")


def english() -> dict[str, str]:
    """Every translatable string, in English, read from where it is declared."""
    texts: dict[str, str] = {}
    for code, entry in CATALOGUE.items():
        texts[f"rule.{code}.title"] = entry.title
        texts[f"rule.{code}.message"] = entry.message
        texts[f"rule.{code}.hint"] = entry.hint
    for codelist in (*cl.CODELISTS.values(), cl.CITIZENSHIP_SPECIAL):
        texts[f"codelist.{codelist.name}.title"] = codelist.title
        for code, label in codelist.items:
            texts[f"codelist.{codelist.name}.{code}"] = label
    for name, spec in TABLES.items():
        texts[f"table.{name}.title"] = spec.title
        texts[f"table.{name}.description"] = spec.description
        for column in spec.columns:
            schema_column = spec.schema.columns[column]
            texts[f"column.{name}.{column}.title"] = schema_column.title or column
            texts[f"column.{name}.{column}.description"] = schema_column.description or ""
            meta = schema_column.metadata or {}
            if meta.get("free_text") and meta.get("example"):  # the template's example, in words
                texts[f"column.{name}.{column}.example"] = meta["example"]
    for key, text in UI.items():
        texts[f"ui.{key}"] = text
    return texts


@cache
def translations(language: str) -> dict[str, str]:
    """The stored translations of one language (empty for English, whose source is the code)."""
    if language == DEFAULT_LANGUAGE:
        return {}
    if language not in LANGUAGES or not _FILE_NAME.match(language):
        raise ValueError(f"unknown language {language!r}; one of {', '.join(LANGUAGES)}")
    folder = resources.files("schemas").joinpath("i18n")
    stored = json.loads(folder.joinpath(f"{language}.json").read_text(encoding="utf-8"))
    for area in PUBLICATION_AREAS:  # the publication outputs' strings, one file per area
        stored |= json.loads(folder.joinpath(area, f"{language}.json").read_text(encoding="utf-8"))
    return stored


def language_or_default(language: Any) -> str:
    """A submission's `language`, or English when absent or not one of the six."""
    text = str(language).strip().lower() if language is not None else ""
    return text if text in LANGUAGES else DEFAULT_LANGUAGE


def text(key: str, language: str = DEFAULT_LANGUAGE) -> str:
    english_texts = _english_cached()
    if language != DEFAULT_LANGUAGE:
        translated = translations(language).get(key)
        if translated:
            return typeset(translated, language)
    return english_texts.get(key, key)


@cache
def _english_cached() -> dict[str, str]:
    return english()


def known(key: str) -> bool:
    """Whether `key` is a translatable string (rule, codelist, table, column or UI key)."""
    return key in _english_cached()


def ui(key: str, language: str = DEFAULT_LANGUAGE, count: float | None = None, **values: Any) -> str:
    """A UI string filled with `values`; of a plural string (`PLURAL_UI`), the form `count`
    takes in the language ("other" without a count). Numbers are written the language's way."""
    if key in PLURAL_UI:
        key = f"{key}.{plural_category(count, language) if count is not None else 'other'}"
    template = text(f"ui.{key}", language)
    if not values:
        return template
    return template.format(**{name: format_number(value, language) if _is_number(value) else value
                              for name, value in values.items()})


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def plural_category(count: float, language: str = DEFAULT_LANGUAGE) -> str:
    """CLDR's plural category of `count` in `language`: `one`, `few`, `many`, ... or `other`."""
    return _locale(language).plural_form(abs(count))


def plural_categories(language: str) -> list[str]:
    """The plural forms a count-bearing string needs in `language`, by CLDR's rules."""
    return sorted(_locale(language).plural_form.tags | {"other"})


def format_number(value: float, language: str = DEFAULT_LANGUAGE, decimals: int | None = None) -> str:
    """`12,345` / `12 345` / `12.345`: the language's digits grouping and decimal sign; a whole
    number without decimals unless `decimals` asks for them."""
    if decimals is None and float(value).is_integer():
        return format_decimal(int(value), locale=_locale(language))  # the locale's own pattern
    pattern = "#,##0." + "0" * (2 if decimals is None else decimals) if decimals != 0 else "#,##0"
    return format_decimal(value, pattern, locale=_locale(language))


def format_years(year_from: Any, year_to: Any) -> str:
    """A reporting period: `2021–2022`, or `2022` for one year; empty when not known."""
    if not year_from or not year_to:
        return ""
    return str(year_from) if year_from == year_to else f"{year_from}–{year_to}"


def format_timestamp(iso_text: str | None, language: str = DEFAULT_LANGUAGE) -> str:
    """A UTC timestamp (`2026-12-02T01:50:00`, as reports store it) the language's way, with its
    zone: `2 déc. 2026, 01:50:00 UTC`."""
    if not iso_text:
        return ""
    import datetime as dt

    try:
        moment = dt.datetime.fromisoformat(str(iso_text))
    except ValueError:
        return str(iso_text)
    return f"{format_datetime(moment, 'medium', locale=_locale(language))} UTC"


def format_percent_change(value: float, language: str = DEFAULT_LANGUAGE) -> str:
    """A relative change, signed: `+25 %` in French, `+25%` in English."""
    text = format_percent(abs(value), locale=_locale(language))
    return ("+" if value >= 0 else "−") + text


def format_list(items: list[str], language: str = DEFAULT_LANGUAGE, style: str = "and") -> str:
    """Items as a sentence of `language` lists them: `A, B et C` (style `and`), `A, B ou C`
    (`or`), by CLDR's list patterns; `A، B، C` or `A、B、C` (`enumeration`: no conjunction,
    the language's own comma)."""
    items = [str(item) for item in items]
    if style == "enumeration" or len(items) < 2:
        return LIST_SEPARATORS.get(language, ", ").join(items)
    return babel_format_list(items, style="or" if style == "or" else "standard", locale=_locale(language))


def quoted(text: Any, language: str = DEFAULT_LANGUAGE) -> str:
    """`text` between the language's quotation marks (CLDR delimiters)."""
    start, end = QUOTES.get(language, QUOTES[DEFAULT_LANGUAGE])
    return f"{start}{text}{end}"


def parenthesised(text: Any, language: str = DEFAULT_LANGUAGE) -> str:
    """`(text)`; full-width `（text）` in Chinese."""
    return f"（{text}）" if language == "zh" else f"({text})"


def label_value(label: str, value: Any, language: str = DEFAULT_LANGUAGE) -> str:
    """`Country: Mali` / `Pays : Mali` / `国家：马里`: a label and its value."""
    return f"{label}{COLONS.get(language, ':')}{'' if language == 'zh' else ' '}{value}"


@cache
def _locale(language: str) -> Locale:
    return Locale.parse(language if language in LANGUAGES else DEFAULT_LANGUAGE)


def typeset(text: str, language: str) -> str:
    """French typography: a narrow no-break space before `: ; ! ?` and inside « », where the
    stored strings have a plain space (or none, before `»`)."""
    if language != "fr":
        return text
    text = re.sub(r"[ \u00a0]([:;!?»])", "\u202f\\1", text)
    return re.sub(r"«[ \u00a0]", "«\u202f", text)


def placeholders(template: str) -> set[str]:
    """The `{names}` a message template expects."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def code_label(codelist_name: str, code: str, language: str = DEFAULT_LANGUAGE) -> str:
    key = f"codelist.{codelist_name}.{code}"
    return text(key, language) if key in _english_cached() else code


def column_header(table: str | None, column: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A column's header as the template of `language` writes it: English templates head
    columns with their keys, the others with their titles."""
    return column if language == DEFAULT_LANGUAGE else column_title(table, column, language)


def table_name(table: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A table as the template of `language` names it: English sheets are named by the tables'
    keys, the others by their titles."""
    return table if language == DEFAULT_LANGUAGE else table_title(table, language)


def coded_value(codelist_name: str, code: str, language: str = DEFAULT_LANGUAGE) -> str:
    """A code as the template of `language` offers it: English templates offer the codes,
    the others their labels."""
    return code if language == DEFAULT_LANGUAGE else code_label(codelist_name, code, language)


def table_title(table: str, language: str = DEFAULT_LANGUAGE) -> str:
    key = f"table.{table}.title"
    return text(key, language) if key in _english_cached() else table


def column_title(table: str | None, column: str, language: str = DEFAULT_LANGUAGE) -> str:
    key = f"column.{table}.{column}.title"
    return text(key, language) if key in _english_cached() else column


def labels_in_all_languages(codelist: cl.Codelist) -> dict[str, str]:
    """Every translated label of a codelist -> its code: a French template's `Femme` is female."""
    extra: dict[str, str] = {}
    for language in LANGUAGES:
        for code in codelist.codes:
            extra[text(f"codelist.{codelist.name}.{code}", language)] = code
    return extra


def titles_in_all_languages(key: str) -> set[str]:
    """One string in all six languages (a table's or a column's title, a sheet name)."""
    return {text(key, language) for language in LANGUAGES}


def sheet_name(table: str, language: str) -> str:
    """The sheet name of a table in a template of that language (Excel: 31 characters, no []:*?/\\)."""
    if language == DEFAULT_LANGUAGE:
        return table
    name = re.sub(r"[\[\]:*?/\\]", " ", table_title(table, language)).strip()
    return name[:31]
