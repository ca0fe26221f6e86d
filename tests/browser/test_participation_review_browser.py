"""A moderator in a real browser reviews a burst of new participants from one address, leaves it
out of the analysis with a reason, and includes one again. Each page is screenshotted and audited
with axe."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import AuditEvent, Participant
from tests.browser.test_journeys import sign_in
from tests.test_suspicious_participation import (
    give_votes,
    joined,
    open_with_seeds,
    statements_of,
)


@pytest.fixture
def consultation(missions):
    return open_with_seeds(missions)


def test_a_moderator_leaves_a_burst_out_of_the_analysis(
    browser, live_server, consultation, create_user, screenshot, axe_audit
):
    create_user(email="mo@example.org", moderator=True)
    statements = statements_of(consultation)
    for bot in joined(consultation, "a" * 32, [0, 3, 6, 9, 12, 15]):
        give_votes(bot, statements, {0: 1, 1: 1, 2: 1, 3: 1, 4: 1})

    page = browser.new_context().new_page()
    sign_in(page, live_server, "mo@example.org")
    page.goto(f"{live_server}/manage/consultations/{consultation.id}/moderation")
    page.get_by_role("link", name="Review participants flagged as possibly automated").click()
    expect(page.locator("h1")).to_have_text("Review participation")
    expect(page.locator("#bursts")).to_contain_text("Bursts from one address (1)")
    expect(page.locator("#identical")).to_contain_text("Identical answers (1)")
    screenshot(page, "review")
    assert axe_audit(page) == []

    burst = page.locator("section", has=page.get_by_role("heading", name="Burst 1"))
    burst.get_by_role("button", name="Exclude from the analysis").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the reason")
    screenshot(page, "no-reason")
    assert axe_audit(page) == []

    burst = page.locator("section", has=page.get_by_role("heading", name="Burst 1"))
    burst.get_by_label("Reason for your decision").fill("Six browsers in 15 seconds")
    burst.get_by_role("button", name="Exclude from the analysis").click()
    expect(page.get_by_text("6 participants left out of the analysis.")).to_be_visible()
    expect(page.locator("#review-summary")).to_contain_text("6 left out of the analysis")
    screenshot(page, "excluded")
    assert axe_audit(page) == []

    burst = page.locator("section", has=page.get_by_role("heading", name="Burst 1"))
    ticks = burst.get_by_role("checkbox")
    for n in range(1, 6):
        ticks.nth(n).uncheck()
    burst.get_by_label("Reason for your decision").fill("A person we know of")
    burst.get_by_role("button", name="Include again").click()
    expect(page.get_by_text("1 participant included in the analysis again.")).to_be_visible()

    left_out = db.session.scalars(select(Participant).where(Participant.excluded_at.is_not(None)))
    assert len(left_out.all()) == 5
    reasons = db.session.scalars(select(AuditEvent.reason).order_by(AuditEvent.id)).all()
    assert reasons == ["Six browsers in 15 seconds"] * 6 + ["A person we know of"]
