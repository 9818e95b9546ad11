"""End to end through the Prefect flow: a submission, then its resubmission. The second report
lists what changed and warns about a figure far from the one held; the reports and the
findings stored in `validation_findings` agree; the e-mail is written, not sent: a notice with
the link to the portal, the report attached only when the flow is asked to."""

from __future__ import annotations

import csv
import json

import duckdb

from tests.builders import csv_submission

FIRST = ["2021,total,total,total,total,50", "2021,female,total,total,total,30",
         "2021,male,total,total,total,20"]
SECOND = ["2021,total,total,total,total,150", "2021,female,total,total,total,31",
          "2021,male,total,total,total,20", "2021,unknown,total,total,total,4"]


def test_resubmission_report_lists_changes_and_agrees_with_the_warehouse(prefect_server, tmp_path):
    from flows.ingest import ingest_submissions

    db, reports = tmp_path / "w.duckdb", tmp_path / "reports"
    first_inbox, second_inbox = tmp_path / "in1", tmp_path / "in2"
    csv_submission(first_inbox / "THA_2021", FIRST, years=(2021, 2021), language="es")
    csv_submission(second_inbox / "THA_2021_v2", SECOND, years=(2021, 2021), language="es")
    archive = str(tmp_path / "archive")
    [first] = ingest_submissions(str(first_inbox), str(db), str(reports), archive)
    [second] = ingest_submissions(str(second_inbox), str(db), str(reports), archive,
                                  portal_url="https://portal.example.org/", attach_report=True)
    assert first["status"] == "accepted" and second["status"] == "accepted_with_warnings"

    folder = reports / second["submission_id"]
    data = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert data["language"] == "es" and data["supersedes"] == [first["submission_id"]]
    assert [(f["rule"], f["location"], f["location_localised"]) for f in data["findings"]] == [
        ("differs-from-history", "victims.csv, line 2, column 6", "victims.csv, línea 2, columna 6")]
    assert data["findings"][0]["message_localised"].startswith("150 difiere de la cifra 50 ya registrada")
    changes = sorted((c["kind"], c["breakdown"]["sex"], c["old"], c["new"]) for c in data["changes"])
    assert changes == [("added", "unknown", None, 4), ("changed", "female", 30, 31), ("changed", "total", 50, 150)]
    assert data["compared_with"] == [first["submission_id"]]
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "Cambios respecto de los datos ya registrados" in page and "Valor anterior" in page

    # the reports and validation_findings say the same thing
    with duckdb.connect(str(db), read_only=True) as connection:
        stored = connection.execute(
            "SELECT rule, severity, source, line, column_name, cell, value, message FROM validation_findings "
            "WHERE submission_id = ? ORDER BY line", [second["submission_id"]]).fetchall()
    reported = [(f["rule"], f["severity"], f["source"], f["line"], f["column"], f["cell"], f["value"], f["message"])
                for f in data["findings"]]
    assert stored == reported
    with (folder / "findings.csv").open(encoding="utf-8-sig", newline="") as handle:
        assert [(r["rule"], r["cell"], r["value"]) for r in csv.DictReader(handle)] == \
               [(s[0], s[5] or "", s[6]) for s in stored]
    assert not (folder / "annotated.xlsx").exists()  # CSV files: no workbook to annotate
    from reporting.mail import read_message

    # the flow's defaults: the notice links to the portal, the report stays there
    message = read_message(reports / first["submission_id"] / "message.eml")
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert message["Subject"] == "Presentación GLOTIP THA_2021: Aceptada"
    assert f"http://127.0.0.1:8765/submissions/{first['submission_id']}" in body.splitlines()
    assert "Su informe está disponible en el portal GLOTIP" in body and "No es necesaria ninguna corrección" in body
    assert list(message.iter_attachments()) == [] and "report.html" not in body
    # asked for: the report attached too, and the link to the portal named
    message = read_message(folder / "message.eml")
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert message["Subject"] == "Presentación GLOTIP THA_2021_v2: Aceptada con advertencias"
    assert "annotated.xlsx" not in body and "Le rogamos que confirme o corrija" in body
    assert "Principales observaciones" in body  # the findings, as the report travels with it
    assert f"https://portal.example.org/submissions/{second['submission_id']}" in body.splitlines()
    assert {part.get_filename() for part in message.iter_attachments()} == {"report.html", "findings.csv"}


def test_a_resubmission_in_the_same_inbox_is_compared_with_the_entry_before_it(prefect_server, tmp_path):
    """The resubmission is compared with the submission loaded just before it in the same run."""
    from flows.ingest import ingest_submissions

    inbox = tmp_path / "inbox"
    csv_submission(inbox / "THA_2021", FIRST, years=(2021, 2021), language="es")
    csv_submission(inbox / "THA_2021_v2", SECOND, years=(2021, 2021), language="es")
    first, second = ingest_submissions(str(inbox), str(tmp_path / "w.duckdb"), str(tmp_path / "reports"),
                                       str(tmp_path / "archive"), settle_seconds=0)
    assert (first["file_name"], first["status"]) == ("THA_2021", "accepted")
    assert (second["file_name"], second["status"]) == ("THA_2021_v2", "accepted_with_warnings")
    assert second["supersedes"] == [first["submission_id"]]
    assert second["changes"] == {"changed": 2, "added": 1, "removed": 0}
