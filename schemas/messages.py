"""A finding said in one of the six languages, English included, from the catalogue.

Findings carry data (`schemas.findings`): the rule's code, a `Location`, the cell's text and the
rule's parameters. Here the rule's message and hint, in the report's language, are filled with
those parameters, each said in the submitter's words: a column by the header the submitter's
sheet shows (the finding's `headers`, else the column's title in the language), a code by its
label ("Female", "Mali"), a number with the language's digit grouping, a list with its commas
and conjunction. What kind of value a parameter holds is said once, in `PARAMETER_KINDS`, by its
name; `{table.column}` in a catalogue text names a column of another table by its title, and
`{sheet.table}` a table by its sheet's name.

The catalogue marks names and typed values as `code`; `render_message` keeps those marks (a page
styles them: report.html), `render_message(..., marked=False)` says them with the language's
quotation marks (report.json, CSV, cell comments, e-mail, terminal: no Markdown anywhere).
"""

from __future__ import annotations

import re
import string
from typing import Any

from schemas import codelists as cl
from schemas import i18n
from schemas.catalogue import CATALOGUE
from schemas.countries import country_name
from schemas.findings import CSV, Finding, Location
from schemas.tables import TABLES

# How each named parameter is written; any other parameter is written as it is (lists joined).
PARAMETER_KINDS = {
    "column": "column",  # a column key of the finding's table: its header
    "dimension": "column",
    "table": "table",  # a table key: as the template names its sheet
    "key": "columns",  # column keys
    "part_columns": "columns",
    "stage": "code_of_stage",  # a code of the finding's table's `stage` column: its label
    "parts": "codes_of_dimension",  # codes of the `dimension` column
    "allowed": "codes_of_column",  # codes of the finding's column
    "context": "breakdown",  # {column key: code}, the cell's other dimensions
    "kind": "personal_data",  # what personal data a text seems to hold
    "reason": "unreadable",  # why a file cannot be read, with its own parameters
    "size_bytes": "bytes",
    "change": "relative_change",  # (new - old) / old, or None when old is 0
    "encoding": "alternatives",  # encodings tried
    # numbers said with the language's digit grouping (years and line numbers stay as they are)
    "rows": "count", "length": "count", "parts_sum": "count", "previous": "count",
    "differing": "count", "comparable": "count", "victims": "count",
    # the published dataUNODC import (`published-*` rules)
    "total": "count",  # a number, or {count, suppressed, count_min, count_max}: 12, <5, 13 to 16
    "room": "count",  # what a total leaves for `Other forms` after the named forms
    "cell_key": "cell_key",  # {country, year, table, stage, sex, ...}: a cell of the warehouse
    "categories": "listed_codes",  # codes of `dimension`, the first PARTS_LISTED of them
    "values_at_lines": "values_at_lines",  # [{value, line}]: the values a repeated key has
    "iso3": "country_name",  # an ISO3 code: the country's name
    "country": "country_name",
    "named": "country_with_code",  # an ISO3 code: the country's name and code
    "file_country": "country_with_code",
    "cell_country": "country_with_code",
    "candidates": "country_names",  # ISO3 codes an ambiguous name could mean: their names
    "sum_reason": "ui_choice",  # why repeated rows were summed: ui.summed.<code>
    "applies_to": "ui_choice",  # where a label is not known: ui.published_label_for.<code>
    "expected": "ui_choice",  # what a published value should be: ui.published_expected.<code>
    "limit": "limit",  # a setting of schemas/limits.py: what it bounds, and its name
    # the fewest cells to change (schemas.localise): [[{line, column, cell, from, to, low, high}]]
    "changes": "cell_changes",
    # a rule failing on more cells than are listed (`more-errors`, `more-warnings`)
    "of_rule": "rule",  # a rule's code: its title
    "unlisted": "count", "listed": "count",
}
# A rule whose parameter means something else than the same name elsewhere.
RULE_PARAMETER_KINDS = {
    "limit-exceeded": {"actual": "limit_value", "allowed": "limit_value"},  # in the limit's unit
    "text-too-long": {"limit": "count"},  # characters
}
# The UI strings of the `ui_choice` parameters: `ui.<prefix>.<code>`, filled with the finding's
# other parameters.
UI_CHOICES = {"sum_reason": "summed", "applies_to": "published_label_for",
              "expected": "published_expected"}
