"""Where you stand: one person's place among a published run's opinion groups, from the stored run.

The placement must be the analysis's own: on a real analysed conversation, projecting every
participant's answers in pure Python reproduces their stored place and group.
"""

from __future__ import annotations

import copy
import math
from collections import defaultdict

import pytest
from sqlalchemy import select, update

from deliberate.extensions import db
from deliberate.findings import read_findings
from deliberate.models import (
    AnalysisRun,
    Consultation,
    Participant,
    ParticipantRole,
    Vote,
    VoteEvent,
)
from deliberate.reporting.figures import group_name
from deliberate.reporting.placement import Verdict, nearest_groups, place, project
from deliberate.services import reports
from deliberate.services.where_you_stand import PLACED, where_you_stand
from tests.helpers import heavy_imports, html_of, sign_in, sql_statements, text_of
from tests.test_participation import vote
from tests.test_reports import add_votes, analyse, open_consultation


def current_answers(consultation_id: int) -> dict[int, dict[int, int]]:
    answers: dict[int, dict[int, int]] = defaultdict(dict)
    rows = db.session.execute(
        select(Vote.participant_id, Vote.statement_id, Vote.choice).where(
            Vote.consultation_id == consultation_id
        )
    )
    for pid, sid, choice in rows:
        answers[pid][sid] = choice
    return answers


def test_the_projection_reproduces_every_stored_place_and_group(app, brexit_analysed):
    votes = read_findings(brexit_analysed.results).votes
    m = votes.opinion_map
    assert m is not None and m.components is not None and m.clustered is not None
    answers = current_answers(brexit_analysed.consultation_id)
    checked = clustered = assigned = 0
    for i, pid in enumerate(m.participant_ids):
        if m.x[i] is None:
            assert project(votes, answers.get(pid, {})) is None
            continue
        x, y = project(votes, answers[pid])
        assert x == pytest.approx(m.x[i], abs=1e-6)
        assert y == pytest.approx(m.y[i], abs=1e-6)
        stored = place(votes, answers[pid], pid)
        fresh = place(votes, answers[pid])  # as a newcomer with the same answers
        if m.clustered[i]:
            assert stored.stored
            clustered += 1
            assert stored.verdict is Verdict.IN_GROUP
            assert stored.group == m.group[i]
            assert fresh.group == m.group[i]  # the refined groups are nearest-centre groups
        elif stored.placed:
            assert stored.stored
            assert stored.group == m.assigned_group[i]
            assert fresh.group == m.assigned_group[i]
            assert stored.verdict in (Verdict.CLOSEST, Verdict.UNCLEAR)
        else:  # too few answers: the analysis left them out of the groups, and so do we
            assert nearest_groups(votes, (x, y))[0].id == m.assigned_group[i]
            assigned += 1
            assert stored.verdict is Verdict.CANNOT_PLACE and stored.answers_needed > 0
        checked += 1
    assert checked > 150 and clustered > 100 and assigned > 5


# -- the rules, on a real run's findings ----------------------------------------------------------


def _results_with(run, change) -> dict:
    results = copy.deepcopy(run.results)
    change(results["votes"])
    return results


def test_when_the_groups_are_no_better_than_chance_nobody_is_placed_in_one(app, brexit_analysed):
    def no_clear_groups(votes):
        votes["groups_test"] = {**(votes.get("groups_test") or {}), "decision": "no_clear_groups"}

    votes = read_findings(_results_with(brexit_analysed, no_clear_groups)).votes
    answers = current_answers(brexit_analysed.consultation_id)
    pid = next(p for p, a in answers.items() if len(a) >= 7)
    placement = place(votes, answers[pid], pid)
    assert placement.verdict is Verdict.NO_GROUPS and placement.group is None


def test_a_run_stored_without_its_axes_cannot_place_anyone(app, brexit_analysed):
    def older(votes):
        del votes["opinion_map"]["components"], votes["opinion_map"]["statement_means"]

    votes = read_findings(_results_with(brexit_analysed, older)).votes
    assert votes.opinion_map is not None and votes.opinion_map.components is None
    answers = current_answers(brexit_analysed.consultation_id)
    pid = next(p for p, a in answers.items() if len(a) >= 7)
    assert place(votes, answers[pid], pid).verdict is Verdict.CANNOT_PLACE


