"""Country profiles (reporting/country_profiles.py) written by the drafting pack from the known
warehouse (tests/analyst_data.py), loaded through the real pipeline: every profile is written,
its numbers are the published cells of the pack's one release, nothing hidden is revealed, a
breakdown not reported says so, the Arabic page runs right to left, and no personal data from
a case's texts reaches any file."""

from __future__ import annotations

import logging
import re
import warnings
import zipfile
from html.parser import HTMLParser

import pandas as pd
import pytest
from typer.testing import CliRunner

from reporting import country_profiles as cp
from reporting import disclosure as sdc
from reporting import drafting_pack
from schemas import i18n
from schemas.countries import country_name
from tests.analyst_data import build_imported_warehouse, build_known_warehouse
from warehouse import snapshot as analyst_snapshot
from warehouse.session import Warehouse
from warehouse.snapshot import open_snapshot

YEAR = 2022
PROFILED = ["DEU", "ITA", "NGA", "THA"]  # the countries with figures for 2022
# Planted in Nigeria's organ-removal case after loading (validation would refuse them): texts
# written before the screen learnt a pattern. Neither may reach any file of the pack.
PLANTED_SUMMARY = "Broker reachable at broker.kidney@example.com; victim Mrs. Amina Bello."
PLANTED_COURT = "Judge's office, call +234 1 4412345"
NEEDLES = ("broker.kidney@", "Amina Bello", "4412345")


@pytest.fixture(scope="module")
def known_db(tmp_path_factory):
    db = build_known_warehouse(tmp_path_factory.mktemp("profiles"))
    with Warehouse(db) as warehouse:
        warehouse.connection.execute("UPDATE fact_organ_removal_cases SET summary = ?, court = ? "
                                     "WHERE case_reference = 'NGA-OR-1'", [PLANTED_SUMMARY, PLANTED_COURT])
    analyst_snapshot.publish(Warehouse(db))
    return db


@pytest.fixture(scope="module")
def pack(known_db):
    with open_snapshot(known_db) as connection:
        return drafting_pack.build_pack(connection, YEAR)


@pytest.fixture(scope="module")
def written(pack, tmp_path_factory):
    """The profiles in English and Arabic, from the same release."""
    out = tmp_path_factory.mktemp("written")
    return {language: (out / language, cp.write_profiles(pack, out / language, YEAR, language))
            for language in ("en", "ar")}


class _Tables(HTMLParser):
    """Each table of a page under the heading (h2) before it: {heading: [rows of cell texts]};
    two tables under one heading are kept in order (`heading`, `heading#2`)."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.heading, self.text, self.in_heading, self.row = "", "", False, None

    def handle_starttag(self, tag, attrs):
        if tag == "h2":
            self.in_heading, self.text = True, ""
        elif tag == "table":
            name, n = self.heading, 2
            while name in self.tables:
                name, n = f"{self.heading}#{n}", n + 1
            self.current = self.tables.setdefault(name, [])
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.text = ""

    def handle_endtag(self, tag):
        if tag == "h2":
            self.heading, self.in_heading = self.text.strip(), False
        elif tag in ("td", "th") and self.row is not None:
            self.row.append(self.text.strip())
        elif tag == "tr":
            self.current.append(self.row)
            self.row = None

    def handle_data(self, data):
        self.text += data


def page_tables(path) -> dict[str, list[list[str]]]:
    parser = _Tables()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.tables


def as_dicts(rows: list[list[str]]) -> dict[str, dict[str, str]]:
    """A table's rows by their first cell, each {column header: text}."""
    header, *body = rows
    return {row[0]: dict(zip(header[1:], row[1:])) for row in body}


def frame_of(pack, name: str) -> pd.DataFrame:
    return next(t for t in pack.tables if t.name == name).protected[0].frame


