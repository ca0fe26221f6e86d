"""The figures of a report, read from a stored analysis run: plain values a page can show.

Pure Python over the run's typed findings (``deliberate.findings``, the one reader of what a run
stored) and the statements' texts: no numpy, no database, no Flask, so the request path stays
light and the same figures feed the page, its plain-English summary and its charts. Every
figure keeps the counts behind it (``Tally``), never only a rate.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from deliberate.findings import (
    ConsensusFinding,
    DivisiveFinding,
    ExclusionFindings,
    Findings,
    GroupsTest,
    RoleFinding,
    TopicFindings,
    TopicTally,
    VoteFindings,
)
from deliberate.reporting.messages import (
    groups_test_message,
    language_message,
    rejected_reason,
    topics_message,
    votes_message,
    why_not_enough,
)
from deliberate.reporting.uncertainty import wilson
from deliberate.reporting.words import ENGLISH, Words

AGREE = "agree"
SMALL_SHARE = 30  # shares of fewer people than this are shown with their interval
DISAGREE = "disagree"
OTHER_TOPIC = -1
# Markers and colours of the opinion groups: every group differs in shape as well as colour, so
# colour is never the only cue. Colours are dark enough for 3:1 against white (WCAG 1.4.11).
MARKERS = ("circle", "square", "triangle", "diamond", "cross", "star")
COLOURS = ("#0b5f9e", "#b04200", "#00704a", "#a0327a", "#6b5a00", "#4a4a8a")


LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def group_name(group_id: int, words: Words = ENGLISH) -> str:
    """Names groups "Group A", "Group B"...: letters read better than numbers in sentences."""
    _ = words.gettext
    letter = LETTERS[group_id] if 0 <= group_id < len(LETTERS) else str(group_id + 1)
    return _("Group %(letter)s") % {"letter": letter}


def percent(part: int, whole: int) -> int | None:
    """Whole percent, rounded half up (so 50.5% reads 51%, never the other way)."""
    if not whole:
        return None
    return int(100 * part / whole + 0.5)


@dataclass(frozen=True)
class Tally:
    """How many of those who voted on something gave the answer in question."""

    count: int
    seen: int

    @property
    def percent(self) -> int | None:
        return percent(self.count, self.seen)

    @property
    def rate(self) -> float | None:
        return self.count / self.seen if self.seen else None

    @property
    def small(self) -> bool:
        """Few enough people that the share's interval is wide: pages show it."""
        return 0 < self.seen < SMALL_SHARE

    @property
    def interval_percent(self) -> tuple[int, int] | None:
        """The share's 95% Wilson interval, in whole percent (outwards)."""
        interval = wilson(self.count, self.seen)
        if interval is None:
            return None
        return math.floor(100 * interval[0]), math.ceil(100 * interval[1])

    def __str__(self) -> str:
        return f"{self.count} of {self.seen}"


class _Shares:
    """Agreed and disagreed as shares of those who answered (``agree``/``disagree`` of ``seen``)."""

    agree: int
    disagree: int
    seen: int

    @property
    def agreed(self) -> Tally:
        return Tally(self.agree, self.seen)

    @property
    def disagreed(self) -> Tally:
        return Tally(self.disagree, self.seen)


@dataclass(frozen=True)
class Votes(_Shares):
    """Agree and disagree answers among those counted (the people of a group, or the votes on a
    topic's statements)."""

    agree: int
    disagree: int
    seen: int
    passed: int = 0
    voters: int = 0  # on a topic: the people behind its votes


@dataclass(frozen=True)
class StatementSource:
    """Who wrote a statement, as its public label says, and whether the moderators edited it.
    Participants are never said to be staff: none has chosen to show it."""

    from_team: bool
    edited: bool = False

    @property
    def label(self) -> str:
        who = "From the mission team" if self.from_team else "Written by a participant"
        return f"{who} · Edited by moderators" if self.edited else who


