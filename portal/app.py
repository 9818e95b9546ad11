"""The submitters' portal: a focal point signs in, checks a file, reads its report, submits it.

`create_app(config)` builds the FastAPI application; `glotip portal` serves it with uvicorn.
Everything the app needs is in its `PortalConfig` and its `Store`, made in `create_app` and
kept on `app.state`: nothing at module level.

Access: every record (a check, a submission in the register, a template) belongs to a
country; a focal point sees their own country's, the data team (`country` = `*`) all. Asked
for something they may not see, a user gets the very page an unknown id gets (404, same body),
and the refusal goes to the audit log.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hmac
import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from pipeline.settings import Settings
from portal import checks, pages, store
from portal.store import Store
from portal.uploads import UploadRefused, receive_upload
from schemas import i18n
from schemas.countries import country_codes

SESSION_COOKIE = "glotip_session"
SIGN_IN_COOKIE = "glotip_sign_in"  # the sign-in form's CSRF token, before there is a session
LANGUAGE_COOKIE = "glotip_lang"


@dataclass(frozen=True)
class PortalConfig:
    settings: Settings  # inbox, warehouse, limits: those of the ingestion
    portal_dir: Path  # the portal's own records, checks and templates
    session_hours: float = 12.0
    # sign-in attempts that fail within `failure_window_minutes`: past these, sign-in is refused
    # for that e-mail (or from that client) until the window has passed
    failures_per_email: int = 5
    failures_per_client: int = 20
    failure_window_minutes: float = 15.0
    upload_seconds: float = 300.0  # a whole upload
    upload_idle_seconds: float = 30.0  # no byte for this long: the upload is dropped
    checks_at_once: int = 2  # validations at the same time (2 cores)
    # called (in the background) after each submission: `glotip portal --run-on-submit` passes
    # one that asks Prefect for an ingestion run now; None waits for the next scheduled run
    after_submit: Callable[[], object] | None = None

    @property
    def store_path(self) -> Path:
        return self.portal_dir / "portal.sqlite"


@dataclass
class Visit:
    """One request as the pages see it: who, in which language, with which CSRF token."""

    request: Request
    language: str
    session: store.Session | None = None

    @property
    def user(self) -> store.User | None:
        return self.session.user if self.session else None


def create_app(config: PortalConfig) -> FastAPI:
    app = FastAPI(title="GLOTIP submitters' portal", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.config = config
    app.state.store = Store(config.store_path)
    app.state.checking = asyncio.Semaphore(config.checks_at_once)
    app.state.known_countries = frozenset(country_codes())
    _routes(app)
    return app


def cookie_name(name: str) -> str:
    # `__Host-`: the browser keeps it only if Secure, for this host alone, path /
    return f"__Host-{name}"


def _routes(app: FastAPI) -> None:  # noqa: C901 - the routes, one after the other
    config: PortalConfig = app.state.config
    db: Store = app.state.store

    @app.middleware("http")
    async def headers(request: Request, call_next):
        response = await call_next(request)
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        # not no-referrer: under it browsers send `Origin: null` with every form post, and
        # same_origin() (the CSRF check) would refuse them all; same-origin still sends no
        # address to any other site
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Cache-Control"] = "no-store"
        return response

    def visit(request: Request) -> Visit:
        language = _language(request)
        found = None
        token = request.cookies.get(cookie_name(SESSION_COOKIE))
        if token:
            found = store.find_session(db, token)
        return Visit(request, language, found)

    def client(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    def page(v: Visit, template: str, status: int = 200, **values) -> HTMLResponse:
        response = HTMLResponse(pages.render(template, v, config, **values), status_code=status)
        if v.request.query_params.get("lang") == v.language:
            response.set_cookie(LANGUAGE_COOKIE, v.language, max_age=365 * 86400, samesite="lax",
                                secure=True, httponly=True)
        return response

    def not_found(v: Visit, asked: str, exists: bool) -> HTMLResponse:
        """The same answer whether `asked` does not exist or is another country's; the
        audit log says which."""
        if v.user is not None:
            store.audit(db, "refused", "not-found" if not exists else "other-country", user=v.user,
                        object=asked[:200], client=client(v.request))
        return page(v, "message.html.j2", 404, title_key="not_found", text_key="not_found_text")

    def to_sign_in() -> RedirectResponse:
        return RedirectResponse("/sign-in", status_code=303)

    def same_origin(request: Request) -> bool:
        """A form posted from this site: the browser's Origin (or Sec-Fetch-Site) says so."""
        site = request.headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            return False
        origin = request.headers.get("origin")
        if origin is None or origin == "null":
            return origin is None
        host = request.headers.get("host", "")
        return origin.split("://", 1)[-1] == host

    def csrf_ok(v: Visit, token: str | None) -> bool:
        return (v.session is not None and token is not None and same_origin(v.request)
                and hmac.compare_digest(token.encode(), v.session.csrf_token.encode()))

    def refused_form(v: Visit, what: str) -> HTMLResponse:
        store.audit(db, "refused", "csrf", user=v.user, object=what, client=client(v.request))
        return page(v, "message.html.j2", 403, title_key="form_expired", text_key="form_expired_text")

    # -- signing in and out --------------------------------------------------------------------

    @app.get("/sign-in")
    def sign_in_page(request: Request):
        v = visit(request)
        if v.user:
            return RedirectResponse("/", status_code=303)
        return _sign_in_form(v, 200)

    def _sign_in_form(v: Visit, status: int, problem: str | None = None, link: str | None = None) -> HTMLResponse:
        token = secrets.token_urlsafe(32)
        response = page(v, "sign_in.html.j2", status, sign_in_token=token, problem=problem, link=link)
        response.set_cookie(cookie_name(SIGN_IN_COOKIE), token, max_age=3600, httponly=True,
                            secure=True, samesite="strict", path="/")
        return response

    def sign_in_form_ok(request: Request, form: dict) -> bool:
        """Before a session, the form's token must match the one its page set as a cookie."""
        expected = request.cookies.get(cookie_name(SIGN_IN_COOKIE), "")
        given = form.get("csrf", "")
        return bool(expected) and same_origin(request) and hmac.compare_digest(expected.encode(), given.encode())

    @app.post("/sign-in")
    async def sign_in(request: Request):
        v = visit(request)
        form = await _small_form(request)
        email = form.get("email", "").strip()[:320]
        secret = form.get("secret", "")[:200]
        if not sign_in_form_ok(request, form):
            store.audit(db, "sign-in", "refused", email=email, detail="csrf", client=client(request))
            return _sign_in_form(v, 403, "form_expired_text")
        window = dt.timedelta(minutes=config.failure_window_minutes)
        by_email, by_client = store.recent_failures(db, email, client(request), window)
        if by_email >= config.failures_per_email or by_client >= config.failures_per_client:
            store.audit(db, "sign-in", "rate-limited", email=email, client=client(request))
            response = _sign_in_form(v, 429, "too_many_attempts")
            response.headers["Retry-After"] = str(int(window.total_seconds()))
            return response
        user = await run_in_threadpool(store.check_secret, db, email, secret)  # argon2: CPU-bound
        store.record_attempt(db, email, client(request), user is not None)
        if user is None:
            store.audit(db, "sign-in", "failed", email=email, client=client(request))
            return _sign_in_form(v, 401, "sign_in_failed")
        return _signed_in(user, request)

    # A one-time link opens a page with a button: e-mail scanners that follow links (a GET) do
    # not spend it; only the person pressing the button (a POST from this page) does.
    @app.get("/sign-in/link/{token}")
    def sign_in_link_page(token: str, request: Request):
        return _sign_in_form(visit(request), 200, link=token[:100])

    @app.post("/sign-in/link")
    async def sign_in_link(request: Request):
        v = visit(request)
        form = await _small_form(request)
        if not sign_in_form_ok(request, form):
            store.audit(db, "sign-in-link", "refused", detail="csrf", client=client(request))
            return _sign_in_form(v, 403, "form_expired_text")
        user = store.use_sign_in_link(db, form.get("link", "")[:100])
        if user is None:
            store.audit(db, "sign-in-link", "refused", client=client(request))
            return _sign_in_form(v, 401, "link_used")
        return _signed_in(user, request)

    def _signed_in(user: store.User, request: Request) -> RedirectResponse:
        token, _ = store.start_session(db, user, dt.timedelta(hours=config.session_hours))
        store.audit(db, "sign-in", "ok", user=user, client=client(request))
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(cookie_name(SESSION_COOKIE), token, httponly=True, samesite="strict",
                            secure=True, path="/", max_age=int(config.session_hours * 3600))
        response.delete_cookie(cookie_name(SIGN_IN_COOKIE), path="/", secure=True)
        return response

    @app.post("/sign-out")
    async def sign_out(request: Request):
        v = visit(request)
        form = await _small_form(request)
        if v.session is None:
            return to_sign_in()
        if not csrf_ok(v, form.get("csrf")):
            return refused_form(v, "sign-out")
        store.end_session(db, v.session)
        store.audit(db, "sign-out", "ok", user=v.user, client=client(request))
        response = to_sign_in()
        response.delete_cookie(cookie_name(SESSION_COOKIE), path="/", secure=True)
        return response

    # -- pages -----------------------------------------------------------------------------------

    @app.get("/")
    def home(request: Request):
        v = visit(request)
        if v.user is None:
            return to_sign_in()
        own = None if v.user.is_team else v.user.country
        listed = store.checks_of(db, v.user)
        return page(v, "home.html.j2", checks=listed, submissions=checks.register_rows(config.settings.db, own),
                    submitted=_submitted_statuses(listed))

    def _submitted_statuses(listed) -> dict[str, dict]:
        """Of each check submitted, its row in the register once an ingestion has taken it."""
        submitted = {row["sha256"]: row["check_id"] for row in listed if row["submitted_at"] and row["sha256"]}
        if not submitted:
            return {}
        return {submitted[found["sha256"]]: found
                for found in checks.register_rows(config.settings.db, sha256=list(submitted))}

    @app.get("/portal.css")
    def stylesheet():
        return FileResponse(pages.STATIC / "portal.css", media_type="text/css")

    # -- self-check --------------------------------------------------------------------------------

    @app.post("/checks")
    async def upload(request: Request):
        v = visit(request)
        if v.user is None:
            return to_sign_in()
        limits = config.settings.limits
        folder = config.portal_dir / "checks" / ".incoming" / secrets.token_hex(8)
        try:
            try:
                received = await receive_upload(request, folder, max_bytes=limits.file_bytes,
                                                seconds=config.upload_seconds,
                                                idle_seconds=config.upload_idle_seconds)
            except UploadRefused as refused:
                store.audit(db, "upload", "refused", user=v.user, detail=refused.reason, client=client(request))
                return page(v, "message.html.j2", refused.status, title_key="upload_refused",
                            text_key=refused.reason, values=refused.values)
            if not csrf_ok(v, received.fields.get("csrf")):
                return refused_form(v, "upload")
            check_id = store.new_check(db, v.user, received.display_name, received.file_format, v.language)
            check_dir = config.portal_dir / "checks" / check_id
            folder.rename(check_dir)
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        store.audit(db, "upload", "ok", user=v.user, object=check_id, client=client(request))
        async with app.state.checking:
            try:
                result = await run_in_threadpool(checks.run_check, check_dir / received.path.name,
                                                 check_dir / "report", config.settings, v.language)
            except Exception as problem:  # noqa: BLE001 - the user gets a page, the log the cause
                result = checks.CheckResult("failed", problem=f"{type(problem).__name__}: {problem}")
        store.finish_check(db, check_id, status=result.status, sha256=result.sha256,
                           file_country=result.file_country, errors=result.errors,
                           warnings=result.warnings, report_dir=result.report_dir)
        if result.problem:
            store.audit(db, "check", "failed", user=v.user, object=check_id, detail=result.problem[:500])
        return RedirectResponse(f"/checks/{check_id}", status_code=303)

    def own_check(request: Request, check_id: str):
        """(the visit, the check, None), or (the visit, None, the answer instead): to sign in,
        or not found."""
        v = visit(request)
        if v.user is None:
            return v, None, to_sign_in()
        row = store.find_check(db, check_id[:64])
        if row is None or not v.user.may_see(row["country"]):
            return v, None, not_found(v, f"check {check_id}", row is not None)
        return v, row, None

    @app.get("/checks/{check_id}")
    def check_page(check_id: str, request: Request):
        v, row, stop = own_check(request, check_id)
        if stop:
            return stop
        report = checks.report_json(row["report_dir"])
        registered = checks.register_rows(config.settings.db, sha256=[row["sha256"]], limit=1) if (
            row["submitted_at"] and row["sha256"]) else []
        return page(v, "check.html.j2", check=row, report=report, registered=registered[0] if registered else None,
                    may_submit=_may_submit(v.user, row), has_annotated=checks.offers(row["report_dir"], "annotated.xlsx"))

    def _may_submit(user: store.User, row) -> str | None:
        """None when the check's file may be submitted; else why not (a text key)."""
        if row["submitted_at"]:
            return "already_submitted"
        if row["removed_at"]:
            return "check_removed"
        if row["status"] == "failed":
            return "check_failed"
        if row["status"] not in checks.PASSING:
            return "fix_first"
        if not user.is_team and row["file_country"] != user.country:
            return "other_country_file"
        return None

    @app.get("/checks/{check_id}/files/{name}")
    def check_file(check_id: str, name: str, request: Request):
        v, row, stop = own_check(request, check_id)
        if stop:
            return stop
        return _report_file(v, row["report_dir"], name, f"check {check_id}", f"glotip-check-{check_id}")

    def _report_file(v: Visit, report_dir: str | None, name: str, what: str, stem: str) -> Response:
        if not checks.offers(report_dir, name):
            return not_found(v, f"{what} {name}", False)
        store.audit(db, "download", "ok", user=v.user, object=f"{what} {name}", client=client(v.request))
        response = FileResponse(Path(report_dir) / name, media_type=checks.DOWNLOADS[name])
        # the name is ours (an id and a fixed name), never the uploaded one: nothing to inject
        disposition = "inline" if name == "report.html" else "attachment"
        response.headers["Content-Disposition"] = f'{disposition}; filename="{stem}-{name}"'
        if name == "report.html":  # the report's own inline styles; still no script, no frames
            response.headers["Content-Security-Policy"] = (
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'")
        return response

    @app.post("/checks/{check_id}/submit")
    async def submit(check_id: str, request: Request):
        form = await _small_form(request)
        v, row, stop = own_check(request, check_id)
        if stop:
            return stop
        if not csrf_ok(v, form.get("csrf")):
            return refused_form(v, f"submit {check_id}")
        why_not = _may_submit(v.user, row)
        if why_not:
            store.audit(db, "submit", "refused", user=v.user, object=check_id, detail=why_not, client=client(request))
            return RedirectResponse(f"/checks/{check_id}", status_code=303)
        check_dir = config.portal_dir / "checks" / row["check_id"]
        upload = check_dir / f"upload.{row['file_format']}"
        entry = checks.submit(upload, config.settings.inbox, row["file_name"], row["file_country"],
                              row["check_id"])
        if not store.mark_submitted(db, row["check_id"], entry):  # a double click
            (Path(config.settings.inbox) / entry).unlink(missing_ok=True)
        store.audit(db, "submit", "ok", user=v.user, object=check_id, detail=entry, client=client(request))
        return RedirectResponse(f"/checks/{check_id}", status_code=303,
                                background=BackgroundTask(start_run, v.user, check_id) if config.after_submit else None)

    def start_run(user: store.User, check_id: str) -> None:
        """The ingestion asked for now; if that fails the file waits in the inbox for the next
        scheduled run, and the audit log says why."""
        try:
            run = config.after_submit()
        except Exception as problem:  # noqa: BLE001 - the submission stands either way
            store.audit(db, "run-on-submit", "failed", user=user, object=check_id,
                        detail=f"{type(problem).__name__}: {problem}"[:500])
            return
        store.audit(db, "run-on-submit", "ok", user=user, object=check_id, detail=str(run)[:200])

    # -- the register ------------------------------------------------------------------------------

    @app.get("/submissions/{submission_id}")
    def submission_page(submission_id: str, request: Request):
        v, row, stop = own_submission(request, submission_id)
        if stop:
            return stop
        return page(v, "submission.html.j2", submission=row, report=checks.report_json(row["report_dir"]),
                    history=checks.register_rows(config.settings.db, row["country"]),
                    has_annotated=checks.offers(row["report_dir"], "annotated.xlsx"))

    def own_submission(request: Request, submission_id: str):
        """As `own_check`, for a submission in the register."""
        v = visit(request)
        if v.user is None:
            return v, None, to_sign_in()
        rows = checks.register_rows(config.settings.db, submission_id=submission_id[:64], limit=1)
        if not rows or not v.user.may_see(rows[0]["country"]):
            return v, None, not_found(v, f"submission {submission_id}", bool(rows))
        return v, rows[0], None

    @app.get("/submissions/{submission_id}/files/{name}")
    def submission_file(submission_id: str, name: str, request: Request):
        v, row, stop = own_submission(request, submission_id)
        if stop:
            return stop
        return _report_file(v, row["report_dir"], name, f"submission {submission_id}",
                            f"glotip-{row['submission_id']}")

    # -- templates -------------------------------------------------------------------------------

    @app.get("/templates/{country}/{language}.xlsx")
    async def template(country: str, language: str, request: Request):
        v = visit(request)
        if v.user is None:
            return to_sign_in()
        known = country == "blank" or country in app.state.known_countries
        if not known or language not in i18n.LANGUAGES or not (country == "blank" or v.user.may_see(country)):
            return not_found(v, f"template {country}/{language}", known and language in i18n.LANGUAGES)
        path = await run_in_threadpool(pages.template_file, config.portal_dir / "templates", country, language)
        store.audit(db, "download", "ok", user=v.user, object=f"template {country}/{language}", client=client(request))
        response = FileResponse(path, media_type=checks.DOWNLOADS["annotated.xlsx"])
        response.headers["Content-Disposition"] = f'attachment; filename="glotip-template-{country}-{language}.xlsx"'
        return response

    @app.exception_handler(404)
    async def unknown_page(request: Request, problem):
        return page(visit(request), "message.html.j2", 404, title_key="not_found", text_key="not_found_text")

    @app.exception_handler(Exception)
    async def our_fault(request: Request, problem: Exception):
        """A page that says so, never a traceback; the cause goes to the audit log."""
        store.audit(db, "error", "failed", object=request.url.path[:200],
                    detail=f"{type(problem).__name__}: {problem}"[:500], client=client(request))
        return page(Visit(request, _language(request)), "message.html.j2", 500,
                    title_key="server_error", text_key="server_error_text")


async def _small_form(request: Request) -> dict[str, str]:
    """A URL-encoded form of a few fields; anything else or larger is an empty form."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return {}
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > 16 * 1024:
            return {}
    from urllib.parse import parse_qsl

    return dict(parse_qsl(body.decode("utf-8", "replace"), max_num_fields=10))


def _language(request: Request) -> str:
    """`?lang=`, else the language cookie, else the browser's first language we have."""
    for asked in (request.query_params.get("lang"), request.cookies.get(LANGUAGE_COOKIE)):
        if asked in i18n.LANGUAGES:
            return asked
    return pages.negotiate(request.headers.get("accept-language", ""))

