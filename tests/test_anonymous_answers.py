"""Answers given before signing in join the account: on signing in and on registering, the person
keeps their answers, counts once, and the newer answer wins where both answered."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from deliberate.extensions import db
from deliberate.models import (
    Consultation,
    ModerationMode,
    Participant,
    ParticipantFlag,
    ParticipantRole,
    Statement,
    StatementOrigin,
    Vote,
    VoteEvent,
    utcnow,
)
from deliberate.polis_format.model import latest_votes
from deliberate.services import polis_exchange, vote_counts
from deliberate.services.statements import write_statement
from tests.helpers import csrf_token_from, html_of, sign_in, submit_form, text_of
from tests.test_accounts import GOOD, confirm_through_email
from tests.test_participation import (
    COOKIE,
    answer_shown,
    get_cookie,
    page_url,
    vote,
)

SIX = [
    "Buses should run later at night.",
    "Cycle lanes should be separated from traffic.",
    "Fares should be capped across the whole region.",
    "Rural routes matter as much as city routes.",
    "Trains should carry bicycles for free.",
    "Every bus stop should show live times.",
]


@pytest.fixture
def transport(missions) -> Consultation:
    consultation = Consultation(
        mission=missions["nhs"],
        title="How should local transport change?",
        moderation_mode=ModerationMode.POST,
        allow_anonymous=True,
    )
    consultation.open()
    db.session.add(consultation)
    db.session.flush()
    for text in SIX:
        write_statement(consultation, text, origin=StatementOrigin.SEED)
    db.session.commit()
    return consultation


def progress(client, consultation) -> str:
    page = text_of(html_of(client.get(page_url(consultation))))
    return page[page.index("You have answered") :].split(".")[0]


def participants_here(consultation) -> list[Participant]:
    return list(
        db.session.scalars(
            select(Participant).where(Participant.consultation_id == consultation.id)
        )
    )


def test_an_answer_given_before_signing_in_is_kept_after_signing_in(client, create_user, transport):
    create_user("rosa@example.org")
    answered = answer_shown(client, transport)
    assert progress(client, transport) == "You have answered 1 of 6 statements"

    sign_in(client, "rosa@example.org")
    assert progress(client, transport) == "You have answered 1 of 6 statements"
    answers = text_of(html_of(client.get(f"{page_url(transport)}/answers")))
    assert db.session.get(Statement, answered).text in answers
    assert get_cookie(client, COOKIE) is None  # the token that reached the answer is forgotten

    (only,) = participants_here(transport)
    assert only.user is not None and only.user.email == "rosa@example.org"
    assert only.anonymous_token_hash is None
    assert only.role is ParticipantRole.CITIZEN
    vote_counts.forget()
    assert "1 person has taken part" in text_of(html_of(client.get(page_url(transport))))

    client.post("/sign-out", data={"csrf_token": _csrf(client)})
    # Signed out, the browser holds no anonymous answers any more: a fresh start.
    assert progress(client, transport) == "You have answered 0 of 6 statements"


def test_an_answer_given_before_registering_joins_the_new_account(client, app, outbox, transport):
    answer_shown(client, transport)
    assert submit_form(client, "/register", GOOD).status_code == 302
    confirm_through_email(client, app, outbox, GOOD["email"])
    assert progress(client, transport) == "You have answered 1 of 6 statements"
    (only,) = participants_here(transport)
    assert only.user.email == GOOD["email"]


def test_where_both_answered_the_newer_answer_wins_and_the_person_counts_once(
    client, app, create_user, transport
):
    ids = dict(db.session.execute(select(Statement.text, Statement.id)).all())
    create_user("rosa@example.org")
    laptop = app.test_client()
    sign_in(laptop, "rosa@example.org")
    vote(laptop, transport, ids[SIX[0]], "agree")  # older: the phone's answer will win
    vote(laptop, transport, ids[SIX[1]], "agree")  # kept: the phone never answers it

    vote(client, transport, ids[SIX[0]], "disagree")  # anonymous, on the phone, later
    vote(client, transport, ids[SIX[2]], "pass")
    anonymous = next(p for p in participants_here(transport) if p.user_id is None)
    statement = Statement(
        consultation_id=transport.id,
        text="Timetables should be printed at stops.",
        normalised_text="timetables should be printed at stops",
        origin=StatementOrigin.PARTICIPANT,
        author_id=anonymous.id,
        author_role=ParticipantRole.CITIZEN,
    )
    anonymous.excluded_at, anonymous.excluded_for = utcnow(), ParticipantFlag.BURST
    db.session.add(statement)
    db.session.commit()
    # The same answer again on the laptop, now: newer than the phone's for SIX[2].
    vote(laptop, transport, ids[SIX[2]], "agree")

    sign_in(client, "rosa@example.org")

    (person,) = participants_here(transport)  # one person, the account's
    choices = dict(
        db.session.execute(
            select(Vote.statement_id, Vote.choice).where(Vote.participant_id == person.id)
        ).all()
    )
    assert choices == {ids[SIX[0]]: -1, ids[SIX[1]]: 1, ids[SIX[2]]: 1}
    assert db.session.get(Statement, statement.id).author_id == person.id
    # Left out of the analysis stays left out (the team decided on these answers).
    assert person.excluded_for is ParticipantFlag.BURST
    # The history keeps every answer, now all the person's, and still reduces to the answers.
    events = db.session.execute(
        select(VoteEvent.participant_id, func.count()).group_by(VoteEvent.participant_id)
    ).all()
    assert events == [(person.id, 5)]
    export = polis_exchange.build_export(transport)
    assert latest_votes(export.vote_events) == export.votes
    vote_counts.forget()
    assert "1 person has taken part" in text_of(html_of(client.get(page_url(transport))))
    assert progress(client, transport) == "You have answered 3 of 6 statements"


def test_a_verified_staff_member_takes_their_anonymous_answers_part_as_staff(
    client, create_user, transport
):
    create_user("sam@example.org", staff_email="sam@nhs.net")
    answer_shown(client, transport)
    sign_in(client, "sam@example.org")
    (only,) = participants_here(transport)
    assert only.role is ParticipantRole.STAFF


def test_another_browsers_answers_are_not_joined(client, app, create_user, transport):
    create_user("rosa@example.org")
    stranger = app.test_client()
    answer_shown(stranger, transport)
    sign_in(client, "rosa@example.org")
    assert progress(client, transport) == "You have answered 0 of 6 statements"
    assert [p.user_id for p in participants_here(transport)] == [None]


def _csrf(client) -> str:
    return csrf_token_from(html_of(client.get("/account")))
