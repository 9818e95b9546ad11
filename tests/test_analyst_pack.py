"""The drafting pack on known data and on the imported dataUNODC series: every table and chart
is written, and the disclosure audit passes on every release (and fails a weakened one)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from reporting import drafting_pack
from tests.analyst_data import build_known_warehouse
from tests.conftest import TEST_DATA
from reporting import disclosure as sdc
from transforms.dataunodc import prepare_export, read_export
from warehouse import snapshot as analyst_snapshot
from warehouse.dataunodc import load_export
from warehouse.queries import run_standard_query
from warehouse.session import Warehouse
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
    """The real dataUNODC export (2025-04-14) imported with the plain functions, published."""
    db = tmp_path_factory.mktemp("imported") / "var" / "glotip.duckdb"
    db.parent.mkdir(parents=True)
    with Warehouse(db) as warehouse:
        load_export(warehouse.connection, prepare_export(read_export(TEST_DATA / "data_glotip_2025-04-14.xlsx")))
    analyst_snapshot.publish(Warehouse(db))
    return db


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
    by_name = {t.name: t.table for t in tables}
    # Nigeria's 2 victims of organ removal are small: hidden, and so is another cell of its row.
    sdg = by_name["sdg_16_2_2"]
    organs, = sdg[(sdg["country"] == "NGA") & (sdg["category"] == "removal_of_organs")].to_dict("records")
    assert organs["victims"] == "<5" and pd.isna(organs["victims_per_100k"])
    nigeria_forms = sdg[(sdg["country"] == "NGA") & (sdg["breakdown"] == "form")]
    assert (nigeria_forms["victims"] == "x").sum() >= 1
    # Big regional figures stay published, exactly.
    trend = by_name["victims_trend"].set_index("region")
    assert trend.at["World", "2022"] == 235 and trend.at["Africa", "2021"] == 80


def test_country_cells_add_up_whatever_was_reported(known_db):
    with open_snapshot(known_db) as connection:
        profiles = drafting_pack.read_pack_data(connection, 2022)["profiles"]
    cells = drafting_pack.country_cells(profiles).set_index("country")
    for country, row in cells.iterrows():
        assert row[["girls", "boys", "women", "men", "other_or_unknown"]].sum() == row["total"], country
        assert row[["female", "male", "sex_other_or_unknown"]].sum() == row["total"], country
        assert row[["sexual_exploitation", "forced_labour", "removal_of_organs", "other_purposes"]].sum() == row["total"]
    assert cells.at["THA", "other_or_unknown"] == 60 and not cells.at["THA", "reported_sex"]


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
