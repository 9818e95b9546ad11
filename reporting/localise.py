"""A finding said again in the submitter's language.

Findings carry their English message (as stored in `validation_findings`) and the values it was
filled with (`Finding.params`). Here the rule's translated template is filled with those values,
themselves translated where they are words: column names become the column titles of the
translated template, codes become codelist labels, known English phrases their translation.
"""

from __future__ import annotations

import re
from typing import Any

from schemas import codelists as cl
from schemas import i18n
from schemas.catalogue import CATALOGUE
from schemas.findings import Finding
from schemas.tables import TABLES

_PERIOD = re.compile(r"^(\d{4}) to (\d{4})$")
_START_AFTER_END = re.compile(r"^(\d{4}), after \d{4}$")
_CSV_CELL = re.compile(r"^line (\d+)(?:, column (\d+))?$|^column (\d+)$")


def message_and_hint(finding: Finding, language: str) -> tuple[str, str]:
    if language == i18n.DEFAULT_LANGUAGE or finding.rule not in CATALOGUE:
        return finding.message, finding.hint
    values = _localised_params(finding, language)
    message = i18n.text(f"rule.{finding.rule}.message", language)
    hint = i18n.text(f"rule.{finding.rule}.hint", language)
    return message.format_map(_Blank(values)), hint.format_map(_Blank(values))


def rule_title(code: str, language: str) -> str:
    if code not in CATALOGUE:
        return code
    return i18n.text(f"rule.{code}.title", language)


def rule_hint(code: str, language: str) -> str:
    """A rule's hint without a finding's values (the per-rule table of a report)."""
    if code not in CATALOGUE:
        return ""
    hint = i18n.text(f"rule.{code}.hint", language)
    return hint.format_map(_Blank({})).replace(": .", ".").replace("; .", ".").rstrip(" :;")


def location(finding: Finding, language: str) -> str:
    """`victims!F12` stays as Excel shows it; a CSV's `line 12, column 6` is translated."""
    if language == i18n.DEFAULT_LANGUAGE or not finding.cell:
        return finding.location
    match = _CSV_CELL.match(finding.cell)
    if not match:
        return finding.location
    line, column = match.group(1), match.group(2) or match.group(3)
    parts = []
    if line:
        parts.append(i18n.ui("line", language, line=line))
    if column:
        parts.append(i18n.ui("column_number", language, column=column))
    source = finding.source
    if source and language in i18n.RIGHT_TO_LEFT:  # the file name stays one left-to-right unit
        source = f"\u2068{source}\u2069"
    return f"{source}, {', '.join(parts)}" if source else ", ".join(parts)


def severity(code: str, language: str) -> str:
    return i18n.ui(f"severity.{code}", language)


def breakdown_text(table: str, breakdown: dict[str, str], language: str) -> str:
    """`Sex: Female, Age group: Total, ...` in the report language."""
    return ", ".join(f"{i18n.column_title(table, column, language)}: {code_text(table, column, code, language)}"
                     for column, code in breakdown.items())


def code_text(table: str | None, column: str, code: Any, language: str) -> str:
    """A coded value as its label in `language` (a country code stays a code)."""
    spec = TABLES.get(table or "")
    if spec is None or column not in spec.columns or code is None:
        return "" if code is None else str(code)
    meta = spec.column_meta(column)
    codelist = meta.get("codelist") or meta.get("special") or None
    if codelist and (codelist in cl.CODELISTS or codelist == cl.CITIZENSHIP_SPECIAL.name):
        return i18n.code_label(codelist, str(code), language)
    return str(code)


def _localised_params(finding: Finding, language: str) -> dict[str, Any]:
    params = dict(finding.params)
    table = finding.table
    column = params.get("column") or finding.column or ""
    if column:
        params["column"] = i18n.column_title(table, column, language)
    if params.get("table"):
        params["table"] = i18n.table_title(params["table"], language)
    if finding.rule in ("unknown-column",):  # the header as the submitter wrote it
        params["value"] = finding.value or ""
    dimension = params.get("dimension")
    if dimension:
        params["dimension"] = i18n.column_title(table, dimension, language)
        if params.get("parts"):
            params["parts"] = ", ".join(code_text(table, dimension, part.strip(), language)
                                        for part in str(params["parts"]).split(","))
    if params.get("context"):
        params["context"] = _context(table, str(params["context"]), language)
    if params.get("allowed") and column:
        params["allowed"] = ", ".join(code_text(table, column, code.strip(), language)
                                      for code in str(params["allowed"]).split(","))
    if params.get("key"):
        params["key"] = ", ".join(i18n.column_title(table, c.strip(), language)
                                  for c in str(params["key"]).split(","))
    detail = params.get("detail")
    if isinstance(detail, str):
        params["detail"] = _detail(detail, language)
    if params.get("value") == "(withheld)":
        params["value"] = i18n.ui("detail.withheld", language)
    return params


def _context(table: str | None, context: str, language: str) -> str:
    """`year 2021, sex total` -> `Année 2021, Sexe Total` (column title, then label)."""
    parts = []
    for item in context.split(", "):
        column, _, code = item.partition(" ")
        parts.append(f"{i18n.column_title(table, column, language)} {code_text(table, column, code, language)}")
    return ", ".join(parts)


def _detail(detail: str, language: str) -> str:
    phrase_key = f"ui.detail.{detail}"
    if i18n.known(phrase_key):
        return i18n.text(phrase_key, language)
    period = _PERIOD.match(detail)
    if period:
        return i18n.ui("period", language, start=period.group(1), end=period.group(2))
    start_after_end = _START_AFTER_END.match(detail)
    if start_after_end:
        return start_after_end.group(1)
    return detail


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""
