"""The indicator that measures a mission's goal: the team records it and its values, the mission
page draws them against the straight path to the target with a table, a download and the
mission's timeline of rounds, summaries and trialled ideas."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import date, datetime

import pytest
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import (
    AnalysisRun,
    AuditEvent,
    Consultation,
    Idea,
    IndicatorDirection,
    IndicatorValue,
    Mission,
    MissionIndicator,
    RunStatus,
)
from deliberate.reporting import indicator_chart as chart
from deliberate.services import indicators, mission_timeline
from deliberate.services.errors import Refused
from deliberate.services.ideas import move_idea, record_trial_learning
from tests.helpers import (
    count,
    csrf_token_from,
    error_summary,
    html_of,
    sign_in,
    submit_form,
    text_of,
)

INDICATOR_FORM = {
    "name": "Serious violent crime recorded by the police",
    "unit": "offences a year",
    "source": "Office for National Statistics",
    "source_url": "https://www.ons.gov.uk/",
    "direction": "lower",
    "baseline_value": "52,000",
    "baseline_on": ["31", "3", "2023"],
    "target_value": "26000",
    "target_on": ["31", "3", "2033"],
}


@pytest.fixture
def streets(missions) -> Mission:
    return missions["safer-streets"]


@pytest.fixture
def team(create_user, streets):
    return create_user(email="team@example.org", team=(streets,))


@pytest.fixture
def team_client(client, team):
    sign_in(client, team.email)
    return client


def record_indicator(team, mission, **changes) -> MissionIndicator:
    settings = indicators.IndicatorSettings(
        name="Serious violent crime recorded by the police",
        unit="offences a year",
        source="Office for National Statistics",
        source_url=None,
        baseline_value=52_000,
        baseline_on=date(2023, 3, 31),
        target_value=26_000,
        target_on=date(2033, 3, 31),
        direction=IndicatorDirection.LOWER,
    )
    settings = indicators.IndicatorSettings(**{**settings.__dict__, **changes})
    indicator = indicators.set_indicator(team, mission, settings)
    db.session.commit()
    return indicator


def trialled_idea(team, author, mission, reason: str, learnt: str, when=None) -> Idea:
    """A staff idea the team reviewed, then trialled (``when``: the two moves' times), with what
    its trial learnt."""
    idea = Idea(
        mission_id=mission.id,
        author_id=author.id,
        title="Reply to every report",
        problem="People hear nothing back.",
        proposal="Reply within seven days.",
    )
    db.session.add(idea)
    db.session.flush()
    for stage, why, at in zip(
        ("under_review", "being_trialled"),
        ("Worth a look.", reason),
        when or (None, None),
        strict=True,
    ):
        move_idea(team, idea, stage, why)
        if at is not None:
            idea.history[-1].changed_at = at
    record_trial_learning(team, idea, learnt)
    return idea


def add(team, indicator, day: date, value: float, source="ONS", note="") -> IndicatorValue:
    row = indicators.add_value(team, indicator, indicators.ValueInput(day, value, source, note))
    db.session.commit()
    return row


# -- the team records the indicator and its values ------------------------------------------------


def test_the_team_records_an_indicator_and_its_values_through_the_pages(team_client, streets):
    response = submit_form(
        team_client, "/manage/missions/safer-streets/indicator/edit", INDICATOR_FORM
    )
    assert response.status_code == 302, error_summary(html_of(response))
    indicator = db.session.scalar(select(MissionIndicator))
    assert (indicator.name, indicator.baseline_value, indicator.target_value) == (
        "Serious violent crime recorded by the police",
        52_000,
        26_000,
    )
    assert indicator.baseline_on == date(2023, 3, 31)
    assert indicator.direction is IndicatorDirection.LOWER
    assert indicator.source_url == "https://www.ons.gov.uk/"

    for day, value in ((["31", "3", "2024"], "51,200"), (["31", "3", "2025"], "49000.5")):
        response = submit_form(
            team_client,
            "/manage/missions/safer-streets/indicator/values/new",
            {"measured_on": day, "value": value, "source": "Crime survey", "note": ""},
        )
        assert response.status_code == 302, error_summary(html_of(response))
    values = db.session.scalars(select(IndicatorValue).order_by(IndicatorValue.measured_on)).all()
    assert [(v.measured_on, v.value) for v in values] == [
        (date(2024, 3, 31), 51_200),
        (date(2025, 3, 31), 49_000.5),
    ]
    # Change one, then remove the other, each through its own page.
    response = submit_form(
        team_client,
        f"/manage/indicator-values/{values[0].id}/edit",
        {"measured_on": ["31", "3", "2024"], "value": "51300", "source": "Crime survey (revised)"},
    )
    assert response.status_code == 302
    response = submit_form(
        team_client, f"/manage/indicator-values/{values[1].id}/remove", {"confirm": "yes"}
    )
    assert response.status_code == 302
    left = db.session.scalars(select(IndicatorValue)).all()
    assert [(v.value, v.source) for v in left] == [(51_300, "Crime survey (revised)")]
    actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert [a for a in actions if a.startswith("indicator.")] == [
        "indicator.created",
        "indicator.value_added",
        "indicator.value_added",
        "indicator.value_changed",
        "indicator.value_removed",
    ]


def test_a_removal_without_the_confirmation_page_changes_nothing(team_client, team, streets):
    row = add(team, record_indicator(team, streets), date(2024, 3, 31), 51_000)
    response = submit_form(team_client, f"/manage/indicator-values/{row.id}/remove", {})
    assert response.status_code == 400
    assert count(IndicatorValue) == 1


def test_changing_the_indicator_keeps_its_values(team_client, team, streets):
    add(team, record_indicator(team, streets), date(2024, 3, 31), 51_000)
    page = html_of(team_client.get("/manage/missions/safer-streets/indicator/edit"))
    assert 'value="52000"' in page  # the form opens with what is stored
    response = submit_form(
        team_client,
        "/manage/missions/safer-streets/indicator/edit",
        {**INDICATOR_FORM, "target_value": "30000"},
    )
    assert response.status_code == 302
    assert db.session.scalar(select(MissionIndicator.target_value)) == 30_000
    assert count(IndicatorValue) == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"name": "  "}, "Enter what the indicator measures"),
        ({"baseline_value": "about half"}, "Baseline value must be a number, like 1250 or 3.5"),
        ({"baseline_value": "nan"}, "Baseline value must be a number, like 1250 or 3.5"),
        ({"target_value": "inf"}, "Target value must be a number, like 1250 or 3.5"),
        ({"target_value": ""}, "Enter the target value"),
        ({"baseline_on": ["31", "", "2023"]}, "Date of the baseline must include a month"),
        ({"target_on": ["31", "2", "2033"]}, "Target date must be a real date"),
        (
            {"target_on": ["31", "3", "2020"]},
            "The target date must be after the date of the baseline",
        ),
        (
            {"target_value": "60000"},
            "Lower is better, so the target must be lower than the baseline",
        ),
        (
            {"direction": "higher"},
            "Higher is better, so the target must be higher than the baseline",
        ),
        ({"target_value": "52000"}, "The target must differ from the baseline"),
        ({"source_url": "javascript:alert(1)"}, "Enter the source's web address starting with"),
    ],
)
def test_bad_indicators_are_refused_with_a_clear_error_and_nothing_is_lost(
    team_client, streets, changes, message
):
    posted = {**INDICATOR_FORM, **changes}
    response = submit_form(team_client, "/manage/missions/safer-streets/indicator/edit", posted)
    assert response.status_code == 400
    page = html_of(response)
    assert message in error_summary(page)
    assert count(MissionIndicator) == 0
    # What was typed is still in the form.
    assert 'value="Office for National Statistics"' in page
    typed = posted["baseline_value"].strip()
    if typed:
        assert f'value="{typed}"' in page


def test_bad_values_are_refused_with_a_clear_error(team_client, team, streets):
    indicator = record_indicator(team, streets)
    add(team, indicator, date(2024, 3, 31), 51_000)
    url = "/manage/missions/safer-streets/indicator/values/new"
    cases = [
        (
            {"measured_on": ["31", "3", "2024"], "value": "50000", "source": "ONS"},
            "There is already a value for 31 March 2024",
        ),
        (
            {"measured_on": ["1", "1", "2999"], "value": "50000", "source": "ONS"},
            "The date of a value cannot be in the future",
        ),
        (
            {"measured_on": ["1", "1", "2025"], "value": "1e999", "source": "ONS"},
            "Value must be a number",
        ),
        (
            {"measured_on": ["1", "1", "2025"], "value": "50000", "source": ""},
            "Enter the source of this value",
        ),
        (
            {"measured_on": ["", "", ""], "value": "50000", "source": "ONS"},
            "Enter the date the value describes",
        ),
    ]
    for data, message in cases:
        response = submit_form(team_client, url, data)
        assert response.status_code == 400, data
        assert message in error_summary(html_of(response)), data
    assert count(IndicatorValue) == 1


def test_the_service_refuses_anyone_off_the_team(create_user, missions, team, streets):
    indicator = record_indicator(team, streets)
    other = create_user(email="other@example.org", team=(missions["nhs"],))
    with pytest.raises(Refused):
        indicators.add_value(other, indicator, indicators.ValueInput(date(2024, 1, 1), 1, "x"))
    with pytest.raises(Refused):
        record_indicator(other, streets)


def test_people_off_the_team_get_403_on_every_indicator_page(
    client, create_user, missions, team, streets
):
    row = add(team, record_indicator(team, streets), date(2024, 3, 31), 51_000)
    sign_in(client, create_user(email="nhs@example.org", team=(missions["nhs"],)).email)
    token = csrf_token_from(html_of(client.get("/account")))
    posted = {**INDICATOR_FORM, "measured_on": ["1", "1", "2025"], "value": "1", "confirm": "yes"}
    for url in (
        "/manage/missions/safer-streets/indicator",
        "/manage/missions/safer-streets/indicator/edit",
        "/manage/missions/safer-streets/indicator/values/new",
        f"/manage/indicator-values/{row.id}/edit",
        f"/manage/indicator-values/{row.id}/remove",
    ):
        assert client.get(url).status_code == 403, url
        if not url.endswith("/indicator"):
            assert client.post(url, data={"csrf_token": token, **posted}).status_code == 403, url
    assert [(v.value, v.source) for v in db.session.scalars(select(IndicatorValue))] == [
        (51_000, "ONS")
    ]


# -- what everyone sees ----------------------------------------------------------------------------


def test_the_mission_page_draws_the_values_against_the_straight_path(client, team, streets):
    indicator = record_indicator(team, streets)
    add(team, indicator, date(2024, 3, 31), 51_200)
    add(team, indicator, date(2026, 3, 31), 48_100, note="Provisional")
    page = html_of(client.get("/missions/safer-streets"))
    svg = re.search(r'<svg class="app-chart app-chart--indicator".*?</svg>', page, re.S).group(0)
    assert 'role="img"' in svg and "<title" in svg and "<desc" in svg
    assert 'stroke-dasharray="9 6"' in svg  # the straight path
    assert svg.count("<polyline") == 1  # the actual values
    words = text_of(page)
    # The table: every value with the straight path on its date (1,096 of the 3,653 days from
    # the baseline to the target: 52,000 - 26,000 * 1,096 / 3,653 = 44,199.29), to the figures'
    # precision (whole offences).
    assert "31 March 2026 48,100 offences a year 44,199 offences a year" in words
    assert "Measured by Serious violent crime recorded by the police" in words
    assert "Provisional" in words
    # The honest comparison, with the figures, and nothing more.
    assert (
        "The latest value, 48,100 offences a year on 31 March 2026, is behind the straight path "
        "from the baseline to the target, which is at 44,199 offences a year on that date: a "
        "difference of 3,901 offences a year." in words
    )
    assert "on track" not in words.lower()
    assert 'href="/missions/safer-streets/indicator.csv"' in page


def test_ahead_of_the_path_and_past_the_target_are_worded_from_the_figures():
    series = chart.IndicatorSeries(
        "Clean power",
        "%",
        False,
        chart.Point(date(2020, 1, 1), 50),
        chart.Point(date(2030, 1, 1), 90),
        (chart.Point(date(2025, 1, 1), 75),),
    )
    progress = chart.progress_of(series)
    assert progress.better is True
    assert "is ahead of the straight path" in progress.sentence(series)
    # 1,827 of the 3,653 days: 50 + 40 * 1,827 / 3,653 = 70.005, shown as precisely as the
    # figures are given (whole per cent).
    assert "which is at 70% on that date: a difference of 5%." in progress.sentence(series)
    late = replace(series, actual=(chart.Point(date(2031, 1, 1), 88),))
    assert "has not reached the target of 90%" in chart.progress_of(late).sentence(late)
    before = replace(series, actual=(series.baseline,))
    assert chart.progress_of(before) is None


def test_a_mission_without_an_indicator_says_so_and_has_no_download(client, streets):
    page = text_of(html_of(client.get("/missions/safer-streets")))
    assert "has not recorded the indicator that measures this goal yet" in page
    assert client.get("/missions/safer-streets/indicator.csv").status_code == 404


def test_the_values_download_as_csv_with_formula_looking_text_made_safe(client, team, streets):
    indicator = record_indicator(team, streets, source='=HYPERLINK("http://evil")')
    add(team, indicator, date(2024, 3, 31), 51_200.5, source="+cmd|' /C calc'!A0", note="@note")
    response = client.get("/missions/safer-streets/indicator.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == list(indicators.CSV_COLUMNS)
    by_kind = {row[0]: row for row in rows[1:]}
    assert by_kind["baseline"][1:4] == ["2023-03-31", "52000", "offences a year"]
    assert by_kind["target"][1:3] == ["2033-03-31", "26000"]
    assert by_kind["actual"][1:3] == ["2024-03-31", "51200.5"]
    assert by_kind["baseline"][5] == '\'=HYPERLINK("http://evil")'
    assert by_kind["actual"][5] == "'+cmd|' /C calc'!A0"
    assert by_kind["actual"][7] == "'@note"


def test_illustrative_figures_say_so_on_the_page_and_in_the_download(client, team, streets):
    indicator = record_indicator(team, streets, source=indicators.ILLUSTRATIVE)
    add(team, indicator, date(2024, 3, 31), 51_200, source=indicators.ILLUSTRATIVE)
    page = text_of(html_of(client.get("/missions/safer-streets")))
    assert "Illustrative demo figures, not official statistics" in page
    rows = list(csv.reader(io.StringIO(client.get("/missions/safer-streets/indicator.csv").text)))
    assert all(indicators.ILLUSTRATIVE in row[7] for row in rows[1:])


# -- the timeline ----------------------------------------------------------------------------------


def _round(mission, title, number, opened, closed=None, previous=None) -> Consultation:
    consultation = Consultation(
        mission=mission, title=title, round_number=number, previous_round=previous
    )
    consultation.open(now=opened)
    if closed:
        consultation.close(now=closed)
    db.session.add(consultation)
    db.session.flush()
    return consultation


def test_the_timeline_lists_rounds_summaries_and_trialled_ideas_in_date_order(
    app, client, create_user, team, streets
):
    first = _round(
        streets, "How do we make streets safer?", 1, datetime(2025, 1, 10), datetime(2025, 2, 10)
    )
    second = _round(
        streets, "How do we make streets safer?", 2, datetime(2025, 6, 1), previous=first
    )
    db.session.add(
        AnalysisRun(
            consultation_id=first.id,
            status=RunStatus.DONE,
            finished_at=datetime(2025, 2, 20),
            published_at=datetime(2025, 3, 1),
        )
    )
    author = create_user(email="officer@example.org", staff_email="officer@met.police.uk")
    trialled_idea(
        team,
        author,
        streets,
        "Trialled in two boroughs.",
        "Replies doubled the reports that followed.",
        when=(datetime(2025, 3, 15), datetime(2025, 4, 1)),
    )
    extra = mission_timeline.TimelineEvent(
        date(2025, 5, 1), "response", "The team's response", "/somewhere", "We will fund it."
    )
    db.session.commit()

    with app.test_request_context():
        events = mission_timeline.mission_timeline(streets, extra=[extra])
    assert [(e.day, e.kind) for e in events] == [
        (date(2025, 1, 10), "round_opened"),
        (date(2025, 2, 10), "round_closed"),
        (date(2025, 3, 1), "summary_published"),
        (date(2025, 4, 1), "idea_trialled"),  # "under review" is no event of the timeline
        (date(2025, 5, 1), "response"),
        (date(2025, 6, 1), "round_opened"),
    ]
    trial = events[3]
    assert trial.detail == "Trialled in two boroughs."
    assert trial.learnt == "Replies doubled the reports that followed."
    assert events[0].title == "“How do we make streets safer?” (round 1) opened"

    record_indicator(team, streets)
    page = html_of(client.get("/missions/safer-streets"))
    words = text_of(page)
    assert "What the trial learnt: Replies doubled the reports that followed." in words
    timeline = words[words.index("Timeline") :]
    assert timeline.index("10 January 2025") < timeline.index("1 April 2025")
    assert timeline.index("1 April 2025") < timeline.index("1 June 2025")
    # Events are marked on the chart's time axis, and the key names their kinds.
    assert "Staff idea trialled or decided (triangle)" in words
    # Both rounds of the question say which round they are, with their dates.
    listed = words[words.index("Consultations") :]
    assert "How do we make streets safer? Round 2 Open Opened 1 June 2025" in listed
    assert (
        "How do we make streets safer? Round 1 Closed Opened 10 January 2025, closed "
        "10 February 2025" in listed
    )
    assert second.id  # the second round is public: it is open


@pytest.mark.demo
def test_every_demo_mission_has_an_indicator_with_a_few_years_of_values(app, client):
    from tests.helpers import load_demo

    load_demo(app)
    missions = db.session.scalars(select(Mission)).all()
    assert len(missions) == 5
    for mission in missions:
        indicator = indicators.indicator_of(mission)
        assert indicator is not None, mission.slug
        assert indicator.source == indicators.ILLUSTRATIVE
        years = {v.measured_on.year for v in indicator.values}
        assert len(years) >= 3, mission.slug
        page = html_of(client.get(f"/missions/{mission.slug}"))
        assert "app-chart--indicator" in page
        assert "Illustrative demo figures, not official statistics" in text_of(page)
    # The demo's trialled idea shows what its trial learnt on its mission's timeline.
    page = text_of(html_of(client.get("/missions/opportunity")))
    assert "What the trial learnt:" in page