@dataclass(frozen=True)
class StatementRow(_Shares):
    """One statement with every count the report quotes about it."""

    id: int
    text: str
    active: bool  # False: moderated out (or meta) when the run was made, so left out of the maths
    agree: int
    disagree: int
    passed: int
    seen: int
    groups: tuple[Votes, ...] = ()
    topic_id: int | None = None
    topic_label: str | None = None
    source: StatementSource | None = None  # None: not known, or the statement was removed

    @property
    def anchor(self) -> str:
        return f"s-{self.id}"

    @property
    def passes(self) -> Tally:
        return Tally(self.passed, self.seen)


@dataclass(frozen=True)
class Distinctive:
    """A statement on which one group differs from the other groups (a representative one)."""

    statement: StatementRow
    direction: str
    group: Tally  # members of the group who agreed (or disagreed), of those who voted on it
    rest: Tally  # the same among the other groups
    q_value: float


@dataclass(frozen=True)
class GroupFigure:
    id: int
    size: int  # participants the statistics use (clustered)
    n_assigned: int  # with too few votes, placed in this group on the map only
    center: tuple[float, float]
    distinctive: tuple[Distinctive, ...]
    label: str = ""  # its name in the reader's language ("Group A", "Grŵp A")

    @property
    def name(self) -> str:
        return self.label or group_name(self.id)

    @property
    def anchor(self) -> str:
        return f"group-{LETTERS[self.id].lower()}" if 0 <= self.id < 26 else f"group-{self.id}"

    @property
    def marker(self) -> str:
        return MARKERS[self.id % len(MARKERS)]

    @property
    def colour(self) -> str:
        return COLOURS[self.id % len(COLOURS)]


@dataclass(frozen=True)
class ConsensusFigure:
    """A statement a majority of every group agreed with (or rejected), tested (BH q-value)."""

    statement: StatementRow
    direction: str
    per_group: tuple[Tally, ...]
    q_value: float

    @property
    def overall(self) -> Tally:
        s = self.statement
        return s.agreed if self.direction == AGREE else s.disagreed


@dataclass(frozen=True)
class DivisiveFigure:
    statement: StatementRow
    most_agreeing: int
    most_disagreeing: int
    q_value: float

    @property
    def agreeing(self) -> Tally:
        return self.statement.groups[self.most_agreeing].agreed

    @property
    def disagreeing(self) -> Tally:
        return self.statement.groups[self.most_disagreeing].disagreed


@dataclass(frozen=True)
class RoleFigure:
    """Staff and citizens on one statement: their agree counts and the test between them."""

    statement: StatementRow
    staff: Tally  # staff who agreed, of staff who voted on it
    citizens: Tally
    staff_disagree: Tally
    citizens_disagree: Tally
    q_value: float  # the difference (two-proportion z or Fisher), BH
    both_agree_q: float  # both sides' agree rate above a half, BH
    test: str

    @property
    def difference(self) -> int:
        """Staff minus citizens, in percentage points of agreement."""
        return (self.staff.percent or 0) - (self.citizens.percent or 0)


@dataclass(frozen=True)
class Roles:
    n_staff: int
    n_citizens: int
    message: str
    n_compared: int  # statements both sides voted on (the family under FDR control)
    differ_most: tuple[RoleFigure, ...]
    both_agree: tuple[RoleFigure, ...]

    @property
    def quoted(self) -> tuple[RoleFigure, ...]:
        return self.differ_most + self.both_agree

    @property
    def comparable(self) -> bool:
        return self.n_staff > 0 and self.n_citizens > 0 and self.n_compared > 0


