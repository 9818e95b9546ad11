"""The drafting pack on known data and on the imported dataUNODC series: every table and chart
is written, and the disclosure audit passes on every release (and fails a weakened one)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from reporting import drafting_pack
from tests.analyst_data import build_imported_warehouse, build_known_warehouse
from reporting import disclosure as sdc
from warehouse.queries import run_standard_query
from warehouse.snapshot import open_snapshot

TABLES = ["victims_by_sex_age", "forms_by_region", "victims_trend", "offenders_trend", "flows_by_type",
          "origin_destination", "countries_reporting", "organ_removal", "sdg_16_2_2",
          # the country profiles' long tables (reporting/country_profiles.py)
          "profile_victims", "profile_flows", "profile_offenders", "profile_organ_cases"]
CHARTS = ["victims_by_sex_age", "forms_by_region", "trends", "flows"]


@pytest.fixture(scope="module")
def known_db(tmp_path_factory):
    return build_known_warehouse(tmp_path_factory.mktemp("pack"))


@pytest.fixture(scope="module")
def imported_db(tmp_path_factory):
    return build_imported_warehouse(tmp_path_factory.mktemp("imported"))


def weakened_each_table_alone(release: sdc.Release) -> sdc.Release:
    """Today's way, the weakened one: each table protected on its own, then published together."""
    alone = [sdc.protect_release([sdc.TableCells(t.name, t.frame.drop(columns=["display", "status"]), t.relations)]).tables[0]
             for t in release.tables]
    return sdc.Release(alone, release.relations, release.unpublished)


