"""A rule failing on many cells: the first `findings_per_rule` are listed, the rest counted.

Every cell is still checked and counted (status, the register's counts, the report's figures);
only the listing stops, so that a file with a million bad cells gets its report in seconds.
"""

from __future__ import annotations

import json
from dataclasses import replace

from pipeline import submission as sequence
from schemas.countries import country_codes
from schemas.findings import capped, counts_by_rule, make_finding, severity_counts
from schemas.limits import Limits
from schemas.messages import render_message
from tests.builders import csv_submission
from warehouse import register
from warehouse.session import Warehouse

BAD_YEARS = 30


def _findings():
    bad = [make_finding("year-out-of-range", table="victims", line=line, column="year",
                        value=2150, min_year=1990, max_year=2100) for line in range(2, 12)]
    codes = [make_finding("unknown-code", table="victims", line=line, column="sex", value="x",
                          allowed=["female", "male"]) for line in range(2, 5)]
    whole = make_finding("missing-table", table="offenders")
    return [*bad[:4], whole, *codes, *bad[4:]]


def test_the_first_of_each_rule_on_each_column_are_kept_in_order_and_the_rest_counted():
    findings = _findings()
    kept = capped(findings, 3)
    assert [(f.rule, f.line) for f in kept] == [
        ("year-out-of-range", 2), ("year-out-of-range", 3), ("year-out-of-range", 4),
        ("missing-table", None), ("unknown-code", 2), ("unknown-code", 3), ("unknown-code", 4),
        ("more-errors", None)]
    more = kept[-1]
    assert (more.severity, more.table, more.column, more.params) == (
        "error", "victims", "year", {"of_rule": "year-out-of-range", "unlisted": 7, "listed": 3})
    # counted as before the cap: the status, the register and the report's figures are the same
    assert severity_counts(kept) == severity_counts(findings) == (14, 0)
    assert counts_by_rule(kept) == counts_by_rule(findings)
    assert [f.to_dict() for f in capped(kept, 3)] == [f.to_dict() for f in kept]  # stable
    assert capped(findings, 10) == findings  # nothing over the cap: nothing changes


def test_a_warning_rule_over_the_cap_is_counted_as_warnings():
    warnings = [make_finding("differs-from-history", table="victims", line=line, column="count",
                             value=500, previous=5, change=99.0) for line in range(2, 8)]
    kept = capped(warnings, 2)
    assert [f.rule for f in kept] == ["differs-from-history"] * 2 + ["more-warnings"]
    assert severity_counts(kept) == (0, 6)


def test_a_file_with_more_bad_cells_than_listed_is_rejected_with_every_cell_counted(tmp_path):
    countries = sorted(country_codes())[:BAD_YEARS]
    rows = [f"2150,female,adult,sexual_exploitation,{code},3" for code in countries]
    folder = csv_submission(tmp_path / "THA_2021", rows, years=(2021, 2022))
    limits = Limits(findings_per_rule=5)
    with Warehouse(tmp_path / "w.duckdb") as warehouse:
        assessment = sequence.assess_file(folder, limits=limits)
        outcome = sequence.process(assessment, warehouse, reports_dir=tmp_path / "reports", run_id="r")
        stored = register.stored_findings(warehouse.connection, outcome.submission_id)
        errors = warehouse.connection.execute(
            "SELECT errors FROM submissions WHERE submission_id = ?", [outcome.submission_id]).fetchone()[0]
    years = [f for f in outcome.findings if f.rule == "year-out-of-range"]
    more = [f for f in outcome.findings if f.rule == "more-errors"]
    assert [f.line for f in years] == [2, 3, 4, 5, 6]
    assert [(f.params["unlisted"], f.params["listed"], f.source) for f in more] == [
        (BAD_YEARS - 5, 5, "victims.csv")]
    assert outcome.status == "rejected" and outcome.errors == errors == BAD_YEARS
    assert [f.to_dict() for f in stored] == [f.to_dict() for f in outcome.findings]
    report = json.loads((tmp_path / "reports" / outcome.submission_id / "report.json").read_text())
    assert report["stats"]["errors"] == BAD_YEARS
    assert {"rule": "year-out-of-range", "count": BAD_YEARS} in [
        {"rule": r["rule"], "count": r["count"]} for r in report["stats"]["by_rule"]]
    assert render_message(more[0], marked=False) == (
        "25 more cells of the column “Year” in “victims.csv” fail the same rule (Year out of "
        "range); the first 5 are listed.")
    arabic = render_message(more[0], "ar", marked=False)
    assert "25" in arabic and "5" in arabic and "{" not in arabic


def test_the_default_limit_lists_a_thousand():
    assert Limits().findings_per_rule == 1_000
    finding = make_finding("year-out-of-range", table="victims", line=2, column="year", value=1)
    many = [replace(finding, location=replace(finding.location, line=line)) for line in range(2, 1_102)]
    kept = capped(many, Limits().findings_per_rule)
    assert len(kept) == 1_001 and kept[-1].params["unlisted"] == 100


def test_a_cell_counted_beyond_the_listing_gets_no_second_finding(tmp_path):
    """`count` is required: a text in it is not-an-integer and nothing else, listed or counted
    (its cell is empty once typed, and `missing-value` would otherwise tell it again)."""
    countries = sorted(country_codes())[:12]
    rows = [f"2021,female,adult,sexual_exploitation,{code},many" for code in countries]
    folder = csv_submission(tmp_path / "THA_2021", rows, years=(2021, 2022))
    assessment = sequence.assess_file(folder, limits=Limits(findings_per_rule=3))
    assert [(f.rule, f.line, f.params.get("unlisted")) for f in assessment.findings] == [
        ("not-an-integer", 2, None), ("not-an-integer", 3, None), ("not-an-integer", 4, None),
        ("more-errors", None, 9)]
    assert severity_counts(assessment.findings) == (12, 0)


def test_rows_outside_the_period_beyond_the_listing_are_counted_once_each(tmp_path):
    """Years outside the period, some also out of range: each cell counted once, by its first
    rule (out of range), whether listed or not."""
    countries = sorted(country_codes())[:10]
    rows = ([f"2019,female,adult,sexual_exploitation,{code},3" for code in countries]
            + [f"1850,male,adult,sexual_exploitation,{code},3" for code in countries[:4]])
    folder = csv_submission(tmp_path / "THA_2021", rows, years=(2021, 2022))
    capped_assessment = sequence.assess_file(folder, limits=Limits(findings_per_rule=2))
    full = sequence.assess_file(folder)
    assert counts_by_rule(capped_assessment.findings) == counts_by_rule(full.findings) == [
        ("year-outside-period", "error", 10), ("year-out-of-range", "error", 4)]
    assert severity_counts(capped_assessment.findings) == severity_counts(full.findings) == (14, 0)


def test_repeated_rows_beyond_the_listing_are_counted_once_each(tmp_path):
    countries = sorted(country_codes())[:3]
    rows = [f"2021,female,adult,sexual_exploitation,{code},3" for code in countries] * 5
    rows += ["1850,female,adult,sexual_exploitation,THA,3"] * 3  # out of range and repeated
    folder = csv_submission(tmp_path / "THA_2021", rows, years=(2021, 2022))
    capped_assessment = sequence.assess_file(folder, limits=Limits(findings_per_rule=2))
    full = sequence.assess_file(folder)
    assert counts_by_rule(capped_assessment.findings) == counts_by_rule(full.findings) == [
        ("duplicate-key", "error", 12), ("year-out-of-range", "error", 3)]
    assert [f.rule for f in capped_assessment.findings].count("duplicate-key") == 2
