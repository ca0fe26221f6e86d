"""Taking part in a consultation: who the participant is, voting, commenting, and what comes next.

A participant is one person's presence in one consultation: a signed-in user (keyed by user id) or
an anonymous browser (keyed by the SHA-256 of a random token the browser keeps in a signed cookie;
the token itself is never stored). The row is created by the first write (a vote, a comment, or
"about you"), never by looking at a page.

Decisions worth knowing:

- A browser token that matches no participant of this consultation (stale, or belonging to another
  consultation) is never reused: the browser gets a fresh token and a fresh participant, so a token
  can only ever reach the answers it was issued with.
- The role (staff or citizen) is taken from the account at every write, not only at creation: a
  citizen who later verifies as staff takes part as staff from their next action (and one whose
  staff status is withdrawn goes back to citizen). Anonymous participants are citizens. A statement
  keeps the role its author had when writing it.
- As in Polis, the author of a comment agrees with it: an Agree vote is cast at submission,
  whatever the moderation mode, so the comment never comes back to its author to vote on, and it
  counts as answered once it is accepted.
- A vote that repeats the current answer changes nothing (no new history event), so a double submit
  is harmless; a changed answer rewrites the ``Vote`` row and appends a ``VoteEvent``.
- An anonymous participant keeps a keyed hash of the address it came from (``address_key``, see
  ``services.address_keys``; never the address), so the team can review bursts of new
  participants from one address (``services.participation_review``). One address may start only
  ``NEW_PARTICIPANTS_PER_MINUTE`` new anonymous participants a minute, counted from the
  participants stored, so the count is exact, shared by every process and needs no Redis;
  requests racing past the count at the same instant can overshoot it by a few, which is harmless.
  Participants who already exist are never held back by it.
- Two requests answering the same statement at the same instant meet in the database: the answer
  is stored by one upsert on the (participant, statement) key, so the second waits for the first
  and then changes the answer or, when it is the same, changes nothing. Two requests that race to
  start the same participant (a double click before the first answer came back) meet the unique
  constraints on participants; the caller rolls back and runs the use-case once more, which then
  finds what the other request stored (``consultations.views``). Savepoints are not used for
  this: pysqlite commits a savepoint opened outside a transaction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from flask import current_app, has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import Executable, exists, false, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import joinedload, selectinload

from deliberate import unit_of_work
from deliberate.analysis.priority import StatementTally, choose_next_statement, draw_statement
from deliberate.extensions import db, token_hash
from deliberate.models import (
    Consultation,
    ConsultationState,
    ModerationStatus,
    Participant,
    ParticipantRole,
    Statement,
    StatementOrigin,
    StatementReport,
    User,
    Vote,
    VoteChoice,
    VoteEvent,
    utcnow,
)
from deliberate.services import languages, vote_counts
from deliberate.services.errors import Refused
from deliberate.services.statements import DuplicateStatement, write_statement
from deliberate.wording import day

SERVICE_AREA_MAX = Participant.__table__.c.service_area.type.length
NEW_PARTICIPANT_WINDOW = timedelta(minutes=1)


class SignInRequired(Refused):
    """The consultation does not allow anonymous taking part and nobody is signed in."""

    def __init__(self):
        super().__init__(_("Sign in to take part in this consultation"))


class TooManyNewParticipants(Exception):
    """One address started as many new anonymous participants in the last minute as it may;
    ``retry_after`` is the number of seconds until it may start another."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many new participants from one address: retry in {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Visitor:
    """Who is asking to take part.

    ``token`` is the anonymous token the browser presented for this consultation (its signature
    already checked by the web layer); ``fresh_token`` is the one to start a new participant with,
    prepared by the web layer before the first write so that two quick submits share it.
    ``address_key`` is the keyed hash of the address the request came from (never the address).
    ``invited`` says the browser came through the invitation emailed to the followers of an
    earlier round (deliberate.services.following).
    """

    user: User | None = None
    token: str | None = None
    fresh_token: str | None = None
    address_key: str | None = None
    invited: bool = False


