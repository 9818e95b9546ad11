"""A finding said in one of the six languages, English included, from the catalogue.

Findings carry data (`schemas.findings`): the rule's code, a `Location`, the cell's text and the
rule's parameters. Here the rule's message and hint, in the report's language, are filled with
those parameters, each written the way the template of that language writes it: a column by
its header, a code as the template's dropdown shows it, a number as a number. What kind of
value a parameter holds is said once, in `PARAMETER_KINDS`, by its name.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from schemas import i18n
from schemas.catalogue import CATALOGUE
from schemas.findings import CSV, Finding, Location
from schemas.tables import TABLES

# How each named parameter is written; any other parameter is written as it is (lists joined).
PARAMETER_KINDS = {
    "column": "column",  # a column key of the finding's table: its header
    "dimension": "column",
    "table": "table",  # a table key: as the template names its sheet
    "key": "columns",  # column keys
    "parts": "codes_of_dimension",  # codes of the `dimension` column
    "allowed": "codes_of_column",  # codes of the finding's column
    "context": "breakdown",  # {column key: code}, the cell's other dimensions
    "kind": "personal_data",  # what personal data a text seems to hold
    "reason": "unreadable",  # why a file cannot be read, with its own parameters
    "size_bytes": "bytes",
    "change": "relative_change",  # (new - old) / old, or None when old is 0
    "encoding": "alternatives",  # encodings tried
    # the published dataUNODC import (`published-*` rules)
    "total": "count",  # a number, or {count, suppressed, count_min, count_max}: 12, <5, 13 to 16
    "cell_key": "cell_key",  # {country, year, table, stage, sex, ...}: a cell of the warehouse
    "categories": "listed_codes",  # codes of `dimension`, the first PARTS_LISTED of them
    "values_at_lines": "values_at_lines",  # [{value, line}]: the values a repeated key has
    "iso3": "country_name",  # an ISO3 code: the country's name
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
}
# A rule whose parameter means something else than the same name elsewhere.
RULE_PARAMETER_KINDS = {
    "limit-exceeded": {"actual": "limit_value", "allowed": "limit_value"},  # in the limit's unit
}
# The UI strings of the `ui_choice` parameters: `ui.<prefix>.<code>`, filled with the finding's
# other parameters.
UI_CHOICES = {"sum_reason": "summed", "applies_to": "published_label_for",
              "expected": "published_expected"}
PARTS_LISTED = 8  # `listed_codes`: how many are written before "and N more"


def render_message(finding: Finding, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    return _fill(i18n.text(f"rule.{finding.rule}.message", language), finding, language)


def render_hint(finding: Finding, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    return _fill(i18n.text(f"rule.{finding.rule}.hint", language), finding, language)


def render_value(finding: Finding, language: str = i18n.DEFAULT_LANGUAGE) -> str | None:
    """The cell's text as submitted; withheld (personal data) said in the language."""
    if finding.params.get("withheld"):
        return i18n.ui("withheld", language)
    return finding.value


