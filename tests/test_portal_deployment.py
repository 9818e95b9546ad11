"""A focal point submits in the portal, and the deployment runs at once (`glotip portal
--run-on-submit`): the real Prefect server on loopback, prefect.yaml deployed to a process work
pool, a worker, the portal as its own process. The portal then shows the submission accepted,
read from the snapshot the run published."""

from __future__ import annotations

import time

import pytest

from tests.conftest import SAMPLES
from tests.portal_support import PortalServer, add_user, form_token, loopback_client, sign_in, write_config
from tests.test_deployment import WAIT, _logs, deploy, workers


@pytest.mark.slow
def test_a_submission_starts_the_deployed_ingestion_and_its_status_follows(prefect_api, tmp_path):
    config = write_config(tmp_path)
    deploy(prefect_api, tmp_path, {"scheduled-ingestion": {
        "inbox": str(tmp_path / "inbox"), "db_path": str(tmp_path / "glotip.duckdb"),
        "reports_dir": str(tmp_path / "reports"), "archive_dir": str(tmp_path / "archive"),
        "settle_seconds": 0}})
    assert config.exists()
    secret = add_user(tmp_path, "egypt@example.org", "EGY")
    with PortalServer(tmp_path, options=("--run-on-submit",), env=prefect_api) as portal, \
            workers(prefect_api, tmp_path, 1) as started, \
            loopback_client(portal.url, follow_redirects=True, timeout=120) as client:
        home = sign_in(client, "egypt@example.org", secret)
        with (SAMPLES / "EGY_2022.xlsx").open("rb") as handle:
            checked = client.post("/checks", data={"csrf": form_token(home.text)},
                                  files={"file": ("EGY_2022.xlsx", handle)})
        assert "Submit this file" in checked.text
        submitted = client.post(f"{checked.url.path}/submit", data={"csrf": form_token(checked.text)})
        assert 'id="submission-status">Received' in submitted.text
        deadline = time.monotonic() + WAIT
        while 'id="submission-status">Accepted' not in (page := client.get(checked.url.path)).text:
            assert time.monotonic() < deadline, f"{page.status_code} {page.text[-3000:]}\n{_logs(tmp_path)}"
            assert all(process.poll() is None for process in started), _logs(tmp_path)
            time.sleep(1)
    assert not any((tmp_path / "inbox").iterdir())  # taken by the run (move_processed)
