"""An administrator in a real browser: finds a person, makes them a moderator with a reason, and
reads the change in the audit log. Each page is screenshotted and audited with axe."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import AuditEvent, User
from tests.browser.test_journeys import sign_in


def test_admin_makes_a_person_moderator_and_finds_it_in_the_audit_log(
    browser, live_server, missions, create_user, screenshot, axe_audit
):
    create_user(email="ada@example.org", name="Ada Admin", admin=True)
    create_user(email="sam@example.org", name="Sam Nurse", staff_email="sam@nhs.net")

    page = browser.new_context().new_page()
    sign_in(page, live_server, "ada@example.org")
    page.get_by_role("link", name="Admin").click()
    page.get_by_label("Search by email address or name").fill("sam")
    page.get_by_role("button", name="Search").click()
    screenshot(page, "people")
    assert axe_audit(page) == []

    page.get_by_role("link", name="Sam Nurse").click()
    expect(page.locator("h1")).to_have_text("Sam Nurse")
    screenshot(page, "person")
    assert axe_audit(page) == []

    page.get_by_role("link", name="Give moderator role").click()
    page.get_by_role("button", name="Make moderator").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the reason")
    assert axe_audit(page) == []
    page.get_by_label("Why are you making this change?").fill("Joins the moderation rota")
    screenshot(page, "make-moderator")
    page.get_by_role("button", name="Make moderator").click()
    expect(page.get_by_text("Sam Nurse is now a moderator.")).to_be_visible()

    page.get_by_role("link", name="The whole audit log").click()
    expect(page.locator("tbody")).to_contain_text("Joins the moderation rota")
    screenshot(page, "audit-log")
    assert axe_audit(page) == []

    sam = db.session.scalar(select(User).where(User.email == "sam@example.org"))
    assert sam.is_moderator
    assert db.session.scalar(select(AuditEvent.reason)) == "Joins the moderation rota"
