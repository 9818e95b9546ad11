"""Every report format from one faulty Excel submission, in every language; escaping;
the annotated workbook opened and checked; the e-mail built (a notice with the portal link by
default, the reports attached when asked), parsed back and sent locally."""

from __future__ import annotations

from schemas.messages import render_location, render_message

import csv
import email
import email.policy
import html
import json
import re
import socket

import pytest
from openpyxl import load_workbook

from pipeline import submission as sequence
from reporting.notice import BY_HAND, Notice
from reporting.render import write_reports
from schemas import i18n
from schemas.catalogue import CATALOGUE
from schemas.findings import outcome
from tests.builders import FORMULA, SCRIPT, faulty_workbook


def validated(path):
    assessment = sequence.assess_file(path)
    return assessment.parsed, assessment.result


def write_all(path, report_dir, language=None, notice=Notice()):
    assessment = sequence.assess_file(path)
    findings = assessment.findings
    summary = sequence.report_summary(assessment, findings, status=outcome(findings), history=None,
                                      received_at=None, rows_loaded=None, supersedes=[],
                                      language=language, notice=notice)
    return write_reports(report_dir, summary, findings), assessment.result


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faulty")
    path = faulty_workbook(folder / "FRA_2021-2022.xlsx")
    report_dir, result = write_all(path, folder / "report")
    return path, report_dir, result


def test_findings_name_the_sheet_and_cell(faulty):
    _, _, result = faulty
    assert sorted((f.rule, render_location(f.location)) for f in result.findings) == [
        ("parts-exceed-total", "victims!F2"), ("suppressed-value", "victims!F7"),
        ("unknown-code", "victims!B5"), ("unknown-code", "victims!B6")]


def test_report_json_has_stable_fields_and_the_french_text(faulty):
    _, report_dir, result = faulty
    data = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    assert data["language"] == "fr" and data["status"] == "rejected" and data["valid"] is False
    assert data["stats"]["errors"] == 4 and len(data["findings"]) == 4
    first = {f["location"]: f for f in data["findings"]}["victims!F2"]
    assert set(first) >= {"rule", "severity", "table", "source", "line", "column", "cell", "value",
                          "message", "hint", "params", "location", "message_localised", "hint_localised"}
    assert first["message"].startswith("The Sex categories (Female and Male) add up to 13")
    assert first["message_localised"] == ("Les catégories de Sexe (Féminin et Masculin) totalisent 13, "
                                          "soit plus que le total de 10 pour Année 2021, Groupe d’âge "
                                          "Total, Forme d’exploitation Total, Nationalité Total. "
                                          "Le plus petit nombre de cellules à modifier\u202f: modifiez F2 de "
                                          "10 à 13 ou plus, modifiez F3 de 8 à 5 ou moins ou modifiez F4 "
                                          "de 5 à 2 ou moins.")


def test_html_is_self_contained_escaped_and_in_french(faulty):
    _, report_dir, _ = faulty
    page = (report_dir / "report.html").read_text(encoding="utf-8")
    assert '<html lang="fr" dir="ltr">' in page
    assert "Rejetée" in page and "Constats par règle" in page
    assert SCRIPT not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page), "the page must not load anything"
    assert "<script" not in page.replace("&lt;script", "")


def test_findings_csv_lists_all_with_formulas_neutralised(faulty):
    _, report_dir, _ = faulty
    with (report_dir / "findings.csv").open(encoding="utf-8-sig", newline="") as handle:
        records = list(csv.DictReader(handle))
    assert len(records) == 4
    values = {r["location"]: r["value"] for r in records}
    assert values["victims!B6"] == "'" + FORMULA
    assert values["victims!B5"] == SCRIPT  # not a formula: left as is (CSV is not HTML)
    assert all(not r[field].startswith(("=", "+", "-", "@")) for r in records for field in r)
    assert records[0]["message"].startswith(("«", "Les ", "La "))  # French, as the report


def test_annotated_workbook_highlights_and_comments_each_finding(faulty):
    path, report_dir, _ = faulty
    original = load_workbook(path)
    annotated = load_workbook(report_dir / "annotated.xlsx")
    victims = annotated["victims"]
    for cell, rule in (("F2", "parts-exceed-total"), ("B5", "unknown-code"),
                       ("B6", "unknown-code"), ("F7", "suppressed-value")):
        assert victims[cell].fill.fgColor.rgb.endswith("FFC7CE"), cell
        comment = victims[cell].comment.text
        assert i18n.text(f"rule.{rule}.title", "fr") in comment and "Erreur" in comment
    assert victims["A3"].fill.fgColor.rgb in (None, "00000000") and victims["A3"].comment is None
    assert victims["B6"].value == FORMULA and victims["B6"].data_type == "s"  # still their text
    # nothing else changed: every original sheet has the same values, validations and names
    for sheet in original.worksheets:
        copy = annotated[sheet.title]
        assert [[c.value for c in row] for row in sheet.iter_rows()] == \
               [[c.value for c in row] for row in copy.iter_rows()], sheet.title
        assert len(sheet.data_validations.dataValidation) == len(copy.data_validations.dataValidation)
        assert sheet.sheet_state == copy.sheet_state
    assert annotated.sheetnames == original.sheetnames + ["constats"]
    listing = annotated["constats"]
    rows = [[c.value for c in row] for row in listing.iter_rows(min_row=2)]
    assert len(rows) == 4
    formula_row = next(row for row in rows if row[0] == "victims!B6")
    assert formula_row[3] == "'" + FORMULA
    assert all(not str(value).startswith("=") for row in rows for value in row if value)
    assert listing["A2"].hyperlink.location or listing["A2"].hyperlink.target


