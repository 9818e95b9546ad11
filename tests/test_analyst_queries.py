"""The analysts' warehouse on known data: views, groupings, flows, as-of, Parquet, the standard
queries and `glotip sql`. Expected figures are worked out by hand from tests/analyst_data.py."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.analyst_data import FIRST_LOAD, REVISION_LOAD, build_known_warehouse
from warehouse.session import Warehouse
from warehouse import snapshot as analyst_snapshot
from warehouse.queries import load_query, query_names, run_standard_query


@pytest.fixture(scope="module")
def known_db(tmp_path_factory) -> Path:
    return build_known_warehouse(tmp_path_factory.mktemp("known"))


@pytest.fixture
def snapshot(known_db):
    connection = analyst_snapshot.open_snapshot(known_db)
    yield connection
    connection.close()


def rows(frame: pd.DataFrame, **where) -> list[dict]:
    for column, value in where.items():
        frame = frame[frame[column] == value]
    return frame.to_dict("records")


def test_every_standard_query_states_its_question_and_parameters():
    names = query_names()
    assert {"victims_by_sex_age", "forms_of_exploitation", "countries_reporting", "flow_shares",
            "main_origins", "offenders_trend", "organ_removal_cases", "organ_removal_material",
            "sdg_16_2_2", "country_profiles"} <= set(names)
    for name in names:
        query = load_query(name)
        assert query.question.endswith("?"), name


def test_victims_by_sex_and_age(snapshot):
    result = run_standard_query(snapshot, "victims_by_sex_age", {"year": 2022})
    # Europe: Germany's revision (3, 5, 33, 14; total 55) + Italy (2, -, 12, 6; total 20).
    europe, = rows(result, region="Europe")
    assert (europe["countries"], europe["girls"], europe["boys"], europe["women"], europe["men"],
            europe["total"]) == (2, 5, 5, 45, 20, 75)
    assert europe["women_share"] == pytest.approx(45 / 75, abs=1e-4)
    world, = rows(result, region="World")
    assert (world["countries"], world["countries_sex_age"], world["girls"], world["boys"], world["women"],
            world["men"], world["other_or_unknown"], world["total"]) == (4, 3, 35, 15, 85, 35, 65, 235)
    # Shares are of the victims of known sex and age (170), in the countries reporting them:
    # Thailand's 60 without a breakdown and Nigeria's 5 of unknown sex or age are not in it.
    assert world["girls_share"] == pytest.approx(35 / 170, abs=1e-4)
    asia, = rows(result, region="Asia")  # Thailand gave no sex or age breakdown: not reported, not 0
    assert pd.isna(asia["girls"]) and pd.isna(asia["girls_share"]) and asia["total"] == 60
    assert asia["other_or_unknown"] == 60 and asia["countries_sex_age"] == 0
    assert set(result["year"]) == {2022}


def test_the_measures_view_adds_up_whatever_was_reported(snapshot):
    """victim_measures: each breakdown adds up to the total; one not reported is empty."""
    measures = snapshot.execute("SELECT * FROM victim_measures WHERE year = 2022").df().set_index("country")
    for country, row in measures.iterrows():
        if row["reported_sex_age"]:
            assert row[["girls", "boys", "women", "men", "other_or_unknown"]].sum() == row["total"], country
        if row["reported_sex"]:
            assert row[["female", "male", "sex_other_or_unknown"]].sum() == row["total"], country
        if row["reported_age"]:
            assert row[["child", "adult", "age_unknown"]].sum() == row["total"], country
        forms = ["sexual_exploitation", "forced_labour", "removal_of_organs", "forced_marriage", "forced_begging",
                 "forced_criminal_activity", "illegal_adoption", "mixed", "other", "form_unknown"]
        assert row[forms].fillna(0).sum() == row["total"], country
        assert row[["sexual_exploitation", "forced_labour", "removal_of_organs"]].fillna(0).sum() \
            + row["other_purposes"] == row["total"], country
        assert row["exact"], country
    # Nigeria: 100 reported, 95 by sex and age (5 other or unknown), 8 of unknown form.
    assert tuple(measures.loc["NGA", ["total", "other_or_unknown", "female", "child", "form_unknown"]]) == (100, 5, 70, 40, 8)
    thailand = measures.loc["THA"]  # no sex or age breakdown: not reported, all of unknown sex and age
    assert pd.isna(thailand["girls"]) and pd.isna(thailand["female"]) and pd.isna(thailand["child"])
    assert (thailand["other_or_unknown"], thailand["sex_other_or_unknown"], thailand["age_unknown"]) == (60, 60, 60)


def test_a_breakdown_larger_than_the_reported_total_raises_it(tmp_path):
    """The total is the largest of the reported total and each breakdown's sum, so that every
    breakdown adds up to it; a margin smaller than its sex x age cells is raised likewise."""
    db = build_known_warehouse(tmp_path, revised=False)
    with duckdb.connect(str(db)) as connection:
        italy = connection.execute("SELECT submission_id FROM submissions WHERE country = 'ITA'").fetchall()[0][0]
        # Italy's forms now add up to 26 (reported total 20); its female margin 10 < girls + women 14.
        connection.execute("UPDATE fact_victims SET count = 16 WHERE submission_id = ? AND form = 'forced_labour'", [italy])
        connection.execute("INSERT INTO fact_victims (submission_id, source_line, year, sex, age, form, citizenship, count) "
                           "VALUES (?, 98, 2022, 'female', 'total', 'total', 'total', 10)", [italy])
    analyst_snapshot.publish(Warehouse(db))
    with analyst_snapshot.open_snapshot(db) as snap:
        italy, = rows(run_standard_query(snap, "country_profiles", {"year": 2022}), country="ITA")
        europe, = rows(run_standard_query(snap, "victims_by_sex_age", {"year": 2022}), region="Europe")
        forms = run_standard_query(snap, "forms_of_exploitation", {"year": 2022})
    assert (italy["total"], italy["female"], italy["other_or_unknown"], italy["sex_other_or_unknown"]) == (26, 14, 6, 6)
    europe_forms = sum(r["victims"] for r in rows(forms, region="Europe"))
    assert europe["total"] == europe_forms == 50 + 26


def test_forms_of_exploitation_shares(snapshot):
    result = run_standard_query(snapshot, "forms_of_exploitation", {"year": 2022})
    africa = {r["form"]: r for r in rows(result, region="Africa")}
    # Nigeria: 60 sexual, 30 forced labour, 2 organ removal, 8 unknown: shares of the 92 known.
    assert africa["sexual_exploitation"]["victims"] == 60
    assert africa["sexual_exploitation"]["share_of_known"] == pytest.approx(60 / 92, abs=1e-4)
    assert africa["removal_of_organs"]["share_of_known"] == pytest.approx(2 / 92, abs=1e-4)
    assert pd.isna(africa["unknown"]["share_of_known"])
    europe = {r["form"]: (r["victims"], r["countries"]) for r in rows(result, region="Europe")}
    assert europe == {"sexual_exploitation": (50, 2), "forced_labour": (25, 2)}


def test_countries_reporting(snapshot):
    result = run_standard_query(snapshot, "countries_reporting")
    assert result.values.tolist() == [[2021, 2, 1, 2], [2022, 4, 2, 4]]


def test_flow_shares_and_main_origins(snapshot):
    shares = run_standard_query(snapshot, "flow_shares", {"year": 2022})
    europe, = rows(shares, destination_region="Europe")
    # Domestic DEU 10 + ITA 4; intra ITA->DEU 5; trans NGA->DEU 25, NGA->ITA 16, THA->DEU 15.
    assert (europe["victims"], europe["domestic"], europe["intra_regional"], europe["trans_regional"]) == (75, 14, 5, 56)
    assert europe["trans_regional_share"] == pytest.approx(56 / 75, abs=1e-4)
    origins = run_standard_query(snapshot, "main_origins", {"year": 2022})
    assert [(r["rank"], r["origin_region"], r["victims"]) for r in rows(origins, destination_region="Europe")] == [
        (1, "Africa", 41), (2, "Europe", 19), (3, "Asia", 15)]
    top_one = run_standard_query(snapshot, "main_origins", {"year": 2022, "top": 1})
    assert len(top_one) == 3 and set(top_one["rank"]) == {1}


def test_flows_view_has_both_perspectives_and_flow_types(snapshot):
    flows = snapshot.execute("SELECT * FROM flows WHERE year = 2022").df()
    detection = flows[flows["perspective"] == "detection"]
    assert detection["count"].sum() == 235  # every citizenship cell of 2022 names a country
    nga_deu, = rows(detection, origin="NGA", destination="DEU")
    assert (nga_deu["count"], nga_deu["flow_type"], nga_deu["origin_region"], nga_deu["destination_region"]) == (
        25, "trans_regional", "Africa", "Europe")
    ita_deu, = rows(detection, origin="ITA", destination="DEU")
    assert (ita_deu["flow_type"], ita_deu["flow_type_subregion"]) == ("intra_regional", "trans_regional")
    repatriated = flows[flows["perspective"] == "repatriation"]
    assert sorted(zip(repatriated["origin"], repatriated["destination"], repatriated["count"])) == [
        ("NGA", "DEU", 4), ("NGA", "ITA", 6)]
    by_region = snapshot.execute("SELECT * FROM flows_by_region WHERE perspective = 'detection' AND year = 2022 "
                                 "AND destination_region = 'Europe' ORDER BY victims DESC").df()
    assert by_region["origin_region"].tolist() == ["Africa", "Europe", "Asia"]
    assert by_region["share"].sum() == pytest.approx(1)


def test_offenders_trend_and_women_among_convicted(snapshot):
    result = run_standard_query(snapshot, "offenders_trend")
    by_year = {r["year"]: r for r in result.to_dict("records")}
    assert (by_year[2021]["prosecuted"], by_year[2021]["convicted"], by_year[2021]["women_share_of_convicted"]) == (20, 10, 0.2)
    # 2022: Nigeria 30 prosecuted, 12 convicted (3 women, 9 men); Germany 15, 8 (2 women, 6 men).
    assert (by_year[2022]["prosecuted"], by_year[2022]["convicted"], by_year[2022]["convicted_women"],
            by_year[2022]["countries_convicted"]) == (45, 20, 5, 2)
    assert by_year[2022]["women_share_of_convicted"] == 0.25


def test_organ_removal_cases_and_material(snapshot):
    cases, = run_standard_query(snapshot, "organ_removal_cases", {"year": 2022}).to_dict("records")
    assert (cases["cases"], cases["victims"], cases["reporting_countries"]) == (2, 3, 2)
    assert cases["countries_involved"] == "DEU; EGY; MDA; NGA; TUR"
    assert cases["removal_countries"] == "EGY; TUR"
    assert (cases["medical_professionals_yes"], cases["medical_professionals_no"],
            cases["medical_professionals_unknown"]) == (1, 0, 1)
    material = run_standard_query(snapshot, "organ_removal_material", {"year": 2022})
    assert material[["material", "cases", "victims"]].values.tolist() == [["kidney", 2, 3], ["liver", 1, 1]]


def test_sdg_16_2_2_rate_uses_the_population_table(snapshot):
    shipped = pd.read_csv(analyst_snapshot.SHIPPED_POPULATION)
    population = int(shipped[(shipped["country"] == "NGA") & (shipped["year"] == 2022)]["population"].iloc[0])
    result = run_standard_query(snapshot, "sdg_16_2_2", {"country": "nga", "year": 2022})
    total, = rows(result, sex="total", age="total", form="total")
    assert total["victims"] == 100 and total["population"] == population
    assert total["victims_per_100k"] == pytest.approx(100 * 100000 / population)
    girls, = rows(result, sex="female", age="child", form="total")
    assert girls["victims_per_100k"] == pytest.approx(30 * 100000 / population)


def test_country_profiles(snapshot):
    result = run_standard_query(snapshot, "country_profiles", {"year": 2022})
    germany, = rows(result, country="DEU")
    assert (germany["name"], germany["region"], germany["total"], germany["girls"], germany["women"],
            germany["sexual_exploitation"]) == ("Germany", "Europe", 55, 3, 33, 40)


def test_as_of_shows_what_was_current_then(known_db):
    with analyst_snapshot.open_snapshot(known_db) as connection:
        # As of now, the as-of rule gives exactly the current view.
        assert connection.execute("""
            (SELECT * FROM current_country_years EXCEPT SELECT * FROM current_country_years_as_of(now()::TIMESTAMP))
            UNION ALL
            (SELECT * FROM current_country_years_as_of(now()::TIMESTAMP) EXCEPT SELECT * FROM current_country_years)
            """).fetchall() == []
        current = connection.execute("SELECT count FROM victims WHERE country = 'DEU' AND sex = 'total' "
                                     "AND age = 'total' AND form = 'total' AND citizenship = 'total'").fetchall()
        analyst_snapshot.use_as_of(connection, FIRST_LOAD + (REVISION_LOAD - FIRST_LOAD) / 2)
        before = connection.execute("SELECT count FROM victims WHERE country = 'DEU' AND sex = 'total' "
                                    "AND age = 'total' AND form = 'total' AND citizenship = 'total'").fetchall()
        flows = run_standard_query(connection, "flow_shares", {"year": 2022})
        germany, = rows(run_standard_query(connection, "country_profiles", {"year": 2022}), country="DEU")
        analyst_snapshot.use_as_of(connection, FIRST_LOAD.replace(year=2024))
        nothing = connection.execute("SELECT count(*) FROM victims").fetchall()
    assert current == [(55,)] and before == [(50,)]
    assert rows(flows, destination_region="Europe")[0]["victims"] == 70  # 50 + 20, before the revision
    assert germany["total"] == 50 and germany["women"] == 30  # the measures view follows the as-of view
    assert nothing == [(0,)]


def test_grouping_switch_changes_regions_and_flow_types(tmp_path):
    db = build_known_warehouse(tmp_path, revised=False)
    grouping_file = tmp_path / "my_grouping.csv"
    grouping_file.write_text("country,region,subregion\nNGA,Africa and Europe,\nDEU,Africa and Europe,\n"
                             "ITA,Africa and Europe,\nGHA,Africa and Europe,\nTHA,Asia,\n")
    with Warehouse(db) as warehouse:
        analyst_snapshot.load_grouping(warehouse.connection, "mine",
                                       analyst_snapshot.read_grouping_file(grouping_file), activate=True)
        analyst_snapshot.publish(warehouse)
    with analyst_snapshot.open_snapshot(db) as snap:
        nga_deu = snap.execute("SELECT flow_type, grouping FROM flows WHERE origin = 'NGA' AND destination = 'DEU' "
                               "AND perspective = 'detection'").fetchall()
        m49 = snap.execute("SELECT flow_type FROM flows_in('m49') WHERE origin = 'NGA' AND destination = 'DEU' "
                           "AND perspective = 'detection'").fetchall()
        regions = run_standard_query(snap, "victims_by_sex_age", {"year": 2022})["region"].tolist()
        glotip = run_standard_query(snap, "victims_by_sex_age", {"year": 2022, "grouping": "glotip"})["region"].tolist()
    assert nga_deu == [("intra_regional", "mine")] and m49 == [("trans_regional",)]
    assert regions == ["Africa and Europe", "Asia", "World"]
    assert "Europe" in glotip
    bad = tmp_path / "bad.csv"
    bad.write_text("country,region\nXXX,Somewhere\n")
    with pytest.raises(ValueError, match="XXX"):
        analyst_snapshot.read_grouping_file(bad)


def test_suppressed_counts_are_counted_apart_not_as_zero(tmp_path):
    """Published data (issue 4) may hold `<5` cells as NULL counts. A breakdown with such a cell
    is not exact: it counts as not reported (its victims other or unknown), never with a 0; a
    country-year whose total is hidden is left out of the regional sums (`countries_left_out`)."""
    db = build_known_warehouse(tmp_path, revised=False)
    with duckdb.connect(str(db)) as connection:
        connection.execute("ALTER TABLE fact_victims ALTER count DROP NOT NULL")
        italy = connection.execute("SELECT submission_id FROM submissions WHERE country = 'ITA'").fetchall()[0][0]
        connection.execute("INSERT INTO fact_victims (submission_id, source_line, year, sex, age, form, citizenship, count) VALUES (?, 99, 2022, 'male', 'child', 'total', 'total', NULL)", [italy])
    analyst_snapshot.publish(Warehouse(db))
    with analyst_snapshot.open_snapshot(db) as snap:
        europe, = rows(run_standard_query(snap, "victims_by_sex_age", {"year": 2022}), region="Europe")
        italy_row, = rows(run_standard_query(snap, "country_profiles", {"year": 2022}), country="ITA")
    assert (europe["countries"], europe["countries_sex_age"], europe["boys"], europe["girls"],
            europe["other_or_unknown"], europe["total"]) == (2, 1, 5, 3, 20, 70)  # Germany's 3 and 5; Italy's 20 unknown
    assert italy_row["exact"] and italy_row["suppressed_cells"] == 1 and pd.isna(italy_row["girls"])
    assert not italy_row["reported_sex"] and italy_row["reported_form"] and italy_row["sexual_exploitation"] == 10
    with duckdb.connect(str(db)) as connection:
        connection.execute("UPDATE fact_victims SET count = NULL WHERE submission_id = ? AND sex = 'total' AND age = 'total' "
                           "AND form = 'total' AND citizenship = 'total'", [italy])
    analyst_snapshot.publish(Warehouse(db))
    with analyst_snapshot.open_snapshot(db) as snap:
        europe, = rows(run_standard_query(snap, "victims_by_sex_age", {"year": 2022}), region="Europe")
        forms = run_standard_query(snap, "forms_of_exploitation", {"year": 2022})
    assert (europe["countries"], europe["countries_left_out"], europe["total"]) == (1, 1, 50)
    assert sum(r["victims"] for r in rows(forms, region="Europe")) == 50  # Germany's 50 alone, as above


def test_parquet_files_of_every_current_table(known_db):
    folder = analyst_snapshot.analyst_dir(known_db) / analyst_snapshot.PARQUET_LINK
    assert folder.is_symlink()
    for name in analyst_snapshot.PARQUET_RELATIONS:
        assert (folder / f"{name}.parquet").exists(), name
    victims = pd.read_parquet(folder / "victims.parquet")
    with analyst_snapshot.open_snapshot(known_db) as snap:
        assert len(victims) == snap.execute("SELECT count(*) FROM victims").fetchall()[0][0]
    assert "contact_email" not in pd.read_parquet(folder / "submissions.parquet").columns


def test_snapshot_is_read_only(snapshot):
    with pytest.raises(duckdb.Error):
        snapshot.execute("DELETE FROM fact_victims")


def test_glotip_sql_runs_standard_queries_on_the_snapshot(known_db):
    from cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["sql", "--query", "flow_shares", "--param", "year=2022", "--db", str(known_db), "-f", "csv"])
    assert result.exit_code == 0, result.output
    europe = [r for r in csv.DictReader(io.StringIO(result.output)) if r["destination_region"] == "Europe"]
    assert europe[0]["trans_regional"] == "56"
    as_of = runner.invoke(app, ["sql", "SELECT count FROM victims WHERE country = 'DEU' AND sex = 'total' AND age = 'total' "
                                "AND form = 'total' AND citizenship = 'total'", "--db", str(known_db), "-f", "csv",
                                "--as-of", "2025-02-01"])
    assert as_of.exit_code == 0 and as_of.output.split() == ["count", "50"]
    unknown = runner.invoke(app, ["sql", "--query", "flow_shares", "--param", "region=Asia", "--db", str(known_db)])
    assert unknown.exit_code == 1 and "no parameter region" in unknown.output
    listing = runner.invoke(app, ["sql", "--list"])
    assert "victims_by_sex_age" in listing.output
