"""The portal in a real browser: Debian's chromium (/usr/bin/chromium) driven by Playwright,
against the real `glotip portal` on loopback.

A Philippine focal point signs in, checks the errors sample, reads the findings, downloads the
annotated workbook, checks a corrected file, submits it and, once an ingestion has taken it,
sees it accepted; an Egyptian focal point then sees none of it. Full-page screenshots of each
step, in English and in Arabic (right to left), at desktop and phone width, go to the folder
named by GLOTIP_SCREENSHOTS, else to a temporary one.

Without /usr/bin/chromium the tests are skipped, unless GLOTIP_REQUIRE_BROWSER=1 (CI), where
they fail. The module's tests build on each other (one server, one journey), in file order.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import openpyxl
import pytest

from tests.conftest import SAMPLES
from tests.portal_support import PortalServer, add_user, write_config

CHROMIUM = Path("/usr/bin/chromium")
PHL_EMAIL = "focal.point@phl.example"
EGY_EMAIL = "focal.point@egy.example"
TIMEOUT_MS = 30_000  # any element; a busy 2-core machine is slow, never this slow
CHECK_TIMEOUT_MS = 120_000  # an upload and its check (a child process reads the workbook)
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        reason = f"Debian's chromium is not installed ({CHROMIUM}; apt-get install chromium)"
        if os.environ.get("GLOTIP_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{reason}, and GLOTIP_REQUIRE_BROWSER=1 requires it")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # as root (containers, CI) chromium refuses to start with its sandbox; /dev/shm is small there
    args = ["--disable-dev-shm-usage"] + (["--no-sandbox"] if os.geteuid() == 0 else [])
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    named = os.environ.get("GLOTIP_SCREENSHOTS")
    folder = Path(named) if named else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def portal(browser, tmp_path_factory):
    """The real `glotip portal` on its own folders, with a PHL and an EGY focal point."""
    folder = tmp_path_factory.mktemp("portal")
    write_config(folder)
    secrets = {"PHL": add_user(folder, PHL_EMAIL, "PHL"), "EGY": add_user(folder, EGY_EMAIL, "EGY")}
    with PortalServer(folder) as server:
        server.secrets = secrets
        yield server


@pytest.fixture(scope="module")
def journey() -> dict:
    """What the first test did (ids, URLs), for the tests after it."""
    return {}


def new_page(browser, **options):
    context = browser.new_context(accept_downloads=True, **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context, context.new_page()


def sign_in(page, url: str, email: str, secret: str) -> None:
    page.goto(f"{url}/sign-in?lang=en")
    page.fill("#email", email)
    page.fill("#secret", secret)
    page.click("form.stacked button[type=submit]")
    page.wait_for_url(f"{url}/")


def check_file(page, path: Path) -> str:
    """Upload `path` through the home page's form, with the file chooser; returns the check id."""
    with page.expect_file_chooser() as chooser:
        page.click("#file")
    chooser.value.set_files(str(path))
    page.click("form.upload button[type=submit]")
    page.wait_for_url(re.compile(r"/checks/[A-Za-z0-9_-]+$"), timeout=CHECK_TIMEOUT_MS)
    return page.url.rsplit("/", 1)[1]


def screenshots(page, shots: Path, name: str) -> None:
    """The page shown now, full length, in English then in Arabic (right to left); it is left
    in English."""
    from playwright.sync_api import expect

    address = page.url.split("?")[0]
    for language, direction in (("ar", "rtl"), ("en", "ltr")):
        page.goto(f"{address}?lang={language}")
        expect(page.locator("html")).to_have_attribute("dir", direction)
        expect(page.locator("html")).to_have_attribute("lang", language)
        page.screenshot(path=str(shots / f"{name}-{language}.png"), full_page=True)


def corrected_philippines(path: Path) -> Path:
    """PHL_2022_errors.xlsx with each of its mistakes put right (what a focal point does after
    reading the report): exact counts, parts within totals, no repeated, misspelt or stray rows."""
    workbook = openpyxl.load_workbook(SAMPLES / "PHL_2022_errors.xlsx")
    workbook["submission"]["E2"] = "focal.point@tip-data.gov.ph"  # was [at]
    victims = workbook["victims"]
    assert victims["F8"].value == "<5" and victims["F9"].value == 120
    victims["F8"] = 5  # male adults: 57 males, 52 of them boys
    victims["F9"] = 158  # children: 106 girls + 52 boys
    victims["F10"] = 80  # adults: 75 women + 5 men
    victims.delete_rows(11, victims.max_row)  # 12.5, "ten", "femal", "Philipines", repeats, 2021, no age, "Total"
    victims.append([2022, "total", "total", "total", "PHL", 238])
    offenders = workbook["offenders"]
    assert offenders["G3"].value == -120
    offenders["G3"] = 120  # 302 suspected, 182 of them male
    workbook.save(path)
    return path


def test_focal_point_checks_fixes_submits_and_sees_it_accepted(portal, browser, shots, journey, tmp_path,
                                                               prefect_server):
    from playwright.sync_api import expect

    from flows.ingest import ingest_submissions

    url = portal.url
    context, page = new_page(browser)
    try:
        page.goto(f"{url}/")
        page.wait_for_url(f"{url}/sign-in")
        screenshots(page, shots, "1-sign-in")
        sign_in(page, url, PHL_EMAIL, portal.secrets["PHL"])
        expect(page.locator("#checks")).to_contain_text("No file checked yet.")
        screenshots(page, shots, "2-home-empty")

        # the errors sample: rejected, each mistake at its cell, nothing to submit
        errors_id = check_file(page, SAMPLES / "PHL_2022_errors.xlsx")
        expect(page.locator("#status")).to_have_text("Rejected")
        expect(page.locator("h1")).to_have_text("PHL_2022_errors.xlsx")
        findings = page.locator("table.findings tbody tr")
        expect(findings).to_have_count(12)
        for where, what in (("victims!F8", "<5"), ("victims!B13", "femal"), ("victims!F12", "ten"),
                            ("offenders!G3", "-120"), ("victims!A17", "2021"), ("submission!E2", "e-mail")):
            row = findings.filter(has=page.locator("td", has_text=re.compile(f"^{re.escape(where)}$")))
            expect(row).to_have_count(1)
            expect(row.locator("td").nth(1)).to_have_text("Error")
            expect(row.locator("td").nth(2)).to_contain_text(what)
        expect(page.locator("#submit")).to_contain_text("Correct the errors below")
        expect(page.locator("#submit button")).to_have_count(0)
        screenshots(page, shots, "3-check-rejected")

        # the annotated workbook: the same findings, as comments on the cells
        with page.expect_download() as download:
            page.click("#downloads a[href$='/annotated.xlsx']")
        annotated = tmp_path / "annotated.xlsx"
        download.value.save_as(annotated)
        assert download.value.suggested_filename == f"glotip-check-{errors_id}-annotated.xlsx"
        workbook = openpyxl.load_workbook(annotated)
        for sheet, cell, said in (("victims", "F8", "<5"), ("victims", "B13", "femal"), ("offenders", "G3", "-120")):
            comment = workbook[sheet][cell].comment
            assert comment is not None and said in comment.text, (sheet, cell, comment)
        assert workbook["victims"]["F2"].comment is None  # a correct cell is left alone

        # the corrected file: accepted, no findings, submitted into the inbox
        page.goto(f"{url}/")
        fixed_id = check_file(page, corrected_philippines(tmp_path / "PHL_2022.xlsx"))
        expect(page.locator("#status")).to_have_text("Accepted")
        expect(page.locator("#findings")).to_contain_text("No errors or warnings.")
        page.click("#submit button[type=submit]")
        expect(page.locator("#submission-status")).to_have_text("Received")
        expect(page.locator("#submit button")).to_have_count(0)
        screenshots(page, shots, "4-check-submitted")
        inbox = portal.folder / "inbox"
        assert [entry.name for entry in inbox.iterdir()] == [f"PHL_2022_{fixed_id}.xlsx"]

        # the scheduled run takes it: the warehouse registers it and publishes the snapshot
        outcomes = ingest_submissions(str(inbox), str(portal.folder / "glotip.duckdb"),
                                      str(portal.folder / "reports"), str(portal.folder / "archive"),
                                      settle_seconds=0)
        assert [(o["file_name"], o["status"]) for o in outcomes] == [(f"PHL_2022_{fixed_id}.xlsx", "accepted")], outcomes
        submission_id = outcomes[0]["submission_id"]
        page.reload()
        expect(page.locator("#submission-status")).to_have_text("Accepted")
        page.click(f"#submit a[href='/submissions/{submission_id}']")
        page.wait_for_url(f"{url}/submissions/{submission_id}")
        expect(page.locator("#submission-status")).to_have_text("Accepted")
        expect(page.locator("h1")).to_have_text(submission_id)
        screenshots(page, shots, "5-submission-accepted")

        page.goto(f"{url}/")
        expect(page.locator(f"#checks a[href='/checks/{errors_id}']")).to_have_count(1)
        expect(page.locator(f"#checks a[href='/submissions/{submission_id}']")).to_have_text("Accepted")
        expect(page.locator(f"#submissions a[href='/submissions/{submission_id}']")).to_have_count(1)
        screenshots(page, shots, "6-home")
    finally:
        context.close()
    journey.update(errors_id=errors_id, fixed_id=fixed_id, submission_id=submission_id)


def test_another_country_sees_none_of_it(portal, browser, journey):
    from playwright.sync_api import expect

    if "submission_id" not in journey:
        pytest.fail("runs after the focal point's journey (the test above), on what it left")
    url = portal.url
    context, page = new_page(browser)
    try:
        sign_in(page, url, EGY_EMAIL, portal.secrets["EGY"])
        expect(page.locator("#checks")).to_contain_text("No file checked yet.")
        expect(page.locator("#submissions")).to_contain_text("No submission received yet.")
        home = page.content()
        for value in (*journey.values(), "PHL_2022", "Philippines"):
            assert value not in home

        page.goto(f"{url}/checks/no-such-check")
        unknown = page.locator("main").inner_html()
        assert "There is no such page" in unknown
        phl = journey["errors_id"], journey["fixed_id"], journey["submission_id"]
        for path in (f"/checks/{phl[0]}", f"/checks/{phl[1]}", f"/checks/{phl[0]}/files/annotated.xlsx",
                     f"/checks/{phl[0]}/files/report.html", f"/checks/{phl[1]}/files/findings.csv",
                     f"/submissions/{phl[2]}", f"/submissions/{phl[2]}/files/report.json",
                     "/templates/PHL/en.xlsx"):
            response = page.goto(url + path)
            assert response.status == 404, path
            assert page.locator("main").inner_html() == unknown, path
        # nor submit PHL's check: the same answer, nothing more in the inbox
        token = page.locator("header input[name=csrf]").get_attribute("value")
        response = page.request.post(f"{url}/checks/{phl[1]}/submit", form={"csrf": token},
                                     headers={"Origin": url})
        assert response.status == 404
        assert len(list((portal.folder / "inbox").iterdir())) == 1
    finally:
        context.close()


def test_pages_at_phone_width_in_both_directions(portal, browser, shots, journey):
    """390 px wide: nothing wider than the screen (tables scroll within their section)."""
    if "submission_id" not in journey:
        pytest.fail("runs after the focal point's journey (the test above), on what it left")
    url = portal.url
    context, page = new_page(browser, viewport=PHONE, is_mobile=True, has_touch=True)
    too_wide = []

    def shoot(name: str, path: str) -> None:
        for language in ("ar", "en"):
            page.goto(f"{url}{path}?lang={language}")
            page.screenshot(path=str(shots / f"phone-{name}-{language}.png"), full_page=True)
            wider = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            if wider > 0:
                too_wide.append(f"{path} in {language}: {wider}px")

    try:
        shoot("sign-in", "/sign-in")
        sign_in(page, url, PHL_EMAIL, portal.secrets["PHL"])
        shoot("home", "/")
        shoot("check-rejected", f"/checks/{journey['errors_id']}")
        shoot("check-submitted", f"/checks/{journey['fixed_id']}")
        shoot("submission-accepted", f"/submissions/{journey['submission_id']}")
    finally:
        context.close()
    assert not too_wide, f"wider than a phone: {too_wide}"
