"""Where you stand: one participant's answers against the consultation's published summary.

Read from the stored run (its findings read once per run and process, ``reports.cache``) and the
person's own current answers: no model, no refit, no numpy. Only the visitor's own participant is
ever read; everything about other people is a count the published summary already shows.

What is compared, and how:
- the place on the map uses the person's answers now (``reporting.placement``);
- the statements and the comparisons use only the answers the summary counted: those stored before
  the run was made (``Vote.cast_at_ms`` before ``AnalysisRun.started_at``, since the run reads
  the votes after it starts). Their own answer is then taken out of every count, so each figure
  is about *other* people. Answers given since wait for the next summary, and the page says so;
- "with most people": more than half of the other people who answered the statement gave the
  same answer; "in a minority": more than half of them gave the opposite answer (an agree against
  a disagree). Passes and statements with no majority either way are in neither list, nor are
  statements fewer than ``MIN_OTHERS`` other people answered;
- agreement with a group (or with staff, with citizens): on the statements both answered, the
  share where the person's answer is what more than half of that group answered.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.findings import StatementCounts, VoteFindings
from deliberate.models import AnalysisRun, Consultation, Participant, ParticipantRole, Vote
from deliberate.reporting.figures import group_name, percent
from deliberate.reporting.placement import Placement, Verdict, has_groups, place
from deliberate.services.reports import (
    AWAITING_TEXT,
    REMOVED_TEXT,
    cached_for_run,
    findings_of,
    published_run,
    report_for,
)

MIN_OTHERS = 5  # a statement fewer other people answered is not quoted ("1 of 1 other person")
LISTED = 5  # statements quoted in each list

AGREE, DISAGREE, PASS = 1, -1, 0
WORDS = {AGREE: "agreed", DISAGREE: "disagreed", PASS: "passed"}


@dataclass(frozen=True)
class StatementComparison:
    """One statement the person answered, and how many other people answered the same."""

    statement_id: int
    text: str
    choice: int
    same: int  # other people who gave the same answer
    others: int  # other people who answered it

    @property
    def answered(self) -> str:
        return WORDS[self.choice]

    @property
    def percent(self) -> int | None:
        return percent(self.same, self.others)


@dataclass(frozen=True)
class Agreement:
    """How often the person answered as most of a set of people did."""

    name: str  # "Group A", "Staff", "Citizens"
    matching: int
    compared: int  # statements both answered
    yours: bool = False  # the person's own group in the summary

    @property
    def percent(self) -> int | None:
        return percent(self.matching, self.compared)


NO_SUMMARY = "no_summary"  # nothing published yet
NOT_YET = "not_yet"  # too few answers to be placed
CANNOT_PLACE = "cannot_place"  # the summary has no map (too little data) or no stored axes
PLACED = "placed"


@dataclass(frozen=True)
class WhereYouStand:
    state: str
    run_id: int | None = None
    published_at: datetime | None = None
    n_participants: int = 0  # people in the summary
    placement: Placement | None = None
    group: str | None = None  # the name of the group the page names
    next_group: str | None = None
    n_answers: int = 0  # answers to statements the summary saw
    n_newer: int = 0  # answers the summary has not counted (given or changed since, or new)
    n_compared: int = 0  # answers the summary counted, on statements still in it: compared below
    with_most: tuple[StatementComparison, ...] = ()
    n_with_most: int = 0
    minority: tuple[StatementComparison, ...] = ()
    n_minority: int = 0
    groups: tuple[Agreement, ...] = ()
    roles: tuple[Agreement, ...] = ()

    @property
    def answers_needed(self) -> int:
        return self.placement.answers_needed if self.placement is not None else 0

    @property
    def threshold(self) -> int:
        return self.placement.threshold if self.placement is not None else 0

    @property
    def verdict(self) -> Verdict | None:
        return self.placement.verdict if self.placement is not None else None


@dataclass(frozen=True)
class _Counts:
    agree: int
    disagree: int
    seen: int

    def without(self, choice: int | None) -> _Counts:
        """The counts with one person's counted answer taken out."""
        if choice is None:
            return self
        return _Counts(
            self.agree - (choice == AGREE), self.disagree - (choice == DISAGREE), self.seen - 1
        )

    def of(self, choice: int) -> int:
        if choice == AGREE:
            return self.agree
        if choice == DISAGREE:
            return self.disagree
        return self.seen - self.agree - self.disagree

    def majority(self) -> int | None:
        """The answer more than half gave, if any."""
        for choice in (AGREE, DISAGREE, PASS):
            if 2 * self.of(choice) > self.seen:
                return choice
        return None


