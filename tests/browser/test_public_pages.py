"""The public pages in a real browser: they render, navigate and pass an accessibility audit."""

from __future__ import annotations

import email
import email.policy
import re

from playwright.sync_api import expect


def test_home_mission_and_information_pages_pass_axe(
    page, live_server, missions, screenshot, axe_audit
):
    page.goto(live_server + "/")
    assert page.locator("h1").inner_text() == "Help shape the missions"
    assert page.get_by_role("link", name="Build an NHS fit for the future").is_visible()
    screenshot(page, "home")
    assert axe_audit(page) == []

    page.get_by_role("link", name="Build an NHS fit for the future").click()
    assert page.locator("h1").inner_text() == "Build an NHS fit for the future"
    screenshot(page, "mission")
    assert axe_audit(page) == []

    for path in [
        "/accessibility",
        "/privacy",
        "/cookies",
        "/register",
        "/sign-in",
        "/forgot-password",
        "/nope",
    ]:
        page.goto(live_server + path)
        screenshot(page, path.strip("/"))
        assert axe_audit(page) == [], path


def _link_sent_to(app, outbox, address: str, path: str) -> str:
    """The newest link to ``path`` in the emails sent to ``address`` (read from the outbox)."""
    assert app.extensions["deliberate_jobs"].wait_until_idle(timeout=60)
    for eml in sorted(outbox.glob("*.eml"), reverse=True):
        message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        match = re.search(rf"(http://\S+{re.escape(path)}\S+)", message.get_content())
        if message["To"] == address and match:
            return match.group(1)
    raise AssertionError(f"no {path} link was sent to {address}")


def test_register_with_a_mistake_then_correct_it_without_javascript(
    app, browser, live_server, missions, outbox
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + "/register")
    page.get_by_label("Your name").fill("Rhiannon Ŵyn")
    page.get_by_label("Email address").fill("rhiannon@example")
    page.get_by_label("Create a password").fill("short")
    page.get_by_label("Confirm password").fill("short")
    page.get_by_role("button", name="Create account").click()
    expect(page).to_have_title(re.compile(r"^Error: Create an account"))
    summary = page.locator(".govuk-error-summary")
    assert "Enter an email address in the correct format" in summary.inner_text()
    assert "Password must be at least 12 characters long" in summary.inner_text()

    page.get_by_label("Email address").fill("rhiannon@example.org")
    page.get_by_label("Create a password").fill("mountain river slate")
    page.get_by_label("Confirm password").fill("mountain river slate")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("h1")).to_have_text("Check your email")
    assert "rhiannon@example.org" in page.content()

    page.goto(_link_sent_to(app, outbox, "rhiannon@example.org", "/confirm-email/"))
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page.get_by_text("Your email address is confirmed")).to_be_visible()
    assert "Rhiannon Ŵyn" in page.content()
    context.close()


def test_forgotten_password_journey_passes_axe_on_every_page(
    app, page, live_server, missions, outbox, create_user, axe_audit
):
    create_user(email="lee@example.org", name="Lee Chen")
    page.goto(live_server + "/sign-in")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email address").fill("lee@example.org")
    page.get_by_role("button", name="Send a reset link").click()
    expect(page.locator("h1")).to_have_text("Check your email")
    assert axe_audit(page) == []

    link = _link_sent_to(app, outbox, "lee@example.org", "/reset-password/")
    page.goto(link)
    expect(page.locator("h1")).to_have_text("Choose a new password")
    page.get_by_label("New password").fill("password12")
    page.get_by_label("Confirm password").fill("password12")
    page.get_by_role("button", name="Set new password").click()
    assert "This password is too common" in page.locator(".govuk-error-summary").inner_text()
    assert axe_audit(page) == []
    page.get_by_label("New password").fill("lantern meadow copper")
    page.get_by_label("Confirm password").fill("lantern meadow copper")
    page.get_by_role("button", name="Set new password").click()
    expect(page.get_by_text("Your password has been changed and you are signed in")).to_be_visible()
    assert "Lee Chen" in page.content()

    page.goto(link)  # used once: a clear page, with a way to ask for another
    expect(page.locator("h1")).to_have_text("Your password could not be reset")
    assert page.get_by_role("link", name="Ask for a new link to reset your password").is_visible()
    assert axe_audit(page) == []
