"""The import of the published dataUNODC export, on the real 2025 export and variants of it.

The whole real file is imported once per module (plain functions, a few seconds) and the
warehouse is compared with the file read independently (pandas). Variants (other preambles,
.csv, shuffled rows, other export dates) are written from real rows of it.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import time
from types import SimpleNamespace

import duckdb
import pandas as pd
import pytest

from schemas import codelists as cl
from schemas.messages import render_location, render_message
from tests.conftest import TEST_DATA
from tests.builders import victims, write_submission
from transforms.dataunodc import KIND_CODE, ExportError, prepare_export, read_export
from transforms.dataunodc import SUM_AGE_GROUPS, SUM_SUB_FORMS, SUM_SUB_FORMS_SUBTOTALS
from warehouse.dataunodc import AlreadyImported, load_export
from warehouse.register import stored_findings
from warehouse.session import Warehouse

EXPORT = TEST_DATA / "data_glotip_2025-04-14.xlsx"
HEADER = ["Iso3_code", "Country", "Region", "Subregion", "Indicator", "Dimension", "Category",
          "Sex", "Age", "Year", "Unit of measurement", "txtVALUE", "Source"]
EXCERPT_COUNTRIES = ["ARG", "BGR", "NGA", "PAK", "ROU", "SLB", "SLV"]
TOTAL_ROW = ("Dimension == 'Total' and Sex == 'Total' and Age == 'Total'")


# ------------------------------------------------------------------------------- fixtures

@pytest.fixture(scope="module")
def raw() -> pd.DataFrame:
    """The export as pandas reads it, independently of our reader (header on line 3)."""
    frame = pd.read_excel(EXPORT, engine="calamine", header=2, dtype=str)
    frame["line"] = frame.index + 4
    return frame


@pytest.fixture(scope="module")
def full(tmp_path_factory):
    """The whole real export imported into a fresh warehouse, timed."""
    db = tmp_path_factory.mktemp("published") / "warehouse.duckdb"
    started = time.perf_counter()
    prepared = prepare_export(read_export(EXPORT))
    with Warehouse(db) as warehouse:
        outcome = load_export(warehouse.connection, prepared)
    return SimpleNamespace(db=db, prepared=prepared, outcome=outcome,
                           seconds=time.perf_counter() - started)


def query(db, sql, params=None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as connection:
        return connection.execute(sql, params or []).fetchall()


def import_file(db, path, **options):
    prepared = prepare_export(read_export(path, options.pop("export_date", None)))
    with Warehouse(db) as warehouse:
        return load_export(warehouse.connection, prepared, **options), prepared


def excerpt(raw: pd.DataFrame, countries=EXCERPT_COUNTRIES, sark: bool = True) -> pd.DataFrame:
    rows = raw[raw["Iso3_code"].isin(countries) | (sark & raw["Iso3_code"].isna())]
    return rows[HEADER].copy()


def write_xlsx(path, rows: pd.DataFrame, preamble=(["UNODC"], ["14/04/2025"])):
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("data_glotip_1")
    for line in preamble:
        sheet.append(list(line))
    sheet.append(HEADER)
    for values in rows[HEADER].itertuples(index=False):
        sheet.append([None if pd.isna(v) else (int(v) if name == "Year" else v)
                      for name, v in zip(HEADER, values)])
    workbook.save(path)
    return path


def write_csv(path, rows: pd.DataFrame, preamble=(), delimiter=","):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerows(preamble)
        writer.writerow(HEADER)
        writer.writerows(rows[HEADER].fillna("").itertuples(index=False))
    return path


def published_value(text: str) -> int | None:
    return None if text == "<5" else int(text.replace(",", ""))


def rules(findings) -> dict[str, int]:
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.rule] = counts.get(finding.rule, 0) + 1
    return counts


# ------------------------------------------------------------------- the whole real export

def test_full_export_rows_read_loaded_and_quarantined(full, raw):
    stats = full.prepared.stats
    assert stats.rows_read == len(raw) == 58_769
    assert stats.quarantined_by_reason == {
        "published-exact-duplicate": 4,        # SLB: `Nationals` and `Solomon Islands` alike
        "published-missing-iso3": 26,          # Sark
        # 35 keys of repeated Other forms rows whose figure exceeds the total (84 rows)
        "published-other-forms-exceed-total": 84,
        "published-questionnaire-code": 128,   # 120 Q6.1_* categories + 8 code-like values
    }
    assert stats.rows_loaded == 58_769 - 158 - 84
    assert stats.countries == 198 and stats.years == [2003, 2022]
    loaded = {t: query(full.db, f"SELECT count(*) FROM fact_{t}")[0][0]
              for t in ("victims", "offenders", "repatriated", "offences")}
    assert loaded == stats.fact_rows == full.outcome.rows_loaded
    assert sum(loaded.values()) == stats.rows_loaded - stats.repeated_keys.summed_rows \
        + stats.repeated_keys.summed_keys
    assert query(full.db, "SELECT count(*), count(DISTINCT status) FROM submissions "
                          "WHERE source = 'published' AND published_as_of = DATE '2025-04-14'")[0][0] == 198
    assert full.seconds < 60, f"the import took {full.seconds:.1f} s"


def test_totals_equal_the_published_total_total_total_figures(full, raw):
    published = raw.query(TOTAL_ROW).dropna(subset=["Iso3_code"])
    warehouse = pd.DataFrame(query(full.db, """
        SELECT country, year, 'Detected trafficking victims', count, suppressed, count_min, count_max
        FROM victims WHERE sex = 'total' AND age = 'total' AND form = 'total' AND citizenship = 'total'
        UNION ALL
        SELECT country, year, CASE stage WHEN 'suspected' THEN 'Persons brought into formal contact'
               WHEN 'prosecuted' THEN 'Persons prosecuted' ELSE 'Persons convicted' END,
               count, suppressed, count_min, count_max
        FROM offenders WHERE sex = 'total' AND age = 'total' AND form = 'total' AND citizenship = 'total'
        UNION ALL
        SELECT country, year, 'Offences of trafficking in persons', count, suppressed, count_min, count_max
        FROM offences WHERE form = 'total'"""),
        columns=["Iso3_code", "Year", "Indicator", "count", "suppressed", "low", "high"])
    warehouse["Year"] = warehouse["Year"].astype(str)
    both = published.merge(warehouse, on=["Iso3_code", "Year", "Indicator"], how="outer",
                           indicator=True, validate="one_to_one")
    assert (both["_merge"] == "both").all() and len(both) == 7_203
    exact = both["txtVALUE"] != "<5"
    assert (both.loc[exact, "txtVALUE"].map(published_value) == both.loc[exact, "count"]).all()
    assert not both.loc[exact, "suppressed"].any()
    small = both[~exact]
    assert small["count"].isna().all() and small["suppressed"].all()
    assert (small["low"] == 1).all() and (small["high"] == 4).all()

    # and, spelled out, a few countries and years
    totals = {(c, y, i): v for c, y, i, v in
              both[["Iso3_code", "Year", "Indicator", "count"]].itertuples(index=False)}
    assert totals[("ARG", "2019", "Detected trafficking victims")] == 1_590
    assert totals[("BGR", "2017", "Detected trafficking victims")] == 505
    assert totals[("USA", "2019", "Detected trafficking victims")] == 8_375
    assert totals[("NGA", "2021", "Detected trafficking victims")] == 1_470
    assert totals[("THA", "2020", "Persons convicted")] == 224
    assert totals[("GBR", "2018", "Persons prosecuted")] == 162
    assert totals[("PHL", "2021", "Offences of trafficking in persons")] == 307


def test_suppressed_values_are_kept_as_bounds_not_numbers(full, raw):
    suppressed = raw[raw["txtVALUE"] == "<5"]
    assert len(suppressed) == 29_558
    [(rows, null_counts, lows, highs)] = query(full.db, """
        SELECT count(*), count(*) FILTER (WHERE count IS NULL), min(count_min), max(count_max)
        FROM victims WHERE suppressed AND NOT (form = 'other' OR sex <> 'total' AND age = 'total')""")
    assert rows == null_counts and lows == 1 and highs == 4
    # a total over suppressed cells is a range, never a number we made up
    [(count, low, high)] = query(full.db, """
        SELECT sum(count), sum(count_min), sum(count_max) FROM victims
        WHERE country = 'SLB' AND year = 2017 AND sex = 'total' AND age = 'total'
          AND form = 'total' AND citizenship <> 'total'""")
    assert count is None and (low, high) == (2, 8)


def test_repeated_keys_are_summed_or_kept_once_as_the_data_shows(full):
    repeated = full.prepared.stats.repeated_keys
    # of 337 repeated Other forms keys: 243 all parts, 59 with subtotal rows left out, 35 larger
    # than their total (not loaded)
    assert repeated.by_reason == {SUM_AGE_GROUPS: 155, SUM_SUB_FORMS: 243,
                                  SUM_SUB_FORMS_SUBTOTALS: 59}
    assert repeated.other_forms_exceeding_keys == 35
    assert repeated.conflicting_keys == 0 and repeated.exact_duplicate_rows == 4
    # ARG 2019, Other forms of exploitation: 96 + 16 + <5 + <5
    assert query(full.db, """
        SELECT count, suppressed, count_min, count_max FROM victims
        WHERE country = 'ARG' AND year = 2019 AND form = 'other' AND sex = 'total' AND age = 'total'
        """) == [(None, True, 114, 120)]
    # BGR 2017 female, age total: published twice (407 and 36: the adult and child rows)
    assert query(full.db, """
        SELECT count FROM victims WHERE country = 'BGR' AND year = 2017 AND sex = 'female'
          AND age = 'total' AND form = 'total' AND citizenship = 'total'""") == [(443,)]
    duplicates = [f for f in full.prepared.findings if f.rule == "published-exact-duplicate"]
    assert [f.line for f in duplicates] == [38358, 38403, 38447, 38493]
    assert "`Nationals` / `Solomon Islands`" in render_message(duplicates[0])
    assert query(full.db, "SELECT count(*) FROM victims WHERE country = 'SLB' AND year = 2017 "
                          "AND citizenship = 'SLB'") == [(1,)]
    summed = [f for f in full.prepared.findings if f.rule == "published-duplicate-summed"]
    assert len(summed) == 457 and all(f.severity == "warning" for f in summed)
    # COL 2018 convicted: 28, 17 and 11 (28 = 17 + 11) is 28, not 56
    assert query(full.db, """
        SELECT count FROM offenders WHERE country = 'COL' AND year = 2018 AND stage = 'convicted'
          AND form = 'other' AND sex = 'total' AND age = 'total'""") == [(28,)]


def test_rows_that_cannot_be_right_are_quarantined_with_the_reason(full, raw):
    findings = [f for f in full.prepared.findings if f.severity == "error"]
    codes = [f for f in findings if f.rule == "published-questionnaire-code"]
    assert {f.column for f in codes} == {"Category", "txtVALUE"}
    first = next(f for f in codes if f.value == "Q6.1_10s_2019")
    assert render_location(first.location) == "data_glotip_1!G34496" and first.line == 34496
    assert raw.loc[raw["line"] == 34496, "Category"].item() == "Q6.1_10s_2019"
    assert {f.value for f in codes if f.column == "txtVALUE"} >= {"6,112,019"}
    sark = [f for f in findings if f.rule == "published-missing-iso3"]
    assert len(sark) == 26 and {f.value for f in sark} == {"Sark"}
    assert query(full.db, "SELECT count(*) FROM fact_offenders WHERE category_text LIKE 'Q6%' "
                          "OR count > 1000000") == [(0,)]
    # the findings are stored with the pseudo-submission of their country
    assert query(full.db, """SELECT count(*) FROM validation_findings
        WHERE submission_id = 'PUB-20250414-PAK' AND rule = 'published-questionnaire-code'""") == [(63,)]
    assert query(full.db, """SELECT count(*) FROM validation_findings
        WHERE submission_id = 'PUB-20250414' AND rule = 'published-missing-iso3'""") == [(26,)]
    # read back exactly as found (warehouse.register)
    with Warehouse(full.db, read_only=True) as warehouse:
        stored = stored_findings(warehouse.connection, "PUB-20250414-PAK")
    found = [item.finding for item in full.prepared.country_findings if item.country == "PAK"]
    assert stored == found


def test_citizenship_texts_are_resolved_or_listed_with_their_rows(full, raw):
    citizenship = full.prepared.stats.citizenship
    assert citizenship.rows == 9_965  # 10,093 published, less the questionnaire codes
    assert citizenship.share_resolved_to_country >= 0.96
    unresolved = {}
    for item in citizenship.unresolved:
        unresolved[item.text] = unresolved.get(item.text, 0) + item.rows
    assert unresolved["Kosovar"] == 20 and unresolved["(empty)"] == 88
    assert sum(unresolved.values()) == citizenship.rows_unresolved
    listed = [f for f in full.prepared.findings if f.rule == "published-unresolved-text"
              and f.column == "citizenship"]
    assert sum(f.params["rows"] for f in listed) == citizenship.rows_unresolved
    rows = dict(((c, t), n) for c, t, n in query(full.db, """
        SELECT citizenship, category_text, count FROM victims
        WHERE country = 'NGA' AND year = 2019 AND citizenship <> 'total'"""))
    assert rows[("NGA", "Nigerians")] == 867 and rows[("BEN", "Beninoise")] == 38
    # Nationals is the detecting country; an unresolved text keeps its words
    assert query(full.db, """SELECT DISTINCT citizenship FROM victims
        WHERE category_text = 'Nationals' AND country = 'CHE'""") == [("CHE",)]
    assert query(full.db, """SELECT citizenship, count FROM victims
        WHERE country = 'ARG' AND year = 2017 AND category_text = 'OTROS'""") == [("unresolved", 45)]
    assert set(KIND_CODE.values()) <= set(cl.PUBLISHED_COUNTRY_SPECIAL.codes)


def test_repatriation_rows_keep_the_other_country_without_a_direction(full):
    rows = query(full.db, """SELECT country_of_repatriation, country_of_detection, category_text
        FROM repatriated WHERE country = 'ROU' AND year = 2017 ORDER BY 1""")
    assert ("AUT", None, "Austria") in rows and ("abroad", None, "Abroad") in rows
    assert full.prepared.stats.repatriation.rows == 1_918


def test_parts_exceeding_their_total_are_reported(full):
    parts = full.prepared.stats.parts_exceed_total
    assert parts["victims: sex"].cases > 0
    findings = [f for f in full.prepared.findings if f.rule == "published-parts-exceed-total"]
    assert len(findings) == sum(item.cases for item in parts.values())
    ago = next(f for f in findings if f.line == 84)  # AGO 2018 children: F <5 + M 5 > total 5
    assert "Female and Male" in render_message(ago) and "at least 6" in render_message(ago)


def test_importing_the_same_file_again_changes_nothing(full):
    tables = ["submissions", "submission_years", "fact_victims", "fact_offenders",
              "fact_repatriated", "fact_offences", "validation_findings", "published_imports"]
    before = [query(full.db, f"SELECT count(*) FROM {t}")[0][0] for t in tables]
    with Warehouse(full.db) as warehouse:
        outcome = load_export(warehouse.connection, full.prepared)
    assert outcome.status == "duplicate" and outcome.import_id == "PUB-20250414"
    assert [query(full.db, f"SELECT count(*) FROM {t}")[0][0] for t in tables] == before


# ------------------------------------------------------------------ variants of the export

def test_csv_or_xlsx_any_preamble_any_row_order_give_the_same_warehouse(tmp_path, raw):
    rows = excerpt(raw)
    variants = {
        "xlsx": write_xlsx(tmp_path / "glotip.xlsx", rows),
        "csv, no preamble, shuffled": write_csv(tmp_path / "data_glotip_2025-04-14.csv",
                                                rows.sample(frac=1, random_state=7)),
        "csv ; with a longer preamble": write_csv(
            tmp_path / "export.csv", rows.iloc[::-1], delimiter=";",
            preamble=[["UNODC"], ["Contact: dataunodc@un.org"], [], ["Exported 14/04/2025"], []]),
    }
    prepared = {}
    for name, path in variants.items():
        export = read_export(path)
        assert export.export_date == dt.date(2025, 4, 14), name
        prepared[name] = prepare_export(export)
    assert prepared["xlsx"].stats.rows_read == len(rows)
    reference = prepared["xlsx"]
    for name, other in prepared.items():
        assert rules(other.findings) == rules(reference.findings), name
        for table, frame in reference.tables.items():
            def canonical(f):
                return f.drop(columns="source_line").sort_values(list(f.columns.drop("source_line"))) \
                    .reset_index(drop=True).astype(str)
            pd.testing.assert_frame_equal(canonical(other.tables[table]), canonical(frame), obj=name)
    assert variants["xlsx"] and read_export(variants["csv ; with a longer preamble"]).header_line == 6


def test_a_file_without_the_export_header_is_refused(tmp_path):
    path = tmp_path / "victims.csv"
    path.write_text("year,sex,count\n2020,total,5\n", encoding="utf-8")
    with pytest.raises(ExportError) as problem:
        read_export(path)
    assert problem.value.finding.rule == "published-missing-header"
    assert "txtVALUE" in render_message(problem.value.finding)


def test_newer_export_supersedes_older_which_stays_queryable_as_of_its_date(tmp_path, raw):
    rows = excerpt(raw, ["ARG", "BGR"], sark=False)
    older = rows.copy()
    total = (older["Iso3_code"] == "ARG") & (older["Year"] == "2019") & older.eval(TOTAL_ROW) \
        & (older["Indicator"] == "Detected trafficking victims")
    older.loc[total, "txtVALUE"] = "1,500"
    older_file = write_csv(tmp_path / "data_glotip_2024-01-15.csv", older)
    newer_file = write_csv(tmp_path / "data_glotip_2025-04-14.csv", rows)
    current = ("SELECT count, submission_id FROM victims WHERE country = 'ARG' AND year = 2019 "
               "AND sex = 'total' AND age = 'total' AND form = 'total' AND citizenship = 'total'")
    as_of = ("SELECT count FROM published_victims_as_of(DATE '{}') WHERE country = 'ARG' AND "
             "year = 2019 AND sex = 'total' AND age = 'total' AND form = 'total' AND citizenship = 'total'")
    for order in ([older_file, newer_file], [newer_file, older_file]):
        db = tmp_path / f"{order[0].stem}.duckdb"
        for path in order:
            assert import_file(db, path)[0].status == "loaded"
        assert query(db, current) == [(1_590, "PUB-20250414-ARG")]
        assert query(db, as_of.format("2024-06-30")) == [(1_500,)]
        assert query(db, as_of.format("2025-04-14")) == [(1_590,)]
        assert query(db, as_of.format("2023-12-31")) == []
        assert query(db, "SELECT superseded_by FROM submissions WHERE submission_id = "
                         "'PUB-20240115-ARG'") == [("PUB-20250414-ARG",)]  # in either order
        assert query(db, "SELECT count(*) FROM fact_victims WHERE submission_id = "
                         "'PUB-20240115-ARG'")[0][0] > 0


def test_a_later_member_state_submission_wins_for_its_years(tmp_path, raw):
    db = tmp_path / "warehouse.duckdb"
    import_file(db, write_csv(tmp_path / "data_glotip_2025-04-14.csv", excerpt(raw, ["ARG"], False)))
    from pipeline import submission as sequence

    folder = write_submission(tmp_path / "arg", victims("2019,total,total,total,total,1600"),
                              {"country": "ARG", "year_from": "2019", "year_to": "2019"})
    with Warehouse(db) as warehouse:
        outcome = sequence.process(sequence.assess_file(folder), warehouse,
                                   reports_dir=tmp_path / "reports")
        superseded = warehouse.connection.execute(
            "SELECT supersedes FROM submissions WHERE source = 'member_state'").fetchall()
    assert outcome.status.startswith("accepted") and superseded == [(["PUB-20250414-ARG"],)]
    totals = dict((y, (n, s)) for y, n, s in query(db, """
        SELECT year, count, source FROM victims WHERE country = 'ARG' AND sex = 'total'
          AND age = 'total' AND form = 'total' AND citizenship = 'total' AND year IN (2018, 2019)"""))
    assert totals == {2018: (1_531, "published"), 2019: (1_600, "member_state")}
    # member-state rows read as exact counts in the new columns
    assert query(db, "SELECT suppressed, count_min, count_max FROM victims WHERE source = "
                     "'member_state'") == [(False, 1_600, 1_600)]


def test_another_file_of_an_export_date_already_imported_needs_force(tmp_path, raw):
    db = tmp_path / "warehouse.duckdb"
    rows = excerpt(raw, ["ARG", "PAK"])
    xlsx = write_xlsx(tmp_path / "glotip.xlsx", rows)
    csv_file = write_csv(tmp_path / "data_glotip_2025-04-14.csv", rows)
    import_file(db, xlsx)
    before = query(db, "SELECT count(*) FROM fact_victims")
    with pytest.raises(AlreadyImported):
        import_file(db, csv_file)
    outcome, _ = import_file(db, csv_file, force=True)
    assert outcome.status == "loaded" and outcome.replaced == ["PUB-20250414"]
    assert outcome.import_id == "PUB-20250414v2"  # a new version: the first stays in the history
    assert query(db, "SELECT count(*) FROM victims") == before
    assert query(db, "SELECT DISTINCT submission_id FROM victims ORDER BY 1") == [
        ("PUB-20250414v2-ARG",), ("PUB-20250414v2-PAK",)]
    assert query(db, "SELECT file_name FROM published_imports ORDER BY load_seq") == [
        ("glotip.xlsx",), ("data_glotip_2025-04-14.csv",)]
    # findings of ARG, of PAK, and of Sark (no country: under the import's own id)
    assert query(db, "SELECT DISTINCT submission_id FROM validation_findings WHERE "
                     "starts_with(submission_id, 'PUB-20250414v2') ORDER BY 1") == [
        ("PUB-20250414v2",), ("PUB-20250414v2-ARG",), ("PUB-20250414v2-PAK",)]


def test_quirks_of_other_exports_are_caught(tmp_path):
    common = ["Region", "Subregion"]
    lines = [
        # Iso3_code, Country, Indicator, Dimension, Category, Sex, Age, Year, Unit, value
        ["FRA", "France", "Detected trafficking victims", "Total", "Total", "Total", "Total", "2020", "Counts", "1,757"],
        ["FRA", "France", "Detected trafficking victims", "Total", "Total", "Female", "Total", "2020", "Counts", "12"],
        ["FRA", "France", "Detected trafficking victims", "Total", "Total", "Female", "Total", "2020", "Counts", "12"],
        ["FRA", "France", "Detected trafficking victims", "Total", "Total", "Male", "Total", "2020", "Counts", "7"],
        ["FRA", "France", "Detected trafficking victims", "Total", "Total", "Male", "Total", "2020", "Counts", "9"],
        ["XKX", "Kosovo", "Detected trafficking victims", "Total", "Total", "Total", "Total", "2020", "Counts", "5"],
        ["FRA", "Germany", "Persons convicted", "Total", "Total", "Total", "Total", "2020", "Counts", "5"],
        ["FRA", "France", "Persons arrested", "Total", "Total", "Total", "Total", "2020", "Counts", "5"],
        ["FRA", "France", "Persons convicted", "Total", "Total", "Total", "Total", "2021", "Counts", "n/a"],
        ["FRA", "France", "Persons convicted", "Total", "Total", "Total", "Total", "20x1", "Counts", "4"],
        ["FRA", "France", "Persons convicted", "Total", "Total", "Total", "Total", "2019", "Rate per 100,000", "0.3"],
        ["FRA", "France", "Offences of trafficking in persons", "by citizenship", "Nigeria", "Total", "Total", "2020", "Counts", "3"],
        ["FRA", "France", "Detected trafficking victims", "by citizenship", "NIGERIANS", "Total", "Total", "2020", "Counts", "<5"],
        ["FRA", "France", "Detected trafficking victims", "by citizenship", "CÃ´te d'Ivoire", "Total", "Total", "2020", "Counts", "6"],
        ["FRA", "France", "Detected trafficking victims", "by citizenship", "Atlantis", "Total", "Total", "2020", "Counts", "<5"],
    ]
    path = tmp_path / "export.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for iso3, country, indicator, dimension, category, sex, age, year, unit, value in lines:
            writer.writerow([iso3, country, *common, indicator, dimension, category, sex, age, year,
                             unit, value, "GLOTIP"])
    prepared = prepare_export(read_export(path, dt.date(2025, 1, 1)))
    found = [(f.rule, f.line) for f in prepared.findings if f.rule != "published-parts-exceed-total"]
    assert found == [
        ("published-unknown-iso3", 7), ("published-country-mismatch", 8),
        ("published-unknown-label", 9), ("published-unknown-label", 13),
        ("published-unknown-label", 12), ("published-invalid-value", 10),
        ("published-invalid-value", 11),
        ("published-unresolved-text", 16),
        ("published-exact-duplicate", 4),
        ("published-conflicting-values", 5), ("published-conflicting-values", 6),
    ]
    mismatch = next(f for f in prepared.findings if f.rule == "published-country-mismatch")
    assert render_message(mismatch).startswith("`Iso3_code` `FRA` is France, but `Country` names Germany (DEU)")
    victims_rows = prepared.tables["victims"].set_index(["sex", "citizenship"])
    assert victims_rows.loc[("total", "total"), "count"] == 1_757
    assert victims_rows.loc[("female", "total"), "count"] == 12
    assert ("male", "total") not in victims_rows.index  # 7 and 9: conflicting, none loaded
    assert victims_rows.loc[("total", "NGA"), "suppressed"]
    assert victims_rows.loc[("total", "CIV"), "category_text"] == "CÃ´te d'Ivoire"
    assert victims_rows.loc[("total", "unresolved"), "category_text"] == "Atlantis"


def test_a_clean_export_loads_as_accepted_pseudo_submissions(tmp_path):
    path = tmp_path / "data_glotip_2025-01-31.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for sex, value in (("Total", "12"), ("Female", "9"), ("Male", "<5")):
            writer.writerow(["THA", "Thailand", "Asia", "South-eastern Asia",
                             "Detected trafficking victims", "Total", "Total", sex, "Total",
                             "2022", "Counts", value, "GLOTIP"])
    db = tmp_path / "warehouse.duckdb"
    outcome, prepared = import_file(db, path)
    assert outcome.status == "loaded" and prepared.findings == []
    assert query(db, "SELECT submission_id, status, errors, warnings, published_as_of, year_from "
                     "FROM submissions") == [("PUB-20250131-THA", "accepted", 0, 0,
                                              dt.date(2025, 1, 31), 2022)]
    assert query(db, "SELECT sex, count, count_min, count_max FROM victims ORDER BY sex") == [
        ("female", 9, 9, 9), ("male", None, 1, 4), ("total", 12, 12, 12)]


# ------------------------------------------------------------------------------ the flow

def test_the_flow_imports_the_real_export_and_reports_it(prefect_server, tmp_path):
    from flows.import_published import import_published

    db, reports = tmp_path / "warehouse.duckdb", tmp_path / "reports"
    result = import_published(str(EXPORT), str(db), str(reports))
    assert result["status"] == "loaded" and result["rows_read"] == 58_769
    assert result["rows_quarantined"] == 158 + 84 and result["citizenship"]["share_resolved_to_country"] >= 0.96
    report = json.loads((reports / "PUB-20250414" / "report.json").read_text(encoding="utf-8"))
    assert (reports / "PUB-20250414" / "report.html").exists()
    assert report["import"]["rows_loaded"] == result["rows_loaded"]
    assert report["import"]["quarantined_by_reason"] == result["quarantined_by_reason"]
    assert len(report["findings"]) == query(db, "SELECT count(*) FROM validation_findings")[0][0]
    assert {r["rule"] for r in report["stats"]["by_rule"]} <= {
        r for r in __import__("schemas.catalogue", fromlist=["CATALOGUE"]).CATALOGUE}
    again = import_published(str(EXPORT), str(db), str(reports))
    assert again["status"] == "duplicate" and again["import_id"] == "PUB-20250414"
    assert query(db, "SELECT count(*) FROM published_imports") == [(1,)]
