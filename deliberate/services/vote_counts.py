"""What the consultation page needs of everyone's votes, counted at most every few seconds.

Which statement to offer next weighs each statement by the votes it has had (the Polis rule, in
``analysis.priority``), and the page says how many people have taken part. Both used to be counted
from all the consultation's votes on every page view: a scan that grew with the votes (300,000
votes: about 0.3 s of PostgreSQL's CPU for every answer; ``bench/bench_vote_path.py``). They are
kept here instead, per process, and counted again once older than ``VOTE_COUNTS_SECONDS`` (default
5), or older than 50 times what the last count took, whichever is longer, so that counting a very
large consultation never takes more than about 2% of a process's time.

A few seconds' lag only shifts the odds of the draw a little, and the number of people who have
taken part; what decides what a person is offered (the statements open to votes, and which of them
they have answered or reported) is read afresh on every page. A participant started in this
process is counted here at once, so the person who just answered for the first time is among the
people the page counts (another process counts them at its next count).

While one request counts a consultation again, the others in the process carry on with the counts
they have: nobody waits behind it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import exists, func, select

from deliberate.analysis.priority import StatementTally, priority
from deliberate.extensions import db
from deliberate.models import Participant, Statement, Vote, VoteChoice

SLOWDOWN = 50  # a count is kept at least this many times as long as it took
_STORE = "deliberate_vote_counts"


@dataclass
class VoteCounts:
    """Agrees, disagrees and passes by statement id, and the number of people taking part."""

    by_statement: dict[int, tuple[int, int, int]]
    participants: int
    counted_at: float = 0.0  # time.monotonic()
    good_for: float = 0.0  # seconds
    _priorities: dict[tuple[int, bool], float] = field(default_factory=dict)

    def of(self, statement_id: int) -> tuple[int, int, int]:
        return self.by_statement.get(statement_id, (0, 0, 0))

    def tally(self, statement_id: int, is_meta: bool = False) -> StatementTally:
        return StatementTally(statement_id, *self.of(statement_id), is_meta=is_meta)

    def priority(self, statement_id: int, is_meta: bool) -> float:
        """The statement's weight in the draw of the next statement (``analysis.priority``),
        worked out once per count: every page view of the consultation needs them all."""
        key = (statement_id, is_meta)
        weight = self._priorities.get(key)
        if weight is None:
            weight = self._priorities[key] = priority(self.tally(statement_id, is_meta))
        return weight


@dataclass
class _Store:
    counts: dict[int, VoteCounts] = field(default_factory=dict)
    counting: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _store() -> _Store:
    store = current_app.extensions.get(_STORE)
    if store is None:
        store = current_app.extensions.setdefault(_STORE, _Store())
    return store


def participants_taking_part(consultation_id: int) -> int:
    """People who have taken part: at least one vote or one statement of their own."""
    voted = exists().where(Vote.participant_id == Participant.id)
    wrote = exists().where(Statement.author_id == Participant.id)
    return db.session.scalar(
        select(func.count(Participant.id)).where(
            Participant.consultation_id == consultation_id, voted | wrote
        )
    )


def count_now(consultation_id: int) -> VoteCounts:
    """Count afresh, from the database: two queries, each a pass over the consultation's rows."""
    started = time.monotonic()
    by_statement: dict[int, list[int]] = {}
    rows = db.session.execute(
        select(Vote.statement_id, Vote.choice, func.count())
        .where(Vote.consultation_id == consultation_id)
        .group_by(Vote.statement_id, Vote.choice)
    )
    slot = {int(VoteChoice.AGREE): 0, int(VoteChoice.DISAGREE): 1, int(VoteChoice.PASS): 2}
    for statement_id, choice, n in rows:
        by_statement.setdefault(statement_id, [0, 0, 0])[slot[choice]] += n
    participants = participants_taking_part(consultation_id)
    finished = time.monotonic()
    return VoteCounts(
        {sid: (a, d, p) for sid, (a, d, p) in by_statement.items()},
        participants,
        counted_at=finished,
        good_for=max(current_app.config["VOTE_COUNTS_SECONDS"], SLOWDOWN * (finished - started)),
    )


def vote_counts(consultation_id: int) -> VoteCounts:
    """The consultation's counts as this process last saw them, counted again when too old."""
    store = _store()
    kept = store.counts.get(consultation_id)
    if kept is not None and time.monotonic() - kept.counted_at < kept.good_for:
        return kept
    with store.lock:
        someone_counting = consultation_id in store.counting
        if kept is not None and someone_counting:
            return kept  # another request of this process is counting: use what there is
        store.counting.add(consultation_id)
    try:
        fresh = count_now(consultation_id)
        with store.lock:
            store.counts[consultation_id] = fresh
        return fresh
    finally:
        with store.lock:
            store.counting.discard(consultation_id)


def count_new_participant(consultation_id: int) -> None:
    """A participant started here (their first vote or statement is committed): count them now."""
    store = _store()
    with store.lock:
        kept = store.counts.get(consultation_id)
        if kept is not None:
            kept.participants += 1


def forget(consultation_id: int | None = None) -> None:
    """Drop the counts this process keeps, of one consultation or of all (for tests and for
    changes that move votes in bulk)."""
    store = _store()
    with store.lock:
        if consultation_id is None:
            store.counts.clear()
        else:
            store.counts.pop(consultation_id, None)
