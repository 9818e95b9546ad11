"""The portal and the scheduled run agree: a file the run would hold may be submitted (it
waits there for the data team), its page offers the annotated workbook, and `glotip portal`
submits into the inbox the deployment watches. Real workbooks, a real warehouse and snapshot,
the app in process."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from pipeline import submission as sequence
from pipeline.settings import load_settings
from portal.app import PortalConfig, create_app
from tests.portal_support import add_user, form_token, sign_in, write_config
from transforms.inbox import archive_raw
from warehouse.session import Warehouse
from warehouse.snapshot import publish

SAMPLES = Path(__file__).resolve().parent.parent / "sample_submissions"


def test_a_file_that_would_be_held_can_be_submitted_and_offers_its_annotated_workbook(tmp_path):
    settings = load_settings(config=write_config(tmp_path), environ={})
    archived = archive_raw(SAMPLES / "FRA_2021-2022.xlsx", tmp_path / "archive")
    with Warehouse(settings.db) as warehouse:  # France's figures held, and in the snapshot
        sequence.process(sequence.assess_file(archived.path), warehouse, reports_dir=settings.reports,
                         source_path=str(archived.path))
        publish(warehouse)
    secret = add_user(tmp_path, "fp@example.org", "FRA")
    workbook = load_workbook(SAMPLES / "THA_2021-2022.xlsx")  # Thai figures marked as France's
    workbook["submission"]["A2"] = "FRA"
    workbook.save(tmp_path / "FRA_2021-2022.xlsx")

    client = TestClient(create_app(PortalConfig(settings, tmp_path / "portal")), base_url="https://testserver")
    home = sign_in(client, "fp@example.org", secret)
    checked = client.post("/checks", files={"csrf": (None, form_token(home.text)),
                                            "file": ("FRA_2021-2022.xlsx", (tmp_path / "FRA_2021-2022.xlsx").read_bytes())})
    assert 'id="status">Held for confirmation<' in checked.text
    assert "/files/annotated.xlsx" in checked.text
    submitted = client.post(f"{checked.url.path}/submit", data={"csrf": form_token(checked.text)})
    assert 'id="submission-status">Received<' in submitted.text
    assert [entry.name for entry in (tmp_path / "inbox").iterdir()] == [
        f"FRA_2021-2022_{checked.url.path.rsplit('/', 1)[1]}.xlsx"]


def test_the_portal_submits_into_the_deployments_inbox(tmp_path, monkeypatch):
    import cli

    config = tmp_path / "glotip.toml"
    config.write_text(f'[ingest]\ninbox = "{tmp_path / "demo"}"\ndb = "{tmp_path / "w.duckdb"}"\n'
                      f'[deployment]\ninbox = "{tmp_path / "scheduled"}"\n', encoding="utf-8")
    monkeypatch.delenv("GLOTIP_INBOX", raising=False)
    portal = cli._portal_config(None, config)
    assert portal.settings.inbox == str(tmp_path / "scheduled")
