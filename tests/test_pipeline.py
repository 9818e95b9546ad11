"""The one per-submission sequence (pipeline/submission.py), called directly as `glotip validate`
and the tests do, on real files and a real DuckDB file; and the one configuration."""

from __future__ import annotations

import json

import duckdb
import pytest

from pipeline import submission as sequence
from pipeline.settings import load_settings
from schemas.findings import Finding
from tests.builders import csv_submission, victims, write_submission
from warehouse import register
from warehouse.session import Warehouse

FIRST = ["2021,total,total,total,total,50", "2021,female,total,total,total,30",
         "2021,male,total,total,total,20"]
SECOND = ["2021,total,total,total,total,150", "2021,female,total,total,total,31",
          "2021,male,total,total,total,20", "2021,unknown,total,total,total,4"]


def options(tmp_path, inbox):
    return sequence.InboxOptions(str(inbox), str(tmp_path / "reports"), str(tmp_path / "archive"),
                                 settle_seconds=0)


def report_findings(report_dir) -> list[tuple]:
    data = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    return [(f["rule"], f["severity"], f["location"], f["value"], f["message"]) for f in data["findings"]]


def test_a_report_written_again_keeps_the_history_warnings_the_register_holds(tmp_path):
    """The run that loaded the resubmission stopped before its report: the next run writes it
    from the findings stored with it, so the history warning is still there."""
    first = csv_submission(tmp_path / "inbox" / "THA_2021", FIRST, years=(2021, 2021))
    second = csv_submission(tmp_path / "inbox" / "THA_2021_v2", SECOND, years=(2021, 2021))
    with Warehouse(tmp_path / "w.duckdb") as warehouse:
        sequence.ingest_entry(first, warehouse, options(tmp_path, first.parent), run_id="run-1")
        loaded = sequence.ingest_entry(second, warehouse, options(tmp_path, second.parent), run_id="run-1")
        assert loaded.status == "accepted_with_warnings"
        report_dir = tmp_path / "reports" / loaded.submission_id
        written = report_findings(report_dir)
        assert [rule for rule, *_ in written] == ["differs-from-history"]
        for name in report_dir.iterdir():  # as if the run had died before writing the report
            name.unlink()
        again = sequence.ingest_entry(second, warehouse, options(tmp_path, second.parent), run_id="run-2")
        assert (again.status, again.submission_id, again.rows_loaded) == ("completed", loaded.submission_id, 0)
        assert report_findings(report_dir) == written
        stored = register.stored_findings(warehouse.connection, loaded.submission_id)
    assert [f.to_dict() for f in stored] == [f.to_dict() for f in loaded.findings]


def test_findings_are_data_and_read_back_exactly(tmp_path):
    folder = write_submission(tmp_path / "bad", victims("2021,total,total,total,total,<5",
                                                        "2021,total,total,total,total,3",
                                                        "1850,female,total,total,total,3"))
    assessment = sequence.assess_file(folder)
    for finding in assessment.findings:  # nothing but codes, keys and numbers in the parameters
        assert json.loads(json.dumps(finding.params)) == finding.params
        assert Finding.from_dict(json.loads(json.dumps(finding.to_dict()))) == finding
    year = next(f for f in assessment.findings if f.rule == "year-out-of-range")
    assert (year.params, year.value, year.location.line, year.location.position) == (
        {"min_year": 1990, "max_year": 2100}, "1850", 4, 1)


def test_validate_loads_nothing_and_names_folders_only_from_valid_codes(tmp_path):
    folder = write_submission(tmp_path / "odd", victims("2021,total,total,total,total,3"),
                              {"country": "../../etc"})
    db = tmp_path / "w.duckdb"
    with Warehouse(db) as warehouse:  # an empty warehouse, created for the comparison
        warehouse.connection
    with Warehouse(db, read_only=True) as warehouse:
        outcome = sequence.process(sequence.assess_file(folder), warehouse,
                                   reports_dir=tmp_path / "reports", load=False)
    assert outcome.status == "rejected" and outcome.submission_id.startswith("UNK-")
    assert (tmp_path / "reports" / outcome.submission_id / "report.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd", "reports", "w.duckdb"]
    with duckdb.connect(str(db), read_only=True) as connection:
        assert connection.execute("SELECT count(*) FROM submissions").fetchall() == [(0,)]


def test_every_setting_comes_from_the_file_then_the_environment_then_a_flag(tmp_path):
    config = tmp_path / "glotip.toml"
    config.write_text('[ingest]\ndb = "from-file.duckdb"\nreports = "from-file-reports"\n')
    settings = load_settings(config=config, environ={"GLOTIP_DB": "from-env.duckdb"})
    assert (settings.db, settings.reports) == ("from-env.duckdb", "from-file-reports")
    # a flag wins, even when it names the built-in default
    assert settings.with_flags(db="var/glotip.duckdb", reports=None).db == "var/glotip.duckdb"
    with pytest.raises(ValueError, match="unknown setting"):
        config.write_text('[ingest]\ndatabase = "x"\n')
        load_settings(config=config, environ={})


def test_every_command_reads_the_same_settings(tmp_path, monkeypatch):
    """`sql`, `publish` and `report` follow GLOTIP_DB like `ingest`; a flag still wins."""
    from typer.testing import CliRunner

    from cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GLOTIP_DB", str(tmp_path / "elsewhere" / "w.duckdb"))
    runner = CliRunner()
    # a missing warehouse: `sql` fails (exit 1: it must not read another), the others exit 2
    for command, code in ((["sql", "select 1"], 1), (["publish"], 2), (["report", "--year", "2022"], 2)):
        result = runner.invoke(app, command)
        assert result.exit_code == code and "elsewhere" in result.output, (command, result.output)
    flagged = runner.invoke(app, ["sql", "select 1", "--db", "var/glotip.duckdb"])
    assert flagged.exit_code == 1 and "elsewhere" not in flagged.output
    assert not any(tmp_path.iterdir())  # nothing written by commands that found nothing


def test_a_table_without_a_required_column_is_not_compared_with_history(tmp_path):
    """It has its `missing-column` error; comparing it with the figures held used to fail the
    whole entry with a KeyError, leaving it without a report."""
    first = csv_submission(tmp_path / "inbox" / "THA_2021", FIRST, years=(2021, 2021))
    broken = write_submission(tmp_path / "inbox" / "THA_2021_v2", {"victims": [
        ["year", "sex", "age", "citizenship", "count"], ["2021", "total", "total", "total", "60"]]},
        {"year_from": "2021", "year_to": "2021"})
    with Warehouse(tmp_path / "w.duckdb") as warehouse:
        sequence.ingest_entry(first, warehouse, options(tmp_path, first.parent), run_id="run-1")
        outcome = sequence.ingest_entry(broken, warehouse, options(tmp_path, broken.parent), run_id="run-1")
    assert outcome.status == "rejected"
    assert [f.rule for f in outcome.findings] == ["missing-column"]
    assert (tmp_path / "reports" / outcome.submission_id / "report.html").is_file()
