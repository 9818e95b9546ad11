"""The portal against a hostile or careless user (issue 15): another country's records asked
for by id, forged forms, file names that try paths and headers, uploads too large or too slow,
a session used after sign-out, guessed secrets; and what it stores and sends.

In process (Starlette's TestClient, https so `Secure` cookies are kept) where that suffices;
the real `glotip portal` on a loopback port where a real socket matters (slow and unannounced
uploads)."""

from __future__ import annotations

import re
import select
import shutil
import socket
import sqlite3
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pipeline import submission as sequence
from pipeline.settings import Settings
from portal import store
from portal.app import PortalConfig, create_app
from schemas.limits import Limits
from tests.conftest import SAMPLES
from tests.portal_support import PortalServer, add_user, form_token, loopback_client, sign_in, write_config
from warehouse import snapshot
from warehouse.session import Warehouse

CSRF_FIELD = re.compile(rb'name="csrf" value="[^"]*"')
EGY_FILE = (SAMPLES / "EGY_2022.xlsx").read_bytes()
MEX_CSV = (SAMPLES / "MEX_2022" / "victims.csv").read_bytes()


def settings_in(folder: Path, **limits) -> Settings:
    return Settings(inbox=str(folder / "inbox"), db=str(folder / "glotip.duckdb"), reports=str(folder / "reports"),
                    archive=str(folder / "archive"), limits=Limits(**limits))


def portal_in(folder: Path, settings: Settings | None = None, **options):
    return create_app(PortalConfig(settings or settings_in(folder), folder / "portal", **options))


def browser(app) -> TestClient:
    return TestClient(app, base_url="https://testserver")


def signed_in(app, email: str, country: str) -> TestClient:
    """A browser signed in through the form, as a focal point of `country` (`*`: the data team)."""
    secret = store.add_user(app.state.store, email, country)
    client = browser(app)
    assert sign_in(client, email, secret).status_code == 200
    return client


def multipart(fields: dict[str, str], filename: bytes, content: bytes) -> tuple[bytes, str]:
    """A form as bytes, the file's name exactly as given (a browser's own encoding aside)."""
    boundary = "glotip-test-boundary-7f3a"
    body = b""
    for name, value in fields.items():
        body += (f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n').encode()
    body += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode() + filename
             + b'"\r\nContent-Type: application/octet-stream\r\n\r\n' + content + f"\r\n--{boundary}--\r\n".encode())
    return body, f"multipart/form-data; boundary={boundary}"


def upload(client: TestClient, name: str | bytes, content: bytes, token: str | None = None, **options):
    """POST /checks with the session's CSRF token (or `token`) and one file."""
    token = form_token(client.get("/").text) if token is None else token
    body, kind = multipart({"csrf": token}, name.encode() if isinstance(name, str) else name, content)
    headers = {"content-type": kind, **options.pop("headers", {})}
    return client.post("/checks", content=body, headers=headers, **options)


def check_id_of(response) -> str:
    return re.fullmatch(r"https://testserver/checks/([\w-]+)", str(response.url)).group(1)


def audit_rows(app, event: str) -> list[sqlite3.Row]:
    return app.state.store.query("SELECT * FROM audit WHERE event = ? ORDER BY rowid", (event,))


def checks_count(app) -> int:
    return app.state.store.query("SELECT count(*) FROM checks")[0][0]


def files_under(folder: Path) -> set[Path]:
    return {path for path in folder.rglob("*") if path.is_file()}


# -- another country's records: refused, logged, and indistinguishable from none -------------

