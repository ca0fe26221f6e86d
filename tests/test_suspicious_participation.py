"""Participation that may be scripted: what is kept about the address of a new anonymous
participant (a daily keyed hash, never the address), bursts and identical answers flagged for
review, the team leaving flagged participants out of the analysis (and the report saying so), and
the limit on new anonymous participants per address per minute."""

from __future__ import annotations

import html as html_module
import io
import re
import uuid
import zipfile
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.findings import read_findings
from deliberate.models import (
    AuditEvent,
    Consultation,
    Participant,
    ParticipantFlag,
    ParticipantRole,
    Statement,
    StatementOrigin,
    Vote,
    VoteEvent,
    utcnow,
)
from deliberate.reporting.figures import build_figures
from deliberate.reporting.summary import summarise
from deliberate.services import analysis_runs, retention
from deliberate.services import participation_review as review
from deliberate.services.address_keys import address_key
from deliberate.services.statements import write_statement
from tests.conftest import make_test_app
from tests.helpers import count, error_summary, html_of, sign_in, submit_form, text_of
from tests.test_reports import add_votes, analyse, publish, summary_items

SETTINGS = review.ReviewSettings(burst_participants=5, burst_seconds=60, identical_min_votes=5)
SEEDS = [
    "Buses should run later at night.",
    "Cycle lanes should be separated from traffic.",
    "Fares should be capped across the whole region.",
    "Rural routes matter as much as city routes.",
    "Stations need step-free access.",
]


@pytest.fixture
def consultation(missions) -> Consultation:
    return open_with_seeds(missions)


def open_with_seeds(missions) -> Consultation:
    made = Consultation(mission=missions["nhs"], title="How should local transport change?")
    db.session.add(made)
    db.session.flush()
    for text in SEEDS:
        write_statement(made, text, origin=StatementOrigin.SEED)
    made.open()
    db.session.commit()
    return made


@pytest.fixture
def team(create_user, missions):
    return create_user(email="team@example.org", team=(missions["nhs"],))


def statements_of(consultation: Consultation) -> list[Statement]:
    return list(
        db.session.scalars(
            select(Statement).where(Statement.consultation_id == consultation.id).order_by("id")
        )
    )


def joined(consultation: Consultation, key: str | None, seconds_after: list[float], start=None):
    """Anonymous participants from one address key, joining at these offsets (in seconds)."""
    start = start or utcnow() - timedelta(hours=1)
    made = [
        Participant(
            consultation_id=consultation.id,
            role=ParticipantRole.CITIZEN,
            anonymous_token_hash=uuid.uuid4().hex,
            address_key=key,
            created_at=start + timedelta(seconds=s),
        )
        for s in seconds_after
    ]
    db.session.add_all(made)
    db.session.commit()
    return made


def give_votes(participant: Participant, statements: list[Statement], answers: dict[int, int]):
    for index, choice in answers.items():
        row = dict(
            consultation_id=participant.consultation_id,
            participant_id=participant.id,
            statement_id=statements[index].id,
            choice=choice,
            cast_at_ms=0,
        )
        db.session.add_all([Vote(**row), VoteEvent(**row)])
    db.session.commit()


def vote_as(client, consultation: Consultation, statement_id: int, choice="agree"):
    page = f"/consultations/{consultation.id}"
    return submit_form(
        client,
        page,
        {"statement_id": statement_id, "choice": choice},
        action=f"{page}/votes",
    )


def review_page(consultation: Consultation) -> str:
    return f"/manage/consultations/{consultation.id}/participation-review"


def decide(client, consultation, group: str, kind: str, decision: str, ids, reason="Scripted."):
    return submit_form(
        client,
        review_page(consultation),
        {
            "group": group,
            "kind": kind,
            "decision": decision,
            "participants": [str(i) for i in ids],
            "reason": reason,
        },
    )


def plain(fragment: str) -> str:
    """A sentence as read: tags dropped (links run on in the text), spaces tidied."""
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", "", fragment)).split())


def all_stored_values() -> list[str]:
    """Every value of every row of every table, as text."""
    values = []
    with db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for row in connection.execute(table.select()):
                values.extend(str(v) for v in row if v is not None)
    return values


# -- what is kept about the address ---------------------------------------------------------------


def test_the_address_key_is_a_keyed_hash_that_changes_every_day():
    today, tomorrow = date(2026, 3, 5), date(2026, 3, 6)
    key = address_key("203.0.113.9", "secret", today)
    assert re.fullmatch(r"[0-9a-f]{32}", key)
    assert key == address_key("203.0.113.9", "secret", today)
    assert key != address_key("203.0.113.9", "secret", tomorrow)
    assert key != address_key("203.0.113.9", "another secret", today)
    assert key != address_key("203.0.113.10", "secret", today)
    assert "203.0.113.9" not in key