def test_glotip_report_writes_every_table_and_chart(known_db, tmp_path):
    from cli import app

    out = tmp_path / "pack"
    result = CliRunner().invoke(app, ["report", "--year", "2022", "--out", str(out), "--db", str(known_db)])
    assert result.exit_code == 0, result.output
    workbook = load_workbook(out / "glotip_tables_2022.xlsx", read_only=True)
    assert workbook.sheetnames == TABLES
    index = (out / "index.html").read_text()
    for name in TABLES:
        assert (out / "tables" / f"{name}.csv").stat().st_size > 0
        assert f"tables/{name}.csv" in index
    for name in CHARTS:
        assert (out / "charts" / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (out / "charts" / f"{name}.svg").read_text().lstrip().startswith("<?xml")
        assert f"charts/{name}.png" in index
    # The audit is written with the pack: every suppressed cell's interval, no hidden value.
    audit = pd.read_csv(out / "disclosure_audit.csv", keep_default_na=False)
    assert list(audit.columns) == ["key", "tables", "shown", "low", "high", "exposed"]
    assert len(audit) and set(audit["shown"]) <= {"<5", "x"} and (audit["exposed"] == "").all()
    summary = json.loads((out / "disclosure_audit.json").read_text())
    assert summary["exposed"] == 0 and summary["suppressed_cells"] == len(audit)
    assert summary["solver"]["outcome"] == "optimal"
    assert "Disclosure audit: " in index and "disclosure_audit.csv" in index


def test_published_tables_show_no_small_count_and_pass_the_audit(known_db):
    with open_snapshot(known_db) as connection:
        pack = drafting_pack.build_pack(connection, 2022)
    tables = pack.tables
    protected = [p for t in tables for p in t.protected]
    assert len(protected) == 8 + 3  # the pack's tables and the country profiles'
    sdc.check_audit(pack.audit)  # the attacker's LPs over all tables together
    assert pack.release.solver.outcome == "optimal"
    small = pack.audit[pack.audit["sensitive"]]
    assert len(small) and ((small["low"] <= 1) & (small["high"] >= 4)).all()
    for table in protected:
        frame = table.frame
        small = frame["count"].between(1, 4)
        assert (frame.loc[small, "display"].isin(["<5", "x"])).all(), table.name
    # A cell in two tables is one figure: the same display in both.
    shown = pd.concat([t.frame[["key", "display"]] for t in protected])
    assert (shown.groupby("key")["display"].nunique() == 1).all()
    assert shown["key"].duplicated().any()
    long = {p.name: p.frame for p in protected}
    # Nigeria's 2 victims of organ removal are small: hidden, and so is another cell of its row.
    sdg = long["sdg_16_2_2"]
    organs, = sdg[(sdg["country"] == "NGA") & (sdg["category"] == "removal_of_organs")].to_dict("records")
    assert organs["display"] == "<5"
    nigeria_forms = sdg[(sdg["country"] == "NGA") & (sdg["breakdown"] == "form")]
    assert (nigeria_forms["display"] == "x").sum() >= 1
    published_sdg = {t.name: t.table for t in tables}["sdg_16_2_2"]
    nigeria_organs = published_sdg[(published_sdg["Country"] == "Nigeria") & (published_sdg["Category"] == "Removal of organs")]
    assert nigeria_organs["Victims"].tolist() == ["<5"] and nigeria_organs["Victims per 100,000 population"].tolist() == [""]
    # Big regional figures stay published, exactly.
    trend = long["victims_trend"].set_index(["region", "year"])["display"]
    assert trend[("World", 2022)] == "235" and trend[("Africa", 2021)] == "80"


def test_one_measure_is_one_number_in_the_queries_the_tables_and_the_sdg_table(known_db):
    """The girls' share and the totals: the standard query, the sex/age table, the forms table,
    the trend and the SDG table say the same numbers (all read the view victim_measures)."""
    with open_snapshot(known_db) as connection:
        pack = drafting_pack.build_pack(connection, 2022)
        by_region = run_standard_query(connection, "victims_by_sex_age", {"year": 2022}).set_index("region")
        forms = run_standard_query(connection, "forms_of_exploitation", {"year": 2022})
        profiles = run_standard_query(connection, "country_profiles", {"year": 2022}).set_index("country")
        sdg_query = run_standard_query(connection, "sdg_16_2_2", {"year": 2022})
    tables = {t.name: t for t in pack.tables}
    long = {p.name: p.frame for t in pack.tables for p in t.protected}
    sex_age = tables["victims_by_sex_age"].table.set_index("Country or area")
    for region in ("World", "Africa", "Europe"):
        query = by_region.loc[region]
        assert sex_age.at[region, "Total"] == query["total"]
        for category in ("girls", "boys", "women", "men"):
            assert sex_age.at[region, f"{category.capitalize()} (share)"] == query[f"{category}_share"], (region, category)
    assert by_region.at["World", "girls_share"] == pytest.approx(35 / 170, abs=1e-4)
    forms_table = tables["forms_by_region"].table.set_index("Region")
    assert forms_table.at["World", "Total"] == by_region.at["World", "total"] == forms["victims"].sum() == 235
    assert forms_table.at["Europe", "Sexual exploitation (share)"] == forms[
        (forms["region"] == "Europe") & (forms["form"] == "sexual_exploitation")]["share_of_known"].iloc[0]
    trend = long["victims_trend"]
    assert trend[(trend["region"] == "World") & (trend["year"] == 2022)]["count"].iloc[0] == 235
    # One figure, one key: the sex/age table's totals are the forms table's and the trend's.
    keys = {p.name: set(p.frame["key"]) for t in pack.tables for p in t.protected}
    shared = keys["victims_by_sex_age"] & keys["forms_by_region"] & keys["victims_trend"]
    assert len(shared) == 4  # the world and three regions
    sdg = long["sdg_16_2_2"]
    for country, row in profiles.iterrows():
        cells = sdg[sdg["country"] == country].set_index("category")["count"]
        assert cells["total"] == row["total"] == sex_age.loc[row["name"], "Total"]
        queried = sdg_query[(sdg_query["country"] == country) & (sdg_query["sex"] == "total")
                            & (sdg_query["age"] == "total") & (sdg_query["form"] == "total")]["victims"]
        assert queried.tolist() == [row["total"]]
        if row["reported_sex"]:
            assert cells["female"] == row["female"]
    # Thailand gave no sex and age breakdown: not reported, never 0.
    thailand = sex_age.loc["Thailand"]
    assert (thailand[["Girls", "Boys", "Women", "Men"]] == "not reported").all()
    assert (thailand[["Girls (share)", "Boys (share)"]] == "").all() and thailand["Other or unknown"] == 60


def test_every_table_in_every_language_says_not_reported_and_never_none(known_db):
    """No None / nan anywhere; "not reported" (translated) where a breakdown was not given; the
    release (cells, keys, what is shown) the same whatever the language."""
    from schemas import i18n

    releases = {}
    with open_snapshot(known_db) as connection:
        for language in i18n.LANGUAGES:
            pack = drafting_pack.build_pack(connection, 2022, language=language)
            not_reported = i18n.ui("pack.not_reported", language)
            for table in pack.tables:
                cells = table.table.to_numpy().ravel().tolist() + list(table.table.columns)
                assert not any(v is None or (isinstance(v, float) and v != v) for v in cells), (language, table.name)
                assert not {"None", "nan", "NaN", "<NA>", "NaT"} & {str(v) for v in cells}, (language, table.name)
                assert table.title and table.note and not table.title.startswith("ui.")
                assert not any(str(c).startswith("ui.") for c in cells), (language, table.name)
            by_name = {t.name: t.table for t in pack.tables}
            # Thailand and Asia: girls, boys, women, men; Thailand's sex and age in the SDG table.
            assert (by_name["victims_by_sex_age"] == not_reported).to_numpy().sum() == 8, language
            assert (by_name["sdg_16_2_2"] == not_reported).to_numpy().sum() == 2, language
            releases[language] = pd.concat([p.frame[["key", "display", "status"]] for p in pack.release.tables],
                                           ignore_index=True)
            if language != "en":
                assert by_name["victims_by_sex_age"].columns[3] != "Girls"
                assert pack.tables[0].title != "Detected victims by sex and age, 2022"
    for language, release in releases.items():
        pd.testing.assert_frame_equal(release, releases["en"], obj=language)


def test_the_workbook_is_formatted_to_paste(known_db, tmp_path):
    """Title, frozen header, number formats, notes and sources under each table, right to left
    in Arabic, no formula; CSVs with one header row and plain numbers."""
    for language in ("en", "ar"):
        out = tmp_path / language
        drafting_pack.write_drafting_pack(known_db, 2022, out, language=language)
        workbook = load_workbook(out / "glotip_tables_2022.xlsx")
        assert workbook.sheetnames == TABLES
        for sheet in workbook.worksheets:
            assert sheet.freeze_panes == "A3" and sheet["A1"].font.bold, sheet.title
            assert sheet.sheet_view.rightToLeft == (language == "ar"), sheet.title
            assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row), sheet.title
            notes = [str(row[0].value) for row in sheet.iter_rows(min_row=sheet.max_row - 5) if row[0].value]
            assert any("<5" in line for line in notes) and any("dataUNODC" in line for line in notes), sheet.title
        sex_age = workbook["victims_by_sex_age"]
        world = [cell for cell in sex_age[3]]
        total, girls_share = world[8], world[9]
        assert total.value == 235 and total.number_format == "#,##0"
        assert girls_share.value == pytest.approx(0.2059) and girls_share.number_format == "0.0%"
        offenders = workbook["offenders_trend"]
        assert offenders["A3"].value == 2021 and offenders["A3"].number_format == "0"
    english = load_workbook(tmp_path / "en" / "glotip_tables_2022.xlsx")["victims_by_sex_age"]
    notes = " ".join(str(row[0].value) for row in english.iter_rows(min_row=12) if row[0].value)
    assert "Member States' submissions to UNODC" in notes and "Data as of March 1, 2025" in notes
    csv = pd.read_csv(tmp_path / "en" / "tables" / "victims_by_sex_age.csv")
    assert list(csv.columns[:4]) == ["Level", "Region", "Country or area", "Girls"]
    assert csv.loc[0, "Total"] == 235 and csv.loc[0, "Girls (share)"] == pytest.approx(0.2059)