def test_someone_halfway_between_two_groups_is_not_clearly_in_any(app, brexit_analysed):
    votes = read_findings(brexit_analysed.results).votes
    m = votes.opinion_map
    answers = current_answers(brexit_analysed.consultation_id)
    a, b = (
        next(p for i, p in enumerate(m.participant_ids) if m.clustered[i] and m.group[i] == g)
        for g in (0, 1)
    )
    # Both people's answers, each statement from one of them in turn: a point between the groups.
    mixed = {}
    for n, sid in enumerate(votes.statements.statement_ids):
        source = answers[a] if n % 2 else answers[b]
        if sid in source:
            mixed[sid] = source[sid]
    placement = place(votes, mixed)
    d = [
        math.dist((placement.x, placement.y), votes.groups[g].center)
        for g in (placement.group, placement.next_group)
    ]
    gap = math.dist(votes.groups[0].center, votes.groups[1].center)
    assert placement.near_border == (d[1] - d[0] < 0.2 * gap)
    assert placement.verdict is Verdict.UNCLEAR and placement.near_border
    assert not placement.stored


# -- the page ------------------------------------------------------------------------------------


def stand_url(consultation_id: int) -> str:
    return f"/consultations/{consultation_id}/where-you-stand"


@pytest.fixture
def team(create_user, missions):
    return create_user(email="team@example.org", team=tuple(missions.values()))


def test_a_signed_in_participant_sees_their_own_group_and_counts_of_other_people(
    app, client, brexit_analysed, missions, team, create_user
):
    run = brexit_analysed
    consultation = db.session.get(Consultation, run.consultation_id)
    reports.publish_run(team, consultation, run)
    votes = read_findings(run.results).votes
    m = votes.opinion_map
    i = next(i for i, _ in enumerate(m.participant_ids) if m.clustered[i] and m.group[i] == 1)
    participant = db.session.get(Participant, m.participant_ids[i])
    person = create_user(email="person@example.org")
    participant.user_id = person.id
    db.session.commit()
    sign_in(client, "person@example.org")

    page = html_of(client.get(stand_url(consultation.id)))
    assert 'data-verdict="in_group"' in page
    assert "In the published summary, you are in Group B." in text_of(page)
    assert "204 people" in text_of(page)

    stand = where_you_stand(consultation, participant)
    assert stand.state == PLACED and stand.group == "Group B"
    assert stand.n_compared == len(current_answers(consultation.id)[participant.id])
    # Each count is about the other people: the person's own answer is taken out.
    table = votes.statements
    mine = current_answers(consultation.id)[participant.id]
    for c in (*stand.with_most, *stand.minority):
        j = table.statement_ids.index(c.statement_id)
        assert c.others == table.n_seen[j] - 1
        everyone = {1: table.n_agree[j], -1: table.n_disagree[j]}[c.choice]
        assert c.same == everyone - 1 and mine[c.statement_id] == c.choice
        assert f"{c.same} of the {c.others} other people who answered it" in text_of(page)
    assert stand.n_with_most and stand.n_minority
    assert [g.name for g in stand.groups] == ["Group A", "Group B"]
    own = stand.groups[1]
    assert own.yours and own.percent > stand.groups[0].percent
    assert "Group B (your group)" in text_of(page)
    assert f'href="/consultations/{consultation.id}/report"' in page


TEXTS = [f"Statement number {n} about the bus timetable" for n in range(10)]


def two_camps(missions, *, staff_in_a: int = 0) -> tuple[Consultation, list]:
    """Thirty people in two clear camps over ten statements; the run analysed and published.
    Camp A agrees with the first five statements and disagrees with the rest; camp B the other way
    round. ``staff_in_a`` of camp A are staff."""
    consultation, statements = open_consultation(missions, "Buses", TEXTS)
    people = []
    for n in range(30):
        camp = 1 if n < 15 else -1
        role = ParticipantRole.STAFF if n < staff_in_a else ParticipantRole.CITIZEN
        answers = {s: camp if s < 5 else -camp for s in range(10)}
        answers[n % 10] = 0 if n % 3 == 0 else answers[n % 10]  # a little noise: some pass
        people.append((role, answers))
    add_votes(consultation, statements, people)
    # Cast well before the analysis starts (add_votes stamps them now).
    db.session.execute(
        update(Vote).where(Vote.consultation_id == consultation.id).values(cast_at_ms=1_000)
    )
    db.session.execute(  # the history says the same, as the Polis export checks
        update(VoteEvent)
        .where(VoteEvent.consultation_id == consultation.id)
        .values(cast_at_ms=1_000)
    )
    db.session.commit()
    return consultation, statements


def publish_analysis(consultation: Consultation, team) -> AnalysisRun:
    run = analyse(consultation.id)
    reports.publish_run(team, consultation, run)
    db.session.commit()
    return run


def group_of_camp_a(run: AnalysisRun) -> str:
    votes = read_findings(run.results).votes
    m = votes.opinion_map
    return group_name(m.group[0])  # the first participant is in camp A


