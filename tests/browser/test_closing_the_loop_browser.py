"""Issue 15's loop in one real-browser journey, on a phone-sized screen.

An anonymous person answers ten statements with their thumb (the next one always in the first
screenful), asks to be told by email what happens next, registers and finds their answers kept,
and sees where they stand. The mission team records a response linked to a finding of the
published summary; the report shows it under that finding and the mission page's timeline lists
it; the follower's outbox holds the notification, whose unsubscribe link works. Every new page
passes axe; screenshots are kept in test-artifacts/."""

from __future__ import annotations

import email
import email.policy
import re

from playwright.sync_api import expect
from sqlalchemy import func, select

from deliberate.extensions import db
from deliberate.models import Participant, Vote
from tests.browser.test_journeys import sign_in
from tests.browser.test_public_pages import _link_sent_to
from tests.test_where_you_stand import publish_analysis, two_camps

PHONE = {"width": 375, "height": 667}
PERSON = "rhys@example.org"


def _in_first_screenful(page, *locators) -> None:
    for locator in locators:
        box = locator.bounding_box()
        assert box is not None and box["y"] + box["height"] <= PHONE["height"], box


def _fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _emails_to(app, outbox, address: str) -> list[email.message.EmailMessage]:
    assert app.extensions["deliberate_jobs"].wait_until_idle(timeout=60)
    messages = [
        email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        for eml in sorted(outbox.glob("*.eml"))
    ]
    return [m for m in messages if m["To"] == address]


def test_a_person_answers_registers_sees_where_they_stand_and_hears_what_the_team_did(
    app, browser, live_server, missions, create_user, outbox, screenshot, axe_audit
):
    team = create_user(email="team@example.org", name="Morgan", team=tuple(missions.values()))
    consultation, _ = two_camps(missions)
    publish_analysis(consultation, team)
    cid = consultation.id
    mission_slug = consultation.mission.slug

    phone = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = phone.new_page()
    page.goto(f"{live_server}/consultations/{cid}")

    # Ten answers in a row, each time the next statement and its buttons in the first screenful.
    for answered in range(1, 11):
        vote = page.locator("form#vote")
        choice = "Agree" if answered <= 5 else "Disagree"  # as camp A answers
        vote.get_by_role("button", name=choice, exact=True).click()
        expect(page.locator("#progress")).to_contain_text(f"You have answered {answered} of 10")
        assert page.evaluate("window.scrollY") == 0
        if answered < 10:
            _in_first_screenful(
                page,
                page.locator("#answer-saved"),
                page.locator("form#vote legend"),
                page.locator("form#vote").get_by_role("button", name="Agree", exact=True),
            )
    assert _fits_the_screen(page)
    screenshot(page, "ten-answers")
    assert axe_audit(page) == []

    # Told by email what happens next: double opt-in.
    page.get_by_role("link", name="Get emails about this consultation").click()
    page.get_by_label("Email address").fill(PERSON)
    page.get_by_role("button", name="Send me a link to confirm").click()
    expect(page.locator("h1")).to_have_text("Check your email")
    page.goto(_link_sent_to(app, outbox, PERSON, "/follow/confirm/"))
    page.get_by_role("button", name="Confirm: email me about this consultation").click()
    expect(page.locator(".govuk-panel__title")).to_have_text(
        "You will get emails about this consultation"
    )
    assert axe_audit(page) == []

    # Registering keeps the answers given before: the person counts once.
    people_before = db.session.scalar(
        select(func.count()).select_from(Participant).where(Participant.consultation_id == cid)
    )
    page.goto(f"{live_server}/register")
    page.get_by_label("Your name").fill("Rhys Evans")
    page.get_by_label("Email address").fill(PERSON)
    page.get_by_label("Create a password").fill("copper lantern meadow")
    page.get_by_label("Confirm password").fill("copper lantern meadow")
    page.get_by_role("button", name="Create account").click()
    expect(page.locator("h1")).to_have_text("Check your email")
    page.goto(_link_sent_to(app, outbox, PERSON, "/confirm-email/"))
    page.get_by_role("button", name="Confirm my email address").click()
    expect(page.get_by_text("Your email address is confirmed")).to_be_visible()
    page.goto(f"{live_server}/consultations/{cid}")
    expect(page.locator("#progress")).to_contain_text("You have answered 10 of 10")
    db.session.expire_all()
    person = db.session.scalar(
        select(Participant)
        .where(Participant.consultation_id == cid, Participant.user_id.is_not(None))
        .order_by(Participant.id.desc())
    )
    assert person is not None and person.user.email == PERSON
    assert (
        db.session.scalar(
            select(func.count()).select_from(Vote).where(Vote.participant_id == person.id)
        )
        == 10
    )
    assert (
        db.session.scalar(
            select(func.count()).select_from(Participant).where(Participant.consultation_id == cid)
        )
        == people_before
    )

    # Where they stand: placed against the published summary, closest to camp A's group.
    page.get_by_role("link", name="See where you stand").click()
    expect(page.locator("#stand-state")).to_have_attribute("data-state", "placed")
    expect(page.locator("#stand-state")).to_contain_text("Group")
    assert _fits_the_screen(page)
    screenshot(page, "where-you-stand")
    assert axe_audit(page) == []

    # The mission team records a response linked to a finding of the published summary.
    desk = browser.new_context().new_page()
    sign_in(desk, live_server, team.email)
    desk.goto(f"{live_server}/manage/consultations/{cid}/responses/new")
    finding = desk.locator('input[value^="representative:"], input[value^="divisive:"]').first
    key = finding.get_attribute("value")
    finding.check()
    desk.get_by_label("What was decided or done").fill("We will trial later evening buses")
    desk.get_by_role("radio", name="Decided").check()
    desk.get_by_role("button", name="Publish the response").click()
    expect(desk.locator("h1")).to_have_text("We will trial later evening buses")

    # The report shows it under that finding, on the phone.
    page.goto(f"{live_server}/consultations/{cid}/report")
    kind, *rest = key.split(":")
    statement_id = rest[-1]
    other = rest[0] if kind == "representative" else ""
    under = page.locator(f'[data-responses="{kind}:{other}:{statement_id}"]')
    expect(under).to_contain_text("We will trial later evening buses")
    assert _fits_the_screen(page)
    screenshot(page, "report-with-response")

    # The mission page's timeline lists it.
    page.goto(f"{live_server}/missions/{mission_slug}")
    expect(page.locator(".app-timeline")).to_contain_text("We will trial later evening buses")
    assert _fits_the_screen(page)
    screenshot(page, "mission-timeline")
    assert axe_audit(page) == []

    # The follower was told, and the email's unsubscribe link works.
    told = [m for m in _emails_to(app, outbox, PERSON) if "responded" in m.get_content()]
    assert len(told) == 1
    body = told[0].get_content()
    assert "We will trial later evening buses" in body
    assert told[0]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = re.search(r"(http://\S+/follow/unsubscribe/\S+)", body).group(1)
    page.goto(unsubscribe)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.locator("h1")).to_have_text("You are unsubscribed")
    assert axe_audit(page) == []
    phone.close()