@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A warehouse holding Egypt's submission (ingested and published as the analysts'
    snapshot), a portal on it, an Egyptian focal point who ran a check, a Nepalese one and a
    member of the data team."""
    folder = tmp_path_factory.mktemp("world")
    inbox = folder / "incoming"
    inbox.mkdir()
    shutil.copy(SAMPLES / "EGY_2022.xlsx", inbox)
    settings = settings_in(folder)
    with Warehouse(settings.db) as warehouse:
        outcome = sequence.ingest_entry(inbox / "EGY_2022.xlsx", warehouse, sequence.InboxOptions(
            str(inbox), settings.reports, settings.archive, settle_seconds=0), run_id="run-1")
    assert outcome.status == "accepted"
    snapshot.publish(Warehouse(settings.db))
    app = portal_in(folder, settings)
    egy = signed_in(app, "focal.point@egypt.example", "EGY")
    checked = upload(egy, "EGY_2022.xlsx", EGY_FILE)
    assert checked.status_code == 200 and "Egypt" in checked.text
    return {"app": app, "egy": egy, "npl": signed_in(app, "focal.point@nepal.example", "NPL"),
            "team": signed_in(app, "analyst@unodc.example", store.TEAM),
            "check": check_id_of(checked), "submission": outcome.submission_id}


def unknown_like(known: str) -> str:
    """An id of the same shape and length that does not exist."""
    prefix, _, rest = known.rpartition("-")
    return (prefix + "-" if prefix else "") + "".join("0" if ch != "0" else "1" for ch in rest)


def asked_pairs(world) -> list[tuple[str, str, str]]:
    """(method, an existing record of Egypt's, the same with an unknown id)."""
    check, submission = world["check"], world["submission"]
    pairs = []
    for path in ("/checks/{}", "/checks/{}/files/report.html", "/checks/{}/files/annotated.xlsx",
                 "/checks/{}/files/findings.csv", "/checks/{}/files/report.json"):
        pairs.append(("GET", path.format(check), path.format(unknown_like(check))))
    pairs.append(("POST", f"/checks/{check}/submit", f"/checks/{unknown_like(check)}/submit"))
    for path in ("/submissions/{}", "/submissions/{}/files/report.html", "/submissions/{}/files/report.json"):
        pairs.append(("GET", path.format(submission), path.format(unknown_like(submission))))
    pairs.append(("GET", "/templates/EGY/en.xlsx", "/templates/QQQ/en.xlsx"))
    pairs.append(("GET", "/templates/EGY/ar.xlsx", "/templates/EGY/xx.xlsx"))
    return pairs


def answer(response, asked: str) -> tuple:
    """Status, headers but the date, and body with the CSRF token and the asked-for path (the
    language links repeat it) taken out."""
    body = CSRF_FIELD.sub(b"", response.content).replace(asked.encode(), b"{asked}")
    headers = sorted((name, value) for name, value in response.headers.items()
                     if name not in ("date", "content-length"))
    return response.status_code, headers, body


def test_another_countrys_records_answer_as_unknown_ones_do_and_are_audited(world):
    app, npl = world["app"], world["npl"]
    token = form_token(npl.get("/").text)
    for method, existing, unknown in asked_pairs(world):
        data = {"csrf": token} if method == "POST" else None
        theirs = npl.request(method, existing, data=data, follow_redirects=False)
        none = npl.request(method, unknown, data=data, follow_redirects=False)
        assert theirs.status_code == 404, existing
        assert answer(theirs, existing) == answer(none, unknown), existing
        assert len(theirs.content) - len(existing) == len(none.content) - len(unknown), existing
    home = npl.get("/").text
    assert world["check"] not in home and world["submission"] not in home
    refused = [(row["email"], row["country"], row["outcome"], row["object"]) for row in audit_rows(app, "refused")]
    npl_email = "focal.point@nepal.example"
    assert (npl_email, "NPL", "other-country", f"check {world['check']}") in refused
    assert (npl_email, "NPL", "not-found", f"check {unknown_like(world['check'])}") in refused
    assert (npl_email, "NPL", "other-country", f"submission {world['submission']}") in refused
    assert (npl_email, "NPL", "not-found", f"submission {unknown_like(world['submission'])}") in refused
    assert (npl_email, "NPL", "other-country", "template EGY/en") in refused
    assert (npl_email, "NPL", "not-found", "template QQQ/en") in refused
    assert len([row for row in refused if row[0] == npl_email]) == 2 * len(asked_pairs(world))
    inbox = Path(app.state.config.settings.inbox)
    assert not inbox.exists() or not any(inbox.iterdir())  # nothing submitted by the refused POST


def test_the_owner_and_the_data_team_see_what_others_may_not(world):
    check, submission = world["check"], world["submission"]
    readable = [f"/checks/{check}", f"/checks/{check}/files/report.html", f"/checks/{check}/files/report.json",
                f"/submissions/{submission}", f"/submissions/{submission}/files/report.json",
                "/templates/EGY/en.xlsx"]
    for who in ("egy", "team"):
        for path in readable:
            assert world[who].get(path).status_code == 200, (who, path)
    team_home = world["team"].get("/").text
    assert check in team_home and submission in team_home
    assert world["npl"].get("/templates/NPL/fr.xlsx").status_code == 200  # their own country's
    assert world["npl"].get("/templates/blank/zh.xlsx").status_code == 200


# -- forged forms ------------------------------------------------------------------------------

def test_forms_without_the_token_or_from_another_site_are_refused(tmp_path):
    app = portal_in(tmp_path)
    client = signed_in(app, "focal.point@egypt.example", "EGY")
    token = form_token(client.get("/").text)
    evil = {"origin": "https://evil.example"}
    refused = [upload(client, "EGY_2022.xlsx", EGY_FILE, token=""),
               upload(client, "EGY_2022.xlsx", EGY_FILE, token="not-the-token"),
               upload(client, "EGY_2022.xlsx", EGY_FILE, token=token, headers=evil),
               upload(client, "EGY_2022.xlsx", EGY_FILE, token=token, headers={"origin": "null"}),
               upload(client, "EGY_2022.xlsx", EGY_FILE, token=token, headers={"sec-fetch-site": "cross-site"})]
    assert [response.status_code for response in refused] == [403] * 5
    assert checks_count(app) == 0
    assert not any((tmp_path / "portal" / "checks" / ".incoming").iterdir())  # the file did not stay

    checked = upload(client, "EGY_2022.xlsx", EGY_FILE, token=token)  # same site, right token
    assert checked.status_code == 200 and checks_count(app) == 1
    check = check_id_of(checked)
    submit = client.post(f"/checks/{check}/submit", data={"csrf": token}, headers=evil, follow_redirects=False)
    assert submit.status_code == 403
    assert not (tmp_path / "inbox").exists() or not any((tmp_path / "inbox").iterdir())
    out = client.post("/sign-out", data={"csrf": token}, headers=evil, follow_redirects=False)
    assert out.status_code == 403
    assert client.get("/", follow_redirects=False).status_code == 200  # still signed in

    stranger = browser(app)  # the sign-in form itself, posted from elsewhere
    page = stranger.get("/sign-in")
    forged = stranger.post("/sign-in", data={"email": "x@example.org", "secret": "x", "csrf": form_token(page.text)},
                           headers=evil)
    assert forged.status_code == 403
    assert [row["object"] for row in audit_rows(app, "refused") if row["outcome"] == "csrf"] == (
        ["upload"] * 5 + [f"submit {check}", "sign-out"])
    assert [row["detail"] for row in audit_rows(app, "sign-in") if row["outcome"] == "refused"] == ["csrf"]

    accepted = client.post(f"/checks/{check}/submit", data={"csrf": token})
    assert accepted.status_code == 200 and len(list((tmp_path / "inbox").iterdir())) == 1


# -- file names --------------------------------------------------------------------------------

NAMES = {  # as sent: what the page may show (None: only checked to be harmless)
    "parent folders": ("../../etc/passwd.xlsx", "passwd.xlsx"),
    "absolute": ("/etc/cron.d/job.csv", "job.csv"),
    "windows folders": ("..\\..\\windows\\x.csv", None),
    "header injection": ("a\r\nSet-Cookie: x=1.xlsx", None),
    "header injection, no newline": ('a"; filename="b.xlsx', None),
    "markup": ('<script>alert("x")</script>.xlsx', None),
    "a person's name": ("Victim Mrs. Amina Bello.xlsx", "(withheld).xlsx"),
    "an e-mail address": ("amina.bello@example.org.csv", "(withheld).csv"),
    "as long as a file system allows": ("EGY_" + "é" * 120 + ".xlsx", "EGY_" + "é" * 116),
    "longer than any allows": ("EGY_" + "é" * 5000 + ".xlsx", None),  # past the parser's header size: 400
    "control characters": ("EGY\x00\x07\u202e_2022.xlsx", "EGY_2022.xlsx"),
}


@pytest.mark.parametrize("name, shown", NAMES.values(), ids=NAMES.keys())
def test_a_file_name_is_only_ever_shown_and_sanitised(tmp_path, name, shown):
    app = portal_in(tmp_path)
    client = signed_in(app, "focal.point@egypt.example", "EGY")
    before = files_under(tmp_path)
    content = MEX_CSV if name.endswith(".csv") else EGY_FILE
    response = upload(client, name, content)
    # the name travels in no header of any response, and sets no cookie
    for each in (*response.history, response):
        for header, value in each.headers.items():
            assert "x=1" not in value and "passwd" not in value and "Amina" not in value, (header, value)
    assert "x" not in client.cookies
    if response.status_code != 200:  # refused outright (no accepted type): nothing kept
        assert response.status_code in (400, 415), response.status_code
        assert all(path.name.startswith("portal.sqlite") for path in files_under(tmp_path) - before)
        assert checks_count(app) == 0
        return
    check = check_id_of(response)
    written = files_under(tmp_path) - before
    check_dir = tmp_path / "portal" / "checks" / check
    outside = [path for path in written if check_dir not in path.parents and not path.name.startswith("portal.sqlite")]
    assert outside == []
    assert (check_dir / ("upload.csv" if name.endswith(".csv") else "upload.xlsx")).is_file()
    assert not any((tmp_path / "portal" / "checks" / ".incoming").iterdir())
    heading = re.search(r'<h1><bdi>(.*?)</bdi></h1>', response.text, re.S).group(1)
    stored = app.state.store.query("SELECT file_name FROM checks")[0][0]
    if shown is not None:
        assert stored == shown
    assert len(stored) <= 120 and "/" not in stored and "\\" not in stored and "\r" not in stored
    assert not any(ord(ch) < 32 for ch in stored)
    assert "<script" not in response.text and "Amina" not in response.text
    import html

    assert html.unescape(heading) == stored
    download = client.get(f"/checks/{check}/files/findings.csv")
    assert download.headers["content-disposition"] == f'attachment; filename="glotip-check-{check}-findings.csv"'
    if "Amina" in name:  # withheld everywhere: pages, records, reports, audit
        for path in files_under(tmp_path):
            assert b"Amina" not in path.read_bytes(), path


def test_a_file_of_another_type_is_refused_before_anything_is_written(tmp_path):
    app = portal_in(tmp_path)
    client = signed_in(app, "focal.point@egypt.example", "EGY")
    for name in ("report.html", "x.xlsx.exe", "passwd", "x.xlsx/.."):
        response = upload(client, name, b"<html>not a submission</html>")
        assert response.status_code == 415, name
    assert checks_count(app) == 0 and not any((tmp_path / "portal" / "checks" / ".incoming").iterdir())


# -- uploads too large ---------------------------------------------------------------------------

def test_an_oversize_upload_is_refused_with_or_without_its_length_announced(tmp_path):
    app = portal_in(tmp_path, settings_in(tmp_path, file_bytes=20_000))
    client = signed_in(app, "focal.point@egypt.example", "EGY")
    token = form_token(client.get("/").text)
    big = EGY_FILE * 4  # 105 KB: past the limit and the form's allowance, announced
    assert len(EGY_FILE) > 20_000 and len(big) > 20_000 + 64 * 1024
    announced = upload(client, "EGY_2022.xlsx", big, token=token)
    streamed = upload(client, "EGY_2022.xlsx", EGY_FILE, token=token)  # within the allowance: read to the limit
    body, kind = multipart({"csrf": token}, b"EGY_2022.xlsx", big)

    def chunks():
        for start in range(0, len(body), 4096):
            yield body[start:start + 4096]

    unannounced = client.post("/checks", content=chunks(), headers={"content-type": kind})
    for response in (announced, streamed, unannounced):
        assert response.status_code == 413
        assert "larger than allowed (20" in response.text
    assert checks_count(app) == 0
    assert not any((tmp_path / "portal" / "checks" / ".incoming").iterdir())
    assert [row["detail"] for row in audit_rows(app, "upload")] == ["upload_too_large"] * 3


# -- sessions and sign-in --------------------------------------------------------------------------

def test_a_session_is_dead_after_sign_out(tmp_path):
    app = portal_in(tmp_path)
    client = signed_in(app, "focal.point@egypt.example", "EGY")
    check = check_id_of(upload(client, "EGY_2022.xlsx", EGY_FILE))
    token = form_token(client.get("/").text)
    cookie = client.cookies["__Host-glotip_session"]
    assert client.post("/sign-out", data={"csrf": token}, follow_redirects=False).status_code == 303
    assert "__Host-glotip_session" not in client.cookies

    replay = browser(app)  # the old cookie, kept by someone
    replay.cookies.set("__Host-glotip_session", cookie)
    for path in ("/", f"/checks/{check}", f"/checks/{check}/files/report.json", "/templates/EGY/en.xlsx"):
        response = replay.get(path, follow_redirects=False)
        assert (response.status_code, response.headers["location"]) == (303, "/sign-in"), path
    again = upload(replay, "EGY_2022.xlsx", EGY_FILE, token=token, follow_redirects=False)
    assert (again.status_code, again.headers["location"]) == (303, "/sign-in")
    submit = replay.post(f"/checks/{check}/submit", data={"csrf": token}, follow_redirects=False)
    assert (submit.status_code, submit.headers["location"]) == (303, "/sign-in")
    assert checks_count(app) == 1 and not (tmp_path / "inbox").exists()
    assert [row["outcome"] for row in audit_rows(app, "sign-out")] == ["ok"]


def test_sign_in_is_refused_after_five_failures_even_with_the_right_secret(tmp_path):
    app = portal_in(tmp_path)
    secret = store.add_user(app.state.store, "focal.point@egypt.example", "EGY")
    client = browser(app)
    for attempt in range(5):
        assert sign_in(client, "focal.point@egypt.example", f"wrong-{attempt}").status_code == 401
    blocked = sign_in(client, "focal.point@egypt.example", secret)
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) == 15 * 60
    assert "__Host-glotip_session" not in client.cookies
    assert client.get("/", follow_redirects=False).status_code == 303
    outcomes = [row["outcome"] for row in audit_rows(app, "sign-in")]
    assert outcomes == ["failed"] * 5 + ["rate-limited"]
    # another account from elsewhere is not held up by them
    other = store.add_user(app.state.store, "focal.point@nepal.example", "NPL")
    assert sign_in(browser(app), "focal.point@nepal.example", other).status_code == 200


