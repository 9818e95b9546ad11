"""A bounded load on the real portal (issue 15): 50 uploads at once on loopback, from 10
accounts of 10 countries, cycling through the samples. Every upload is answered with its own
report page, none is lost or shown to another country; the latency is printed and written as
JSON (to GLOTIP_LOAD_RESULTS when set, else the test's temporary folder)."""

from __future__ import annotations

import json
import os
import re
import statistics
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from portal import store
from tests.conftest import SAMPLES
from tests.portal_support import PortalServer, add_user, form_token, loopback_client, sign_in, write_config

UPLOADS = 50
# each account's file: its country's sample where there is one; Kenya and Brazil send others'
ACCOUNTS = {
    "EGY": ("EGY_2022.xlsx", "EGY"), "FRA": ("FRA_2021-2022.xlsx", "FRA"), "NPL": ("NPL_2022.xlsx", "NPL"),
    "THA": ("THA_2021-2022.xlsx", "THA"), "NGA": ("NGA_2021-2022.zip", "NGA"),
    "MEX": ("MEX_2022/victims.csv", None), "PHL": ("PHL_2022_errors.xlsx", "PHL"),
    "UKR": ("UKR_2021-2022_warnings.xlsx", "UKR"), "KEN": ("EGY_2022.xlsx", "EGY"),
    "BRA": ("NGA_2021-2022.zip", "NGA"),
}
COUNTRY_NAMES = {"EGY": "Egypt", "FRA": "France", "NPL": "Nepal", "THA": "Thailand", "NGA": "Nigeria",
                 "PHL": "Philippines", "UKR": "Ukraine"}


def email(country: str) -> str:
    return f"focal.point@{country.lower()}.example"


@pytest.mark.slow
def test_fifty_uploads_at_once_each_answered_with_its_own_report(tmp_path):
    write_config(tmp_path)
    with ThreadPoolExecutor(len(ACCOUNTS)) as pool:  # the real `glotip portal add-user`, side by side
        secrets = dict(zip(ACCOUNTS, pool.map(lambda code: add_user(tmp_path, email(code), code), ACCOUNTS)))
    codes = list(ACCOUNTS)
    with PortalServer(tmp_path) as server:
        clients, tokens = {}, {}
        uploads = [(number, codes[number % len(codes)]) for number in range(UPLOADS)]
        for number, code in uploads:  # a client (its own connection and cookies) per upload, signed in
            client = loopback_client(server.url, timeout=300)
            assert sign_in(client, email(code), secrets[code]).headers["location"] == "/"
            clients[number] = client
            tokens[number] = form_token(client.get("/").text)
        gate = threading.Barrier(UPLOADS)

        def send(number: int, code: str) -> tuple[int, str, float, str, str]:
            path = SAMPLES / ACCOUNTS[code][0]
            client = clients[number]
            gate.wait()  # all at once
            started = time.monotonic()
            with path.open("rb") as handle:
                answer = client.post("/checks", data={"csrf": tokens[number]}, files={"file": (path.name, handle)})
            location = answer.headers.get("location", "")
            page = client.get(location) if answer.status_code == 303 else answer
            return number, code, time.monotonic() - started, location, page.text

        wall = time.monotonic()
        with ThreadPoolExecutor(UPLOADS) as pool:
            results = list(pool.map(lambda item: send(*item), uploads))
        wall = time.monotonic() - wall

        seen = {}
        for number, code, _, location, text in results:
            name, file_country = ACCOUNTS[code]
            found = re.fullmatch(r"/checks/([\w-]+)", location)
            assert found, (number, code, location, text[-500:])
            check = found.group(1)
            assert check not in seen
            seen[check] = code
            assert re.search(rf'<h1><bdi>{re.escape(Path(name).name)}</bdi></h1>', text), (number, code)
            assert email(code) in text  # the uploader's own page
            assert 'class="status failed"' not in text, (number, code)
            if file_country:
                assert f"<dd>{COUNTRY_NAMES[file_country]}</dd>" in text, (number, code)
        records = store.Store(tmp_path / "portal" / "portal.sqlite")
        rows = {row["check_id"]: row for row in records.query("SELECT * FROM checks")}
        assert len(rows) == UPLOADS and set(rows) == set(seen)
        for check, code in seen.items():
            row = rows[check]
            assert (row["country"], row["file_name"]) == (code, Path(ACCOUNTS[code][0]).name)
            assert row["status"] in ("accepted", "accepted_with_warnings", "rejected"), row["status"]
            assert row["file_country"] == ACCOUNTS[code][1]
        # each check visible to its uploader's country only
        one_client = {code: clients[number] for number, code in uploads}
        for check, owner in list(seen.items())[:10]:
            for code, client in one_client.items():
                status = client.get(f"/checks/{check}").status_code
                assert status == (200 if code == owner else 404), (check, owner, code)
        for client in clients.values():
            client.close()

    latencies = sorted(seconds for _, _, seconds, _, _ in results)
    figures = {"uploads": UPLOADS, "accounts": len(ACCOUNTS), "min": latencies[0],
               "median": statistics.median(latencies), "p95": latencies[int(0.95 * (UPLOADS - 1))],
               "max": latencies[-1], "wall": wall, "cpus": os.cpu_count()}
    out = Path(os.environ.get("GLOTIP_LOAD_RESULTS") or tmp_path / "portal_load.json")
    out.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print("\nportal load: " + ", ".join(f"{key} {value:.2f} s" if isinstance(value, float) else f"{key} {value}"
                                        for key, value in figures.items()) + f" (written to {out})")
    assert wall < 240