@dataclass(frozen=True)
class TopicFigure:
    id: int
    label: str
    keywords: tuple[str, ...]
    size: int
    statement_ids: tuple[int, ...]
    representative: tuple[StatementRow, ...]
    everyone: Votes | None
    staff: Votes | None
    citizens: Votes | None
    groups: tuple[Votes | None, ...]
    # The label in each language of a multilingual consultation (empty in one language).
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_other(self) -> bool:
        return self.id == OTHER_TOPIC

    def label_in(self, language: str) -> str:
        return self.labels.get(language) or self.label

    @property
    def anchor(self) -> str:
        return "topic-other" if self.is_other else f"topic-{self.id}"


@dataclass(frozen=True)
class Topics:
    available: bool
    message: str
    topics: tuple[TopicFigure, ...] = ()
    language: str = ""
    model_name: str = ""
    model_fingerprint: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)
    n_statements: int = 0
    # The statements' languages (code -> count), and what to do when the embedding model does
    # not cover one of them; empty and None in one language, or in older runs.
    languages: Mapping[str, int] = field(default_factory=dict)
    language_message: str | None = None

    @property
    def named(self) -> tuple[TopicFigure, ...]:
        return tuple(t for t in self.topics if not t.is_other)

    def of(self, topic_id: int) -> TopicFigure | None:
        return next((t for t in self.topics if t.id == topic_id), None)


@dataclass(frozen=True)
class BridgingFigure:
    """A statement people agreed with across viewpoints: its bridging score and 90% interval."""

    statement: StatementRow
    rank: int
    score: float
    low: float | None
    high: float | None
    group_informed_consensus: float | None

    @property
    def clearly_positive(self) -> bool:
        """The whole interval above zero: more agreement than disagreement expected across the
        divide, not only at the best estimate."""
        return self.low is not None and self.low > 0


@dataclass(frozen=True)
class Bridging:
    top: tuple[BridgingFigure, ...]  # the most bridging statements, best first
    n_ranked: int
    min_answers: int
    interval: float  # coverage of each interval, e.g. 0.9


@dataclass(frozen=True)
class MapPoint:
    x: float
    y: float
    group: int  # the group, or for those with too few votes the nearest group (-1: none)
    clustered: bool  # False: too few votes to count in the statistics; drawn hollow


@dataclass(frozen=True)
class OpinionMap:
    points: tuple[MapPoint, ...]
    n_people: int  # everyone with a place on the map (at least one vote on an active statement)
    explained: tuple[float, ...]  # share of the variance each axis explains


@dataclass(frozen=True)
class Figures:
    """Everything a report page shows about one run."""

    status: str  # "ok" or "not_enough_data"
    message: str
    alpha: float
    n_participants: int
    n_voters: int
    n_staff: int
    n_citizens: int
    n_statements: int
    n_active_statements: int
    n_votes: int
    n_clustered: int
    k: int
    groups: tuple[GroupFigure, ...]
    consensus_agree: tuple[ConsensusFigure, ...]
    consensus_disagree: tuple[ConsensusFigure, ...]
    n_consensus_agree: int | None  # every statement that passed the test, not only those quoted
    n_consensus_disagree: int | None
    divisive: tuple[DivisiveFigure, ...]
    roles: Roles | None
    topics: Topics
    bridging: Bridging | None
    statements: tuple[StatementRow, ...]
    opinion_map: OpinionMap | None
    silhouettes: Mapping[str, float]
    rejected_k: Mapping[str, str]
    n_tests: Mapping[str, int]
    method_version: str
    groups_test: GroupsTest | None  # None: made before groups were tested against chance
    claims_method: str  # "held-out-statements": group claims tested against held-out groups
    n_too_few_votes: int  # people on the map left out of the statistics (too few answers)
    # Participants the team left out of this analysis, and why (none for older runs).
    exclusions: ExclusionFindings
    index: Mapping[int, StatementRow] = field(default_factory=dict, repr=False, compare=False)
    # Why there are no groups (not ``ok``), in the reader's words: the end of ``message``.
    why_no_groups: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def no_clear_groups(self) -> bool:
        """The clustering split people no better than on shuffled answers: no group claims."""
        return self.groups_test is not None and self.groups_test.no_clear_groups

    @property
    def has_groups(self) -> bool:
        """Opinion groups to speak of: more than one, beyond chance where tested."""
        return self.ok and self.k > 1 and not self.no_clear_groups

    def statement(self, statement_id: int) -> StatementRow | None:
        return self.index.get(statement_id)

    @property
    def cited(self) -> tuple[StatementRow, ...]:
        """The statements the page quotes, in the order it first quotes them."""
        seen: dict[int, StatementRow] = {}
        roles = self.roles.quoted if self.roles else ()
        quoted = [
            *(c.statement for c in self.consensus_agree + self.consensus_disagree),
            *(d.statement for d in self.divisive),
            *(r.statement for g in self.groups for r in g.distinctive),
            *(r.statement for r in roles),
            *(s for t in self.topics.topics for s in t.representative),
        ]
        for row in quoted:
            seen.setdefault(row.id, row)
        return tuple(seen.values())

    def agreed_by_every_group(self) -> int | None:
        """Statements that passed the test "a majority of every group agreed" (the same stored
        result the report quotes from; None when an old run did not store the total)."""
        return self.n_consensus_agree if self.ok else 0


