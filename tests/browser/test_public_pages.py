"""The public pages in a real browser: they render, navigate and pass an accessibility audit."""

from __future__ import annotations

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

    for path in ["/accessibility", "/privacy", "/cookies", "/register", "/sign-in", "/nope"]:
        page.goto(live_server + path)
        screenshot(page, path.strip("/"))
        assert axe_audit(page) == [], path


def test_register_with_a_mistake_then_correct_it_without_javascript(
    browser, live_server, missions, axe_audit
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
    assert "Password must be at least 10 characters long" in summary.inner_text()

    page.get_by_label("Email address").fill("rhiannon@example.org")
    page.get_by_label("Create a password").fill("mountain river slate")
    page.get_by_label("Confirm password").fill("mountain river slate")
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_text("Your account has been created.")).to_be_visible()
    assert "Rhiannon Ŵyn" in page.content()
    context.close()
