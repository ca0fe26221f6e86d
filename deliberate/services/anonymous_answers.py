"""Answers given before signing in join the account: on signing in, on confirming a new account
and on resetting a password, the browser's anonymous participants become the account's.

For each consultation whose token the browser holds and whose anonymous participant exists:

- the account has not taken part there: the participant simply becomes the account's (its user
  id set, its token hash cleared so the old cookie reaches nothing any more, its role taken from
  the account: staff when verified staff);
- the account has taken part there too: the anonymous participant's answers, statements and
  reports move to the account's participant, and the empty anonymous participant is deleted, so
  the person counts once. Where both answered the same statement the newer answer wins (the
  later ``cast_at_ms``; on the same millisecond the later history row, as the Polis export reads a
  history). The history (``vote_events``) is not rewritten: its rows keep their choice and time
  and are only re-assigned to the account's participant, so the history still reduces to the
  current answers and names no participant that no longer exists.

Left out of the analysis: the team's decision stands on the answers it was about. When either
participant was left out, the merged one is (keeping the account's own reason when it has one),
and the team can include it again from the review page. The address key (a daily keyed hash,
never the address) stays with the participant it was recorded for, so a burst still shows.

Nothing is written to the audit log: it would tie an account to answers given anonymously.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, func, select, update

from deliberate import unit_of_work
from deliberate.extensions import db, token_hash
from deliberate.models import (
    Participant,
    ParticipantRole,
    Statement,
    StatementReport,
    User,
    Vote,
    VoteEvent,
)
from deliberate.services import vote_counts


def join_to_account(user: User, tokens: Mapping[int, str]) -> list[int]:
    """Give the account the anonymous answers these tokens (consultation id -> token) reach;
    the ids of the consultations where some were joined. Flushes."""
    joined = []
    for consultation_id, token in tokens.items():
        anonymous = db.session.scalar(
            select(Participant).where(
                Participant.consultation_id == consultation_id,
                Participant.anonymous_token_hash == token_hash(token),
                Participant.user_id.is_(None),
            )
        )
        if anonymous is None:
            continue
        own = db.session.scalar(
            select(Participant).where(
                Participant.consultation_id == consultation_id, Participant.user_id == user.id
            )
        )
        if own is None:
            anonymous.user_id = user.id
            anonymous.anonymous_token_hash = None
            anonymous.role = ParticipantRole.STAFF if user.is_staff else ParticipantRole.CITIZEN
        else:
            _merge(anonymous, into=own)
        joined.append(consultation_id)
    db.session.flush()
    if joined:
        _recount_once_committed(joined)
    return joined


def _merge(anonymous: Participant, into: Participant) -> None:
    cid = anonymous.consultation_id
    theirs = {v.statement_id: v for v in _votes_of(anonymous)}
    mine = {v.statement_id: v for v in _votes_of(into)}
    both = sorted(set(theirs) & set(mine))
    last_event = _last_event_ids(cid, (anonymous.id, into.id), both)
    for statement_id in both:
        old, new = mine[statement_id], theirs[statement_id]
        newer = (new.cast_at_ms, last_event.get((anonymous.id, statement_id), 0)) > (
            old.cast_at_ms,
            last_event.get((into.id, statement_id), 0),
        )
        if newer:
            old.choice, old.cast_at_ms = new.choice, new.cast_at_ms
        db.session.delete(new)
    db.session.flush()
    db.session.execute(
        update(Vote).where(Vote.participant_id == anonymous.id).values(participant_id=into.id),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        update(VoteEvent)
        .where(VoteEvent.consultation_id == cid, VoteEvent.participant_id == anonymous.id)
        .values(participant_id=into.id),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        update(Statement).where(Statement.author_id == anonymous.id).values(author_id=into.id),
        execution_options={"synchronize_session": False},
    )
    reported = select(StatementReport.statement_id).where(StatementReport.participant_id == into.id)
    db.session.execute(
        delete(StatementReport).where(
            StatementReport.participant_id == anonymous.id,
            StatementReport.statement_id.in_(reported),
        ),
        execution_options={"synchronize_session": False},
    )
    db.session.execute(
        update(StatementReport)
        .where(StatementReport.participant_id == anonymous.id)
        .values(participant_id=into.id),
        execution_options={"synchronize_session": False},
    )
    if anonymous.excluded_at is not None and into.excluded_at is None:
        into.excluded_at, into.excluded_for = anonymous.excluded_at, anonymous.excluded_for
    if into.service_area is None:
        into.service_area = anonymous.service_area
    db.session.delete(anonymous)
    db.session.flush()
    db.session.expire_all()


def _votes_of(participant: Participant) -> list[Vote]:
    return list(db.session.scalars(select(Vote).where(Vote.participant_id == participant.id)))


def _last_event_ids(
    consultation_id: int, participant_ids: tuple[int, int], statement_ids: list[int]
) -> dict[tuple[int, int], int]:
    if not statement_ids:
        return {}
    rows = db.session.execute(
        select(VoteEvent.participant_id, VoteEvent.statement_id, func.max(VoteEvent.id))
        .where(
            VoteEvent.consultation_id == consultation_id,
            VoteEvent.participant_id.in_(participant_ids),
            VoteEvent.statement_id.in_(statement_ids),
        )
        .group_by(VoteEvent.participant_id, VoteEvent.statement_id)
    )
    return {(p, s): last for p, s, last in rows}


def _recount_once_committed(consultation_ids: list[int]) -> None:
    """The page's count of people and votes (``vote_counts``) is counted afresh after the commit:
    a merge takes one person away and moves answers."""

    def recount() -> None:
        for consultation_id in consultation_ids:
            vote_counts.forget(consultation_id)

    work = unit_of_work.current()
    if work is None:
        recount()
    else:
        work.after_commit(recount)
