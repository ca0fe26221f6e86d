"""The people of issue 3 in a real browser: a citizen takes part, a nurse proposes an idea, the
mission team puts it under review. Each step is screenshotted and audited with axe."""

from __future__ import annotations

import json
import re
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import func, select

from deliberate.extensions import db
from deliberate.models import (
    Consultation,
    Idea,
    IdeaStage,
    Participant,
    Statement,
    StatementOrigin,
    User,
    Vote,
    VoteChoice,
)
from deliberate.services.statements import write_statement

SEEDS = [
    "It should be possible to book a GP appointment online the same day.",
    "Staff spend too much time on paperwork instead of patients.",
    "Pharmacists should be able to prescribe for more common conditions.",
    "Social care must be fixed before hospital discharge can improve.",
]


def open_consultation(mission) -> Consultation:
    consultation = Consultation(mission=mission, title="What would most improve getting care?")
    db.session.add(consultation)
    db.session.flush()
    for text in SEEDS:
        write_statement(consultation, text, origin=StatementOrigin.SEED)
    consultation.open()
    db.session.commit()
    return consultation


def shown_statement(page) -> str:
    return page.locator("form.app-vote-form legend").first.inner_text().strip()


def test_citizen_answers_changes_an_answer_and_adds_a_comment(
    browser, live_server, missions, screenshot, axe_audit
):
    consultation = open_consultation(missions["nhs"])
    page = browser.new_context().new_page()
    page.goto(live_server + "/missions/nhs")
    page.get_by_role("link", name=consultation.title, exact=True).click()
    expect(page.locator("h1")).to_have_text(consultation.title)
    screenshot(page, "consultation")
    assert axe_audit(page) == []

    answered = {}
    for choice in ("Agree", "Disagree", "Pass / unsure"):
        text = shown_statement(page)
        page.get_by_role("button", name=choice, exact=True).click()
        answered[text] = choice
    expect(page.get_by_text("You have answered 3 of 4 statements.")).to_be_visible()
    screenshot(page, "three-answered")

    page.get_by_role("link", name="Review and change your answers").click()
    expect(page.locator("h1")).to_have_text("Your answers")
    disagreed = next(text for text, choice in answered.items() if choice == "Disagree")
    card = page.locator(".govuk-summary-card", has_text=disagreed)
    card.get_by_role("button", name="Agree", exact=True).click()
    card = page.locator(".govuk-summary-card", has_text=disagreed)
    expect(card.get_by_text("Your answer: Agree")).to_be_visible()
    screenshot(page, "answer-changed")
    assert axe_audit(page) == []

    page.get_by_role("link", name="Back to the consultation").click()
    page.get_by_label("Your statement").fill("Evening GP appointments would help shift workers.")
    page.get_by_role("button", name="Add statement").click()
    screenshot(page, "comment-added")
    assert axe_audit(page) == []

    participant = db.session.scalar(select(Participant))
    votes = {
        db.session.get(Statement, v.statement_id).text: VoteChoice(v.choice)
        for v in db.session.scalars(select(Vote).where(Vote.participant_id == participant.id))
    }
    assert votes[disagreed] is VoteChoice.AGREE
    assert sum(1 for text in answered if text in votes) == 3
    comment = db.session.scalar(select(Statement).where(Statement.origin == "participant"))
    assert comment.text == "Evening GP appointments would help shift workers."
    assert comment.author_id == participant.id


def sign_in(page, live_server: str, email: str) -> None:
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_role("textbox", name="Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Your account")).to_be_visible()