def _body(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def test_message_eml_is_a_french_notice_with_the_portal_link_and_no_report(faulty):
    """By default the report stays in the portal: the e-mail gives the counts and the link,
    no finding, no value, no attachment."""
    from reporting.mail import read_message

    _, report_dir, result = faulty
    submission_id = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))["submission_id"]
    message = read_message(report_dir / "message.eml")
    assert message["To"] == "focal.point@example.gouv.fr"
    assert message["Subject"] == "Soumission GLOTIP FRA_2021-2022.xlsx : Rejetée"
    assert not message.is_multipart() and list(message.iter_attachments()) == []
    body = _body(message)
    lines = body.splitlines()
    link = f"http://127.0.0.1:8765/submissions/{submission_id}"
    assert link in lines  # on a line of its own
    assert lines[lines.index(link) - 1] == i18n.ui("email_report_ready", "fr")
    assert lines[lines.index(link) + 1] == i18n.ui("email_sign_in", "fr")
    assert "Rejetée, avec 4 erreurs et 0 avertissement" in body
    assert "renvoyer le fichier complet" in body and i18n.ui("email_signature", "fr") in body
    # no finding: neither its place, its message nor the value typed in the cell
    assert "Principaux constats" not in body and "victims!" not in body
    assert not any(render_message(f, "fr", marked=False) in body for f in result.findings)
    assert FORMULA not in body and SCRIPT not in body
    assert "report.html" not in body and "annotated.xlsx" not in body


def test_message_eml_attaches_the_report_when_the_data_team_asks(faulty, tmp_path):
    from reporting.mail import read_message

    path, _, _ = faulty
    report_dir, _ = write_all(path, tmp_path / "attached",
                              notice=Notice("https://portal.example.org/glotip/", attach_report=True))
    submission_id = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))["submission_id"]
    message = read_message(report_dir / "message.eml")
    assert message["Subject"] == "Soumission GLOTIP FRA_2021-2022.xlsx : Rejetée"
    body = _body(message)
    assert "Principaux constats" in body and "victims!F2" in body and "renvoyer le fichier complet" in body
    assert "annotated.xlsx est une copie de votre classeur" in body
    lines = body.splitlines()
    link = f"https://portal.example.org/glotip/submissions/{submission_id}"
    assert lines[lines.index(link) - 1] == i18n.ui("email_report_in_portal", "fr")
    assert i18n.ui("email_sign_in", "fr") not in body  # it is sent by e-mail, this time
    attachments = {part.get_filename() for part in message.iter_attachments()}
    assert attachments == {"report.html", "findings.csv", "annotated.xlsx"}


def test_message_eml_by_hand_attaches_the_report_without_a_link(faulty, tmp_path):
    """`glotip validate`: nothing in the portal, so no link; the report attached as before."""
    from reporting.mail import read_message

    path, _, _ = faulty
    report_dir, _ = write_all(path, tmp_path / "by-hand", notice=BY_HAND)
    message = read_message(report_dir / "message.eml")
    body = _body(message)
    assert "/submissions/" not in body and "portail" not in body
    assert "Principaux constats" in body and "Le rapport complet est joint" in body
    assert {part.get_filename() for part in message.iter_attachments()} == {
        "report.html", "findings.csv", "annotated.xlsx"}


def test_the_portal_link_quotes_the_id_and_the_address_is_checked():
    notice = Notice("https://portal.example.org/glotip/")
    assert notice.link("FRA-1a2b3c4d5e6f") == "https://portal.example.org/glotip/submissions/FRA-1a2b3c4d5e6f"
    assert notice.link("../x?y=1#z w") == "https://portal.example.org/glotip/submissions/..%2Fx%3Fy%3D1%23z%20w"
    assert BY_HAND.link("FRA-1a2b3c4d5e6f") is None
    for bad in ("", "portal.example.org", "javascript:alert(1)", "ftp://portal.example.org",
                "https://portal.example.org\nBcc: someone@example.org", "https://portal.example.org/?a=1",
                "https:///submissions"):
        with pytest.raises(ValueError, match="portal_url"):
            Notice(bad)
    with pytest.raises(ValueError, match="attach"):
        Notice(None, attach_report=False)  # an e-mail that gives neither the report nor its link


