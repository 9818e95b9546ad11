"""The drafting pack on known data: every table and chart is written, and nothing published leaks."""

from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from reporting import drafting_pack
from tests.analyst_data import build_known_warehouse
from reporting import disclosure as sdc
from warehouse.snapshot import open_snapshot

TABLES = ["victims_by_sex_age", "forms_by_region", "victims_trend", "offenders_trend", "flows_by_type",
          "origin_destination", "countries_reporting", "organ_removal", "sdg_16_2_2"]
CHARTS = ["victims_by_sex_age", "forms_by_region", "trends", "flows"]


@pytest.fixture(scope="module")
def known_db(tmp_path_factory):
    return build_known_warehouse(tmp_path_factory.mktemp("pack"))


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


def test_published_tables_show_no_small_count_and_resist_the_attack(known_db):
    with open_snapshot(known_db) as connection:
        tables = drafting_pack.build_tables(connection, 2022)
    protected = [p for t in tables for p in t.protected]
    assert len(protected) == 8
    for table in protected:
        sdc.check_published(table)  # raises on a recoverable hidden cell or a shown 1-4
        frame = table.frame
        small = frame["count"].between(1, 4)
        assert (frame.loc[small, "display"].isin(["<5", "x"])).all(), table.name
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
