"""The open summary in a real browser: the report of a real conversation, its statements, the
mission page's rounds over time, and the team publishing a run; every public page audited by axe.
Screenshots of each step are kept in test-artifacts/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from deliberate.extensions import db
from deliberate.models import Consultation
from deliberate.services import reports
from tests.test_reports import analyse, two_rounds


@pytest.fixture
def team(create_user, missions):
    return create_user(email="team@example.org", team=tuple(missions.values()))


def test_report_and_mission_pages_read_well_and_pass_axe(
    browser, page, live_server, brexit_analysed, missions, team, screenshot, axe_audit
):
    run = brexit_analysed
    cid = run.consultation_id
    first, second = two_rounds(missions, team)
    for consultation in (db.session.get(Consultation, cid), first, second):
        newest = run if consultation.id == cid else analyse(consultation.id)
        reports.publish_run(team, consultation, newest)
    db.session.commit()
    report_url = f"{live_server}/consultations/{cid}/report"

    # Without JavaScript: the charts are server-side SVG and everything else is HTML.
    context = browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    plain.goto(report_url)
    expect(plain.get_by_role("img", name="Opinion map of everyone who voted")).to_be_visible()
    expect(
        plain.get_by_role("img", name="How each group voted where they divide most")
    ).to_be_visible()
    screenshot(plain, "report-without-javascript")
    context.close()

    page.goto(report_url)
    expect(page.locator("h1")).to_have_text(
        "Summary of findings: Can there be consensus on Brexit?"
    )
    expect(page.get_by_role("table", name="The opinion map as a table")).to_be_visible()
    expect(page.locator(".app-summary li").last).to_contain_text("204 people took part")
    screenshot(page, "report")
    assert axe_audit(page) == []

    # A summary sentence leads to its finding, whose "How sure are we?" holds the test; the
    # finding's statement leads to its counts, in a table collapsed until then.
    page.locator(".app-summary li[data-rule=agreement] a").first.click()
    finding = page.locator(".app-finding:target")
    expect(finding).to_contain_text("156 of 167 people (93%)")
    finding.get_by_text("How sure are we?").click()
    expect(finding.locator(".govuk-details__text")).to_contain_text("q < 0.001")
    finding.locator("p.govuk-body a").first.click()
    expect(page.locator("tr:target")).to_be_visible()
    expect(page.locator("tr:target")).to_contain_text(" of ")
    screenshot(page, "statement-behind-a-figure")

    page.get_by_role("link", name="All 50 statements with their votes").click()
    expect(page.locator("h1")).to_have_text("All statements and their votes")
    screenshot(page, "all-statements")
    assert axe_audit(page) == []

    page.goto(f"{live_server}/consultations/{second.id}/report")
    expect(page.get_by_role("heading", name="Since round 1")).to_be_visible()
    screenshot(page, "round-2-report")
    assert axe_audit(page) == []

    page.goto(f"{live_server}/missions/nhs")
    expect(page.get_by_role("heading", name="What people said, round by round")).to_be_visible()
    expect(page.get_by_role("img", name="People taking part by round")).to_be_visible()
    screenshot(page, "mission-trajectory")
    assert axe_audit(page) == []


def test_team_publishes_a_newer_run_and_the_public_page_follows(
    page, live_server, missions, team, screenshot, axe_audit
):
    _, second = two_rounds(missions, team)
    run = analyse(second.id)
    page.goto(f"{live_server}/consultations/{second.id}/report")
    expect(page.locator("h1")).to_have_text("No published summary yet")
    screenshot(page, "not-published")
    assert axe_audit(page) == []

    page.goto(f"{live_server}/sign-in")
    page.get_by_label("Email address").fill(team.email)
    page.get_by_role("textbox", name="Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server}/manage/consultations/{second.id}")
    page.get_by_role(
        "link", name="Analysis, public summary and rounds of this consultation"
    ).click()
    expect(page.locator("h1")).to_have_text("Analysis and summary")
    screenshot(page, "team-analysis-page")
    assert axe_audit(page) == []
    page.get_by_role("button", name=f"Publish run {run.id}").click()
    expect(page.locator("h1")).to_have_text(f"Publish run {run.id}")  # the confirmation page
    assert axe_audit(page) == []
    page.get_by_role("button", name=f"Publish run {run.id}").click()
    expect(
        page.get_by_text("Published: the public summary now shows this analysis.")
    ).to_be_visible()
    screenshot(page, "published")

    page.get_by_role("link", name="read the public summary").click()
    expect(page.locator("h1")).to_contain_text("Summary of findings")
    expect(page.get_by_text("This is the published summary of this consultation")).to_be_visible()
    assert axe_audit(page) == []


def test_the_report_fits_the_screen_on_a_desktop_and_a_phone(
    browser, live_server, brexit_analysed, missions, team, screenshot, axe_audit
):
    run = brexit_analysed
    cid = run.consultation_id
    reports.publish_run(team, db.session.get(Consultation, cid), run)
    db.session.commit()
    for width, height in ((1280, 900), (375, 800)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.goto(f"{live_server}/consultations/{cid}/report")
        for details in page.locator("details").all():  # every collapsed table open
            details.evaluate("d => d.open = true")
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"the page scrolls sideways by {overflow}px at {width}px"
        wide = page.evaluate(
            "[...document.querySelectorAll('table')].filter(t => !t.closest('.app-table-wrap'))"
            ".length"
        )
        assert wide == 0  # every table scrolls in its own region, never the page
        screenshot(page, f"report-{width}px")
        assert axe_audit(page) == []
        context.close()