# -- from the stored findings ----------------------------------------------------------------------


def _no_clear_groups(votes: VoteFindings) -> bool:
    return votes.groups_test is not None and votes.groups_test.no_clear_groups


def _statement_rows(
    votes: VoteFindings,
    texts: Mapping[int, str],
    topic_of: Mapping[int, tuple[int, str]],
    sources: Mapping[int, StatementSource],
) -> tuple[StatementRow, ...]:
    table = votes.statements
    if table is None:
        # No vote table (not enough data): still list the statements, without counts.
        return tuple(
            StatementRow(
                sid,
                texts.get(sid, ""),
                True,
                0,
                0,
                0,
                0,
                (),
                *topic_of.get(sid, (None, None)),
                source=sources.get(sid),
            )
            for sid in sorted(texts)
        )
    # No clear groups: the one "group" is everyone clustered; no page shows it as a group.
    k = 0 if _no_clear_groups(votes) else len(table.group_seen)
    rows = []
    for j, sid in enumerate(table.statement_ids):
        topic_id, topic_label = topic_of.get(sid, (None, None))
        rows.append(
            StatementRow(
                id=sid,
                text=texts.get(sid, ""),
                active=not table.moderated_out[j],
                agree=table.n_agree[j],
                disagree=table.n_disagree[j],
                passed=table.n_pass[j],
                seen=table.n_seen[j],
                groups=tuple(
                    Votes(
                        table.group_agree[g][j], table.group_disagree[g][j], table.group_seen[g][j]
                    )
                    for g in range(k)
                ),
                topic_id=topic_id,
                topic_label=topic_label,
                source=sources.get(sid),
            )
        )
    return tuple(rows)


def _rest(row: StatementRow, group: int, direction: str) -> Tally:
    others = [g for i, g in enumerate(row.groups) if i != group]
    count = sum(g.agree if direction == AGREE else g.disagree for g in others)
    return Tally(count, sum(g.seen for g in others))


RowOf = Callable[[int], StatementRow | None]


def _groups(votes: VoteFindings, row_of: RowOf, words: Words) -> tuple[GroupFigure, ...]:
    out = []
    for g in votes.groups:
        distinctive = tuple(
            Distinctive(
                statement=row,
                direction=r.direction,
                group=Tally(r.n_success, r.n_seen),
                rest=_rest(row, g.id, r.direction),
                q_value=r.q_value,
            )
            for r in g.representative
            if (row := row_of(r.statement_id)) is not None
        )
        out.append(
            GroupFigure(g.id, g.size, g.n_assigned, g.center, distinctive, group_name(g.id, words))
        )
    return tuple(out)


