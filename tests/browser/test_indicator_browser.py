"""The mission page with its indicator chart, timeline and rounds, in a real browser: it fits a
375 px phone without scrolling sideways (with and without JavaScript), passes axe, and the team
records a value after a refused one. Screenshots of each step are kept in test-artifacts/."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from deliberate.extensions import db
from deliberate.models import IndicatorDirection
from deliberate.services import indicators, reports
from tests.test_indicators import trialled_idea
from tests.test_reports import analyse, two_rounds

PHONE = {"width": 375, "height": 812}


@pytest.fixture
def team(create_user, missions):
    return create_user(email="team@example.org", team=tuple(missions.values()))


def _mission_with_everything(missions, team, create_user) -> None:
    """NHS: a question asked in two rounds, both summaries published, a trialled staff idea, and
    the indicator with a few values."""
    first, second = two_rounds(missions, team)
    for consultation in (first, second):
        reports.publish_run(team, consultation, analyse(consultation.id))
    author = create_user(email="nurse@example.org", staff_email="nurse@nhs.net")
    trialled_idea(
        team,
        author,
        missions["nhs"],
        "Trialled on four wards.",
        "Weekend discharges rose by a fifth on the trial wards.",
    )
    indicator = indicators.set_indicator(
        team,
        missions["nhs"],
        indicators.IndicatorSettings(
            "Patients waiting more than 18 weeks for planned hospital treatment",
            "% of the waiting list",
            indicators.ILLUSTRATIVE,
            None,
            42,
            date(2023, 3, 31),
            8,
            date(2029, 3, 31),
            IndicatorDirection.LOWER,
        ),
    )
    for day, value in ((date(2024, 3, 31), 41), (date(2025, 3, 31), 38.5)):
        indicators.add_value(team, indicator, indicators.ValueInput(day, value, "NHS England"))
    db.session.commit()


def test_the_mission_page_fits_a_phone_and_passes_axe(
    browser, live_server, missions, team, create_user, screenshot, axe_audit
):
    _mission_with_everything(missions, team, create_user)
    # Without JavaScript (the chart is server-side SVG), then with it (as axe needs).
    for javascript in (False, True):
        context = browser.new_context(viewport=PHONE, java_script_enabled=javascript)
        page = context.new_page()
        page.goto(live_server + "/missions/nhs")
        chart = page.get_by_role("img", name="Patients waiting more than 18 weeks")
        expect(chart).to_be_visible()
        expect(page.get_by_role("table", name="Actual values of")).to_be_attached()
        expect(page.get_by_role("table", name="Rounds of")).to_be_attached()
        expect(page.get_by_text("What the trial learnt:")).to_be_visible()
        illustrative = page.get_by_text("Illustrative demo figures, not official statistics")
        expect(illustrative.first).to_be_visible()
        # The chart scales to the phone, and nothing widens the page: every wide table
        # scrolls inside its own region, hidden text included.
        assert chart.bounding_box()["width"] <= 375
        width = page.evaluate("document.documentElement.scrollWidth")
        screenshot(page, f"mission-on-a-phone{'' if javascript else '-without-javascript'}")
        assert width <= 375, f"the page is {width} px wide on a 375 px phone"
        if javascript:
            assert axe_audit(page) == []
        context.close()


def test_the_team_adds_a_value_and_sees_it_on_the_mission_page(
    browser, live_server, missions, team, screenshot, axe_audit
):
    indicators.set_indicator(
        team,
        missions["safer-streets"],
        indicators.IndicatorSettings(
            "Serious violent crime recorded by the police",
            "offences a year",
            "Office for National Statistics",
            "https://www.ons.gov.uk/",
            52_000,
            date(2023, 3, 31),
            26_000,
            date(2033, 3, 31),
            IndicatorDirection.LOWER,
        ),
    )
    db.session.commit()
    context = browser.new_context()
    page = context.new_page()
    page.goto(live_server + "/sign-in")
    page.get_by_label("Email address").fill(team.email)
    page.locator("#password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    page.goto(live_server + "/missions/safer-streets")
    page.get_by_role("link", name="Change the indicator or its values").click()
    assert axe_audit(page) == []
    page.get_by_role("button", name="Add a value").click()
    # A mistake first: the error is explained and what was typed stays.
    page.get_by_label("Day").fill("31")
    page.get_by_label("Month").fill("3")
    page.get_by_label("Year").fill("2025")
    page.get_by_label("Value", exact=True).fill("forty thousand")
    page.get_by_label("Source of this value").fill("Crime in England and Wales")
    page.get_by_role("button", name="Save the value").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Value must be a number")
    expect(page.get_by_label("Value", exact=True)).to_have_value("forty thousand")
    expect(page.get_by_label("Source of this value")).to_have_value("Crime in England and Wales")
    screenshot(page, "value-refused")
    assert axe_audit(page) == []
    page.get_by_label("Value", exact=True).fill("49,000")
    page.get_by_role("button", name="Save the value").click()
    expect(page.get_by_text("The value has been added.")).to_be_visible()
    page.goto(live_server + "/missions/safer-streets")
    expect(page.locator("[data-progress]")).to_have_text(
        "The latest value, 49,000 offences a year on 31 March 2025, is behind the straight path "
        "from the baseline to the target, which is at 46,797 offences a year on that date: a "
        "difference of 2,203 offences a year."
    )
    screenshot(page, "mission-with-a-value")
    assert axe_audit(page) == []
    context.close()
