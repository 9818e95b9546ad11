"""The portal's pages: Jinja2 templates (`portal/templates/`), every text said through the
catalogue (`schemas/portal_text.py` in English, `schemas/i18n/portal/<lang>.json`), in the
user's language, right to left in Arabic."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from babel import Locale, negotiate_locale
from jinja2 import Environment, FileSystemLoader, select_autoescape

from schemas import i18n, messages
from schemas.countries import country_name
from schemas.findings import Finding
from schemas.history import change_counts

STATIC = Path(__file__).parent / "static"
TEMPLATES = Path(__file__).parent / "templates"
SHOWN_FINDINGS = 200  # on the page; the full report and findings.csv have every one


@cache
def _environment() -> Environment:
    # cached: immutable once built (templates are read once, like the report's own)
    return Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True),
                       trim_blocks=True, lstrip_blocks=True)


def render(template: str, visit, config, **values) -> str:
    language = visit.language

    def t(key: str, count: float | None = None, **fill) -> str:
        return i18n.ui(f"portal.{key}", language, count=count, **fill)

    def status(code: str | None) -> str:
        if code and i18n.known(f"ui.portal.status.{code}"):
            return t(f"status.{code}")
        return code or ""

    def country(code: str | None) -> str:
        if code == "*":
            return t("data_team")
        return country_name(code, language) if code else ""

    def when(value) -> str:
        return i18n.format_timestamp(value.isoformat() if hasattr(value, "isoformat") else value, language) if value else ""

    def rule_title(code: str) -> str:
        return i18n.text(f"rule.{code}.title", language)

    report = values.get("report")
    if report:
        values["findings"] = localised_findings(report["findings"][:SHOWN_FINDINGS], language)
        if report.get("changes"):
            values["changes"] = change_counts(report["changes"])

    def csrf() -> str:
        return visit.session.csrf_token if visit.session else ""

    return _environment().get_template(template).render(
        t=t, status=status, country=country, when=when, csrf=csrf, number=lambda n: i18n.format_number(n, language),
        language=language, direction="rtl" if language in i18n.RIGHT_TO_LEFT else "ltr",
        languages=language_names(), user=visit.user,
        path=visit.request.url.path, rule_title=rule_title, shown_findings=SHOWN_FINDINGS, years=i18n.format_years, severity=lambda s: messages.severity(s, language),
        **values)


def localised_findings(records: list[dict], language: str) -> list[dict]:
    """Findings of a report.json said in the page's language (the report's own files stay in
    the language it was written in): findings are data, so any language can say them."""
    shown = []
    for record in records:
        finding = Finding.from_dict(record)
        shown.append({"severity": finding.severity,
                      "location": messages.render_location(finding.location, language),
                      "message": messages.render_message(finding, language, marked=False),
                      "hint": messages.render_hint(finding, language, marked=False)})
    return shown


def negotiate(accept_language: str) -> str:
    """The first of the browser's languages (`Accept-Language`) we have, else English."""
    asked = []
    for part in accept_language.split(",")[:20]:
        tag = part.split(";")[0].strip()
        if tag:
            asked.append(tag.replace("_", "-"))
    found = negotiate_locale(asked, list(i18n.LANGUAGES), sep="-") or negotiate_locale(
        [tag.split("-")[0] for tag in asked], list(i18n.LANGUAGES), sep="-")
    return found if found in i18n.LANGUAGES else i18n.DEFAULT_LANGUAGE


def template_file(folder: Path, country: str, language: str) -> Path:
    """The blank template of `country` ("blank": none named) in `language`, written once and
    kept (written aside and renamed, so two requests never read half a file)."""
    from transforms.template import write_template

    path = folder / f"{country}_{language}.xlsx"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{country}_{language}.{os.getpid()}.{id(path)}.xlsx"
        write_template(partial, language, None if country == "blank" else country)
        os.replace(partial, path)
    return path


@cache
def language_names() -> list[tuple[str, str]]:
    """Each language named in itself, for the chooser (CLDR)."""
    return [(code, Locale.parse(code).get_display_name(code)) for code in i18n.LANGUAGES]