def test_a_new_anonymous_participant_keeps_a_keyed_hash_of_its_address_never_the_address(
    app, client, consultation, create_user
):
    first = statements_of(consultation)[0]
    assert vote_as(client, consultation, first.id).status_code == 302
    signed_in = app.test_client()
    sign_in(signed_in, create_user(email="someone@example.org").email)
    assert vote_as(signed_in, consultation, first.id).status_code == 302

    anonymous, account = db.session.scalars(select(Participant).order_by(Participant.id)).all()
    expected = address_key("127.0.0.1", app.config["SECRET_KEY"], utcnow().date())
    assert anonymous.address_key == expected
    assert account.user_id is not None and account.address_key is None
    # The test client's address is stored nowhere, in any table.
    assert not [v for v in all_stored_values() if "127.0.0.1" in v]


def test_address_keys_are_cleared_after_their_retention_period(app, consultation):
    old = joined(consultation, "a" * 32, [0], start=utcnow() - timedelta(days=31))
    new = joined(consultation, "b" * 32, [0], start=utcnow() - timedelta(days=29))
    assert retention.purge().address_keys == 1
    db.session.commit()
    db.session.expire_all()
    assert (old[0].address_key, new[0].address_key) == (None, "b" * 32)


# -- flags ----------------------------------------------------------------------------------------


def test_six_new_participants_from_one_address_within_a_minute_are_flagged_as_a_burst(
    app, consultation, missions
):
    burst = joined(consultation, "a" * 32, [0, 5, 12, 30, 41, 55])
    joined(consultation, "b" * 32, [0, 120, 240, 360, 480, 600])  # spread out: no burst
    joined(consultation, "c" * 32, [0, 2, 4, 6])  # four: below the threshold
    joined(consultation, None, [0, 0, 0, 0, 0, 0])  # no address key (imported, say): never
    # Two bursts from one address, ten minutes apart.
    early = joined(consultation, "d" * 32, [0, 1, 2, 3, 4])
    late = joined(consultation, "d" * 32, [600, 601, 602, 603, 604])
    # The same address in another consultation does not add to this one's count.
    other = Consultation(mission=missions["nhs"], title="Another question")
    db.session.add(other)
    db.session.commit()
    joined(other, "c" * 32, [1, 3])

    groups = review.burst_groups(consultation.id, 5, 60)
    assert [[pid for pid, _ in g] for g in groups] == [
        [p.id for p in burst],
        [p.id for p in early],
        [p.id for p in late],
    ]
    # A longer window joins the two bursts of "d"; a stricter count drops the five-strong ones.
    assert len(review.burst_groups(consultation.id, 5, 900)) == 3  # a, b (6 in 10 min), d
    assert [len(g) for g in review.burst_groups(consultation.id, 6, 60)] == [6]


def test_participants_with_identical_answers_are_flagged(app, consultation):
    statements = statements_of(consultation)
    same = {0: 1, 1: -1, 2: 0, 3: 1, 4: 1}
    alike = joined(consultation, None, [0, 1, 2])
    for participant in alike:
        give_votes(participant, statements, same)
    pair = joined(consultation, None, [3, 4])
    for participant in pair:
        give_votes(participant, statements, {0: -1, 1: -1, 2: -1, 3: -1, 4: -1})
    too_few, one_differs, alone = joined(consultation, None, [5, 6, 7])
    give_votes(too_few, statements, {0: 1, 1: -1, 2: 0, 3: 1})
    give_votes(one_differs, statements, {**same, 4: -1})
    give_votes(alone, statements, {0: 0, 1: 0, 2: 0, 3: 0, 4: 1})

    assert review.identical_groups(consultation.id, 5) == [
        (5, [p.id for p in alike]),
        (5, [p.id for p in pair]),
    ]
    # With a lower bar, the participant with four of the same answers joins nobody: answers on
    # the same statements differ from the group's five.
    assert review.identical_groups(consultation.id, 4)[0] == (5, [p.id for p in alike])


# -- leaving flagged participants out -------------------------------------------------------------