@dataclass(frozen=True)
class Presence:
    """The participant a write was made as, and what the browser must keep."""

    participant: Participant
    token: str | None  # the anonymous token to keep in the cookie; None when signed in
    started_afresh: bool  # the browser presented a token that matched nobody here
    is_new: bool = False  # this write started the participant


@dataclass(frozen=True)
class VoteOutcome:
    presence: Presence
    statement_id: int
    choice: VoteChoice
    changed: bool  # False when the vote repeated the current answer


@dataclass(frozen=True)
class CommentOutcome:
    presence: Presence
    statement: Statement

    @property
    def is_live(self) -> bool:
        return self.statement.is_votable


@dataclass(frozen=True)
class Overview:
    """What the consultation page shows one visitor."""

    participant: Participant | None
    participant_count: int
    answered: int
    total: int
    next_statement: Statement | None
    unrecognised: bool  # the browser presented a token that matched nobody here


@dataclass(frozen=True)
class Answer:
    statement: Statement
    choice: VoteChoice


def epoch_ms(now: datetime | None = None) -> int:
    now = now or utcnow()
    return int(now.replace(tzinfo=UTC).timestamp() * 1000)


# -- who is taking part ---------------------------------------------------------------------------


def consultation_for(consultation_id: int, user: User | None) -> Consultation | None:
    """The consultation if this person may see it: drafts only for the mission's team. Its
    mission comes in the same query (every page of the consultation names it)."""
    consultation = db.session.get(
        Consultation, consultation_id, options=[joinedload(Consultation.mission)]
    )
    if consultation is None:
        return None
    if consultation.state is ConsultationState.DRAFT and not (
        user is not None and user.is_on_team(consultation.mission_id)
    ):
        return None
    return consultation


def _role_of(user: User | None) -> ParticipantRole:
    return ParticipantRole.STAFF if user is not None and user.is_staff else ParticipantRole.CITIZEN


def _by_token(consultation: Consultation, token: str | None) -> Participant | None:
    if not token:
        return None
    return db.session.scalar(
        select(Participant).where(
            Participant.consultation_id == consultation.id,
            Participant.anonymous_token_hash == token_hash(token),
        )
    )


def find_participant(consultation: Consultation, visitor: Visitor) -> Participant | None:
    """The visitor's participant in this consultation, if they have taken part; never creates."""
    if visitor.user is not None:
        return db.session.scalar(
            select(Participant).where(
                Participant.consultation_id == consultation.id,
                Participant.user_id == visitor.user.id,
            )
        )
    return _by_token(consultation, visitor.token) or _by_token(consultation, visitor.fresh_token)


def _create_participant(consultation: Consultation, visitor: Visitor) -> Participant:
    participant = Participant(
        consultation_id=consultation.id,
        user_id=visitor.user.id if visitor.user is not None else None,
        anonymous_token_hash=None if visitor.user is not None else token_hash(visitor.fresh_token),
        role=_role_of(visitor.user),
        created_at=utcnow(),
        address_key=visitor.address_key if visitor.user is None else None,
        invited_back=visitor.invited,
    )
    db.session.add(participant)
    db.session.flush()
    return participant


def check_new_participant_allowance(address_key: str | None, now: datetime | None = None) -> None:
    """Raise ``TooManyNewParticipants`` when this address has started its allowance of new
    anonymous participants (over every consultation) in the last minute. No limit without an
    address key, with the setting at 0, or with rate limits turned off."""
    config = current_app.config
    limit = config.get("NEW_PARTICIPANTS_PER_MINUTE", 0)
    if not address_key or not limit or not config.get("RATELIMIT_ENABLED", True):
        return
    now = now or utcnow()
    recent = db.session.scalars(
        select(Participant.created_at)
        .where(
            Participant.address_key == address_key,
            Participant.created_at > now - NEW_PARTICIPANT_WINDOW,
        )
        .order_by(Participant.created_at.desc())
        .limit(limit)
    ).all()
    if len(recent) >= limit:
        # Another may start once the oldest of the last ``limit`` is a minute old.
        wait = (recent[-1] + NEW_PARTICIPANT_WINDOW - now).total_seconds()
        raise TooManyNewParticipants(max(1, math.ceil(wait)))


