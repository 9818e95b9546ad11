"""The published series kept straight, on small exports written here (never the real file):
`Other forms of exploitation` subtotals, supersession whatever the import order, --force
re-imports that keep the load history, withdrawn country-years, regional aggregate rows and
the shipped population series."""

from __future__ import annotations

import csv
import datetime as dt

import duckdb
import pytest

from schemas.messages import render_message
from transforms.dataunodc import (AGGREGATE, OTHER_EXCEEDS, SUM_SUB_FORMS, SUM_SUB_FORMS_SUBTOTALS,
                                  prepare_export, read_export)
from warehouse.dataunodc import load_export
from warehouse.session import Warehouse
from warehouse.snapshot import SHIPPED_POPULATION, read_population_file, refresh_reference_tables

HEADER = ["Iso3_code", "Country", "Region", "Subregion", "Indicator", "Dimension", "Category",
          "Sex", "Age", "Year", "Unit of measurement", "txtVALUE", "Source"]
NAMES = {"COL": "Colombia", "THA": "Thailand", "FRA": "France", "SAM": None, "SAF": None}
VICTIMS, CONVICTED = "Detected trafficking victims", "Persons convicted"
OTHER = "Other forms of exploitation"


def row(iso3, year, value, indicator=VICTIMS, dimension="Total", category="Total", sex="Total"):
    return [iso3, NAMES.get(iso3, iso3) or "", "", "", indicator, dimension, category, sex,
            "Total", str(year), "Counts", value, "GLOTIP"]


def form(iso3, year, category, value, indicator=VICTIMS):
    return row(iso3, year, value, indicator, "by form of exploitation", category)


