"""The drafting pack's index page in the six languages: complete (every text of its own in the
page's language, no English left in the others apart from codes and file names, no raw key),
right to left in Arabic, numbers the language's way; it lists the tables, charts, the
disclosure audit, the SDG 16.2.2 SDMX file and the country profiles."""

from __future__ import annotations

import re
import string
from html.parser import HTMLParser

import pytest

from reporting import disclosure as sdc
from reporting import drafting_pack, sdmx
from schemas import i18n
from schemas.countries import country_name
from schemas.publication import PAGE
from tests.analyst_data import build_known_warehouse
from warehouse.snapshot import open_snapshot

OTHER_LANGUAGES = [language for language in i18n.LANGUAGES if language != "en"]
# Text that is the same in every language: file names, codes, numbers, punctuation.
CODE_LIKE = re.compile(r"^[\w./<>·:()\-–%,\s]*$", re.ASCII)
# Elements whose text another part of the pack translates (a PackTable's title, note and cells).
FOREIGN_CLASSES = {"from-table"}


class PageText(HTMLParser):
    """The page's visible texts (and image descriptions) of its own, and its <html> attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []
        self.html_attributes: dict[str, str] = {}
        self._skip: list[str] = []   # open elements whose text is another part's
        self._style = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "html":
            self.html_attributes = attributes
        if self._skip or FOREIGN_CLASSES & set((attributes.get("class") or "").split()):
            self._skip.append(tag)
        self._style = tag in ("style", "script")
        if tag == "img" and not self._skip:
            self.texts.append(attributes.get("alt", ""))

    def handle_endtag(self, tag):
        if self._skip and self._skip[-1] == tag:
            self._skip.pop()
        self._style = False

    def handle_data(self, data):
        if not self._skip and not self._style and data.strip():
            self.texts.append(data.strip())


def page_text(page: str) -> PageText:
    parser = PageText()
    parser.feed(page)
    return parser


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """The known warehouse's 2022 pack, built and written once (English), and what the index
    page is made of."""
    root = tmp_path_factory.mktemp("pack-page")
    with open_snapshot(build_known_warehouse(root)) as connection:
        pack = drafting_pack.build_pack(connection, 2022)
    out = root / "pack"
    drafting_pack._write_pack(pack, out, 2022, None, "en")
    charts = sorted(path.name for path in (out / "charts").iterdir())
    summary = sdc.audit_summary(pack.audit, pack.release.solver)
    sdmx_summary = sdmx.write_sdg_16_2_2(pack.release, pack.population, 2022, root / "again.sdmx.csv")
    return pack, charts, summary, sdmx_summary


def render(written, language: str, profiles=(), as_of=None) -> str:
    pack, charts, summary, sdmx_summary = written
    return drafting_pack._index_html(pack.tables, charts, 2022, as_of, summary, language, sdmx_summary, profiles)


def profiles_in(language: str) -> list[tuple[str, str, str]]:
    return [(iso3, country_name(iso3, language), f"profiles/{iso3}.html") for iso3 in ("NGA", "DEU", "THA")]


def english_fragments() -> set[str]:
    """The literal parts of every English text of the page (between its placeholders)."""
    fragments = set()
    for text in PAGE.values():
        fragments |= {literal.strip() for literal, *_ in string.Formatter().parse(text) if len(literal.strip()) >= 8}
    return fragments


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_the_page_is_complete_in_each_language(written, language):
    english = set(page_text(render(written, "en", profiles_in("en"), as_of="2026-11-30")).texts)
    page = render(written, language, profiles_in(language), as_of="2026-11-30")
    own = page_text(page)
    left_in_english = sorted(text for text in set(own.texts) & english if not CODE_LIKE.match(text))
    assert left_in_english == [], f"{language}: English left on the page"
    everything = " ".join(own.texts)
    assert not [fragment for fragment in english_fragments() if fragment in everything]
    assert "ui.page" not in page and "page." not in everything and "{" not in everything
    assert own.html_attributes == {"lang": language, "dir": "rtl" if language == "ar" else "ltr"}
    assert i18n.ui("page.title", language, year="2022") in own.texts  # a year, not a grouped number


def test_the_page_is_complete_in_english(written):
    page = render(written, "en", as_of="2026-11-30")
    own = page_text(page)
    assert own.html_attributes == {"lang": "en", "dir": "ltr"}
    assert "GLOTIP drafting pack, 2022" in own.texts
    assert "Figures as current on November 30, 2026." in own.texts
    assert "ui.page" not in page and "{" not in " ".join(own.texts)


def test_arabic_is_right_to_left_with_arabic_texts(written):
    page = render(written, "ar", profiles_in("ar"))
    assert page.startswith('<!doctype html>\n<html lang="ar" dir="rtl">')
    assert "مراقبة الإفصاح الإحصائي" in page and country_name("NGA", "ar") in page
    # `<5` and `x` inside Arabic sentences are isolated left to right, so "<5" is not mirrored.
    assert "\u2066&lt;5\u2069" in page and "\u2066x\u2069" in page
    assert '<td class="num">&lt;5</td>' in page  # table cells too: counts read left to right


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_numbers_are_written_the_languages_way(written, language):
    _, _, summary, sdmx_summary = written
    own = " ".join(page_text(render(written, language)).texts)
    seconds = summary["solver"]["seconds"]
    assert i18n.format_number(seconds, language) in own
    assert i18n.format_number(sdmx_summary.observations, language) in own
    if language == "fr":
        assert "," in i18n.format_number(seconds, language)  # the decimal comma


def test_the_page_lists_tables_charts_audit_sdmx_and_profiles(written):
    pack, charts, summary, _ = written
    page = render(written, "es", profiles_in("es"))
    for table in pack.tables:
        assert f'href="tables/{table.name}.csv"' in page
    for chart in (c for c in charts if c.endswith(".png")):
        assert f'src="charts/{chart}"' in page and f'href="charts/{chart[:-4]}.svg"' in page
    assert 'href="disclosure_audit.csv"' in page and 'href="glotip_tables_2022.xlsx"' in page
    assert 'href="sdg_16_2_2.sdmx.csv"' in page
    for iso3, name, href in profiles_in("es"):
        assert f'<a href="{href}">{name}</a>' in page
    assert i18n.ui("page.no_profiles", "es") not in page
    assert i18n.ui("page.no_profiles", "es") in render(written, "es")  # none given: said so
    exposed = i18n.ui("page.audit_summary", "es", suppressed=summary["suppressed_cells"], small="&lt;5",
                      small_count=summary["shown_small"], hidden="x", hidden_count=summary["shown_x"],
                      exposed=summary["exposed"])
    assert exposed in page


def test_texts_are_escaped(written):
    """A name from a grouping file or a profile reaches the page as text, never as markup."""
    page = render(written, "en", [("NGA", "<script>alert(1)</script>", "profiles/NGA.html")])
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_glotip_report_writes_the_arabic_page(tmp_path):
    db = build_known_warehouse(tmp_path / "db")
    index = drafting_pack.write_drafting_pack(db, 2022, tmp_path / "pack", language="ar")
    page = index.read_text(encoding="utf-8")
    assert '<html lang="ar" dir="rtl">' in page
    assert i18n.ui("page.title", "ar", year="2022") in page
    assert (tmp_path / "pack" / "sdg_16_2_2.sdmx.csv").stat().st_size > 0