def join(consultation: Consultation, visitor: Visitor) -> Presence:
    """The visitor's participant, created on their first write, with their current role."""
    if visitor.user is None and not consultation.allow_anonymous:
        raise SignInRequired()
    participant = find_participant(consultation, visitor)
    started_afresh = is_new = False
    if participant is None:
        if visitor.user is None and not visitor.fresh_token:
            raise ValueError("an anonymous visitor needs a fresh token to start taking part")
        started_afresh = visitor.user is None and visitor.token is not None
        if visitor.user is None:
            check_new_participant_allowance(visitor.address_key)
        participant = _create_participant(consultation, visitor)
        is_new = True
    elif visitor.user is not None and participant.role is not _role_of(visitor.user):
        participant.role = _role_of(visitor.user)
    token = None
    if visitor.user is None:
        kept = visitor.token and participant.anonymous_token_hash == token_hash(visitor.token)
        token = visitor.token if kept else visitor.fresh_token
    db.session.flush()
    return Presence(
        participant=participant, token=token, started_afresh=started_afresh, is_new=is_new
    )


def _count_once_committed(consultation: Consultation, presence: Presence) -> None:
    """A participant who starts with a vote or a statement has taken part: the page's count of
    people (``vote_counts``) includes them from the commit on, in this process at once."""
    if not presence.is_new:
        return
    consultation_id = consultation.id
    work = unit_of_work.current()
    if work is None:
        vote_counts.count_new_participant(consultation_id)
    else:
        work.after_commit(lambda: vote_counts.count_new_participant(consultation_id))


# -- writing --------------------------------------------------------------------------------------


def why_not_accepting(consultation: Consultation, now: datetime | None = None) -> str | None:
    """Why the consultation takes no votes or comments right now, in words for the page."""
    now = now or utcnow()
    if consultation.is_accepting_input(now):
        return None
    if consultation.state is ConsultationState.DRAFT:
        return _("This consultation is a draft: it is not open for answers yet")
    if consultation.state is ConsultationState.CLOSED or (
        consultation.closes_at is not None and consultation.closes_at <= now
    ):
        return _("This consultation is closed: it no longer accepts answers or statements")
    opens = consultation.opens_at
    return _(
        "This consultation opens on %(day)s at %(time)s (UTC)",
        day=day(opens),
        time=f"{opens:%H:%M}",
    )


def _check_accepting(consultation: Consultation) -> None:
    reason = why_not_accepting(consultation)
    if reason:
        raise Refused(reason)


def _votable_statement(consultation: Consultation, statement_id: int) -> Statement:
    statement = db.session.get(Statement, statement_id)
    if statement is None or statement.consultation_id != consultation.id:
        raise Refused(_("That statement is not part of this consultation"), "statement_id")
    if statement.moderation is ModerationStatus.REJECTED:
        raise Refused(_("That statement has been removed by the moderators"), "statement_id")
    if statement.moderation is ModerationStatus.PENDING:
        raise Refused(
            _(
                "That statement is waiting for a moderator to check it: you can vote on it once it "
                "appears"
            ),
            "statement_id",
        )
    if statement.is_hidden_by_reports:
        raise Refused(
            _(
                "That statement was reported by people taking part and is waiting for a moderator "
                "to check it"
            ),
            "statement_id",
        )
    return statement


def _record_vote(
    participant: Participant, statement: Statement, choice: VoteChoice, cast_at_ms: int
) -> bool:
    """Set the participant's answer; history grows only when the answer changes (True then).

    One statement stores or changes the answer (an upsert on the participant and statement), so
    two requests answering at the same instant never meet the unique key as an error: the second
    waits for the first, then changes the answer or, the same answer, changes nothing."""
    upsert, append = _vote_statements(db.engine.dialect.name)
    values = {
        "consultation_id": statement.consultation_id,
        "participant_id": participant.id,
        "statement_id": statement.id,
        "choice": int(choice),
        "cast_at_ms": cast_at_ms,
    }
    if db.session.execute(upsert, values).first() is None:
        return False  # the answer it had already
    db.session.execute(append, values)
    return True