def _consensus(items: tuple[ConsensusFinding, ...], row_of: RowOf) -> tuple[ConsensusFigure, ...]:
    return tuple(
        ConsensusFigure(
            statement=row,
            direction=c.direction,
            per_group=tuple(Tally(a, n) for a, n in c.group_counts),
            q_value=c.q_value,
        )
        for c in items
        if (row := row_of(c.statement_id)) is not None
    )


def _divisive(items: tuple[DivisiveFinding, ...], row_of: RowOf) -> tuple[DivisiveFigure, ...]:
    return tuple(
        DivisiveFigure(row, d.most_agreeing_group, d.most_disagreeing_group, d.q_value)
        for d in items
        if (row := row_of(d.statement_id)) is not None and row.groups
    )


def _role_figure(r: RoleFinding, row: StatementRow) -> RoleFigure:
    return RoleFigure(
        statement=row,
        staff=Tally(r.staff_agree, r.staff_seen),
        citizens=Tally(r.citizen_agree, r.citizen_seen),
        staff_disagree=Tally(r.staff_disagree, r.staff_seen),
        citizens_disagree=Tally(r.citizen_disagree, r.citizen_seen),
        q_value=r.q_value,
        both_agree_q=r.both_agree_q,
        test=r.test,
    )


def _roles(votes: VoteFindings, row_of: RowOf) -> Roles | None:
    roles = votes.roles
    if roles is None:
        return None

    def figures(items: tuple[RoleFinding, ...]) -> tuple[RoleFigure, ...]:
        return tuple(
            _role_figure(r, row) for r in items if (row := row_of(r.statement_id)) is not None
        )

    return Roles(
        n_staff=roles.n_staff,
        n_citizens=roles.n_citizens,
        message=roles.message,
        n_compared=roles.n_tests,
        differ_most=figures(roles.differ_most),
        both_agree=figures(roles.both_agree),
    )


def _topic_votes(tally: TopicTally | None) -> Votes | None:
    if tally is None:
        return None
    return Votes(tally.agree, tally.disagree, tally.votes, tally.passed, tally.voters)


def _topics(stored: TopicFindings | None, k: int, row_of: RowOf, words: Words) -> Topics:
    _ = words.gettext
    if stored is None:
        return Topics(False, _("Topics are not available for this run."))
    if not stored.ok:
        unavailable = _("Topics are not available for this run.")
        return Topics(False, f"{unavailable} {topics_message(stored, words)}".strip())
    joined = {j.topic_id: j for j in stored.by_topic}
    described = {t.id: t for t in stored.topics}
    ids = stored.statement_ids
    figures = []
    for tid in list(described) + [tid for tid in joined if tid not in described]:
        topic, join = described.get(tid), joined.get(tid)
        members = join.statement_ids if join is not None else ()
        if not members:
            members = tuple(
                sid for sid, t in zip(ids, stored.assignments, strict=False) if t == tid
            )
        representative_ids = join.representative_statement_ids if join is not None else None
        if representative_ids is None:
            chosen = topic.representative if topic is not None else ()
            representative_ids = tuple(ids[i] for i in chosen if i < len(ids))
        figures.append(
            TopicFigure(
                id=tid,
                label=(topic.label if topic else None) or (join.label if join else _("Other")),
                keywords=topic.keywords if topic else (),
                size=topic.size if topic else len(members),
                statement_ids=members,
                representative=tuple(
                    row for row in (row_of(sid) for sid in representative_ids) if row is not None
                ),
                everyone=_topic_votes(join.everyone) if join else None,
                staff=_topic_votes(join.staff) if join else None,
                citizens=_topic_votes(join.citizens) if join else None,
                groups=tuple(_topic_votes(join.groups.get(g)) if join else None for g in range(k)),
                labels=dict(topic.labels) if topic else {},
            )
        )
    figures.sort(key=lambda t: (t.is_other, -t.size, t.id))
    return Topics(
        available=True,
        message=topics_message(stored, words),
        topics=tuple(figures),
        language=stored.language,
        model_name=stored.model_name,
        model_fingerprint=stored.model_fingerprint,
        parameters=stored.parameters,
        n_statements=len(ids),
        languages=dict(stored.languages.present) if stored.languages else {},
        language_message=language_message(stored, words),
    )


