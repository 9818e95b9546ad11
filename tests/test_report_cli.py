"""The CLI commands of the reports: `glotip validate --lang/--db`, `template --lang`, `docs`,
`report --year`."""

from __future__ import annotations

import json

import duckdb
import pytest
import typer
from typer.testing import CliRunner

from cli import app
from schemas import i18n, messages
from schemas.findings import Finding
from tests.analyst_data import build_known_warehouse
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
    # nothing loaded, nothing in the portal: the e-mail attaches the reports and has no link,
    # even with attach_report off
    from reporting.mail import read_message

    message = read_message(folder / "message.eml")
    assert {part.get_filename() for part in message.iter_attachments()} == {
        "report.html", "findings.csv", "annotated.xlsx"}
    assert "/submissions/" not in message.get_body(preferencelist=("plain",)).get_content()


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


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_validate_speaks_the_asked_language_in_the_terminal(tmp_path, language):
    """The findings table and the closing line are in the language: headings, severity, rule
    title and message as the report renders them, no Markdown code marks; the rule code stays
    available, dimmed, after its title."""
    path = faulty_workbook(tmp_path / "FRA.xlsx", language="fr")
    result = runner.invoke(app, ["validate", str(path), "--reports", str(tmp_path / "r"), "--lang", language],
                           terminal_width=400)
    assert result.exit_code == 1, result.output
    output = result.output
    for key in ("all_findings", "where", "severity", "rule", "what_is_wrong", "status.rejected"):
        assert i18n.ui(key, language) in output, key
    report = json.loads(next((tmp_path / "r").glob("*/report.json")).read_text(encoding="utf-8"))
    assert i18n.ui("validate_result", language, status=i18n.ui("status.rejected", language),
                   errors=report["stats"]["errors"], warnings=report["stats"]["warnings"],
                   report="") in output
    first = Finding.from_dict(report["findings"][0])
    for text in (messages.rule_title(first.rule, language), messages.severity(first.severity, language),
                 messages.render_message(first, language).replace("`", "")):
        assert text in output
    assert f"({first.rule})" in output
    assert "`" not in output
    if language != "en":
        assert "errors," not in output and "Findings" not in output


def test_unknown_lang_is_refused_with_the_six_codes_by_every_command(tmp_path):
    """Every command that takes --lang shares one definition; `--lang french` is a usage error
    (exit code 2) naming the six codes. A new command with --lang must be added here."""
    submission = faulty_workbook(tmp_path / "FRA.xlsx")
    arguments = {"validate": [str(submission), "--reports", str(tmp_path / "r")],
                 "template": [str(tmp_path / "t.xlsx")],
                 "report": ["--year", "2022", "--out", str(tmp_path / "p"),
                            "--db", str(build_known_warehouse(tmp_path / "db"))]}
    group = typer.main.get_command(app)
    with_lang = {name for name, command in group.commands.items()
                 if any("--lang" in parameter.opts for parameter in command.params)}
    assert with_lang == set(arguments)
    for name, given in arguments.items():
        refused = runner.invoke(app, [name, *given, "--lang", "french"], terminal_width=200)
        assert refused.exit_code == 2, refused.output
        assert "french" in refused.output
        assert all(f"'{code}'" in refused.output for code in i18n.LANGUAGES), refused.output
    assert not (tmp_path / "r").exists() and not (tmp_path / "t.xlsx").exists()  # nothing was done
    assert not (tmp_path / "p").exists()
    for name, given in arguments.items():
        accepted = runner.invoke(app, [name, *given, "--lang", "FR"])
        assert accepted.exit_code in (0, 1), accepted.output  # written; the faulty file is rejected


def test_report_on_a_year_without_figures_says_so_and_writes_nothing(tmp_path):
    """`glotip report --year` on a year the warehouse holds no figures for: one line naming the
    years it holds, exit 1, no traceback and no folder (it used to leave half a pack behind);
    a year with figures is written whole, with nothing left aside."""
    from tests.analyst_data import build_known_warehouse

    db = build_known_warehouse(tmp_path / "known")
    with duckdb.connect(str(db), read_only=True) as connection:
        years = [y for (y,) in connection.execute("SELECT DISTINCT year FROM fact_victims ORDER BY year").fetchall()]
    out = tmp_path / "packs" / "1990"
    result = runner.invoke(app, ["report", "--year", "1990", "--out", str(out), "--db", str(db)],
                           terminal_width=400)
    assert result.exit_code == 1, result.output
    assert result.output.strip() == (f"No figures for 1990: the warehouse holds {years[0]} to {years[-1]}. "
                                     "Nothing was written.")
    assert not (tmp_path / "packs").exists()
    written = runner.invoke(app, ["report", "--year", str(years[-1]), "--out", str(out), "--db", str(db)])
    assert written.exit_code == 0, written.output
    assert (out / "index.html").exists() and [p.name for p in (tmp_path / "packs").iterdir()] == ["1990"]