PARTS_LISTED = 8  # `listed_codes`: how many are written before "and N more"
HEADERS = "headers"  # a finding's parameter: {column key: its header as the submitter's sheet has it}
VALUE_CODES = "value_codes"  # a finding's parameter: {column key: code}, a value made of codes
_MARKED = re.compile(r"`([^`]+)`")


def render_message(finding: Finding, language: str = i18n.DEFAULT_LANGUAGE, *, marked: bool = True) -> str:
    """The finding's message; `marked=False`: as plain text, the marks as quotation marks."""
    return _said(_fill(i18n.text(f"rule.{finding.rule}.message", language), finding, language),
                 language, marked)


def render_hint(finding: Finding, language: str = i18n.DEFAULT_LANGUAGE, *, marked: bool = True) -> str:
    return _said(_fill(i18n.text(f"rule.{finding.rule}.hint", language), finding, language),
                 language, marked)


def plain(text: str, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    """A catalogue text's `code` marks as the language's quotation marks (text without markup:
    CSV, cell comments, e-mail, terminal)."""
    return _MARKED.sub(lambda match: i18n.quoted(match.group(1), language), text)


def _said(text: str, language: str, marked: bool) -> str:
    return text if marked else plain(text, language)


def render_value(finding: Finding, language: str = i18n.DEFAULT_LANGUAGE) -> str | None:
    """The cell's text as submitted; withheld (personal data) said in the language; a value made
    of codes (a repeated row's key) by their labels: `Female / 0 to 17 years / Mali`."""
    if finding.params.get("withheld"):
        return i18n.ui("withheld", language)
    codes = finding.params.get(VALUE_CODES)
    if isinstance(codes, dict) and codes:
        return " / ".join(coded_text(finding.table, column, code, language)
                          for column, code in codes.items())
    return finding.value


def render_location(location: Location, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    """`victims!F12` as Excel shows it; `victims.csv, line 12, column 6` for a CSV file."""
    source = location.source or location.table or ""
    if location.cell:
        return f"{source}!{location.cell}"
    if location.kind == CSV or location.line or location.position:
        parts = []
        if location.line:
            parts.append(i18n.ui("line", language, line=str(location.line)))  # as the editor numbers it
        if location.position:
            parts.append(i18n.ui("column_number", language, column=str(location.position)))
        if source and language in i18n.RIGHT_TO_LEFT:  # the file name stays one left-to-right unit
            source = f"\u2068{source}\u2069"
        return i18n.format_list([source, *parts] if source else parts, language, "enumeration")
    return source


def rule_title(code: str, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    return i18n.text(f"rule.{code}.title", language) if code in CATALOGUE else code


def rule_hint(code: str, language: str = i18n.DEFAULT_LANGUAGE, *, marked: bool = True) -> str:
    """A rule's hint without a finding's values (the per-rule table of a report)."""
    if code not in CATALOGUE:
        return ""
    hint = i18n.text(f"rule.{code}.hint", language)
    hint = hint.format_map(_Blank(_other_tables(hint, {}, language)))
    return _said(hint.replace(": .", ".").replace("; .", ".").rstrip(" :;\u202f"), language, marked)


def severity(code: str, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    return i18n.ui(f"severity.{code}", language)


def column_name(table: str | None, column: str, language: str = i18n.DEFAULT_LANGUAGE,
                headers: dict[str, str] | None = None) -> str:
    """A column as the submitter's sheet heads it (`headers`, as read), else by its title in
    the language: never its internal key."""
    header = (headers or {}).get(column)
    return header if header else i18n.column_title(table, column, language)


def finding_column(finding: Finding, language: str = i18n.DEFAULT_LANGUAGE) -> str | None:
    """The column a finding points at, named as `column_name` names it (a header that is no
    column of the template stays as written)."""
    if not finding.column:
        return None
    spec = TABLES.get(finding.table or "")
    if spec is None or finding.column not in spec.columns:
        return finding.column
    return column_name(finding.table, finding.column, language, _headers(finding))


def changes_breakdown_text(table: str | None, breakdown: dict[str, Any], language: str) -> str:
    """A changed cell in a report's table of changes: `Sex: Female, Age group: Total`, column
    titles and code labels in every language."""
    return i18n.format_list([i18n.label_value(i18n.column_title(table, column, language),
                                              coded_text(table, column, code, language), language)
                             for column, code in breakdown.items()], language, "enumeration")


def breakdown_text(table: str | None, breakdown: dict[str, Any], language: str,
                   headers: dict[str, str] | None = None) -> str:
    """A cell's breakdown in a message: `Sex Female, Age group Total` / `Sexe Féminin, Groupe
    d’âge Total` (the columns as the sheet heads them, the codes by their labels)."""
    return i18n.format_list([f"{column_name(table, column, language, headers)} "
                             f"{coded_text(table, column, code, language)}"
                             for column, code in breakdown.items()], language, "enumeration")


def coded_text(table: str | None, column: str, code: Any, language: str) -> str:
    """A coded value by its label in `language`: `female` is "Female" / "Féminin", `MLI` is
    "Mali"; a year or a number stays as it is."""
    if code is None:
        return ""
    spec = TABLES.get(table or "")
    if spec is None or column not in spec.columns:
        return str(code)
    meta = spec.column_meta(column)
    codelist = meta.get("codelist") or (meta.get("list_of") if meta.get("list_of") != "country" else None)
    if codelist:
        return i18n.code_label(codelist, str(code), language)
    if meta.get("country") or meta.get("list_of") == "country":
        special = meta.get("special")
        if special and str(code) in cl.CODELISTS.get(special, cl.CITIZENSHIP_SPECIAL).codes:
            return i18n.code_label(special, str(code), language)
        return country_name(str(code), language)
    return str(code)


def _fill(template: str, finding: Finding, language: str) -> str:
    values = {name: _written(name, value, finding, language) for name, value in finding.params.items()}
    if finding.params.get("withheld"):  # texts dropped because they hold personal data
        withheld = i18n.ui("withheld", language)
        values.update({name: withheld for name, value in finding.params.items() if value is None})
        values.setdefault("value", withheld)
    values.setdefault("value", _value_text(finding, language))
    values.setdefault("column", column_name(finding.table, finding.column, language, _headers(finding))
                      if finding.column else "")
    values.setdefault("table", _sheet(finding, finding.table, language) if finding.table else "")
    # an empty last parameter (no `changes` found) leaves no trailing space
    return template.format_map(_Blank(_other_tables(template, values, language))).rstrip()


def _value_text(finding: Finding, language: str) -> str:
    """The cell's text in a message; a valid code of a coded column by its label (`THA` in a
    country column is "Thailand"), anything else as typed."""
    if not finding.value or not finding.column:
        return finding.value or ""
    return coded_text(finding.table, finding.column, finding.value, language)


def _headers(finding: Finding) -> dict[str, str]:
    headers = finding.params.get(HEADERS)
    return headers if isinstance(headers, dict) else {}


def _sheet(finding: Finding, table: str, language: str) -> str:
    """The finding's own table as the submitter named its sheet or file; another table as the
    template of `language` names it."""
    if table == finding.table and finding.source and finding.location.kind:
        return finding.source
    return i18n.table_name(table, language)


def _other_tables(template: str, values: dict[str, Any], language: str) -> dict[str, Any]:
    """`{submission.year_from}` in a catalogue text: a column of another table, by its title."""
    values = dict(values)
    for _, field_name, _, _ in string.Formatter().parse(template):
        if field_name and "." in field_name:
            table = field_name.split(".", 1)[0]
            values.setdefault(table, _Sheets(language) if table == "sheet" else _Titles(table, language))
    return values


class _Sheets:
    """`{sheet.victims}`: a table's sheet as the template of the language names it."""

    def __init__(self, language: str):
        self.language = language

    def __getattr__(self, table: str) -> str:
        return i18n.table_name(table, self.language)


class _Titles:
    """`{table.column}`: the column's title in the language."""

    def __init__(self, table: str, language: str):
        self.table, self.language = table, language

    def __getattr__(self, column: str) -> str:
        return i18n.column_title(self.table, column, self.language)


def _written(name: str, value: Any, finding: Finding, language: str) -> str:
    kind = RULE_PARAMETER_KINDS.get(finding.rule, {}).get(name) or PARAMETER_KINDS.get(name)
    table = finding.table
    headers = _headers(finding)
    if kind == "relative_change" and value is None:  # from zero: the new figure itself
        return f"+{finding.value}"
    if value is None:
        return ""
    if kind == "column":
        return column_name(table, str(value), language, headers)
    if kind == "table":
        return _sheet(finding, str(value), language)
    if kind == "columns":
        return i18n.format_list([column_name(table, str(column), language, headers) for column in value],
                                language)
    if kind == "codes_of_dimension":
        dimension = str(finding.params.get("dimension") or "")
        return i18n.format_list([coded_text(table, dimension, code, language) for code in value], language)
    if kind == "codes_of_column":
        return i18n.format_list([coded_text(table, finding.column or "", code, language) for code in value],
                                language, "or")
    if kind == "breakdown":
        return breakdown_text(table, value, language, headers)
    if kind == "personal_data":
        return i18n.ui(f"personal_data.{value}", language)
    if kind == "unreadable":
        details = {key: _written(key, item, finding, language)
                   for key, item in finding.params.items() if key != "reason"}
        return i18n.text(f"ui.unreadable.{value}", language).format_map(_Blank(details))
    if kind == "bytes":
        return f"{i18n.format_number(int(value) / 1024**2, language, 1)} MB"
    if kind == "limit":
        return f"{i18n.ui(f'limit.{value}', language)} (`{value}`)"
    if kind == "limit_value":
        limit = str(finding.params.get("limit") or "")
        if limit.endswith("_bytes"):
            text = _written("size_bytes", value, finding, language)
        elif limit.endswith("_seconds"):
            seconds = float(value)
            text = i18n.ui("seconds", language, n=i18n.format_number(
                seconds, language, 0 if seconds.is_integer() else 1))
        else:
            text = i18n.format_number(round(float(value)), language)
        if name == "actual" and value == finding.params.get("allowed"):  # a read stopped at its limit
            return i18n.ui("at_least", language, value=text)
        return text
    if kind == "relative_change":
        return i18n.format_percent_change(float(value), language)
    if kind == "count":
        return _count_text(value, language)
    if kind == "rule":
        return rule_title(str(value), language)
    if kind == "cell_key":
        return _cell_key_text(value, finding.params.get("texts"), language)
    if kind == "code_of_stage":
        return coded_text(table, "stage", value, language)
    if kind == "listed_codes":
        dimension = str(finding.params.get("dimension") or "")
        cell_key = finding.params.get("cell_key")
        of_table = str(cell_key.get("table")) if isinstance(cell_key, dict) and cell_key.get("table") else table
        codes = [coded_text(of_table, dimension, code, language) for code in value]
        if len(codes) <= PARTS_LISTED:
            return i18n.format_list(codes, language)
        more = len(codes) - PARTS_LISTED
        return i18n.ui("and_more", language, count=more, more=more,
                       listed=i18n.format_list(codes[:PARTS_LISTED], language, "enumeration"))
    if kind == "values_at_lines":
        return i18n.format_list([f"{item['value']} "
                                 + i18n.parenthesised(i18n.ui('line', language, line=str(item['line'])), language)
                                 for item in value], language, "enumeration")
    if kind == "country_names":
        return " / ".join(country_name(str(code), language) for code in value)
    if kind in ("country_name", "country_with_code"):
        name = country_name(str(value), language)
        if kind == "country_name" or name == str(value):
            return name
        return f"{name} {i18n.parenthesised(value, language)}"
    if kind == "ui_choice":
        details = {key: _written(key, item, finding, language)
                   for key, item in finding.params.items() if key != name}
        return i18n.text(f"ui.{UI_CHOICES[name]}.{value}", language).format_map(_Blank(details))
    if kind == "alternatives":
        return " / ".join(value) if isinstance(value, list) else str(value)
    if kind == "cell_changes":
        return _changes_text(value, bool(finding.params.get("more_changes")), language)
    if isinstance(value, list):
        return i18n.format_list([str(item) for item in value], language, "enumeration")
    return str(value)


def _count_text(value: Any, language: str) -> str:
    """A count: `12`, `1 226`; a published count known within bounds: `<5` (1 to 4) or `13 to 16`."""
    if not isinstance(value, dict):
        return i18n.format_number(value, language) if isinstance(value, (int, float)) else str(value)
    if not value.get("suppressed"):
        return _count_text(value.get("count"), language)
    low, high = int(value["count_min"]), int(value["count_max"])
    if low == 1 and high <= 4:
        return f"<{high + 1}"
    return i18n.ui("count_range", language, low=low, high=high)


def _changes_text(alternatives: list[list[dict[str, Any]]], more: bool, language: str) -> str:
    """`The fewest cells to change: change F15 from 15 to 17, or change F24 from 9 to 7.`:
    each minimal set of cells (schemas.localise), the sets joined by "or"."""
    sets = [i18n.ui("change_cells", language,
                    cells=i18n.format_list([cell_change_text(change, language) for change in changes], language, "and"))
            for changes in alternatives]
    return i18n.ui("fewest_changes_more" if more else "fewest_changes", language,
                   alternatives=i18n.format_list(sets, language, "or"))


def cell_change_text(change: dict[str, Any], language: str) -> str:
    """`F15 from 15 to 17`; `to 12 or more`, `to 7 or less`, `to a value from 3 to 5` when
    the table does not determine one value."""
    cell = change.get("cell") or i18n.ui("line", language, line=change["line"])
    low, high = change["low"], change["high"]
    old = i18n.format_number(change["from"], language)
    if low == high:
        return i18n.ui("cell_change", language, cell=cell, old=old, new=i18n.format_number(low, language))
    if high is None:
        return i18n.ui("cell_change_at_least", language, cell=cell, old=old, new=i18n.format_number(low, language))
    if low == 0:
        return i18n.ui("cell_change_at_most", language, cell=cell, old=old, new=i18n.format_number(high, language))
    return i18n.ui("cell_change_between", language, cell=cell, old=old,
                   low=i18n.format_number(low, language), high=i18n.format_number(high, language))


def _cell_key_text(key: dict[str, Any], texts: list[str] | None, language: str) -> str:
    """`Argentina, 2019, victims, Sex Other, Age group Total, ... (`Nationals`)`: a cell of a
    warehouse table, its breakdown by column titles and labels."""
    table = str(key.get("table") or "")
    parts = []
    if key.get("country") is not None:
        parts.append(country_name(str(key["country"]), language))
    if key.get("year") is not None:
        parts.append(str(key["year"]))
    if table:
        parts.append(table if language == i18n.DEFAULT_LANGUAGE else i18n.table_title(table, language))
    if key.get("stage"):
        parts.append(coded_text(table, "stage", key["stage"], language))
    breakdown = {column: code for column, code in key.items()
                 if column not in ("country", "year", "table", "stage")}
    if breakdown:
        parts.append(breakdown_text(table, breakdown, language))
    text = i18n.format_list(parts, language, "enumeration")
    if texts:
        text += " " + i18n.parenthesised(" / ".join(f"`{item}`" for item in texts), language)
    return text


class _Blank(dict):
    """format_map helper: a placeholder with no value is written empty, never raises."""

    def __missing__(self, key: str) -> str:
        return ""