BRIDGING_SHOWN = 10


def _bridging(findings: Findings, row_of: RowOf) -> Bridging | None:
    stored = findings.bridging
    if stored is None:
        return None
    table = findings.votes.statements
    gic = (
        dict(zip(table.statement_ids, table.group_informed_consensus, strict=True)) if table else {}
    )
    ranking = stored.ranking()
    top = tuple(
        BridgingFigure(row, s.rank or 0, s.score, s.low, s.high, gic.get(s.statement_id))
        for s in ranking[:BRIDGING_SHOWN]
        if s.score is not None and (row := row_of(s.statement_id)) is not None
    )
    return Bridging(top, len(ranking), stored.min_answers, stored.interval)


def _opinion_map(votes: VoteFindings) -> OpinionMap | None:
    stored = votes.opinion_map
    if stored is None:
        return None
    points = []
    for x, y, g, a in zip(stored.x, stored.y, stored.group, stored.assigned_group, strict=False):
        if x is None or y is None:
            continue
        clustered = g is not None and g >= 0
        nearest = g if clustered and g is not None else (a if a is not None else -1)
        points.append(MapPoint(x, y, nearest, clustered))
    return OpinionMap(tuple(points), len(points), stored.explained_variance_ratio)


def build_figures(
    findings: Findings,
    texts: Mapping[int, str],
    sources: Mapping[int, StatementSource] | None = None,
    words: Words = ENGLISH,
) -> Figures:
    """The figures of a run from its stored findings and the texts of its statements (with who
    wrote each, where known)."""
    votes = findings.votes
    topics = findings.topics
    topic_of = topics.topic_of_statements() if topics is not None and topics.ok else {}
    rows = _statement_rows(votes, texts, topic_of, sources or {})
    by_id = {r.id: r for r in rows}
    roles = _roles(votes, by_id.get)
    n_voters = roles.n_staff + roles.n_citizens if roles else votes.n_participants
    return Figures(
        status=votes.status,
        message=votes_message(votes, words),
        alpha=votes.alpha,
        n_participants=votes.n_participants,
        n_voters=n_voters,
        n_staff=roles.n_staff if roles else 0,
        n_citizens=roles.n_citizens if roles else n_voters,
        n_statements=votes.n_statements,
        n_active_statements=votes.n_active_statements,
        n_votes=votes.n_votes,
        n_clustered=votes.n_clustered,
        k=votes.k,
        groups=() if _no_clear_groups(votes) else _groups(votes, by_id.get, words),
        consensus_agree=_consensus(votes.consensus_agree, by_id.get),
        consensus_disagree=_consensus(votes.consensus_disagree, by_id.get),
        n_consensus_agree=votes.n_consensus_agree,
        n_consensus_disagree=votes.n_consensus_disagree,
        divisive=_divisive(votes.divisive, by_id.get),
        roles=roles,
        topics=_topics(topics, 0 if _no_clear_groups(votes) else votes.k, by_id.get, words),
        bridging=_bridging(findings, by_id.get),
        statements=rows,
        opinion_map=_opinion_map(votes),
        silhouettes=votes.silhouettes,
        rejected_k={k: rejected_reason(why, words) for k, why in votes.rejected_k.items()},
        n_tests=votes.n_tests,
        method_version=votes.method_version,
        groups_test=(
            None
            if votes.groups_test is None
            else replace(votes.groups_test, message=groups_test_message(votes.groups_test, words))
        ),
        claims_method=votes.claims_method,
        n_too_few_votes=votes.n_too_few_votes,
        exclusions=findings.exclusions,
        index=by_id,
        why_no_groups="" if votes.ok else why_not_enough(votes.message, words),
    )
