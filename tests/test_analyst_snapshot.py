"""An analyst holding the snapshot open in another process never blocks ingestion, and never
sees half a load; the drafting pack is written from the snapshot afterwards."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.analyst_data import DEU_REVISED, build_known_warehouse, write_known_submission
from tests.conftest import SAMPLES
from warehouse import snapshot as analyst_snapshot

# The analyst: opens the snapshot read-only, says so, then keeps querying it on the same
# connection until told to stop; every answer must be the same (a consistent snapshot).
READER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    import duckdb
    snapshot, ready, stop = sys.argv[1:4]
    connection = duckdb.connect(snapshot, read_only=True)
    sql = "SELECT count(*), sum(count) FROM victims"
    first = connection.execute(sql).fetchall()[0]
    Path(ready).write_text("open")
    answers, deadline = set(), time.time() + 240
    while not Path(stop).exists() and time.time() < deadline:
        answers.add(tuple(connection.execute(sql).fetchall()[0]))
        time.sleep(0.05)
    print(json.dumps({"first": list(first), "answers": sorted(map(list, answers))}))
""")


def test_analyst_with_snapshot_open_blocks_nothing(prefect_server, tmp_path):
    from flows.ingest import ingest_submissions

    db = build_known_warehouse(tmp_path / "wh", revised=False)
    snapshot = analyst_snapshot.snapshot_path(db)
    ready, stop = tmp_path / "reader.ready", tmp_path / "reader.stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(snapshot), str(ready), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 60
        while not ready.exists():
            assert reader.poll() is None, reader.stderr.read()
            assert time.time() < deadline, "the reader never opened the snapshot"
            time.sleep(0.05)

        inbox = tmp_path / "inbox"
        inbox.mkdir()
        shutil.copy2(SAMPLES / "NGA_2021-2022.zip", inbox)
        shutil.copytree(SAMPLES / "MEX_2022", inbox / "MEX_2022")
        write_known_submission(inbox / "DEU-revised", "DEU", DEU_REVISED)
        started = time.time()
        outcomes = ingest_submissions(str(inbox), str(db), str(tmp_path / "reports"), str(tmp_path / "archive"))
        took = time.time() - started
        assert reader.poll() is None, "the reader must still be running during the whole ingestion"
    finally:
        stop.write_text("stop")
        output, errors = reader.communicate(timeout=60)
    assert reader.returncode == 0, errors
    seen = json.loads(output)
    # The reader saw one consistent state, the one it opened, all along.
    assert seen["answers"] == [seen["first"]]
    statuses = {o["file_name"]: o["status"] for o in outcomes}
    # the sample's Nigeria differs in most cells from the known warehouse's: held, not current
    assert statuses.pop("NGA_2021-2022.zip") == "held"
    assert set(statuses.values()) <= {"accepted", "accepted_with_warnings"}
    assert sum(o["rows_loaded"] for o in outcomes) > 0
    assert took < 120
    # The run published a new snapshot with the new data, renamed over the old one.
    with analyst_snapshot.open_snapshot(db) as connection:
        countries = {row[0] for row in connection.execute("SELECT DISTINCT country FROM victims").fetchall()}
        deu = connection.execute("SELECT count FROM victims WHERE country = 'DEU' AND sex = 'total' AND "
                                 "age = 'total' AND form = 'total' AND citizenship = 'total'").fetchall()
    assert {"MEX", "NGA", "DEU", "ITA", "THA"} <= countries and deu == [(55,)]
    assert not list(snapshot.parent.glob(".*.tmp"))  # no half-written snapshot left behind

    # The drafting pack, from that snapshot (sample submissions plus the known data).
    from reporting.drafting_pack import write_drafting_pack

    index = write_drafting_pack(db, 2022, tmp_path / "pack")
    assert index.exists()


# ------------------------------------------------------------------ whose snapshot it is