def test_the_team_sees_a_burst_of_browsers_from_one_address_and_leaves_it_out(
    app, client, consultation, team
):
    first = statements_of(consultation)[0]
    for _ in range(6):
        assert vote_as(app.test_client(), consultation, first.id).status_code == 302
    sign_in(client, team.email)
    page = html_of(client.get(review_page(consultation)))
    text = text_of(page)
    assert "Burst 1: 6 new participants from one address within" in text
    assert "6 participants flagged; 0 left out of the analysis." in text
    assert "127.0.0.1" not in page
    group = re.search(r'name="group" value="(burst-\d+)"', page).group(1)
    ids = [int(i) for i in re.findall(r'name="participants" type="checkbox" value="(\d+)"', page)]
    ids = ids or [int(i) for i in re.findall(r'value="(\d+)" name="participants"', page)]
    assert len(ids) == 6

    # A reason is needed, and at least one participant.
    refused = decide(client, consultation, group, "burst", "exclude", ids, reason="  ")
    assert refused.status_code == 400
    assert "Enter the reason for your decision" in error_summary(html_of(refused))
    refused = decide(client, consultation, group, "burst", "exclude", [])
    assert refused.status_code == 400
    assert "Select at least one participant" in error_summary(html_of(refused))
    assert count(Participant, Participant.excluded_at.is_not(None)) == 0

    done = decide(client, consultation, group, "burst", "exclude", ids[:5])
    assert done.status_code == 302
    after = text_of(html_of(client.get(review_page(consultation))))
    assert "6 participants flagged; 5 left out of the analysis." in after
    assert "6 participants left out" not in after
    excluded = db.session.scalars(select(Participant).where(Participant.excluded_at.is_not(None)))
    assert {p.excluded_for for p in excluded} == {ParticipantFlag.BURST}
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["participant.excluded"] * 5
    assert events[0].reason == "Scripted." and events[0].actor_id == team.id
    assert events[0].detail == {"consultation": consultation.id, "flag": "burst"}

    assert decide(client, consultation, group, "burst", "include", ids[:2]).status_code == 302
    assert count(Participant, Participant.excluded_at.is_not(None)) == 3
    assert [e.action for e in db.session.scalars(select(AuditEvent))][-2:] == [
        "participant.included"
    ] * 2


def test_a_large_group_lists_its_first_hundred_and_can_be_left_out_whole(
    app, client, consultation, team
):
    burst = joined(consultation, "a" * 32, [n * 2 for n in range(105)])
    sign_in(client, team.email)
    page = html_of(client.get(review_page(consultation)))
    assert page.count('name="participants"') == 100
    assert "Exclude all 105 from the analysis" in text_of(page)
    group = f"burst-{burst[0].id}"
    done = decide(client, consultation, group, "burst", "exclude_all", [])
    assert done.status_code == 302
    assert count(Participant, Participant.excluded_for == ParticipantFlag.BURST) == 105
    assert "Include all 105 again" in text_of(html_of(client.get(review_page(consultation))))
    # A group that is no longer there is refused, in words.
    gone = decide(client, consultation, "burst-999999", "burst", "include_all", [])
    assert gone.status_code == 400
    assert "This group has changed since you opened the page" in error_summary(html_of(gone))
    assert decide(client, consultation, group, "burst", "include_all", []).status_code == 302
    assert count(Participant, Participant.excluded_at.is_not(None)) == 0


def test_only_participants_flagged_for_that_reason_can_be_left_out_for_it(
    app, client, consultation, team
):
    burst = joined(consultation, "a" * 32, [0, 1, 2, 3, 4])
    calm = joined(consultation, "b" * 32, [0])
    sign_in(client, team.email)
    group = f"burst-{burst[0].id}"
    refused = decide(client, consultation, group, "burst", "exclude", [burst[0].id, calm[0].id])
    assert refused.status_code == 400
    assert "no longer flagged for this reason" in error_summary(html_of(refused))
    refused = decide(client, consultation, group, "identical_votes", "exclude", [burst[0].id])
    assert refused.status_code == 400
    assert count(Participant, Participant.excluded_at.is_not(None)) == 0