@cache
def _vote_statements(dialect: str) -> tuple[Executable, Executable]:
    """The vote's upsert and the history's insert, built once (building them cost more than
    running them)."""
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
    upsert = insert(Vote)
    upsert = upsert.on_conflict_do_update(
        index_elements=[Vote.participant_id, Vote.statement_id],
        set_={"choice": upsert.excluded.choice, "cast_at_ms": upsert.excluded.cast_at_ms},
        where=Vote.choice != upsert.excluded.choice,
    ).returning(Vote.id)
    return upsert, insert(VoteEvent)


def cast_vote(
    consultation: Consultation,
    visitor: Visitor,
    statement_id: int,
    choice: VoteChoice,
    now: datetime | None = None,
) -> VoteOutcome:
    """Cast or change a vote. Checks the consultation and statement before anyone is created."""
    _check_accepting(consultation)
    statement = _votable_statement(consultation, statement_id)
    presence = join(consultation, visitor)
    changed = _record_vote(presence.participant, statement, choice, epoch_ms(now))
    _count_once_committed(consultation, presence)
    return VoteOutcome(presence=presence, statement_id=statement.id, choice=choice, changed=changed)


def _interface_language() -> str | None:
    """The interface language the comment was written in (the page's, or the API request's
    Accept-Language); None outside a request."""
    if not has_request_context():
        return None
    locale = get_locale()
    return locale.language if locale is not None else None


def add_comment(
    consultation: Consultation, visitor: Visitor, text: str | None, now: datetime | None = None
) -> CommentOutcome:
    """A participant's comment becomes a statement (live or awaiting moderation) they agree with.

    A duplicate of a statement others can vote on raises ``DuplicateStatement`` (its ``original``
    to be offered instead); a duplicate of one that is not votable is refused in plain words.
    """
    _check_accepting(consultation)
    presence = join(consultation, visitor)
    try:
        statement = write_statement(
            consultation,
            text,
            origin=StatementOrigin.PARTICIPANT,
            author=presence.participant,
            language=languages.language_of_new_statement(consultation, _interface_language()),
        )
    except DuplicateStatement as duplicate:
        original = duplicate.original
        if original.moderation is ModerationStatus.PENDING:
            raise Refused(
                _(
                    "Someone has already made this statement: it will appear once a moderator has "
                    "checked it"
                ),
                "text",
            ) from None
        if original.moderation is ModerationStatus.REJECTED:
            raise Refused(
                _("This statement has already been made, and the moderators removed it"), "text"
            ) from None
        if original.is_hidden_by_reports:
            raise Refused(
                _(
                    "Someone has already made this statement: it is waiting for a moderator to "
                    "check it"
                ),
                "text",
            ) from None
        raise
    _record_vote(presence.participant, statement, VoteChoice.AGREE, epoch_ms(now))
    _count_once_committed(consultation, presence)
    return CommentOutcome(presence=presence, statement=statement)


def describe_participant(
    consultation: Consultation, visitor: Visitor, service_area: str | None
) -> Presence:
    """Record which part of the public service the participant works in or uses, or none."""
    _check_accepting(consultation)
    if service_area is not None:
        if service_area not in consultation.service_area_choices:
            raise Refused(_("Choose one of the options, or 'Prefer not to say'"), "service_area")
        if len(service_area) > SERVICE_AREA_MAX:
            raise Refused(
                _("This option is too long to be saved: please tell the mission team"),
                "service_area",
            )
    presence = join(consultation, visitor)
    presence.participant.service_area = service_area
    db.session.flush()
    return presence


# -- reading --------------------------------------------------------------------------------------


def participant_count(consultation: Consultation) -> int:
    """People who have taken part: at least one vote or one statement of their own (counted now;
    the consultation page shows ``vote_counts``' figure, at most a few seconds old)."""
    return vote_counts.participants_taking_part(consultation.id)


def statement_tallies(consultation: Consultation) -> list[StatementTally]:
    """Vote counts of every statement offered to participants (accepted and not hidden after
    reports), counted now."""
    counts = vote_counts.count_now(consultation.id)
    return [
        counts.tally(statement_id, is_meta)
        for statement_id, is_meta, _, _ in _offered_statements(consultation, None)
    ]