def test_publishing_any_one_hidden_cell_of_the_pack_fails_the_audit(known_db):
    """The weakened release: one `x` of the pack published. Every `x` is needed (the answer is
    optimal), so each one published exposes a cell."""
    with open_snapshot(known_db) as connection:
        release = drafting_pack.build_pack(connection, 2022).release
    hidden = [(i, position) for i, t in enumerate(release.tables)
              for position in t.frame.index[t.frame["status"] == "secondary"]]
    assert hidden
    for i, position in hidden:
        tables = [sdc.ProtectedTable(t.name, t.frame.copy(), t.relations) for t in release.tables]
        frame = tables[i].frame
        key = frame.at[position, "key"]
        for table in tables:  # the figure is published wherever it is shown
            same = table.frame["key"] == key
            table.frame.loc[same, "display"] = str(int(frame.at[position, "count"]))
        audit = sdc.audit_release(sdc.Release(tables, release.relations, release.unpublished))
        with pytest.raises(sdc.DisclosureError, match="exposed"):
            sdc.check_audit(audit)


def test_every_release_of_the_imported_series_passes_the_audit(imported_db):
    """Every year of the real export as a drafting pack: the audit passes on each; protected
    one table at a time (the weakened way), some fail it, across tables."""
    with open_snapshot(imported_db) as connection:
        years = sorted(int(y) for y in run_standard_query(connection, "countries_reporting")["year"].unique())
        assert len(years) >= 15
        weakened_exposed = {}
        for year in years:
            pack = drafting_pack.build_pack(connection, year)
            sdc.check_audit(pack.audit)
            assert pack.release.solver.outcome == "optimal", year
            small = pack.audit[pack.audit["sensitive"]]
            assert ((small["low"] <= 1) & (small["high"] >= 4)).all(), year
            if len(small):
                weak = sdc.audit_release(weakened_each_table_alone(pack.release))
                weakened_exposed[year] = weak[weak["exposed"] != ""]
    assert sum(len(e) for e in weakened_exposed.values()) > 0
    # Some leak only through a second table: a cell hidden in one, published in the other.
    crossing = pd.concat(weakened_exposed.values())
    assert crossing["key"].str.contains("victims_exact_countries").any()


def test_out_of_solver_time_the_pack_takes_the_safe_fallback_and_passes(known_db, tmp_path, monkeypatch):
    """`suppression_seconds` 0 (here from the environment, as glotip.toml would give it): the
    fallback hides every cell linked to a small count; the audit passes and says so."""
    from cli import app

    monkeypatch.setenv("GLOTIP_SUPPRESSION_SECONDS", "0")
    out = tmp_path / "pack"
    result = CliRunner().invoke(app, ["report", "--year", "2022", "--out", str(out), "--db", str(known_db)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "disclosure_audit.json").read_text())
    assert summary["solver"]["outcome"] == "time limit: fallback" and summary["exposed"] == 0
    fallback_hidden = summary["shown_x"]
    result = CliRunner().invoke(app, ["report", "--year", "2022", "--out", str(out), "--db", str(known_db),
                                      "--suppression-seconds", "60"])  # the flag wins over the environment
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "disclosure_audit.json").read_text())
    assert summary["solver"]["outcome"] == "optimal" and summary["shown_x"] < fallback_hidden
