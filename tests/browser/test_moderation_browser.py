"""Moderation in a real browser: a participant reads the policy and writes a statement; a
moderator takes one down with a reason and edits a name out of another; the author reads the
reason on their answers page. Each page is screenshotted and audited with axe."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select

from deliberate import jobs
from deliberate.extensions import db
from deliberate.models import Consultation, ModerationMode, Statement, StatementOrigin
from deliberate.services.statements import write_statement
from tests.browser.test_journeys import sign_in


def test_a_moderator_takes_down_one_statement_with_a_reason_and_edits_a_name_out_of_another(
    app, browser, live_server, missions, create_user, screenshot, axe_audit
):
    app.extensions["deliberate_jobs"].shutdown()  # no embedding job (and no model) behind it
    jobs.runner().shutdown()
    create_user(email="mod@example.org", name="Mo", moderator=True)
    consultation = Consultation(
        mission=missions["nhs"],
        title="What would most improve getting care?",
        moderation_mode=ModerationMode.POST,
        allow_anonymous=True,
    )
    db.session.add(consultation)
    db.session.flush()
    write_statement(consultation, "Clinics should open on Saturdays.", origin=StatementOrigin.SEED)
    consultation.open()
    db.session.commit()

    author = browser.new_context().new_page()
    author.goto(f"{live_server}/consultations/{consultation.id}")
    expect(author.get_by_text("From the mission team")).to_be_visible()
    for words in ("Buy cheap watches at our shop", "Mrs Smith on ward 4 ignored my mother."):
        author.get_by_label("Your statement").fill(words)
        author.get_by_role("button", name="Add statement").click()
        expect(author.get_by_text("Thank you: your statement has been added")).to_be_visible()
    author.get_by_role("link", name="Read the moderation policy").click()
    expect(author.locator("h1")).to_have_text("Moderation policy")
    screenshot(author, "policy")
    assert axe_audit(author) == []

    advert = db.session.scalar(select(Statement).where(Statement.text.startswith("Buy cheap")))
    named = db.session.scalar(select(Statement).where(Statement.text.startswith("Mrs Smith")))
    moderator = browser.new_context().new_page()
    sign_in(moderator, live_server, "mod@example.org")
    moderator.goto(f"{live_server}/manage/consultations/{consultation.id}/moderation")
    moderator.get_by_role("button", name=f"Take down comment {advert.id}").click()
    expect(moderator.locator("h1")).to_have_text(f"Statement {advert.id}")
    moderator.get_by_role("button", name=f"Take down comment {advert.id}").click()
    expect(moderator.locator(".govuk-error-summary")).to_contain_text(
        "Select why this comment breaks the moderation policy"
    )
    assert axe_audit(moderator) == []
    moderator.get_by_label("Spam").check()
    moderator.get_by_label("Note to the author (optional)").fill("Adverts are not allowed.")
    screenshot(moderator, "take-down")
    moderator.get_by_role("button", name=f"Take down comment {advert.id}").click()
    expect(moderator.get_by_text("Comment rejected.")).to_be_visible()

    moderator.goto(f"{live_server}/manage/statements/{named.id}")
    moderator.get_by_role("link", name=f"Edit the words of comment {named.id}").click()
    moderator.get_by_label("The statement's words").fill("A nurse ignored my mother.")
    moderator.get_by_label("Personal information").check()
    screenshot(moderator, "edit")
    assert axe_audit(moderator) == []
    moderator.get_by_role("button", name="Save the edited statement").click()
    expect(moderator.get_by_text("Statement edited")).to_be_visible()
    assert axe_audit(moderator) == []

    author.goto(f"{live_server}/consultations/{consultation.id}/answers")
    expect(author.locator("#own-statements")).to_contain_text(
        "Removed by moderators: Spam — Adverts are not allowed."
    )
    expect(author.locator("#own-statements")).to_contain_text("Edited by moderators")
    expect(author.locator("body")).not_to_contain_text("Mrs Smith")
    screenshot(author, "answers")
    assert axe_audit(author) == []
