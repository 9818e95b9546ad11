"""The CLI commands of the reports: `glotip validate --lang/--db`, `template --lang`, `docs`."""

from __future__ import annotations

from typer.testing import CliRunner

from cli import app
from tests.builders import csv_submission, faulty_workbook

runner = CliRunner()


def test_validate_writes_every_format_in_the_asked_language(tmp_path):
    path = faulty_workbook(tmp_path / "FRA.xlsx", language="fr")
    result = runner.invoke(app, ["validate", str(path), "--reports", str(tmp_path / "r"), "--lang", "ar"])
    assert result.exit_code == 1, result.output  # rejected
    [folder] = list((tmp_path / "r").iterdir())
    assert {p.name for p in folder.iterdir()} == {"report.json", "report.html", "findings.csv",
                                                   "annotated.xlsx", "message.eml"}
    assert '<html lang="ar" dir="rtl">' in (folder / "report.html").read_text(encoding="utf-8")


def test_validate_with_db_compares_with_the_warehouse(tmp_path):
    from tests.test_history import FIRST, load

    db = tmp_path / "w.duckdb"
    load(db, csv_submission(tmp_path / "first", FIRST, years=(2020, 2021)))
    second = csv_submission(tmp_path / "second", ["2021,total,total,total,total,150"], years=(2021, 2021))
    result = runner.invoke(app, ["validate", str(second), "--reports", str(tmp_path / "r"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert "differs-from-history" in result.output


def test_send_without_a_server_sends_nothing(tmp_path):
    path = faulty_workbook(tmp_path / "FRA.xlsx")
    result = runner.invoke(app, ["validate", str(path), "--reports", str(tmp_path / "r"), "--send"],
                           env={"GLOTIP_SMTP_HOST": ""})
    assert result.exit_code == 2 and "nothing was sent" in result.output


def test_template_lang_and_docs(tmp_path):
    assert runner.invoke(app, ["template", str(tmp_path / "t.xlsx"), "--lang", "es"]).exit_code == 0
    assert runner.invoke(app, ["template", str(tmp_path / "t.xlsx"), "--lang", "de"]).exit_code == 2
    assert runner.invoke(app, ["docs", "--out", str(tmp_path / "rules.md")]).exit_code == 0
    assert (tmp_path / "rules.md").read_text(encoding="utf-8").startswith("# Validation rules")
