"""Where you stand in a real browser: an anonymous person answers, is told how many more answers
are needed, then sees their place once a summary that counted them is published; the page passes
axe and fits a 375 px phone without sideways scrolling. Screenshots are kept in test-artifacts/."""

from __future__ import annotations

from playwright.sync_api import expect
from sqlalchemy import select, update

from deliberate.extensions import db
from deliberate.models import Participant, Vote
from tests.test_where_you_stand import publish_analysis, two_camps


def fits_the_screen(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_an_anonymous_person_sees_where_they_stand_on_a_phone(
    browser, live_server, missions, create_user, screenshot, axe_audit
):
    team = create_user(email="team@example.org", team=tuple(missions.values()))
    consultation, _ = two_camps(missions, staff_in_a=8)
    publish_analysis(consultation, team)
    context = browser.new_context(viewport={"width": 375, "height": 812})
    page = context.new_page()
    stand_url = f"{live_server}/consultations/{consultation.id}/where-you-stand"

    page.goto(stand_url)
    expect(page.locator("h2#stand-state")).to_have_text(
        "Answer 7 more statements to see where you stand"
    )
    assert fits_the_screen(page)
    assert axe_audit(page) == []
    screenshot(page, "answer-more")

    page.get_by_role("link", name="Answer more statements").click()
    for _ in range(8):
        page.get_by_role("button", name="Agree", exact=True).click()
        expect(page.locator("#answer-saved")).to_contain_text("Your answer was saved")
    page.goto(stand_url)
    expect(page.locator("#stand-state")).to_have_attribute("data-state", "placed")
    screenshot(page, "placed-before-the-next-summary")

    # The next summary counts these answers: the page compares them statement by statement.
    person = db.session.scalar(
        select(Participant.id)
        .where(Participant.consultation_id == consultation.id)
        .order_by(Participant.id.desc())
    )
    db.session.execute(update(Vote).where(Vote.participant_id == person).values(cast_at_ms=2_000))
    db.session.commit()
    publish_analysis(consultation, team)
    page.goto(stand_url)
    most = page.get_by_role("heading", name="Where you answered as most people did")
    expect(most).to_be_visible()
    groups = page.get_by_role("table", name="How often you answered as most of each group did")
    expect(groups).to_be_visible()
    expect(
        page.get_by_role("table", name="How often you answered as most staff and most citizens did")
    ).to_be_visible()
    assert fits_the_screen(page)
    assert axe_audit(page) == []
    screenshot(page, "where-you-stand-375px")

    # Another browser sees nothing of this person: its own "answer more" page.
    other = browser.new_context().new_page()
    other.goto(stand_url)
    expect(other.locator("#stand-state")).to_have_attribute("data-state", "not_yet")
    context.close()