def test_each_warehouse_of_a_folder_has_its_own_snapshot(tmp_path):
    """Two warehouses side by side: each `glotip sql --db` answers with its own figures."""
    from typer.testing import CliRunner

    from cli import app
    from tests.analyst_data import FIRST_LOAD, SUBMISSIONS, load_folder
    from warehouse.session import Warehouse

    folder = tmp_path / "var"
    for name, country in (("first", "NGA"), ("second", "THA")):
        db = folder / f"{name}.duckdb"
        load_folder(db, write_known_submission(tmp_path / "inbox" / name, country, SUBMISSIONS[country]),
                    FIRST_LOAD)
        analyst_snapshot.publish(Warehouse(db))
    assert analyst_snapshot.snapshot_path(folder / "first.duckdb") != analyst_snapshot.snapshot_path(folder / "second.duckdb")
    assert analyst_snapshot.snapshot_path(folder / "first.duckdb") == folder / "analyst" / "first" / analyst_snapshot.SNAPSHOT_NAME
    runner = CliRunner()
    for name, country in (("first", "NGA"), ("second", "THA")):
        result = runner.invoke(app, ["sql", "SELECT DISTINCT country FROM victims", "--db",
                                     str(folder / f"{name}.duckdb"), "-f", "json"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.output) == [{"country": country}]
        assert (folder / "analyst" / name / "parquet" / "victims.parquet").is_file()


def test_a_missing_warehouse_is_an_error_not_another_warehouses_snapshot(tmp_path):
    """A mistyped --db next to a published warehouse (and a snapshot of the earlier, shared
    layout) reads nothing: exit 1, the path it looked for, and nothing created."""
    from typer.testing import CliRunner

    from cli import app

    db = build_known_warehouse(tmp_path / "wh", revised=False)
    shared = db.parent / "analyst" / analyst_snapshot.SNAPSHOT_NAME  # the earlier layout
    shutil.copy2(analyst_snapshot.snapshot_path(db), shared)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    runner = CliRunner()
    for arguments in (["SELECT count(*) FROM victims"], ["--query", "flow_shares"],
                      ["SELECT 1", "--live"]):
        result = runner.invoke(app, ["sql", *arguments, "--db", str(db.parent / "glotp.duckdb")])
        assert result.exit_code == 1, result.output
        assert "No warehouse at" in result.output and "glotp.duckdb" in result.output
    with pytest.raises(analyst_snapshot.NoSnapshot, match="no warehouse at"):
        analyst_snapshot.open_snapshot(db.parent / "glotp.duckdb")
    # a warehouse that exists but was never published: its own snapshot is missing, and the
    # shared one of the earlier layout is pointed out, not read
    other = db.parent / "other.duckdb"
    shutil.copy2(db, other)
    before.append(other.relative_to(tmp_path))
    result = runner.invoke(app, ["sql", "SELECT 1", "--db", str(other)])
    assert result.exit_code == 1 and "glotip publish" in result.output and str(shared) in result.output
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == sorted(before)
    # publishing writes the warehouse's own snapshot, and names the leftover without touching it
    published = runner.invoke(app, ["publish", "--db", str(other)])
    assert published.exit_code == 0 and "earlier layout" in published.output
    assert str(shared) in published.output and shared.is_file()
    assert analyst_snapshot.snapshot_path(other) == db.parent / "analyst" / "other" / analyst_snapshot.SNAPSHOT_NAME
    assert runner.invoke(app, ["sql", "SELECT 1", "--db", str(other)]).exit_code == 0


def test_import_published_republishes_the_snapshot(prefect_server, tmp_path):
    """On a new warehouse the import's figures are in the snapshot at once; a second import
    replaces what the snapshot served before it."""
    import csv

    import pandas as pd
    from typer.testing import CliRunner

    from cli import app
    from tests.conftest import TEST_DATA

    raw = pd.read_excel(TEST_DATA / "data_glotip_2025-04-14.xlsx", engine="calamine", header=2, dtype=str)

    def export(name: str, countries: list[str]) -> Path:
        path = tmp_path / name
        rows = raw[raw["Iso3_code"].isin(countries)]
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(rows.columns)
            writer.writerows(rows.fillna("").itertuples(index=False))
        return path

    db = tmp_path / "var" / "published.duckdb"
    runner = CliRunner()

    def countries_in_snapshot() -> list:
        result = runner.invoke(app, ["sql", "SELECT DISTINCT country FROM victims ORDER BY 1",
                                     "--db", str(db), "-f", "json"])
        assert result.exit_code == 0, result.output
        return [row["country"] for row in json.loads(result.output)]

    for name, countries in (("data_glotip_2024-01-15.csv", ["ARG"]),
                            ("data_glotip_2025-04-14.csv", ["ARG", "BGR"])):
        result = runner.invoke(app, ["import-published", str(export(name, countries)), "--db", str(db),
                                     "--reports", str(tmp_path / "reports")])
        assert result.exit_code == 0, result.output
        assert "snapshot republished" in result.output
        assert countries_in_snapshot() == countries


# ------------------------------------------------------------------ what `glotip sql` prints

FORMAT_QUERY = ("SELECT country, count, count / 3 AS third, "
                "CASE WHEN country = 'DEU' THEN NULL ELSE count END AS unless_germany, "
                "sum(count) OVER () AS all_countries, '=1+1' AS formula FROM victims "
                "WHERE year = 2022 AND sex = 'total' AND age = 'total' AND form = 'total' "
                "AND citizenship = 'total' ORDER BY country")


def test_query_output_has_one_missing_text_integers_and_rounded_rates(tmp_path):
    """Known data: 2022 totals DEU 55 (revised), ITA 20, NGA 100, THA 60."""
    from typer.testing import CliRunner

    from cli import app

    db = build_known_warehouse(tmp_path / "wh")
    runner = CliRunner()

    def run(*arguments) -> str:
        result = runner.invoke(app, ["sql", *arguments, "--db", str(db)])
        assert result.exit_code == 0, result.output
        for wrong in ("nan", "NaN", "<NA>", "None", ".0,", ".0 "):
            assert wrong not in result.output, (arguments, wrong, result.output)
        return result.output

    assert json.loads(run(FORMAT_QUERY, "-f", "json")) == [
        {"country": "DEU", "count": 55, "third": 18.33, "unless_germany": None, "all_countries": 235, "formula": "=1+1"},
        {"country": "ITA", "count": 20, "third": 6.667, "unless_germany": 20, "all_countries": 235, "formula": "=1+1"},
        {"country": "NGA", "count": 100, "third": 33.33, "unless_germany": 100, "all_countries": 235, "formula": "=1+1"},
        {"country": "THA", "count": 60, "third": 20, "unless_germany": 60, "all_countries": 235, "formula": "=1+1"},
    ]
    assert run(FORMAT_QUERY, "-f", "csv").splitlines() == [
        "country,count,third,unless_germany,all_countries,formula",
        "DEU,55,18.33,,235,'=1+1", "ITA,20,6.667,20,235,'=1+1",
        "NGA,100,33.33,100,235,'=1+1", "THA,60,20,60,235,'=1+1"]
    table = run(FORMAT_QUERY)
    deu = next(line for line in table.splitlines() if "DEU" in line)
    assert [cell.strip() for cell in deu.strip("│ ").split("│")] == ["DEU", "55", "18.33", "", "235", "=1+1"]
    # a standard query with rates and empty cells, in every format
    for output in ("table", "csv", "json"):
        run("--query", "sdg_16_2_2", "--param", "year=2022", "-f", output)


def test_plain_values():
    import decimal

    import numpy as np
    import pandas as pd

    from reporting.query_output import plain_value

    assert [plain_value(v) for v in (np.nan, pd.NA, None, pd.NaT, float("inf"))] == [None] * 5
    assert [plain_value(v) for v in (12.0, np.int64(3), decimal.Decimal("7.00"), np.float32(2))] == [12, 3, 7, 2]
    assert [plain_value(v) for v in (0.123456, 1.23456, 1234.5678, 0.000123456, -2.5)] == \
        [0.1235, 1.235, 1234.57, 0.0001235, -2.5]
    assert plain_value(np.array(["kidney", None], dtype=object)) == ["kidney", None]
    assert plain_value(True) is True and plain_value("nan") == "nan"
