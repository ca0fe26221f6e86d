"""The mission team, in a real browser, records a response to a finding of the published
summary; the public reads it under that finding and on its own page, on a phone too. Each page is
screenshotted and audited with axe."""

from __future__ import annotations

from playwright.sync_api import expect

from deliberate.extensions import db
from deliberate.models import Statement
from tests.browser.test_journeys import sign_in
from tests.test_responses import _consensus_statement, published  # noqa: F401 - a fixture


def test_the_team_answers_a_finding_and_the_public_reads_it(
    browser,
    live_server,
    published,  # noqa: F811 - the fixture imported above
    screenshot,
    axe_audit,
):
    cid, sid = published["cid"], _consensus_statement(published["run"])
    statement = db.session.get(Statement, sid).text

    page = browser.new_context().new_page()
    sign_in(page, live_server, published["team"].email)
    page.goto(f"{live_server}/manage/consultations/{cid}")
    page.get_by_role("link", name="Responses to this consultation").click()
    page.get_by_role("link", name="Record a response").click()
    expect(page.locator("h1")).to_have_text("Record a response")
    assert axe_audit(page) == []
    page.get_by_label("What was decided or done").fill("We will publish waiting times weekly")
    page.get_by_role("radio", name="Not doing").check()
    page.get_by_role("button", name="Publish the response").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter why you are not doing this")
    screenshot(page, "refused")
    assert axe_audit(page) == []

    page.get_by_role("radio", name="Decided").check()
    page.locator(f'input[value="consensus:{sid}"]').check()
    page.get_by_role("button", name="Publish the response").click()
    expect(page.locator("h1")).to_have_text("We will publish waiting times weekly")
    expect(page.get_by_text(f"Common ground: {statement}")).to_be_visible()
    screenshot(page, "response")
    assert axe_audit(page) == []

    page.goto(f"{live_server}/manage/consultations/{cid}/not-yet-answered")
    expect(page.locator(f'li[data-key="consensus:{sid}"]')).to_have_count(0)
    assert axe_audit(page) == []

    phone = browser.new_context(viewport={"width": 375, "height": 800}).new_page()
    phone.goto(f"{live_server}/consultations/{cid}/report")
    under = phone.locator(f'[data-responses="consensus::{sid}"]')
    expect(under).to_contain_text("We will publish waiting times weekly")
    under.scroll_into_view_if_needed()
    screenshot(phone, "report-phone")
    phone.goto(f"{live_server}/consultations/{cid}/responses")
    expect(phone.locator("h1")).to_contain_text("You said, we did")
    screenshot(phone, "list-phone")
    assert axe_audit(phone) == []