def where_you_stand(consultation: Consultation, participant: Participant | None) -> WhereYouStand:
    """The page's view of the published summary for this (the visitor's own) participant."""
    run = published_run(consultation.id)
    if run is None:
        return WhereYouStand(NO_SUMMARY)
    votes: VoteFindings = cached_for_run("where_you_stand", run, lambda: _votes_of(run))
    answers, counted = _answers(participant, run)
    pid = participant.id if participant is not None else None
    placement = place(votes, answers, pid)
    seen = set(votes.statements.statement_ids) if votes.statements is not None else set()
    base = WhereYouStand(
        CANNOT_PLACE,
        run_id=run.id,
        published_at=run.published_at,
        n_participants=votes.n_participants,
        placement=placement,
        n_answers=placement.n_answers,
        n_newer=sum(1 for sid in answers if sid not in counted or sid not in seen),
    )
    m, table = votes.opinion_map, votes.statements
    if m is None or m.components is None or table is None:
        return base  # too little data for a map, or a run stored before its axes were
    if not placement.placed:
        return replace(base, state=NOT_YET) if placement.answers_needed else base
    in_run = pid is not None and pid in m.position
    mine = counted if in_run else {}
    comparisons = _comparisons(run, table, counted, mine)
    with_most = sorted(
        (c for c in comparisons if 2 * c.same > c.others), key=lambda c: -c.same / c.others
    )
    opposite = [c for c in comparisons if c.choice != PASS and 2 * c.others_opposite > c.others]
    minority = sorted(opposite, key=lambda c: c.same / c.others)
    n_compared = sum(
        1
        for j, sid in enumerate(table.statement_ids)
        if sid in counted and not table.moderated_out[j]
    )
    named = has_groups(votes)
    return replace(
        base,
        state=PLACED,
        group=group_name(placement.group) if named and placement.group is not None else None,
        next_group=(
            group_name(placement.next_group) if named and placement.next_group is not None else None
        ),
        n_compared=n_compared,
        with_most=tuple(c.plain for c in with_most[:LISTED]),
        n_with_most=len(with_most),
        minority=tuple(c.plain for c in minority[:LISTED]),
        n_minority=len(minority),
        groups=_group_agreement(votes, counted, mine, pid) if named else (),
        roles=_role_agreement(votes, counted, participant if in_run else None),
    )


def _votes_of(run: AnalysisRun) -> VoteFindings:
    votes = findings_of(run).votes
    if votes.opinion_map is not None:
        votes.opinion_map.position  # noqa: B018 - built once, with the cached findings
    return votes


def _answers(
    participant: Participant | None, run: AnalysisRun
) -> tuple[dict[int, int], dict[int, int]]:
    """The person's current answers (statement id -> choice), and those the run counted."""
    if participant is None:
        return {}, {}
    started_ms = int(run.started_at.replace(tzinfo=UTC).timestamp() * 1000)  # naive UTC
    answers: dict[int, int] = {}
    counted: dict[int, int] = {}
    rows = db.session.execute(
        select(Vote.statement_id, Vote.choice, Vote.cast_at_ms).where(
            Vote.participant_id == participant.id
        )
    )
    for sid, choice, cast_at_ms in rows:
        answers[sid] = choice
        if cast_at_ms < started_ms:
            counted[sid] = choice
    return answers, counted


@dataclass(frozen=True)
class _Comparison(StatementComparison):
    others_opposite: int = 0

    @property
    def plain(self) -> StatementComparison:
        return StatementComparison(
            self.statement_id, self.text, self.choice, self.same, self.others
        )


def _comparisons(
    run: AnalysisRun,
    table: StatementCounts,
    counted: Mapping[int, int],
    mine: Mapping[int, int],
) -> list[_Comparison]:
    figures = report_for(run).figures
    out = []
    for j, sid in enumerate(table.statement_ids):
        choice = counted.get(sid)
        row = figures.statement(sid)
        if choice is None or table.moderated_out[j] or row is None:
            continue
        if row.text in (REMOVED_TEXT, AWAITING_TEXT):
            continue
        everyone = _Counts(table.n_agree[j], table.n_disagree[j], table.n_seen[j])
        others = everyone.without(mine.get(sid))
        if others.seen < MIN_OTHERS:
            continue
        out.append(
            _Comparison(
                sid,
                row.text,
                choice,
                others.of(choice),
                others.seen,
                others_opposite=others.of(-choice) if choice != PASS else 0,
            )
        )
    return out


def _agreement(name: str, pairs: list[tuple[int, _Counts]], yours: bool = False) -> Agreement:
    compared = [(choice, c) for choice, c in pairs if c.seen > 0]
    matching = sum(1 for choice, c in compared if c.majority() == choice)
    return Agreement(name, matching, len(compared), yours)


def _group_agreement(
    votes: VoteFindings, counted: Mapping[int, int], mine: Mapping[int, int], pid: int | None
) -> tuple[Agreement, ...]:
    table, m = votes.statements, votes.opinion_map
    assert table is not None and m is not None
    own_group = None
    if pid is not None and pid in m.position:
        i = m.position[pid]
        stored = m.group[i]
        own_group = stored if stored is not None and stored >= 0 else None
    out = []
    for g in votes.groups:
        pairs = []
        for j, sid in enumerate(table.statement_ids):
            choice = counted.get(sid)
            if choice is None or table.moderated_out[j] or g.id >= len(table.group_seen):
                continue
            c = _Counts(
                table.group_agree[g.id][j], table.group_disagree[g.id][j], table.group_seen[g.id][j]
            )
            pairs.append((choice, c.without(mine.get(sid)) if g.id == own_group else c))
        out.append(_agreement(group_name(g.id), pairs, yours=g.id == own_group))
    return tuple(out)


def _role_agreement(
    votes: VoteFindings, counted: Mapping[int, int], participant: Participant | None
) -> tuple[Agreement, ...]:
    """Staff and citizens, when the run had both; the person's own answer taken out of their
    role's counts when the run counted them (``participant`` None otherwise)."""
    roles = votes.roles
    if roles is None or not roles.n_staff or not roles.n_citizens or not roles.statements:
        return ()
    own = participant.role if participant is not None else None
    staff, citizens = [], []
    for r in roles.statements:
        choice = counted.get(r.statement_id)
        if choice is None:
            continue
        s = _Counts(r.staff_agree, r.staff_disagree, r.staff_seen)
        c = _Counts(r.citizen_agree, r.citizen_disagree, r.citizen_seen)
        staff.append((choice, s.without(choice) if own is ParticipantRole.STAFF else s))
        citizens.append((choice, c.without(choice) if own is ParticipantRole.CITIZEN else c))
    return (_agreement(_("Staff"), staff), _agreement(_("Citizens"), citizens))