def test_nurse_proposes_an_idea_and_the_team_puts_it_under_review(
    browser, live_server, missions, create_user, screenshot, axe_audit
):
    create_user(email="nurse@example.org", name="Amira", staff_email="amira@nhs.net")
    create_user(email="team@example.org", name="Morgan", team=(missions["nhs"],))

    nurse = browser.new_context().new_page()
    sign_in(nurse, live_server, "nurse@example.org")
    nurse.goto(live_server + "/missions/nhs/ideas")
    nurse.get_by_role("button", name="Propose an idea").click()  # a GOV.UK link button
    nurse.get_by_label("Title of your idea").fill("Weekend discharge coordinators")
    nurse.get_by_label("The problem you see on the front line").fill(
        "Patients ready to go home wait all weekend for a care package."
    )
    nurse.get_by_label("Your idea", exact=True).fill(
        "A discharge coordinator on every ward at weekends."
    )
    nurse.get_by_label("The evidence or experience behind it").fill(
        "A third of our Monday beds hold people who were ready on Friday."
    )
    expect(nurse.get_by_label("No, do not show my name")).to_be_checked()  # the default
    screenshot(nurse, "idea-form")
    assert axe_audit(nurse) == []
    nurse.get_by_role("button", name="Propose idea").click()
    expect(nurse.locator("h1")).to_have_text("Weekend discharge coordinators")
    expect(nurse.locator("main")).to_contain_text(
        "Proposed by a verified member of staff in the NHS on"
    )
    expect(nurse.locator("main")).not_to_contain_text("Amira")
    screenshot(nurse, "idea-proposed")

    idea = db.session.scalar(select(Idea))
    assert idea.stage is IdeaStage.PROPOSED and idea.author.email == "nurse@example.org"

    team = browser.new_context().new_page()
    sign_in(team, live_server, "team@example.org")
    team.goto(f"{live_server}/ideas/{idea.id}")
    team.get_by_label("Under review").check()
    team.get_by_label("Public reason for this move").fill("Weekend discharge is a winter priority.")
    team.get_by_role("button", name="Move idea").click()
    expect(team.get_by_text("Weekend discharge is a winter priority.")).to_be_visible()
    screenshot(team, "idea-under-review")
    assert axe_audit(team) == []

    db.session.refresh(idea)
    assert idea.stage is IdeaStage.UNDER_REVIEW
    assert [c.reason for c in idea.history] == ["Weekend discharge is a winter priority."]
    public = browser.new_context().new_page()
    public.goto(f"{live_server}/ideas/{idea.id}")
    expect(public.locator("body")).to_contain_text(re.compile("Under review", re.I))


def test_person_downloads_their_data_then_deletes_their_account_and_their_votes_still_count(
    browser, live_server, missions, create_user, screenshot, axe_audit
):
    consultation = open_consultation(missions["nhs"])
    create_user(email="asha@example.org", name="Asha Patel")
    page = browser.new_context(accept_downloads=True).new_page()
    sign_in(page, live_server, "asha@example.org")
    page.goto(f"{live_server}/consultations/{consultation.id}")
    for choice in ("Agree", "Disagree"):
        page.get_by_role("button", name=choice, exact=True).click()
    expect(page.get_by_text("You have answered 2 of 4 statements.")).to_be_visible()
    expect(page.get_by_text("1 person has taken part so far.")).to_be_visible()
    votes = select(func.count(Vote.id)).where(Vote.consultation_id == consultation.id)
    assert db.session.scalar(votes) == 2

    page.get_by_role("link", name="Your account").click()
    expect(page.get_by_role("heading", name="Manage your account")).to_be_visible()
    screenshot(page, "account")
    assert axe_audit(page) == []
    with page.expect_download() as arrival:
        page.get_by_role("link", name="Download your data").click()
    download = arrival.value
    assert download.suggested_filename == "deliberate-my-data.json"
    data = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert data["profile"]["email"] == "asha@example.org"
    [taking_part] = data["participations"]
    assert taking_part["consultation_title"] == consultation.title
    assert sorted(a["choice"] for a in taking_part["answers"]) == ["Agree", "Disagree"]

    page.get_by_role("link", name="Delete your account").click()
    expect(page.locator("h1")).to_have_text("Delete your account")
    expect(page.locator("#what-happens")).to_contain_text("Your answers and the statements")
    screenshot(page, "delete-confirm")
    assert axe_audit(page) == []
    page.get_by_label("Enter your password to confirm").fill("correct horse battery")
    page.get_by_role("button", name="Delete my account").click()
    expect(page.get_by_text("Your account has been deleted.")).to_be_visible()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    screenshot(page, "deleted")
    assert axe_audit(page) == []

    page.goto(live_server + "/account")
    expect(page).to_have_url(re.compile(r"/sign-in"))
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.email == "asha@example.org")) is None
    assert db.session.scalar(votes) == 2
    page.goto(f"{live_server}/consultations/{consultation.id}")
    expect(page.get_by_text("1 person has taken part so far.")).to_be_visible()