def test_a_newcomer_with_a_cookie_is_placed_closest_to_the_camp_they_answer_like(
    app, client, missions, team
):
    consultation, statements = two_camps(missions)
    run = publish_analysis(consultation, team)
    url = stand_url(consultation.id)

    page = text_of(html_of(client.get(url)))
    assert "Answer 7 more statements to see where you stand" in page

    for n, statement in enumerate(statements[:7]):
        choice = "agree" if n < 5 else "disagree"
        assert vote(client, consultation, statement.id, choice).status_code == 302
    page = html_of(client.get(url))
    assert 'data-verdict="closest"' in page
    assert f"closest to {group_of_camp_a(run)}" in text_of(page)
    # Answered after the summary: placed, but not compared statement by statement.
    assert 'id="not-compared"' in page
    assert "7 of your answers came after the summary was made" in text_of(page)

    # Another browser sees its own (empty) page, nothing of the first person's.
    other = app.test_client()
    theirs = text_of(html_of(other.get(url)))
    assert "Answer 7 more statements to see where you stand" in theirs
    assert "closest to" not in theirs

    # After 3 answers, 4 more are needed: said with the right plural.
    for statement in statements[:3]:
        vote(other, consultation, statement.id, "agree")
    assert "Answer 4 more statements" in text_of(html_of(other.get(url)))
    for statement in statements[3:6]:
        vote(other, consultation, statement.id, "agree")
    assert "Answer 1 more statement to see" in text_of(html_of(other.get(url)))


def test_a_signed_in_newcomer_and_staff_and_citizens_compared(
    app, client, missions, team, create_user
):
    consultation, statements = two_camps(missions, staff_in_a=8)
    run = publish_analysis(consultation, team)
    create_user(email="person@example.org")
    sign_in(client, "person@example.org")
    for n, statement in enumerate(statements):
        vote(client, consultation, statement.id, "disagree" if n < 5 else "agree")
    participant = db.session.scalar(
        select(Participant)
        .where(Participant.consultation_id == consultation.id)
        .order_by(Participant.id.desc())
    )
    # Answers given before the next run count in comparisons once a summary includes them.
    db.session.execute(
        update(Vote).where(Vote.participant_id == participant.id).values(cast_at_ms=2_000)
    )
    db.session.commit()
    run = publish_analysis(consultation, team)
    stand = where_you_stand(consultation, participant)
    camp_b = {"Group A": "Group B", "Group B": "Group A"}[group_of_camp_a(run)]
    assert stand.state == PLACED and stand.group == camp_b
    assert stand.verdict is Verdict.IN_GROUP
    assert stand.n_compared == 10
    assert [r.name for r in stand.roles] == ["Staff", "Citizens"]
    staff, citizens = stand.roles
    assert staff.percent == 0  # every staff member is in the other camp
    assert citizens.compared == 10 and citizens.percent == 100  # most citizens are in camp B
    page = text_of(html_of(client.get(stand_url(consultation.id))))
    assert "You, staff and citizens" in page
    assert f"you are in {camp_b}" in page


def test_without_a_published_summary_the_page_says_so(app, client, missions, team):
    consultation, statements = two_camps(missions)
    analyse(consultation.id)  # analysed, not published: the public has no summary
    for statement in statements[:8]:
        vote(client, consultation, statement.id, "agree")
    page = html_of(client.get(stand_url(consultation.id)))
    assert 'data-state="no_summary"' in page
    assert "No summary of this consultation has been published yet" in text_of(page)
    assert "/report" not in page.split("<main", 1)[1]


def test_the_answers_page_links_here(app, client, missions, team):
    consultation, _ = two_camps(missions)
    page = html_of(client.get(f"/consultations/{consultation.id}/answers"))
    assert f'href="{stand_url(consultation.id)}"' in page


def test_the_page_reads_no_participant_from_the_address(app, client, missions, team):
    consultation, _ = two_camps(missions)
    publish_analysis(consultation, team)
    somebody = db.session.scalar(
        select(Participant.id).where(Participant.consultation_id == consultation.id)
    )
    page = html_of(client.get(f"{stand_url(consultation.id)}?participant={somebody}"))
    assert 'data-state="not_yet"' in page


def test_the_page_is_read_from_the_stored_run_once_with_no_numpy(app, client, missions, team):
    consultation, statements = two_camps(missions)
    publish_analysis(consultation, team)
    for statement in statements[:7]:
        vote(client, consultation, statement.id, "agree")
    url = stand_url(consultation.id)
    assert client.get(url).status_code == 200
    with sql_statements(app) as sent:
        assert 'data-state="placed"' in html_of(client.get(url))
    # The run's results are read once per process, not on every request; a handful of queries.
    assert not any("analysis_runs.results" in s for s in sent)
    assert len(sent) <= 12, sent

    light = ("deliberate.services.where_you_stand", "deliberate.reporting.placement")
    assert heavy_imports(*light) == []
