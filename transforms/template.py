"""Write the blank Excel submission template, generated from the table models and codelists.

Nothing here is written by hand twice: sheet names, header rows, column notes, dropdown lists
and the instructions all come from `schemas.tables` and `schemas.codelists`.
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from schemas import codelists as cl
from schemas import i18n
from schemas.countries import country_codes, country_name, normalise_name
from schemas.tables import LIST_SEPARATOR, TABLES, TEMPLATE_VERSION

HEADER_FILL = PatternFill("solid", fgColor="1F4E79")
HEADER_FONT = Font(bold=True, color="FFFFFF")
DATA_ROWS_WITH_DROPDOWNS = 5000
LISTS_SHEET = "lists"
# The lists of the country columns: every country's name in the template's language, after
# the special values (total, unknown) for the columns that take them.
COUNTRIES = "country"
COUNTRIES_WITH_SPECIALS = "country_or_special"


def write_template(path: str | Path, language: str = i18n.DEFAULT_LANGUAGE, country: str | None = None) -> Path:
    """The template in English (codes as sheet names, headers and dropdown values), or in one
    of the other UN languages (sheet names, headers, notes, dropdown labels and instructions
    translated). The readers map all of them back to codes. With `country` (ISO3), the
    submission sheet names it already, as its dropdown would."""
    path = Path(path)
    english = language == i18n.DEFAULT_LANGUAGE

    def t(key: str, **values) -> str:
        return i18n.ui(key, language, **values)

    workbook = Workbook()
    instructions = workbook.active
    instructions.title = t("instructions_sheet")[:31]
    for row in instructions_rows(language):
        instructions.append(list(row))
    _style_instructions(instructions)
    list_ranges = _write_lists(workbook, language)
    right_to_left = language in i18n.RIGHT_TO_LEFT
    instructions.sheet_view.rightToLeft = right_to_left
    for name, spec in TABLES.items():
        sheet = workbook.create_sheet(i18n.sheet_name(name, language))
        sheet.sheet_view.rightToLeft = right_to_left
        for position, column in enumerate(spec.columns, start=1):
            schema_column = spec.schema.columns[column]
            title = i18n.column_title(name, column, language)
            cell = sheet.cell(row=1, column=position, value=i18n.column_header(name, column, language))
            cell.fill, cell.font = HEADER_FILL, HEADER_FONT
            required = t("optional" if schema_column.nullable else "required")
            description = i18n.text(f"column.{name}.{column}.description", language)
            cell.comment = Comment(f"{title}: {description} ({required})", "GLOTIP template",
                                   width=300, height=120)
            letter = get_column_letter(position)
            sheet.column_dimensions[letter].width = max(16, len(str(cell.value)) + 4)
            metadata = schema_column.metadata or {}
            dropdown = metadata.get("codelist") or (
                (COUNTRIES_WITH_SPECIALS if metadata.get("special") else COUNTRIES)
                if metadata.get("country") else None)
            if dropdown:
                validation = DataValidation(
                    type="list", formula1=list_ranges[dropdown], allow_blank=True,
                    showErrorMessage=True, errorStyle="warning", error=t("choose_from_list"))
                validation.add(f"{letter}2:{letter}{DATA_ROWS_WITH_DROPDOWNS}")
                sheet.add_data_validation(validation)
        sheet.freeze_panes = "A2"
        if name == "submission":
            sheet.cell(row=2, column=spec.columns.index("template_version") + 1, value=TEMPLATE_VERSION)
            if not english:
                sheet.cell(row=2, column=spec.columns.index("language") + 1,
                           value=i18n.code_label(cl.LANGUAGE.name, language, language))
            if country:
                sheet.cell(row=2, column=spec.columns.index("country") + 1,
                           value=country_name(country, language))
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def _write_lists(workbook: Workbook, language: str) -> dict[str, str]:
    """One column per codelist, and the country lists, on a hidden sheet; dropdowns refer to
    these ranges."""
    sheet = workbook.create_sheet(LISTS_SHEET)
    sheet.sheet_state = "hidden"
    ranges = {}
    for position, codelist in enumerate(cl.CODELISTS.values(), start=1):
        letter = get_column_letter(position)
        sheet.cell(row=1, column=position, value=codelist.name).font = Font(bold=True)
        for row, code in enumerate(codelist.codes, start=2):
            sheet.cell(row=row, column=position, value=i18n.coded_value(codelist.name, code, language))
        ranges[codelist.name] = f"{LISTS_SHEET}!${letter}$2:${letter}${len(codelist.codes) + 1}"
    # country names as the report names them (each resolves back to its code), in the
    # language's script, ordered by their matching key (accents and case aside)
    names = sorted({country_name(code, language) for code in country_codes()}, key=normalise_name)
    specials = [i18n.coded_value(cl.CITIZENSHIP_SPECIAL.name, code, language)
                for code in cl.CITIZENSHIP_SPECIAL.codes]
    for offset, (name, values) in enumerate(((COUNTRIES, names),
                                             (COUNTRIES_WITH_SPECIALS, specials + names)), start=1):
        position = len(cl.CODELISTS) + offset
        letter = get_column_letter(position)
        sheet.cell(row=1, column=position, value=name).font = Font(bold=True)
        for row, value in enumerate(values, start=2):
            sheet.cell(row=row, column=position, value=value)
        ranges[name] = f"{LISTS_SHEET}!${letter}$2:${letter}${len(values) + 1}"
    return ranges


def instructions_rows(language: str = i18n.DEFAULT_LANGUAGE) -> list[tuple[str, ...]]:
    """The instructions, as rows. In English each code is shown with its label (`female =
    Female`), since the English template uses codes; other languages show their labels."""
    english = language == i18n.DEFAULT_LANGUAGE

    def t(key: str, **values) -> str:
        return i18n.ui(key, language, **values)

    rows: list[tuple[str, ...]] = [
        (t("template_title"), t("template_version", version=TEMPLATE_VERSION)),
        (t("template_intro"),),
        (),
    ]
    for name, spec in TABLES.items():
        rows.append((f"{t('sheet')}: {i18n.sheet_name(name, language)}",
                     i18n.table_title(name, language), t("required" if spec.required else "optional"),
                     i18n.text(f"table.{name}.description", language)))
        rows.append(("", "", "", "", t("allowed_values"), t("example")))
        for column in spec.columns:
            schema_column = spec.schema.columns[column]
            meta = schema_column.metadata or {}
            codelist = cl.CODELISTS.get(meta.get("codelist") or meta.get("list_of") or "")
            allowed = ""
            if codelist:
                allowed = "; ".join(
                    f"{code} = {codelist.label(code)}" if english else i18n.code_label(codelist.name, code, language)
                    for code in codelist.codes)
            elif meta.get("country") or meta.get("list_of") == "country":
                allowed = t("country_values")
            if meta.get("list_of"):
                allowed += f" ({t('several_separated')})"
            rows.append(("", i18n.column_header(name, column, language),
                         t("optional" if schema_column.nullable else "required"),
                         i18n.text(f"column.{name}.{column}.description", language), allowed,
                         column_example(name, column, language)))
        rows.append(())
    return rows


def column_example(table: str, column: str, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    """A column's example as the template of `language` writes it: free text in the language's
    words, each code as the dropdowns offer it (`total`, `Total`, `المجموع`), a country as its
    ISO3 code, a number as it is."""
    meta = TABLES[table].column_meta(column)
    example = str(meta.get("example", ""))
    if meta.get("free_text"):
        return i18n.text(f"column.{table}.{column}.example", language)
    codes = meta.get("codelist") or meta.get("special")
    if meta.get("list_of") and meta["list_of"] != "country":
        codes = meta["list_of"]
    if not codes:
        return example
    return LIST_SEPARATOR.join(i18n.coded_value(codes, item, language)  # a country code stays a code
                               for item in example.split(LIST_SEPARATOR))


def _style_instructions(sheet) -> None:
    sheet["A1"].font = Font(bold=True, size=14)
    for letter, width in zip("ABCDEF", (22, 28, 12, 70, 60, 24)):
        sheet.column_dimensions[letter].width = width
    for row in sheet.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
