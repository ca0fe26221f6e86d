"""A mission team member in a real browser: sees the ideas waiting on the team, changes a draft's
seed statement, opens and closes the consultation through their confirmation pages, reopens it
with a reason, and deletes a draft. Each page is screenshotted and audited with axe."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import (
    AuditEvent,
    Consultation,
    ConsultationState,
    Idea,
    Statement,
    StatementOrigin,
)
from deliberate.services.statements import write_statement
from tests.browser.test_journeys import sign_in


def test_team_member_confirms_each_move_and_reopens_with_a_reason(
    browser, live_server, missions, create_user, screenshot, axe_audit
):
    nhs = missions["nhs"]
    create_user(email="lead@example.org", team=(nhs,))
    draft = Consultation(mission=nhs, title="What would most improve getting care?")
    spare = Consultation(mission=nhs, title="A draft nobody needs")
    db.session.add_all([draft, spare])
    db.session.flush()
    write_statement(draft, "Clinics should open on Saturday.", origin=StatementOrigin.SEED)
    db.session.add(
        Idea(mission_id=nhs.id, title="Protected breaks", problem="Skipped.", proposal="A rota.")
    )
    db.session.commit()
    draft_id, spare_id = draft.id, spare.id

    page = browser.new_context().new_page()
    sign_in(page, live_server, "lead@example.org")
    page.goto(f"{live_server}/manage")
    expect(page.get_by_role("heading", name="New ideas to review (1)")).to_be_visible()
    expect(page.get_by_role("link", name="Protected breaks")).to_be_visible()
    screenshot(page, "dashboard")
    assert axe_audit(page) == []

    page.get_by_role("link", name="What would most improve getting care?").click()
    page.get_by_role("link", name="Change seed statement 1").click()
    page.get_by_label("Seed statement").fill("Clinics should open on Saturdays and Sundays.")
    screenshot(page, "change-seed")
    assert axe_audit(page) == []
    page.get_by_role("button", name="Save statement").click()
    expect(page.get_by_text("Seed statement saved.")).to_be_visible()

    page.get_by_role("button", name="Open consultation").click()  # a link to the confirmation
    expect(page.locator("h1")).to_have_text("Open the consultation")
    screenshot(page, "confirm-open")
    assert axe_audit(page) == []
    page.get_by_role("button", name="Open consultation").click()
    expect(page.get_by_text("Consultation opened: people can now take part.")).to_be_visible()

    page.get_by_role("button", name="Close consultation").click()
    expect(page.locator("h1")).to_have_text("Close the consultation")
    assert axe_audit(page) == []
    page.get_by_role("button", name="Close consultation").click()
    expect(page.get_by_text("Consultation closed")).to_be_visible()

    page.get_by_role("button", name="Reopen consultation").click()
    page.get_by_role("button", name="Reopen consultation").click()  # no reason given
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter why you are reopening the consultation"
    )
    screenshot(page, "reopen-without-reason")
    assert axe_audit(page) == []
    page.get_by_label("Why are you reopening the consultation?").fill("Closed a week early")
    page.get_by_role("button", name="Reopen consultation").click()
    expect(page.get_by_text("Consultation reopened: people can take part again.")).to_be_visible()
    screenshot(page, "reopened")
    assert axe_audit(page) == []

    page.goto(f"{live_server}/manage/consultations/{spare_id}")
    page.get_by_role("button", name="Delete draft").click()
    expect(page.locator("h1")).to_have_text("Delete this draft")
    screenshot(page, "confirm-delete")
    assert axe_audit(page) == []
    page.get_by_role("button", name="Delete draft").click()
    expect(page.get_by_text("Draft deleted: “A draft nobody needs”.")).to_be_visible()

    db.session.expire_all()
    assert db.session.get(Consultation, draft_id).state is ConsultationState.OPEN
    assert db.session.get(Consultation, spare_id) is None
    assert db.session.scalars(select(Statement.text)).all() == [
        "Clinics should open on Saturdays and Sundays."
    ]
    assert (
        db.session.scalar(
            select(AuditEvent.reason).where(AuditEvent.action == "consultation.reopened")
        )
        == "Closed a week early"
    )