def _offered_statements(
    consultation: Consultation, participant: Participant | None
) -> list[tuple[int, bool, bool, bool]]:
    """Every statement offered to participants (accepted, not hidden after reports) as (id,
    is_meta, answered, reported): whether this participant has answered it, or reported it. One
    query, whose cost grows with the statements, not with the votes."""
    if participant is None:
        answered = reported = false()
    else:
        answered = exists().where(
            Vote.participant_id == participant.id, Vote.statement_id == Statement.id
        )
        reported = exists().where(
            StatementReport.participant_id == participant.id,
            StatementReport.statement_id == Statement.id,
        )
    rows = db.session.execute(
        select(Statement.id, Statement.is_meta, answered, reported).where(
            Statement.consultation_id == consultation.id,
            Statement.moderation == ModerationStatus.ACCEPTED,
            Statement.hidden_by_reports_at.is_(None),
        )
    )
    return [(sid, bool(meta), bool(ans), bool(rep)) for sid, meta, ans, rep in rows]


def _seed_key(participant: Participant | None, visitor: Visitor) -> int:
    """A number that stays the same for one visitor, so the draw is stable across reloads."""
    if participant is not None:
        return participant.id
    if visitor.user is not None:
        return visitor.user.id
    anonymous = visitor.token or visitor.fresh_token
    return int(token_hash(anonymous)[:12], 16) if anonymous else 0


def overview(
    consultation: Consultation,
    visitor: Visitor,
    extremity: Mapping[int, float] | None = None,
) -> Overview:
    """Everything the consultation page needs, in a handful of light queries whatever its size:
    the votes of everyone are read from ``vote_counts`` (a few seconds old at most), what this
    visitor has answered and what is offered, afresh."""
    participant = find_participant(consultation, visitor)
    offered = _offered_statements(consultation, participant)
    counts = vote_counts.vote_counts(consultation.id)
    answered = sum(1 for _, _, was_answered, _ in offered if was_answered)
    # What someone answered or reported is not offered again.
    unseen = [
        (sid, meta)
        for sid, meta, was_answered, reported in offered
        if not was_answered and not reported
    ]
    seed = (consultation.id, _seed_key(participant, visitor), answered)
    if extremity is None:
        next_id = draw_statement([(sid, counts.priority(sid, meta)) for sid, meta in unseen], seed)
    else:
        next_id = choose_next_statement(
            [counts.tally(sid, meta) for sid, meta in unseen], (), seed, extremity
        )
    return Overview(
        participant=participant,
        participant_count=counts.participants,
        answered=answered,
        total=len(offered),
        next_statement=db.session.get(Statement, next_id) if next_id is not None else None,
        unrecognised=participant is None and visitor.user is None and visitor.token is not None,
    )


def answers(consultation: Consultation, participant: Participant | None) -> list[Answer]:
    """The participant's current answers to statements still open to votes, oldest first."""
    if participant is None:
        return []
    rows = db.session.execute(
        select(Statement, Vote.choice)
        .join(Vote, Vote.statement_id == Statement.id)
        .where(
            Vote.participant_id == participant.id,
            Statement.consultation_id == consultation.id,
            Statement.moderation == ModerationStatus.ACCEPTED,
            Statement.hidden_by_reports_at.is_(None),
        )
        .order_by(Vote.id)
        .options(selectinload(Statement.translations))
    )
    return [Answer(statement, VoteChoice(choice)) for statement, choice in rows]


def own_statements(consultation: Consultation, participant: Participant | None) -> list[Statement]:
    if participant is None:
        return []
    return list(
        db.session.scalars(
            select(Statement)
            .where(
                Statement.consultation_id == consultation.id,
                Statement.author_id == participant.id,
            )
            .order_by(Statement.id)
            .options(selectinload(Statement.translations))
        )
    )


def current_answer(participant: Participant | None, statement: Statement) -> VoteChoice | None:
    if participant is None:
        return None
    choice = db.session.scalar(
        select(Vote.choice).where(
            Vote.participant_id == participant.id, Vote.statement_id == statement.id
        )
    )
    return VoteChoice(choice) if choice is not None else None