def test_message_is_sent_only_when_asked_through_a_local_smtp_server(faulty):
    aiosmtpd = pytest.importorskip("aiosmtpd.controller")
    from reporting.mail import send_message

    received = []

    class Handler:
        async def handle_DATA(self, server, session, envelope):
            received.append(envelope)
            return "250 OK"

    with socket.socket() as probe:  # a free port on the loopback interface
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = aiosmtpd.Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        _, report_dir, _ = faulty
        assert received == []  # writing the reports sent nothing
        assert send_message(report_dir / "message.eml", "127.0.0.1", port) == ["focal.point@example.gouv.fr"]
    finally:
        controller.stop()
    assert [envelope.rcpt_tos for envelope in received] == [["focal.point@example.gouv.fr"]]
    delivered = email.message_from_bytes(received[0].content, policy=email.policy.default)
    assert delivered["Subject"] == "Soumission GLOTIP FRA_2021-2022.xlsx : Rejetée"


def _english_fragments(keys: list[str]) -> set[str]:
    """Fixed English text of these strings (between placeholders), long enough to be telling."""
    english = i18n.english()
    fragments = set()
    for key in keys:
        for part in re.split(r"\{[^}]*\}", english[key]):
            part = part.strip(" .,:;()`")
            if len(part) >= 12 and " " in part:
                fragments.add(part)
    return fragments


@pytest.mark.parametrize("language", i18n.LANGUAGES)
def test_report_in_each_language_has_no_untranslated_string(faulty, tmp_path, language):
    path, _, result = faulty
    report_dir, _ = write_all(path, tmp_path / language, language=language)
    page = html.unescape((report_dir / "report.html").read_text(encoding="utf-8"))
    direction = "rtl" if language == "ar" else "ltr"
    assert f'<html lang="{language}" dir="{direction}">' in page
    assert i18n.ui("report_title", language) in page
    assert i18n.ui("status.rejected", language) in page
    if language == "en":
        return
    rules = {f.rule for f in result.findings}
    keys = [k for k in i18n.english() if k.startswith("ui.")] + \
           [f"rule.{r}.{part}" for r in rules for part in ("title", "message", "hint")]
    leftovers = sorted(fragment for fragment in _english_fragments(keys) if fragment in page)
    assert leftovers == [], f"{language}: English left in the report: {leftovers}"
    for code in ("female", "male"):  # codelist labels in the messages are translated too
        assert i18n.code_label("sex", code, language) in page
    for rule in rules:
        assert i18n.text(f"rule.{rule}.title", language) in page
    assert CATALOGUE["parts-exceed-total"].title not in page
    from reporting.mail import read_message

    notice = _body(read_message(report_dir / "message.eml"))
    leftovers = sorted(fragment for fragment in _english_fragments(keys) if fragment in notice)
    assert leftovers == [], f"{language}: English left in the e-mail: {leftovers}"
    assert i18n.ui("email_report_ready", language) in notice and "/submissions/" in notice


def test_a_refused_workbook_is_never_opened_again_for_annotation(faulty, tmp_path):
    path, _, _ = faulty
    cut = tmp_path / "cut.xlsx"
    cut.write_bytes(path.read_bytes()[:3000])  # a transfer cut short
    report_dir, result = write_all(cut, tmp_path / "report")
    assert [f.rule for f in result.findings] == ["unreadable-file"]
    assert (report_dir / "report.html").exists() and not (report_dir / "annotated.xlsx").exists()


def test_message_values_that_are_words_are_translated_too():
    from schemas.findings import TableFrame, make_finding
    from schemas.messages import render_value
    import pandas as pd

    frame = TableFrame("organ_removal_cases", "organ_removal_cases.csv", "csv", pd.DataFrame(),
                       column_positions={"summary": 15})
    personal = make_finding("personal-data", frame=frame, line=4, column="summary", withheld=True,
                            kind="email")
    assert render_message(personal, "ru") == (
        "Текст в `Краткое описание дела`, по-видимому, содержит адрес электронной почты.")
    assert render_location(personal.location, "ru") == "organ_removal_cases.csv, строка 4, столбец 15"
    assert render_value(personal, "ru") == "(скрыто)" and personal.value is None
    year = make_finding("year-out-of-range", value=1850, min_year=1990, max_year=2100)
    assert render_message(year, "es") == "`1850` no es un año de referencia verosímil (1990–2100)."
    assert render_message(year) == "`1850` is not a plausible reporting year (1990–2100)."


def test_reports_without_findings_do_not_load_openpyxl(tmp_path):
    """openpyxl (a third of a second to import) is loaded only to annotate a workbook: the
    reports of a workbook without findings, in a fresh process, never import it."""
    import subprocess
    import sys

    from tests.conftest import ROOT, SAMPLES

    script = ("import sys\nfrom cli import app\n"
              "try:\n    app(sys.argv[1:])\nexcept SystemExit as ended:\n    assert not ended.code, ended.code\n"
              "print(sorted(name for name in sys.modules if name.split('.')[0] == 'openpyxl'))")
    done = subprocess.run([sys.executable, "-c", script, "validate", str(SAMPLES / "EGY_2022.xlsx"),
                           "--reports", str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    [report] = tmp_path.glob("EGY-*")
    assert json.loads((report / "report.json").read_text(encoding="utf-8"))["findings"] == []
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout
