"""The security headers as a real browser receives them, on the home page, a form page, a report
and the account page, and the pages working under them: no inline script or style was refused
(nothing logged, no securitypolicyviolation event), GOV.UK Frontend's JavaScript ran from its
files, axe finds no serious issue, and another site cannot frame the pages."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from deliberate.extensions import db
from deliberate.services import reports
from tests.test_reports import analyse, two_rounds

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

WATCH_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
"""


@pytest.fixture
def team(create_user, missions):
    return create_user(email="team@example.org", team=tuple(missions.values()))


@pytest.fixture
def csp_console(page):
    """What the browser logged about the Content-Security-Policy."""
    logged: list[str] = []
    page.on(
        "console",
        lambda message: (
            logged.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.add_init_script(WATCH_VIOLATIONS)
    return logged


def assert_headers(response, private: bool) -> None:
    headers = response.all_headers()
    assert headers["content-security-policy"] == CSP
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert headers["x-frame-options"] == "DENY"
    # Only the development server names itself (gunicorn, in production, says just "gunicorn").
    assert headers["server"].startswith("Werkzeug/") and "," not in headers["server"]
    assert "strict-transport-security" not in headers  # development: plain HTTP
    assert (headers.get("cache-control") == "no-store") is private


def assert_ran_without_violations(page, csp_console) -> None:
    # GOV.UK Frontend's JavaScript ran from its files: the body says so, components started.
    expect(page.locator("body")).to_have_class(
        "govuk-template__body js-enabled govuk-frontend-supported"
    )
    expect(page.locator(".govuk-skip-link")).to_have_attribute("data-govuk-skip-link-init", "")
    assert page.evaluate("window.__cspViolations") == []
    assert csp_console == []


def test_pages_carry_the_headers_and_work_under_the_policy(
    browser, page, live_server, missions, team, csp_console, screenshot, axe_audit
):
    first, _ = two_rounds(missions, team)
    reports.publish_run(team, first, analyse(first.id))
    db.session.commit()

    for path, check in [
        ("/", lambda: expect(page.locator("h1")).to_have_text("Help shape the missions")),
        ("/sign-in", lambda: expect(page.locator("h1")).to_have_text("Sign in")),
        (
            f"/consultations/{first.id}/report",
            lambda: expect(
                page.get_by_role("img", name="Opinion map of everyone who voted")
            ).to_be_visible(),
        ),
    ]:
        response = page.goto(live_server + path)
        assert response.status == 200, path
        check()
        assert_headers(response, private=False)
        assert_ran_without_violations(page, csp_console)
        screenshot(page, path.strip("/").replace("/", "-") or "home")
        assert axe_audit(page) == [], path

    page.get_by_role("link", name="Sign in").click()
    page.get_by_label("Email address").fill("team@example.org")
    page.get_by_role("textbox", name="Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    response = page.goto(live_server + "/account")
    expect(page.locator("h1")).to_have_text("Your account")
    assert_headers(response, private=True)
    assert_ran_without_violations(page, csp_console)
    screenshot(page, "account")
    assert axe_audit(page) == []
    # Signed in, every page is the person's own: not stored either.
    assert_headers(page.goto(live_server + "/"), private=True)

    # The watch works: an inline style set now is refused; the event and the console say so.
    page.evaluate("document.querySelector('h1').setAttribute('style', 'color: red')")
    expect(page.locator("h1")).to_have_css("color", "rgb(11, 12, 12)")
    page.wait_for_function("window.__cspViolations.length > 0")
    assert page.evaluate("window.__cspViolations")[0].startswith("style-src-attr")
    assert any("style-src" in text for text in csp_console)


def test_another_site_cannot_frame_the_pages(browser, live_server, missions):
    context = browser.new_context()
    page = context.new_page()
    logged: list[str] = []
    page.on("console", lambda message: logged.append(message.text))
    # A page of another origin (about:blank here) puts the home page in a frame.
    page.set_content(f'<iframe src="{live_server}/" title="framed"></iframe>')
    page.wait_for_timeout(500)
    frame = page.frames[1]
    assert "Help shape the missions" not in frame.content()
    assert any("frame-ancestors 'none'" in text for text in logged), logged
    context.close()