def write_export(path, rows):
    """A dataUNODC export as a .csv: header on line 1, so row i of `rows` is on line i + 2."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def prepare(path, export_date=None):
    return prepare_export(read_export(path, export_date))


def import_file(db, path, **options):
    with Warehouse(db) as warehouse:
        return load_export(warehouse.connection, prepare(path), **options)


def query(db, sql, params=None):
    with duckdb.connect(str(db), read_only=True) as connection:
        return connection.execute(sql, params or []).fetchall()


def summed(prepared):
    return [f for f in prepared.findings if f.rule == "published-duplicate-summed"]


# ---------------------------------------------------------------- Other forms of exploitation

def test_a_repeated_other_forms_row_equal_to_the_sum_of_others_is_a_subtotal(tmp_path):
    # COL 2018 convicted in the 2023 export: 28, 17 and 11 (28 = 17 + 11), total 28
    path = write_export(tmp_path / "export.csv", [
        row("COL", 2018, "28", CONVICTED),                       # line 2
        form("COL", 2018, OTHER, "28", CONVICTED),               # line 3: the subtotal
        form("COL", 2018, OTHER, "17", CONVICTED),               # line 4
        form("COL", 2018, OTHER, "11", CONVICTED),               # line 5
    ])
    prepared = prepare(path, dt.date(2023, 1, 1))
    other = prepared.tables["offenders"].query("form == 'other'")
    assert other["count"].tolist() == [28]
    [finding] = summed(prepared)
    assert finding.params["sum_reason"] == SUM_SUB_FORMS_SUBTOTALS
    assert finding.params["subtotal_lines"] == [3] and finding.params["part_lines"] == [4, 5]
    assert finding.params["room"] == 28
    assert prepared.stats.repeated_keys.by_reason == {SUM_SUB_FORMS_SUBTOTALS: 1}


def test_nested_subtotals_and_suppressed_parts_are_recognised(tmp_path):
    path = write_export(tmp_path / "export.csv", [
        row("THA", 2020, "100"),
        form("THA", 2020, "Sexual exploitation", "50"),
        form("THA", 2020, OTHER, "40"),   # 28 + 12
        form("THA", 2020, OTHER, "28"),   # 17 + 11
        form("THA", 2020, OTHER, "17"),
        form("THA", 2020, OTHER, "11"),
        form("THA", 2020, OTHER, "12"),
        row("THA", 2021, "30"),
        form("THA", 2021, OTHER, "9"),    # 6 + <5
        form("THA", 2021, OTHER, "6"),
        form("THA", 2021, OTHER, "<5"),
    ])
    victims = prepare(path, dt.date(2023, 1, 1)).tables["victims"].query("form == 'other'")
    assert victims.set_index("year")["count"].to_dict() == {2020: 40, 2021: 9}


def test_genuine_sub_forms_that_fit_the_total_are_summed(tmp_path):
    path = write_export(tmp_path / "export.csv", [
        row("THA", 2020, "30"),
        form("THA", 2020, "Sexual exploitation", "10"),
        form("THA", 2020, OTHER, "5"),
        form("THA", 2020, OTHER, "7"),
    ])
    prepared = prepare(path, dt.date(2023, 1, 1))
    assert prepared.tables["victims"].query("form == 'other'")["count"].tolist() == [12]
    [finding] = summed(prepared)
    assert finding.params["sum_reason"] == SUM_SUB_FORMS and finding.params["subtotal_lines"] == []


def test_other_forms_are_never_stored_larger_than_their_total(tmp_path):
    path = write_export(tmp_path / "export.csv", [
        row("THA", 2020, "20"),                         # line 2
        form("THA", 2020, "Sexual exploitation", "10"),
        form("THA", 2020, OTHER, "15"),   # 15 + 12 > 20: they cannot all be parts
        form("THA", 2020, OTHER, "12"),
        row("THA", 2021, "28", CONVICTED),              # line 6
        form("THA", 2021, "Sexual exploitation", "14", CONVICTED),
        form("THA", 2021, OTHER, "28", CONVICTED),      # 17 + 11: stored 28, not 56
        form("THA", 2021, OTHER, "17", CONVICTED),
        form("THA", 2021, OTHER, "11", CONVICTED),
        row("THA", 2022, "20"),                         # line 11
        form("THA", 2022, "Forced labour", "10"),
        form("THA", 2022, OTHER, "6"),    # 6 + <5 fits in 20 - 10
        form("THA", 2022, OTHER, "<5"),
    ])
    prepared = prepare(path, dt.date(2023, 1, 1))
    victims = prepared.tables["victims"]
    other = victims.query("form == 'other'").set_index("year")[["count_min", "count_max"]]
    assert other.to_dict("index") == {2022: {"count_min": 7, "count_max": 10}}
    assert prepared.tables["offenders"].query("form == 'other'")["count"].tolist() == [28]
    exceeding = [f for f in prepared.findings if f.rule == OTHER_EXCEEDS]
    assert [f.line for f in exceeding] == [4, 5]
    assert {(f.params["parts_sum"], f.params["total"], f.params["room"]) for f in exceeding} == {
        (27, 20, 10)}
    assert render_message(exceeding[0]).startswith(
        "The 2 `Other forms of exploitation` rows of ")
    assert "at least 27" in render_message(exceeding[0])
    # the convicted figure fits its total but not what sexual exploitation leaves: loaded as
    # published, and the parts-against-totals check says so
    decided = {f.params["cell_key"]["year"]: f.params for f in summed(prepared)}
    assert (decided[2021]["room"], decided[2021]["kept_lines"]) == (14, [8])
    assert any(f.rule == "published-parts-exceed-total" and f.params["cell_key"]["year"] == 2021
               for f in prepared.findings)
    assert prepared.stats.repeated_keys.other_forms_exceeding_keys == 1
    assert prepared.stats.quarantined_by_reason == {OTHER_EXCEEDS: 2}
    for table in prepared.tables.values():  # whatever was stored: never above its total
        if "form" in table and not table.empty:
            totals = table[table["form"].eq("total")].set_index("year")["count_max"]
            parts = table[table["form"].ne("total")].groupby("year")["count_min"].max()
            assert (parts <= totals.reindex(parts.index)).all()


# ------------------------------------------------- supersession, withdrawals, load history

def older_and_newer(tmp_path):
    older = write_export(tmp_path / "data_glotip_2023-06-30.csv", [
        row("THA", 2019, "10"), row("THA", 2020, "20"), row("FRA", 2020, "5"),
        row("COL", 2018, "7")])
    newer = write_export(tmp_path / "data_glotip_2025-04-14.csv", [
        row("THA", 2020, "21"), row("THA", 2021, "30"), row("FRA", 2020, "5")])
    return older, newer


def state(db):
    return {
        "current": query(db, "SELECT country, year, count, submission_id FROM victims "
                             "ORDER BY ALL"),
        "register": query(db, "SELECT submission_id, superseded_by, supersedes FROM submissions "
                              "ORDER BY submission_id"),
    }


def test_current_figures_and_supersession_do_not_depend_on_the_import_order(tmp_path):
    older, newer = older_and_newer(tmp_path)
    found, withdrawn = [], set()
    for order in ([older, newer], [newer, older]):
        db = tmp_path / f"first-{order[0].stem}.duckdb"
        for path in order:
            outcome = import_file(db, path)
            assert outcome.status == "loaded"
            withdrawn |= {(w["country"], w["year"], w["submission_id"]) for w in outcome.withdrawn}
        found.append(state(db))
    assert found[0] == found[1]
    assert found[0]["current"] == [
        ("COL", 2018, 7, "PUB-20230630-COL"),       # no newer export of COL: still current
        ("FRA", 2020, 5, "PUB-20250414-FRA"),
        ("THA", 2020, 21, "PUB-20250414-THA"), ("THA", 2021, 30, "PUB-20250414-THA")]
    assert found[0]["register"] == [
        ("PUB-20230630-COL", None, None),
        ("PUB-20230630-FRA", "PUB-20250414-FRA", None),
        ("PUB-20230630-THA", "PUB-20250414-THA", None),
        ("PUB-20250414-FRA", None, ["PUB-20230630-FRA"]),
        ("PUB-20250414-THA", None, ["PUB-20230630-THA"])]
    # THA 2019 is in the 2023 export only: withdrawn by the 2025 one, whichever came in first
    assert withdrawn == {("THA", 2019, "PUB-20230630-THA")}


def test_a_forced_reimport_keeps_the_load_history(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    first = write_export(tmp_path / "data_glotip_2025-04-14.xlsx.csv", [
        row("THA", 2020, "20"), row("THA", 2021, "30")])
    again = write_export(tmp_path / "data_glotip_2025-04-14.csv", [row("THA", 2020, "22")])
    before, after = dt.datetime(2025, 5, 1), dt.datetime(2025, 6, 1)
    assert import_file(db, first, imported_at=before).import_id == "PUB-20250414"
    outcome = import_file(db, again, force=True, imported_at=after)
    assert (outcome.import_id, outcome.replaced) == ("PUB-20250414v2", ["PUB-20250414"])
    assert outcome.withdrawn == [{"country": "THA", "year": 2021, "submission_id": "PUB-20250414-THA"}]
    assert query(db, "SELECT year, count, submission_id FROM victims ORDER BY year") == [
        (2020, 22, "PUB-20250414v2-THA")]
    as_of = """
        SELECT f.year, f.count FROM current_country_years_as_of(TIMESTAMP '{}') AS c
        JOIN fact_victims AS f USING (submission_id, year) ORDER BY f.year"""
    assert query(db, as_of.format("2025-05-15 00:00:00")) == [(2020, 20), (2021, 30)]
    assert query(db, as_of.format("2025-06-15 00:00:00")) == [(2020, 22)]
    assert query(db, "SELECT import_id, imported_at FROM published_imports ORDER BY load_seq") == [
        ("PUB-20250414", before), ("PUB-20250414v2", after)]
    # the same file forced again: a third version, the second stays in the history
    assert import_file(db, again, force=True).import_id == "PUB-20250414v3"
    assert query(db, "SELECT count(*) FROM fact_victims WHERE submission_id = "
                     "'PUB-20250414v2-THA'") == [(1,)]


# ------------------------------------------------------------------ aggregates, population

def test_regional_aggregate_rows_are_reported_as_aggregates(tmp_path):
    path = write_export(tmp_path / "export.csv", [
        row("THA", 2020, "20"),
        row("SAM", 2020, "300"),                         # empty Country: an aggregate
        row("SAF", 2020, "<5"),
        ["ZZZ", "Atlantis", "", "", VICTIMS, "Total", "Total", "Total", "Total", "2020",
         "Counts", "3", "GLOTIP"],                       # a name: not an aggregate
    ])
    prepared = prepare(path, dt.date(2025, 1, 1))
    found = [(f.rule, f.line, f.value, f.severity) for f in prepared.findings]
    assert found == [(AGGREGATE, 3, "SAM", "warning"), (AGGREGATE, 4, "SAF", "warning"),
                     ("published-unknown-iso3", 5, "ZZZ", "error")]
    assert prepared.stats.quarantined_by_reason == {AGGREGATE: 2, "published-unknown-iso3": 1}
    assert (prepared.stats.rows_loaded, prepared.stats.rows_quarantined) == (1, 3)


def test_the_shipped_population_covers_every_year_of_the_published_series(tmp_path):
    db = tmp_path / "warehouse.duckdb"
    with Warehouse(db) as warehouse:
        refresh_reference_tables(warehouse.connection)  # loads the shipped file
    # a rate for 2003, the export's first year, has its denominator (World Bank: 64.9 million)
    assert query(db, "SELECT population FROM population WHERE country = 'THA' AND year = 2003") \
        == [(64_868_166,)]
    population = read_population_file(SHIPPED_POPULATION)
    assert population["year"].min() == 1960 and population["year"].max() == 2024
    per_country = population.groupby("country")["year"].agg(["min", "count"])
    # the export's years start in 2003: every country with figures then has a denominator
    assert (per_country.loc[["THA", "COL", "FRA", "NGA"], "min"] == 1960).all()
    assert population.duplicated(["country", "year"]).sum() == 0
    assert len(population) == 13_945


@pytest.mark.parametrize("subtotal", [True, False])
def test_a_sum_is_recomputed_identically_whatever_the_row_order(tmp_path, subtotal):
    rows = [row("COL", 2018, "28", CONVICTED)] + [
        form("COL", 2018, OTHER, v, CONVICTED) for v in (["28", "17", "11"] if subtotal
                                                         else ["9", "<5", "11"])]
    counts = []
    for name, ordered in (("a", rows), ("b", [rows[0]] + rows[:0:-1])):
        tables = prepare(write_export(tmp_path / f"{name}.csv", ordered), dt.date(2023, 1, 1)).tables
        other = tables["offenders"].query("form == 'other'")
        counts.append(other[["count", "count_min", "count_max"]].astype("float").values.tolist())
    assert counts[0] == counts[1]
