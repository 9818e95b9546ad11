"""The submitters' portal, in process: a self-check is the ingestion's own validation and loads
nothing; a checked file is submitted into the inbox, and once a run has taken it the portal
shows its status as the register holds it; templates per country and language; the page's
language. (Access between countries, CSRF, uploads: test_portal_security.py; a real browser:
test_portal_browser.py; 50 uploads at once: test_portal_load.py.)"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from fastapi.testclient import TestClient

from pipeline import submission as sequence
from pipeline.settings import Settings
from portal import store
from reporting.mail import read_message
from portal.app import PortalConfig, create_app
from schemas.countries import country_name
from tests.conftest import SAMPLES
from tests.portal_support import GLOTIP, form_token
from warehouse import snapshot
from warehouse.session import Warehouse


def portal(tmp_path: Path):
    settings = Settings(inbox=str(tmp_path / "inbox"), db=str(tmp_path / "glotip.duckdb"),
                        reports=str(tmp_path / "reports"), archive=str(tmp_path / "archive"),
                        settle_seconds=0)
    return create_app(PortalConfig(settings, tmp_path / "portal"))


def signed_in(app, email: str, country: str | None, language: str = "en") -> TestClient:
    secret = store.add_user(app.state.store, email, country or store.TEAM)
    client = TestClient(app, base_url="https://testserver", headers={"Accept-Language": language})
    page = client.get("/sign-in")
    home = client.post("/sign-in", data={"email": email, "secret": secret, "csrf": form_token(page.text)})
    assert home.status_code == 200 and email in home.text
    return client


def check(client: TestClient, path: Path) -> tuple[str, str]:
    """Upload `path` for a self-check: (the check's id, its page)."""
    token = form_token(client.get("/").text)
    with path.open("rb") as handle:
        response = client.post("/checks", data={"csrf": token}, files={"file": (path.name, handle)})
    assert response.status_code == 200, response.text
    return str(response.url).rsplit("/", 1)[1], response.text


def submit(client: TestClient, check_id: str):
    page = client.get(f"/checks/{check_id}")
    return client.post(f"/checks/{check_id}/submit", data={"csrf": form_token(page.text)})


def run_ingestion(app) -> list[sequence.Outcome]:
    """What the next scheduled run does with the inbox (the flow's own sequence, then the
    analysts' snapshot the portal reads)."""
    settings = app.state.config.settings
    options = sequence.InboxOptions(settings.inbox, settings.reports, settings.archive, settle_seconds=0)
    warehouse = Warehouse(settings.db)
    try:
        outcomes = [sequence.ingest_entry(entry, warehouse, options, run_id="portal-test")
                    for entry in sorted(Path(settings.inbox).iterdir()) if not entry.name.startswith(".")]
        snapshot.publish(warehouse)
    finally:
        warehouse.close()
    return outcomes


def text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_self_check_is_the_ingestion_s_own_validation_and_loads_nothing(tmp_path):
    app = portal(tmp_path)
    client = signed_in(app, "focal.point@example.org", "PHL")
    check_id, page = check(client, SAMPLES / "PHL_2022_errors.xlsx")

    # the findings of `glotip validate`'s path (the same sequence, called directly)
    direct = sequence.process(sequence.assess_file(SAMPLES / "PHL_2022_errors.xlsx", start_method="fork"),
                              None, reports_dir=tmp_path / "direct", load=False)
    shown = json.loads(client.get(f"/checks/{check_id}/files/report.json").content)
    expected = json.loads((Path(direct.report) / "report.json").read_text(encoding="utf-8"))
    assert [(f["rule"], f["location"], f["message"]) for f in shown["findings"]] == \
        [(f["rule"], f["location"], f["message"]) for f in expected["findings"]]
    assert shown["status"] == "rejected" and shown["stats"]["errors"] == direct.errors > 0
    assert "Rejected" in page and "victims!A19" in page  # the findings, cell by cell
    assert "Correct the errors below" in text(page)  # no submit button for a rejected file
    assert 'action="/checks/' not in page
    workbook = openpyxl.load_workbook(
        io.BytesIO(client.get(f"/checks/{check_id}/files/annotated.xlsx").content))
    assert any(cell.comment for sheet in workbook for row in sheet.iter_rows() for cell in row)
    # nothing loaded, nothing in the inbox
    assert not Path(app.state.config.settings.db).exists()
    assert not any(Path(app.state.config.settings.inbox).glob("*"))


def test_a_checked_file_is_submitted_once_and_shows_its_status_as_the_register_holds_it(tmp_path):
    app = portal(tmp_path)
    client = signed_in(app, "egypt@example.org", "EGY")
    first, page = check(client, SAMPLES / "EGY_2022.xlsx")
    assert "Submit this file" in page
    submit(client, first)
    submit(client, first)  # a double click submits once
    inbox = Path(app.state.config.settings.inbox)
    assert [entry.name for entry in inbox.iterdir()] == [f"EGY_2022_{first}.xlsx"]
    assert 'id="submission-status">Received' in client.get(f"/checks/{first}").text

    (outcome,) = run_ingestion(app)
    assert outcome.status == "accepted"
    page = client.get(f"/checks/{first}").text
    assert f'href="/submissions/{outcome.submission_id}"' in page
    assert 'id="submission-status">Accepted' in page
    # the e-mail notice of the run links to the submission's page in the portal
    notice = read_message(Path(outcome.report) / "message.eml").get_body(("plain",)).get_content()
    (link,) = re.findall(r"http://127\.0\.0\.1:8765(/submissions/\S+)", notice)
    assert 'id="submission-status">Accepted' in client.get(link).text

    # a corrected version replaces it; the history says so
    second, _ = check(client, SAMPLES / "EGY_2022_ar_template.xlsx")
    submit(client, second)
    for entry in inbox.iterdir():
        if entry.name != f"EGY_2022_ar_template_{second}.xlsx":
            entry.unlink()  # the first entry, already recorded (a run with move_processed removes it)
    (replacing,) = run_ingestion(app)
    assert replacing.supersedes == [outcome.submission_id]
    submission = client.get(f"/submissions/{replacing.submission_id}").text
    assert f'href="/submissions/{outcome.submission_id}"' in submission  # "Replaces"
    earlier = client.get(f"/submissions/{outcome.submission_id}").text
    assert 'id="submission-status">Superseded' in earlier
    home = client.get("/").text
    assert home.count("Superseded") == 2  # the first check's status and its row in the history


def test_a_file_of_another_country_is_checked_but_not_submitted(tmp_path):
    app = portal(tmp_path)
    client = signed_in(app, "philippines@example.org", "PHL")
    check_id, page = check(client, SAMPLES / "EGY_2022.xlsx")
    assert f"This file is for {country_name('EGY')}" in text(page)
    submit(client, check_id)
    assert not any(Path(app.state.config.settings.inbox).glob("*"))
    refused = app.state.store.query(
        "SELECT detail FROM audit WHERE event = 'submit' AND outcome = 'refused'")
    assert [row["detail"] for row in refused] == ["other_country_file"]


def test_templates_name_the_user_s_country_in_any_of_the_six_languages(tmp_path):
    app = portal(tmp_path)
    client = signed_in(app, "philippines@example.org", "PHL")
    response = client.get("/templates/PHL/fr.xlsx")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="glotip-template-PHL-fr.xlsx"'
    workbook = openpyxl.load_workbook(io.BytesIO(response.content))
    values = [cell.value for row in workbook.worksheets[1:] for cells in [row[2]] for cell in cells]
    assert country_name("PHL", "fr") in values
    assert client.get("/templates/blank/ar.xlsx").status_code == 200
    assert client.get("/templates/PHL/xx.xlsx").status_code == 404


def test_the_page_speaks_the_browser_s_language_or_the_one_chosen(tmp_path):
    app = portal(tmp_path)
    client = TestClient(app, base_url="https://testserver")
    arabic = client.get("/sign-in", headers={"Accept-Language": "ar-EG,ar;q=0.9,en;q=0.5"}).text
    assert '<html lang="ar" dir="rtl">' in arabic
    assert '<html lang="zh" dir="ltr">' in client.get("/sign-in", headers={"Accept-Language": "zh-CN"}).text
    assert '<html lang="en" dir="ltr">' in client.get("/sign-in", headers={"Accept-Language": "de-DE"}).text
    client.get("/sign-in?lang=fr")  # the chooser: kept in a cookie
    assert '<html lang="fr" dir="ltr">' in client.get("/sign-in", headers={"Accept-Language": "ar"}).text


def test_the_data_team_issues_accounts_whose_secrets_are_shown_once_and_stored_hashed(tmp_path):
    folder = tmp_path / "portal"

    def add(*arguments):
        return subprocess.run([GLOTIP, "portal", "add-user", *arguments, "--portal-dir", str(folder)],
                              capture_output=True, text=True, timeout=60)

    made = add("--email", "senegal@example.org", "--country", "sen")
    assert made.returncode == 0, made.stderr
    secret = re.search(r"secret \(shown once\): (\S+)", made.stdout).group(1)
    link = re.search(r"/sign-in/link/(\S+)", made.stdout).group(1)
    records = store.Store(folder / "portal.sqlite")
    (row,) = records.query("SELECT country, secret_hash FROM users")
    assert row["country"] == "SEN" and row["secret_hash"].startswith("$argon2id$")
    raw = (folder / "portal.sqlite").read_bytes()
    assert secret.encode() not in raw and link.encode() not in raw
    assert store.check_secret(records, "SENEGAL@example.org", secret).country == "SEN"
    assert add("--email", "senegal@example.org", "--country", "SEN").returncode == 1  # exists
    assert add("--email", "x@example.org", "--country", "XYZ").returncode == 2
    assert add("--email", "not an address", "--country", "SEN").returncode == 2
    assert add("--email", "team@example.org", "--team").returncode == 0
    shutil.rmtree(folder)


@pytest.mark.parametrize("name", ["NGA_2021-2022.zip"])
def test_a_zip_of_csv_files_is_checked_like_a_workbook(tmp_path, name):
    app = portal(tmp_path)
    client = signed_in(app, "nigeria@example.org", "NGA")
    _, page = check(client, SAMPLES / name)
    assert "Submit this file" in page


def test_a_one_time_link_signs_in_once_and_only_from_its_page_s_button(tmp_path):
    app = portal(tmp_path)
    store.add_user(app.state.store, "senegal@example.org", "SEN")
    token = store.sign_in_link(app.state.store, "senegal@example.org")
    client = TestClient(app, base_url="https://testserver")
    for _ in range(2):  # following the link (as an e-mail scanner would) does not spend it
        page = client.get(f"/sign-in/link/{token}")
        assert page.status_code == 200 and 'action="/sign-in/link"' in page.text
    home = client.post("/sign-in/link", data={"link": token, "csrf": form_token(page.text)})
    assert home.status_code == 200 and "senegal@example.org" in home.text
    other = TestClient(app, base_url="https://testserver")
    page = other.get(f"/sign-in/link/{token}")
    spent = other.post("/sign-in/link", data={"link": token, "csrf": form_token(page.text)})
    assert spent.status_code == 401 and "has been used or has expired" in spent.text


def test_old_checks_lose_their_file_and_report_but_not_their_record(tmp_path):
    app = portal(tmp_path)
    client = signed_in(app, "egypt@example.org", "EGY")
    check_id, _ = check(client, SAMPLES / "EGY_2022.xlsx")
    folder = tmp_path / "portal" / "checks" / check_id
    assert (folder / "upload.xlsx").exists()
    done = subprocess.run([GLOTIP, "portal", "prune", "--days", "0", "--portal-dir", str(tmp_path / "portal")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and "1 check older than 0 days removed" in done.stdout, done.stdout + done.stderr
    assert not folder.exists()
    page = client.get(f"/checks/{check_id}").text
    assert "have been deleted" in page and "Submit this file" not in page
    assert client.get(f"/checks/{check_id}/files/findings.csv").status_code == 404


def test_a_failure_of_ours_is_a_page_that_says_so_and_the_audit_log_has_the_cause(tmp_path):
    app = portal(tmp_path)
    client = signed_in(app, "egypt@example.org", "EGY")
    check_id, _ = check(client, SAMPLES / "EGY_2022.xlsx")
    for report in (tmp_path / "portal" / "checks" / check_id).rglob("report.json"):
        report.write_text("{not json", encoding="utf-8")  # a report folder damaged on disk
    broken = TestClient(app, base_url="https://testserver", raise_server_exceptions=False,
                        cookies=client.cookies)
    page = broken.get(f"/checks/{check_id}")
    assert page.status_code == 500 and "Something went wrong on our side" in page.text
    assert "Traceback" not in page.text and "JSONDecodeError" not in page.text
    (row,) = app.state.store.query("SELECT object, detail FROM audit WHERE event = 'error'")
    assert row["object"] == f"/checks/{check_id}" and row["detail"].startswith("JSONDecodeError")


def test_a_submitted_file_keeps_its_name_in_safe_characters_or_none_that_is_personal():
    from portal.checks import submit

    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        upload = Path(folder) / "upload.xlsx"
        upload.write_bytes(b"x")
        inbox = Path(folder) / "inbox"
        assert submit(upload, inbox, "Données PHL 2022 (v2).xlsx", "PHL", "abc") == "Donn_es_PHL_2022_v2__abc.xlsx"
        assert submit(upload, inbox, "..__.xlsx", "PHL", "abd") == "PHL_portal_abd.xlsx"
        assert submit(upload, inbox, "(withheld).xlsx", "PHL", "abe") == "PHL_portal_abe.xlsx"
        assert sorted(entry.name for entry in inbox.iterdir()) == [
            "Donn_es_PHL_2022_v2__abc.xlsx", "PHL_portal_abd.xlsx", "PHL_portal_abe.xlsx"]


def test_a_disabled_account_loses_its_session_and_cannot_sign_in_until_enabled(tmp_path):
    app = portal(tmp_path)
    client = signed_in(app, "senegal@example.org", "SEN")
    link = store.sign_in_link(app.state.store, "senegal@example.org")
    folder = str(tmp_path / "portal")

    def command(*arguments):
        return subprocess.run([GLOTIP, "portal", *arguments, "--portal-dir", folder],
                              capture_output=True, text=True, timeout=60)

    assert command("disable-user", "--email", "senegal@example.org").returncode == 0
    assert client.get("/", follow_redirects=False).headers["location"] == "/sign-in"  # the session ended
    page = client.get(f"/sign-in/link/{link}")
    assert client.post("/sign-in/link", data={"link": link, "csrf": form_token(page.text)}).status_code == 401
    assert command("disable-user", "--email", "senegal@example.org", "--enable").returncode == 0
    reset = command("reset-secret", "--email", "senegal@example.org")
    secret = re.search(r"secret \(shown once\): (\S+)", reset.stdout).group(1)
    page = client.get("/sign-in")
    home = client.post("/sign-in", data={"email": "senegal@example.org", "secret": secret,
                                         "csrf": form_token(page.text)})
    assert home.status_code == 200 and "senegal@example.org" in home.text
    assert command("disable-user", "--email", "nobody@example.org").returncode == 1
    events = [row["event"] for row in app.state.store.query("SELECT event FROM audit WHERE event LIKE '%-user'")]
    assert events == ["disable-user", "enable-user"]