def test_leaving_a_burst_out_changes_the_stored_run_and_the_report_says_so(
    app, client, consultation, team
):
    statements = statements_of(consultation)
    honest = add_votes(
        consultation,
        statements,
        [
            (ParticipantRole.CITIZEN, {0: 1, 1: -1, 2: 1, 3: 0}),
            (ParticipantRole.CITIZEN, {0: 1, 1: 1, 2: -1}),
            (ParticipantRole.STAFF, {0: -1, 1: -1, 2: 1, 3: 1}),
            (ParticipantRole.CITIZEN, {0: 1, 2: 1, 4: -1}),
        ],
    )
    db.session.commit()
    bots = joined(consultation, "a" * 32, [0, 2, 4, 6, 8, 10])
    for bot in bots:
        give_votes(bot, statements, {0: -1, 1: -1, 2: -1, 3: -1})
    n_honest_votes = count(Vote, Vote.participant_id.in_([p.id for p in honest]))

    before = analyse(consultation.id)
    assert (before.n_participants, before.n_votes) == (10, n_honest_votes + 24)
    assert not analysis_runs.is_stale(consultation.id)

    sign_in(client, team.email)
    ids = [p.id for p in bots]
    assert decide(client, consultation, f"burst-{ids[0]}", "burst", "exclude", ids).status_code == (
        302
    )
    assert analysis_runs.is_stale(consultation.id)

    after = analyse(consultation.id)
    assert (after.n_participants, after.n_votes) == (4, n_honest_votes)
    assert after.results["exclusions"] == {
        "n_participants": 6,
        "by_reason": {"burst": 6},
        "participant_ids": ids,
    }
    assert not analysis_runs.is_stale(consultation.id)
    votes = read_findings(after.results).votes
    assert votes.n_participants == 4
    assert read_findings(before.results).votes.n_votes > votes.n_votes

    assert publish(client, consultation.id, after.id).status_code == 302
    report = html_of(client.get(f"/consultations/{consultation.id}/report"))
    sentences = [plain(item) for item in summary_items(report)]
    assert (
        "6 participants were left out of this analysis: 6 joined in a burst from one address."
    ) in sentences
    assert any(s.startswith("4 people took part") for s in sentences)
    assert "Their votes are kept but not counted anywhere in this summary." in text_of(report)
    assert 'id="left-out"' in report
    read = text_of(report)
    assert "Left out 6 participants left out of this analysis by the mission team" in read
    assert "The mission team left 6 participants out of this analysis: 6 joined in a burst" in read
    # The run's data download leaves their votes out too.
    archive = zipfile.ZipFile(
        io.BytesIO(
            client.get(
                f"/consultations/{consultation.id}/report/runs/{after.id}/polis-export.zip"
            ).data
        )
    )
    assert len(archive.read("votes.csv").decode().strip().splitlines()) - 1 == after.n_votes

    # Included again: stale once more, and the next run counts them.
    assert decide(client, consultation, f"burst-{ids[0]}", "burst", "include", ids).status_code == (
        302
    )
    assert analysis_runs.is_stale(consultation.id)
    again = analyse(consultation.id)
    assert again.n_participants == 10
    assert again.results["exclusions"]["n_participants"] == 0


def test_a_run_stored_before_exclusions_reads_as_leaving_nobody_out(app, consultation):
    statements = statements_of(consultation)
    add_votes(consultation, statements, [(ParticipantRole.CITIZEN, {0: 1, 1: -1})])
    db.session.commit()
    run = analyse(consultation.id)
    older = {k: v for k, v in run.results.items() if k != "exclusions"}
    older["schema_version"] = 2
    run.results = older
    db.session.commit()

    findings = read_findings(run.results)
    assert findings.exclusions.n_participants == 0 and not findings.exclusions.recorded
    sentences = summarise(build_figures(findings, {}))
    assert [s for s in sentences if s.rule == "left_out"] == []
    assert not analysis_runs.is_stale(consultation.id)


def test_the_report_counts_each_reason_apart():
    stored = {
        "schema_version": 3,
        "votes": {},
        "exclusions": {
            "n_participants": 5,
            "by_reason": {"identical_votes": 2, "burst": 3},
            "participant_ids": [1, 2, 3, 4, 5],
        },
    }
    found = summarise(build_figures(read_findings(stored), {}))
    [left_out] = [s for s in found if s.rule == "left_out"]
    assert left_out.text == (
        "5 participants were left out of this analysis: 3 joined in a burst from one address and "
        "2 gave exactly the same answers as other participants."
    )
    assert left_out.sure == ("Their votes are kept but not counted anywhere in this summary.",)


# -- the limit on new anonymous participants ------------------------------------------------------


def test_too_many_new_participants_from_one_address_get_429_while_others_keep_voting(
    database_url, _migrated, tmp_path, missions
):
    limited = make_test_app(
        database_url, tmp_path, RATELIMIT_ENABLED=True, NEW_PARTICIPANTS_PER_MINUTE=3
    )
    consultation = Consultation(mission=missions["nhs"], title="Limited")
    db.session.add(consultation)
    db.session.flush()
    first, second = (
        write_statement(consultation, text, origin=StatementOrigin.SEED) for text in SEEDS[:2]
    )
    consultation.open()
    db.session.commit()

    browsers = [limited.test_client() for _ in range(4)]
    assert [vote_as(b, consultation, first.id).status_code for b in browsers[:3]] == [302] * 3
    refused = vote_as(browsers[3], consultation, first.id)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    page = text_of(html_of(refused))
    assert "Too many people have started taking part from your internet connection" in page
    assert "Your answer was not saved" in page
    assert count(Participant) == 3
    # Those who already take part carry on.
    assert vote_as(browsers[0], consultation, second.id).status_code == 302
    assert vote_as(browsers[0], consultation, first.id, "disagree").status_code == 302
    assert count(Participant) == 3 and count(Vote) == 4
