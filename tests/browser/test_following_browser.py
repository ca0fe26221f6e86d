"""Following a consultation in a real browser: ask, confirm through the email, unsubscribe through
the link every email carries; every page passes an accessibility audit (axe needs JavaScript on;
the pages are plain forms that need none)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.test_public_pages import _link_sent_to
from tests.test_following import TEXTS
from tests.test_reports import open_consultation


def test_follow_confirm_and_unsubscribe_pass_axe(
    app, page, live_server, missions, outbox, axe_audit, screenshot
):
    consultation, _ = open_consultation(missions, "Getting care when you need it", TEXTS)
    page.goto(f"{live_server}/consultations/{consultation.id}/follow")
    assert axe_audit(page) == []
    page.get_by_label("Email address").fill("asha@example")
    page.get_by_role("button", name="Send me a link to confirm").click()
    expect(page).to_have_title(re.compile(r"^Error: Get emails about this consultation"))
    assert axe_audit(page) == []

    page.get_by_label("Email address").fill("asha@example.org")
    page.get_by_role("button", name="Send me a link to confirm").click()
    expect(page.locator("h1")).to_have_text("Check your email")
    screenshot(page, "follow-check-your-email")
    assert axe_audit(page) == []

    page.goto(_link_sent_to(app, outbox, "asha@example.org", "/follow/confirm/"))
    assert axe_audit(page) == []
    page.get_by_role("button", name="Confirm: email me about this consultation").click()
    expect(page.locator(".govuk-panel__title")).to_have_text(
        "You will get emails about this consultation"
    )
    assert axe_audit(page) == []

    page.goto(_link_sent_to(app, outbox, "asha@example.org", "/follow/unsubscribe/"))
    expect(page.locator("h1")).to_have_text("Stop emails about this consultation")
    assert axe_audit(page) == []
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator("h1")).to_have_text("You are unsubscribed")
    assert axe_audit(page) == []