def render_location(location: Location, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    """`victims!F12` as Excel shows it; `victims.csv, line 12, column 6` for a CSV file."""
    source = location.source or location.table or ""
    if location.cell:
        return f"{source}!{location.cell}"
    if location.kind == CSV or location.line or location.position:
        parts = []
        if location.line:
            parts.append(i18n.ui("line", language, line=location.line))
        if location.position:
            parts.append(i18n.ui("column_number", language, column=location.position))
        if source and language in i18n.RIGHT_TO_LEFT:  # the file name stays one left-to-right unit
            source = f"\u2068{source}\u2069"
        return ", ".join([source, *parts]) if source else ", ".join(parts)
    return source


def rule_title(code: str, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    return i18n.text(f"rule.{code}.title", language) if code in CATALOGUE else code


def rule_hint(code: str, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    """A rule's hint without a finding's values (the per-rule table of a report)."""
    if code not in CATALOGUE:
        return ""
    hint = i18n.text(f"rule.{code}.hint", language)
    return hint.format_map(_Blank()).replace(": .", ".").replace("; .", ".").rstrip(" :;")


def severity(code: str, language: str = i18n.DEFAULT_LANGUAGE) -> str:
    return i18n.ui(f"severity.{code}", language)


def changes_breakdown_text(table: str | None, breakdown: dict[str, Any], language: str) -> str:
    """A changed cell in a report's table of changes: `Sex: Female, Age group: Total`, column
    titles and code labels in every language."""
    spec = TABLES.get(table or "")
    texts = []
    for column, code in breakdown.items():
        meta = spec.column_meta(column) if spec and column in spec.columns else {}
        codelist = meta.get("codelist") or meta.get("special")
        label = i18n.code_label(codelist, str(code), language) if codelist else str(code)
        texts.append(f"{i18n.column_title(table, column, language)}: {label}")
    return ", ".join(texts)


def breakdown_text(table: str | None, breakdown: dict[str, Any], language: str) -> str:
    """A cell's breakdown in a message: `sex female, age total` (as the English template
    writes them) / `Sexe Féminin, Groupe d’âge Total` (the French one)."""
    return ", ".join(f"{i18n.column_header(table, column, language)} "
                     f"{coded_text(table, column, code, language)}"
                     for column, code in breakdown.items())


def coded_text(table: str | None, column: str, code: Any, language: str) -> str:
    """A coded value as the template of `language` shows it (a country code stays a code)."""
    if code is None:
        return ""
    spec = TABLES.get(table or "")
    if spec is None or column not in spec.columns:
        return str(code)
    meta = spec.column_meta(column)
    codelist = meta.get("codelist") or meta.get("list_of") or meta.get("special") or None
    if not codelist or codelist == "country":
        return str(code)
    return i18n.coded_value(codelist, str(code), language)


def _fill(template: str, finding: Finding, language: str) -> str:
    values = {name: _written(name, value, finding, language) for name, value in finding.params.items()}
    if finding.params.get("withheld"):  # texts dropped because they hold personal data
        withheld = i18n.ui("withheld", language)
        values.update({name: withheld for name, value in finding.params.items() if value is None})
        values.setdefault("value", withheld)
    values.setdefault("value", finding.value or "")
    values.setdefault("column", i18n.column_header(finding.table, finding.column, language)
                      if finding.column else "")
    values.setdefault("table", i18n.table_name(finding.table, language) if finding.table else "")
    return template.format_map(_Blank(values)).rstrip()  # an empty last parameter leaves no space


def _written(name: str, value: Any, finding: Finding, language: str) -> str:
    kind = RULE_PARAMETER_KINDS.get(finding.rule, {}).get(name) or PARAMETER_KINDS.get(name)
    table = finding.table
    if kind == "relative_change" and value is None:  # from zero: the new figure itself
        return f"+{finding.value}"
    if value is None:
        return ""
    if kind == "column":
        return i18n.column_header(table, str(value), language)
    if kind == "table":
        return i18n.table_name(str(value), language)
    if kind == "columns":
        return ", ".join(i18n.column_header(table, str(column), language) for column in value)
    if kind == "codes_of_dimension":
        dimension = str(finding.params.get("dimension") or "")
        return ", ".join(coded_text(table, dimension, code, language) for code in value)
    if kind == "codes_of_column":
        return ", ".join(coded_text(table, finding.column or "", code, language) for code in value)
    if kind == "breakdown":
        return breakdown_text(table, value, language)
    if kind == "personal_data":
        return i18n.ui(f"personal_data.{value}", language)
    if kind == "unreadable":
        details = {key: _written(key, item, finding, language)
                   for key, item in finding.params.items() if key != "reason"}
        return i18n.text(f"ui.unreadable.{value}", language).format_map(_Blank(details))
    if kind == "bytes":
        return f"{int(value) / 1024**2:,.1f} MB"
    if kind == "limit":
        return f"{i18n.ui(f'limit.{value}', language)} (`{value}`)"
    if kind == "limit_value":
        limit = str(finding.params.get("limit") or "")
        if limit.endswith("_bytes"):
            text = _written("size_bytes", value, finding, language)
        elif limit.endswith("_seconds"):
            text = i18n.ui("seconds", language, n=f"{float(value):,.1f}".removesuffix(".0"))
        else:
            text = f"{float(value):,.0f}"
        if name == "actual" and value == finding.params.get("allowed"):  # a read stopped at its limit
            return i18n.ui("at_least", language, value=text)
        return text
    if kind == "relative_change":
        return f"{float(value):+.0%}"
    if kind == "count":
        return _count_text(value, language)
    if kind == "cell_key":
        return _cell_key_text(value, finding.params.get("texts"), language)
    if kind == "listed_codes":
        dimension = str(finding.params.get("dimension") or "")
        codes = [coded_text(table, dimension, code, language) for code in value]
        if len(codes) <= PARTS_LISTED:
            return ", ".join(codes)
        return i18n.text("ui.and_more", language).format(
            listed=", ".join(codes[:PARTS_LISTED]), more=len(codes) - PARTS_LISTED)
    if kind == "values_at_lines":
        return ", ".join(f"{item['value']} ({i18n.ui('line', language, line=item['line'])})"
                         for item in value)
    if kind == "country_names":
        from schemas.countries import country_name  # reference data, read only when needed

        return " / ".join(country_name(str(code), language) for code in value)
    if kind in ("country_name", "country_with_code"):
        name = _country_names().get(str(value), str(value))
        return name if kind == "country_name" else f"{name} ({value})"
    if kind == "ui_choice":
        details = {key: _written(key, item, finding, language)
                   for key, item in finding.params.items() if key != name}
        return i18n.text(f"ui.{UI_CHOICES[name]}.{value}", language).format_map(_Blank(details))
    if kind == "alternatives":
        return " / ".join(value) if isinstance(value, list) else str(value)
    if kind == "cell_changes":
        return _changes_text(value, bool(finding.params.get("more_changes")), language)
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


def _count_text(value: Any, language: str) -> str:
    """A count: `12`; a published count known within bounds: `<5` (1 to 4) or `13 to 16`."""
    if not isinstance(value, dict):
        return str(value)
    if not value.get("suppressed"):
        return str(value.get("count"))
    low, high = int(value["count_min"]), int(value["count_max"])
    if low == 1 and high <= 4:
        return f"<{high + 1}"
    return i18n.ui("count_range", language, low=low, high=high)


def _changes_text(alternatives: list[list[dict[str, Any]]], more: bool, language: str) -> str:
    """`The fewest cells to change: change F15 from 15 to 17, or change F24 from 9 to 7.`:
    each minimal set of cells (schemas.localise), the sets joined by "or"."""
    sets = [i18n.ui("change_cells", language,
                    cells=_list([cell_change_text(change, language) for change in changes], "standard", language))
            for changes in alternatives]
    return i18n.ui("fewest_changes_more" if more else "fewest_changes", language,
                   alternatives=_list(sets, "or", language))


def cell_change_text(change: dict[str, Any], language: str) -> str:
    """`F15 from 15 to 17`; `to 12 or more`, `to 7 or less`, `to a value from 3 to 5` when
    the table does not determine one value."""
    cell = change.get("cell") or i18n.ui("line", language, line=change["line"])
    low, high = change["low"], change["high"]
    old = _number(change["from"], language)
    if low == high:
        return i18n.ui("cell_change", language, cell=cell, old=old, new=_number(low, language))
    if high is None:
        return i18n.ui("cell_change_at_least", language, cell=cell, old=old, new=_number(low, language))
    if low == 0:
        return i18n.ui("cell_change_at_most", language, cell=cell, old=old, new=_number(high, language))
    return i18n.ui("cell_change_between", language, cell=cell, old=old,
                   low=_number(low, language), high=_number(high, language))


def _list(items: list[str], style: str, language: str) -> str:
    """Items joined as the language joins a list ("standard": and, "or": or), from CLDR."""
    from babel.lists import format_list

    return format_list(items, style=style, locale=language)


def _number(value: Any, language: str) -> str:
    """A count as written in a message (one helper, for locale-aware digits later)."""
    return str(value)


def _cell_key_text(key: dict[str, Any], texts: list[str] | None, language: str) -> str:
    """`ARG, 2019, victims, sex other, age total, form total, citizenship SLB (`Nationals`)`:
    a cell of a warehouse table, its breakdown as the table's template writes it."""
    table = str(key.get("table") or "")
    parts = [str(key[name]) for name in ("country", "year") if key.get(name) is not None]
    if table:
        parts.append(table if language == i18n.DEFAULT_LANGUAGE else i18n.table_title(table, language))
    if key.get("stage"):
        parts.append(coded_text(table, "stage", key["stage"], language))
    breakdown = {column: code for column, code in key.items()
                 if column not in ("country", "year", "table", "stage")}
    if breakdown:
        parts.append(breakdown_text(table, breakdown, language))
    text = ", ".join(parts)
    if texts:
        text += " (" + " / ".join(f"`{item}`" for item in texts) + ")"
    return text


@cache
def _country_names() -> dict[str, str]:
    from schemas.countries import load_countries  # reference data, read only when needed

    countries = load_countries()
    return dict(zip(countries["iso3"], countries["name"]))


class _Blank(dict):
    """format_map helper: a placeholder with no value is written empty, never raises."""

    def __missing__(self, key: str) -> str:
        return ""