def test_secrets_and_tokens_are_stored_only_as_hashes(tmp_path):
    """The real `glotip portal add-user`, then a sign-in: the SQLite file (and its write-ahead
    log) holds argon2 hashes of secrets and SHA-256 of tokens, never one in clear."""
    write_config(tmp_path)
    secret = add_user(tmp_path, "focal.point@egypt.example", "EGY")
    settings = settings_in(tmp_path)
    app = create_app(PortalConfig(settings, tmp_path / "portal"))
    link = store.sign_in_link(app.state.store, "focal.point@egypt.example")
    client = browser(app)
    assert sign_in(client, "focal.point@egypt.example", secret).status_code == 200
    session = client.cookies["__Host-glotip_session"]
    (stored,) = app.state.store.query("SELECT secret_hash FROM users")
    assert stored[0].startswith("$argon2id$v=19$")
    assert app.state.store.hasher.verify(stored[0], secret)
    raw = b"".join(path.read_bytes() for path in (tmp_path / "portal").glob("portal.sqlite*"))
    for clear in (secret, session, link):
        assert clear.encode() not in raw
    assert store.token_hash(session).encode() in raw and store.token_hash(link).encode() in raw


def test_every_answer_forbids_caching_framing_and_sniffing_and_cookies_are_strict(tmp_path):
    app = portal_in(tmp_path)
    secret = store.add_user(app.state.store, "focal.point@egypt.example", "EGY")
    client = browser(app)
    page = client.get("/sign-in")
    signed = client.post("/sign-in", data={"email": "focal.point@egypt.example", "secret": secret,
                                            "csrf": form_token(page.text)}, follow_redirects=False)
    check = check_id_of(upload(client, "EGY_2022.xlsx", EGY_FILE))
    answers = [page, signed, client.get("/"), client.get(f"/checks/{check}"),
               client.get(f"/checks/{check}/files/report.html"), client.get(f"/checks/{check}/files/annotated.xlsx"),
               client.get("/templates/EGY/en.xlsx"), client.get("/portal.css"), client.get("/no/such/page")]
    for response in answers:
        assert response.headers["cache-control"] == "no-store", response.url
        assert response.headers["x-content-type-options"] == "nosniff", response.url
        assert response.headers["x-frame-options"] == "DENY", response.url
        policy = response.headers["content-security-policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy, response.url
        assert "script-src" not in policy, response.url
    for response in (page, signed):
        for cookie in response.headers.get_list("set-cookie"):
            if "Max-Age=0" in cookie or "expires=Thu, 01 Jan 1970" in cookie:
                continue  # a deletion
            assert cookie.startswith("__Host-"), cookie
            flags = {part.strip().lower() for part in cookie.split(";")[1:]}
            assert {"httponly", "secure", "samesite=strict", "path=/"} <= flags, cookie
    assert any(cookie.startswith("__Host-glotip_session=") for cookie in signed.headers.get_list("set-cookie"))


# -- on a real socket: slow and unannounced uploads -----------------------------------------------

@pytest.fixture(scope="module")
def strict_server(tmp_path_factory):
    """The real `glotip portal` with small limits from its config: 20 KB a file, 1 s without a
    byte, 4 s an upload; an Egyptian focal point signed in."""
    folder = tmp_path_factory.mktemp("strict")
    config = write_config(folder)
    config.write_text(config.read_text(encoding="utf-8") + "[limits]\nfile_bytes = 20_000\n"
                      "[portal]\nupload_idle_seconds = 1\nupload_seconds = 4\n", encoding="utf-8")
    secret = add_user(folder, "focal.point@egypt.example", "EGY")
    with PortalServer(folder) as server:
        client = loopback_client(server.url)
        assert sign_in(client, "focal.point@egypt.example", secret).headers["location"] == "/"
        yield server, client, form_token(client.get("/").text)
        client.close()


def raw_upload(server: PortalServer, client, body: bytes, kind: str, *, announced: bool,
               pieces: list[tuple[int, float]]) -> tuple[bytes, float]:
    """Send a POST /checks over a plain socket: `pieces` is (bytes, pause after) in order, the
    rest at once, stopping as soon as the server answers; returns the answer's head and the
    seconds until it came."""
    cookies = "; ".join(f"{name}={value}" for name, value in client.jar.items())
    head = ["POST /checks HTTP/1.1", f"Host: 127.0.0.1:{server.port}", f"Cookie: {cookies}",
            f"Content-Type: {kind}", f"Content-Length: {len(body)}" if announced else "Transfer-Encoding: chunked"]
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        started = time.monotonic()
        connection.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
        sent = 0
        try:
            for size, pause in [*pieces, (len(body), 0)]:
                piece = body[sent:sent + size]
                sent += len(piece)
                if piece:
                    connection.sendall(piece if announced else b"%x\r\n%s\r\n" % (len(piece), piece))
                if select.select([connection], [], [], pause)[0]:
                    break  # answered before the upload ended
            else:
                if not announced:
                    connection.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before the rest: what a refusal may do
        answer = b""
        try:
            while b"\r\n\r\n" not in answer:
                data = connection.recv(65536)
                if not data:
                    break
                answer += data
        except ConnectionResetError:
            pass
        return answer, time.monotonic() - started


def test_an_upload_that_stalls_is_dropped_and_others_are_served_meanwhile(strict_server):
    server, client, token = strict_server
    body, kind = multipart({"csrf": token}, b"EGY_2022.xlsx", MEX_CSV)
    answer, seconds = raw_upload(server, client, body, kind, announced=True, pieces=[(300, 3.5)])
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert 0.9 < seconds < 3  # dropped after the idle second, not when the pause ended
    # a trickle: a byte a few times a second never stalls, but the whole upload has 4 s
    trickle = [(1, 0.25)] * 40
    answer, seconds = raw_upload(server, client, body, kind, announced=False, pieces=trickle)
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    assert 3.9 < seconds < 9
    # while one upload stalls, the portal answers others at once
    import threading

    stalled = threading.Thread(target=raw_upload, args=(server, client, body, kind),
                               kwargs={"announced": True, "pieces": [(300, 2)]})
    stalled.start()
    time.sleep(0.3)
    started = time.monotonic()
    assert client.get("/").status_code == 200
    assert time.monotonic() - started < 1
    stalled.join()
    audit = store.Store(server.folder / "portal" / "portal.sqlite").query(
        "SELECT detail FROM audit WHERE event = 'upload' ORDER BY rowid")
    assert [row[0] for row in audit] == ["upload_too_slow"] * 3


def test_an_oversize_upload_on_a_real_socket_is_refused_announced_or_not(strict_server):
    server, client, token = strict_server
    body, kind = multipart({"csrf": token}, b"EGY_2022.xlsx", EGY_FILE * 4)
    for announced in (True, False):
        answer, _ = raw_upload(server, client, body, kind, announced=announced, pieces=[])
        assert answer.startswith(b"HTTP/1.1 413"), (announced, answer[:200])
    assert client.get("/").status_code == 200  # the server is still there
    incoming = server.folder / "portal" / "checks" / ".incoming"
    assert not incoming.exists() or not any(incoming.iterdir())