def test_every_profile_is_written_and_linked(written):
    out, profiles = written["en"]
    assert [iso3 for iso3, _, _ in profiles] == ["DEU", "ITA", "NGA", "THA"]  # by name in English
    assert sorted(iso3 for iso3, _, _ in written["ar"][1]) == PROFILED
    index = (out / "profiles" / "index.html").read_text(encoding="utf-8")
    for iso3, name, href in profiles:
        assert href == f"profiles/{iso3}.html" and (out / href).is_file()
        assert name == country_name(iso3, "en") and f'href="{iso3}.html"' in index
        assert iso3 == "THA" or (out / "profiles" / f"{iso3}_victims.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (out / "profiles" / f"{iso3}_forms.svg").read_text().lstrip().startswith("<?xml")
    # Thailand reported no breakdown by sex and age: no chart of one.
    assert not (out / "profiles" / "THA_victims.png").exists()
    assert (out / "profiles" / "NGA_offenders.png").exists() and (out / "profiles" / "NGA_origins.png").exists()


def test_the_profiles_are_cells_of_the_one_release_and_pass_its_audit(pack):
    sdc.check_audit(pack.audit)
    assert pack.release.solver.outcome == "optimal"
    names = [t.name for t in pack.release.tables]
    assert {cp.VICTIMS, cp.FLOWS, cp.OFFENDERS} <= set(names)
    # A figure shown on a profile and in a pack table is one cell: Nigeria's 2022 girls, its
    # victims by form, Germany's total; the same display wherever it is shown.
    shown = pd.concat([t.frame[["key", "display"]] for t in pack.release.tables])
    profile_keys = set(frame_of(pack, cp.VICTIMS)["key"])
    for key in (drafting_pack._country_cell_key(YEAR, "NGA", "girls"),
                drafting_pack._country_cell_key(YEAR, "NGA", "removal_of_organs"),
                drafting_pack._country_cell_key(YEAR, "DEU", "total")):
        assert key in profile_keys and shown[shown["key"] == key]["display"].nunique() == 1
        assert len(shown[shown["key"] == key]) >= 2
    # A country's victims by citizenship are the cells the origin table's regions add up.
    flows = frame_of(pack, cp.FLOWS)
    europe_from_africa = drafting_pack._citizenship_key(YEAR, "Europe", origin="region:Africa")
    relation = next(parts for total, parts in pack.release.relations if total == europe_from_africa)
    assert sorted(relation) == sorted(flows.loc[(flows["perspective"] == "detection") & (flows["origin"] == "NGA")
                                                & flows["destination"].isin(["DEU", "ITA"]), "key"])


def test_each_number_on_a_page_is_the_published_cell(pack, written):
    out, _ = written["en"]
    victims, offenders = frame_of(pack, cp.VICTIMS), frame_of(pack, cp.OFFENDERS)
    flows = frame_of(pack, cp.FLOWS)
    for iso3 in PROFILED:
        tables = page_tables(out / "profiles" / f"{iso3}.html")
        sex_age = as_dicts(tables["Detected victims by sex and age"])
        forms = as_dicts(tables["Detected victims by form of exploitation"])
        mine = victims[victims["country"] == iso3]
        for cell in mine.itertuples(index=False):
            table = forms if cell.breakdown == "form" else sex_age
            label = cp.category_label(cell.category, "en")
            assert table[str(cell.year)][label] == _text(cell.display), (iso3, cell)
        name = country_name(iso3, "en")
        detected_here = as_dicts(tables[f"Victims detected in {name}, by citizenship, {YEAR}"])
        for cell in flows[(flows["perspective"] == "detection") & (flows["destination"] == iso3)].itertuples():
            origin = "Total" if pd.isna(cell.origin) else country_name(cell.origin, "en")
            assert detected_here[origin]["Victims"] == _text(cell.display)
        abroad = as_dicts(tables.get(f"Nationals of {name} detected in other countries, {YEAR}", [[]]))
        for cell in flows[(flows["perspective"] == "detection") & (flows["origin"] == iso3)
                          & (flows["destination"] != iso3)].itertuples():
            assert abroad[country_name(cell.destination, "en")]["Victims"] == _text(cell.display)
        if (offenders["country"] == iso3).any():
            persons = as_dicts(tables["Persons prosecuted and convicted"])
            for cell in offenders[(offenders["country"] == iso3) & (offenders["sex"] == "total")].itertuples():
                assert persons[str(cell.year)][cp._say(cell.stage, "en")] == _text(cell.display)
    # The figures worked out by hand (tests/analyst_data.py, Germany revised): Nigeria 2022.
    nga = page_tables(out / "profiles" / "NGA.html")
    assert as_dicts(nga["Detected victims by sex and age"])["2022"] == {
        "Girls": "30", "Boys": "10", "Women": "40", "Men": "15", "Other or unknown": "5", "Total": "100"}
    # One definition (view victim_measures): within a reported breakdown a form without a cell
    # counts 0; a breakdown not reported at all says so (test below).
    assert as_dicts(nga["Detected victims by form of exploitation"])["2021"]["Removal of organs"] == "0"
    repatriated = as_dicts(nga[f"Nationals of Nigeria repatriated, by country of detection, {YEAR}"])
    assert repatriated["Italy"]["Victims"] == "6" and repatriated["Germany"]["Victims"] == "<5"


def _text(display: str) -> str:
    return display if display in ("<5", "x") else i18n.format_number(int(display), "en")


def test_no_hidden_count_is_revealed_on_any_page(pack, written):
    """Each cell hidden in the release (`<5`, `x`) is shown as hidden on the profiles: no page
    holds its count where the cell is shown, and the world totals a reader could subtract
    from are the release's own (the audit covers the sums; here, the pages)."""
    out, _ = written["en"]
    victims = frame_of(pack, cp.VICTIMS)
    hidden = victims[victims["status"].isin(["primary", "secondary"]) & ~victims["country"].str.startswith("region:")]
    assert len(hidden) >= 3
    for cell in hidden.itertuples(index=False):
        tables = page_tables(out / "profiles" / f"{cell.country}.html")
        table = as_dicts(tables["Detected victims by form of exploitation" if cell.breakdown == "form"
                                else "Detected victims by sex and age"])
        assert table[str(cell.year)][cp.category_label(cell.category, "en")] in ("<5", "x")
    for path in (out / "profiles").glob("*.html"):
        cells = [c for rows in page_tables(path).values() for row in rows[1:] for c in row[1:]]
        numbers = [c for c in cells if re.fullmatch(r"[\d,]+", c)]
        assert not [n for n in numbers if 1 <= int(n.replace(",", "")) <= 4], path.name


def test_a_country_with_no_sex_age_breakdown_shows_not_reported_never_zero(written):
    out, _ = written["en"]
    thailand = as_dicts(page_tables(out / "profiles" / "THA.html")["Detected victims by sex and age"])
    assert thailand["2022"] == {"Girls": "not reported", "Boys": "not reported", "Women": "not reported",
                                "Men": "not reported", "Other or unknown": "not reported", "Total": "60"}
    assert thailand["2021"]["Total"] == "40"
    # Italy reported its sex/age breakdown without a boys' cell: within a reported breakdown a
    # category without a cell counts 0 (the one definition, view victim_measures).
    italy = as_dicts(page_tables(out / "profiles" / "ITA.html")["Detected victims by sex and age"])
    assert italy["2022"]["Boys"] == "0" and italy["2022"]["Total"] == "20"


def test_the_arabic_page_runs_right_to_left_in_arabic(written):
    out, profiles = written["ar"]
    page = (out / "profiles" / "NGA.html").read_text(encoding="utf-8")
    assert '<html lang="ar" dir="rtl">' in page
    assert i18n.ui("profile.title", "ar", country=country_name("NGA", "ar")) in page
    tables = page_tables(out / "profiles" / "THA.html")
    sex_age = tables[i18n.ui("profile.section_sex_age", "ar")]
    assert sex_age[1].count(i18n.ui("profile.not_reported", "ar")) == 5
    assert "not reported" not in page and "Detected victims" not in page
    assert (out / "profiles" / "NGA_victims.png").exists()
    assert dict((iso3, name) for iso3, name, _ in profiles)["NGA"] == country_name("NGA", "ar")
    index = (out / "profiles" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="ar" dir="rtl">' in index


def test_no_personal_data_reaches_any_file_of_the_pack(known_db, tmp_path):
    """The planted texts of Nigeria's case: screened out of its profile, the pack's profile
    tables (CSV, workbook) and every other file `glotip report` writes."""
    from cli import app

    out = tmp_path / "pack"
    result = CliRunner().invoke(app, ["report", "--year", str(YEAR), "--out", str(out), "--db", str(known_db)])
    assert result.exit_code == 0, result.output
    files = [p for p in out.rglob("*") if p.is_file()]
    assert (out / "profiles" / "NGA.html") in files and (out / "tables" / f"{cp.CASES}.csv") in files
    for path in files:
        if path.suffix == ".xlsx":
            with zipfile.ZipFile(path) as archive:
                text = "".join(archive.read(n).decode("utf-8", "replace") for n in archive.namelist())
        else:
            text = path.read_bytes().decode("utf-8", "replace")
        assert not [needle for needle in NEEDLES if needle in text], path
    cases = as_dicts(page_tables(out / "profiles" / "NGA.html")["Cases of trafficking for the removal of organs"])
    case = cases[str(YEAR)]
    assert case["Summary"] == case["Court"] == "withheld: it may hold personal data"
    assert (case["Stage"], case["What was removed"], case["Medical professionals involved"]) == (
        "Conviction", "Kidney", "Yes")
    assert case["Countries involved"] == "Nigeria, Egypt, and Germany"


def test_the_profiles_sums_are_needed_a_release_protected_without_them_fails_the_audit(pack):
    """The weakened release: the same cells, protected without the sums the profiles let a
    reader form (a country-year's total and its parts, the regional and world links), audited
    with them. It exposes cells, among them ones only the profiles show."""
    release = pack.release
    profile_tables = {cp.VICTIMS, cp.FLOWS, cp.OFFENDERS}
    mine = {(t.frame.at[total, "key"], tuple(sorted(t.frame.at[p, "key"] for p in parts)))
            for t in release.tables if t.name in profile_tables for total, parts in t.relations}
    others = [(total, parts) for total, parts in release.relations if (total, tuple(sorted(parts))) not in mine]
    assert len(others) < len(release.relations)
    tables = [sdc.TableCells(t.name, t.frame.drop(columns=["display", "status"]),
                             [] if t.name in profile_tables else t.relations) for t in release.tables]
    weakened = sdc.protect_release(tables, release.unpublished, others)
    audit = sdc.audit_release(sdc.Release(weakened.tables, release.relations, release.unpublished))
    exposed = audit[audit["exposed"] != ""]
    with pytest.raises(sdc.DisclosureError, match="exposed"):
        sdc.check_audit(audit)
    assert exposed["tables"].str.contains("profile_").any()
    assert exposed["key"].str.contains("measure=persons_convicted|area=NGA", regex=False).any()


def test_the_arabic_page_says_its_cases_in_arabic(written):
    out, _ = written["ar"]
    cases = page_tables(out / "profiles" / "NGA.html")[i18n.ui("profile.section_cases", "ar")]
    header, row = cases
    assert header[0] == i18n.ui("profile.year", "ar") and row[0] == str(YEAR)
    assert row[1] == i18n.code_label("case_stage", "conviction", "ar") != "Conviction"
    assert i18n.ui("profile.withheld", "ar") in row


def test_a_year_the_source_gives_in_part_shows_its_cells_as_given(tmp_path):
    """The imported dataUNODC series publishes counts of 1 to 4 as `<5` (no count): a
    country-year with such cells in one breakdown shows the cells the source gives in the
    others, exactly (its total being exact); the release's audit passes."""
    db = build_imported_warehouse(tmp_path)
    with open_snapshot(db) as connection:
        pack = drafting_pack.build_pack(connection, YEAR)
        given = connection.execute(
            "SELECT sex || '/' || age AS cell, count FROM victims WHERE country = 'GBR' AND year = 2014 "
            "AND citizenship = 'total' AND form = 'total' AND sex IN ('female', 'male') AND age IN ('child', 'adult')"
        ).fetchall()
        suppressed = connection.execute("SELECT count(*) FROM victims WHERE country = 'GBR' AND year = 2014 "
                                        "AND citizenship = 'total' AND count IS NULL").fetchone()[0]
        rest = connection.execute("SELECT other_or_unknown FROM victim_measures WHERE country = 'GBR' "
                                  "AND year = 2014").fetchone()[0]
    sdc.check_audit(pack.audit)
    assert suppressed > 0 and len(given) == 4  # the source's `<5` cells are elsewhere in the year
    written = cp.write_profiles(pack, tmp_path / "out", YEAR, "en", only={"GBR"})
    assert [iso3 for iso3, _, _ in written] == ["GBR"]
    row = as_dicts(page_tables(tmp_path / "out" / "profiles" / "GBR.html")["Detected victims by sex and age"])["2014"]
    labels = {"female/child": "Girls", "male/child": "Boys", "female/adult": "Women", "male/adult": "Men"}
    assert {labels[cell]: row[labels[cell]] for cell, _ in given} == {
        labels[cell]: i18n.format_number(count, "en") for cell, count in given}
    # Its total is exact (the `<5` cells are in another breakdown): the rest is the view's.
    assert row["Other or unknown"] == i18n.format_number(rest, "en")


@pytest.mark.parametrize("language", ["zh", "ar"])
def test_a_profiles_charts_render_in_the_languages_fonts_with_no_fallback(pack, tmp_path, language, caplog):
    """Chinese has no bold face in its font and Arabic is shaped right to left: no glyph is
    missing and matplotlib logs no font fallback (it would print on the drafter's terminal)."""
    with warnings.catch_warnings(), caplog.at_level(logging.WARNING, logger="matplotlib"):
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" is a warning
        cp.write_profiles(pack, tmp_path, YEAR, language, only={"NGA"})
    assert not [r for r in caplog.records if r.name.startswith("matplotlib")], caplog.text
    assert sorted(p.name for p in (tmp_path / "profiles").glob("NGA_*.png"))
