"""The figures of a report, read from a stored analysis run: plain values a page can show.

Pure Python over the run's stored JSON (``results["votes"]`` from the vote analysis and, when the
run has them, ``results["topics"]``) and the statements' texts: no numpy, no database, no Flask, so
the request path stays light and the same figures feed the page, its plain-English summary and its
charts. Every figure keeps the counts behind it (``Tally``), never only a rate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

AGREE = "agree"
DISAGREE = "disagree"
OTHER_TOPIC = -1
# Markers and colours of the opinion groups: every group differs in shape as well as colour, so
# colour is never the only cue. Colours are dark enough for 3:1 against white (WCAG 1.4.11).
MARKERS = ("circle", "square", "triangle", "diamond", "cross", "star")
COLOURS = ("#0b5f9e", "#b04200", "#00704a", "#a0327a", "#6b5a00", "#4a4a8a")


def group_name(group_id: int) -> str:
    """Names groups "Group A", "Group B"...: letters read better than numbers in sentences."""
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return f"Group {letters[group_id]}" if 0 <= group_id < len(letters) else f"Group {group_id + 1}"


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

    def __str__(self) -> str:
        return f"{self.count} of {self.seen}"


@dataclass(frozen=True)
class GroupVotes:
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
class StatementRow:
    """One statement with every count the report quotes about it."""

    id: int
    text: str
    active: bool  # False: moderated out (or meta) when the run was made, so left out of the maths
    agree: int
    disagree: int
    passed: int
    seen: int
    groups: tuple[GroupVotes, ...] = ()
    topic_id: int | None = None
    topic_label: str | None = None

    @property
    def anchor(self) -> str:
        return f"s-{self.id}"

    @property
    def agreed(self) -> Tally:
        return Tally(self.agree, self.seen)

    @property
    def disagreed(self) -> Tally:
        return Tally(self.disagree, self.seen)

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

    @property
    def name(self) -> str:
        return group_name(self.id)

    @property
    def anchor(self) -> str:
        return f"group-{self.name[-1].lower()}" if self.id < 26 else f"group-{self.id}"

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
class TopicVotes:
    agree: int
    disagree: int
    passed: int
    votes: int
    voters: int

    @property
    def agreed(self) -> Tally:
        return Tally(self.agree, self.votes)

    @property
    def disagreed(self) -> Tally:
        return Tally(self.disagree, self.votes)


@dataclass(frozen=True)
class TopicFigure:
    id: int
    label: str
    keywords: tuple[str, ...]
    size: int
    statement_ids: tuple[int, ...]
    representative: tuple[StatementRow, ...]
    everyone: TopicVotes | None
    staff: TopicVotes | None
    citizens: TopicVotes | None
    groups: tuple[TopicVotes | None, ...]

    @property
    def is_other(self) -> bool:
        return self.id == OTHER_TOPIC

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

    @property
    def named(self) -> tuple[TopicFigure, ...]:
        return tuple(t for t in self.topics if not t.is_other)

    def of(self, topic_id: int) -> TopicFigure | None:
        return next((t for t in self.topics if t.id == topic_id), None)


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
    divisive: tuple[DivisiveFigure, ...]
    roles: Roles | None
    topics: Topics
    statements: tuple[StatementRow, ...]
    opinion_map: OpinionMap | None
    silhouettes: Mapping[str, float]
    rejected_k: Mapping[str, str]
    n_tests: Mapping[str, int]
    method_version: str
    index: Mapping[int, StatementRow] = field(default_factory=dict, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

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

    def agreed_by_every_group(self) -> int:
        """Statements a majority of those voting in every group agreed with (descriptive counts,
        not a test): how the trajectory follows common ground from round to round."""
        if not self.ok:
            return 0
        return sum(
            1
            for s in self.statements
            if s.active
            and s.groups
            and all(g.seen for g in s.groups)
            and all(2 * g.agree > g.seen for g in s.groups)
        )


# -- reading the stored JSON ----------------------------------------------------------------------


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def _float(value: Any, default: float = float("nan")) -> float:
    return float(value) if value is not None else default


def _statement_rows(
    votes: Mapping[str, Any], texts: Mapping[int, str], topic_of: Mapping[int, tuple[int, str]]
) -> tuple[StatementRow, ...]:
    table = votes.get("statements") or {}
    ids = [int(i) for i in table.get("statement_ids") or []]
    if not ids:
        # No vote table (not enough data): still list the statements, without counts.
        return tuple(
            StatementRow(
                sid, texts.get(sid, ""), True, 0, 0, 0, 0, (), *topic_of.get(sid, (None, None))
            )
            for sid in sorted(texts)
        )
    group_agree = table.get("group_agree") or []
    group_disagree = table.get("group_disagree") or []
    group_seen = table.get("group_seen") or []
    k = len(group_seen)
    rows = []
    for j, sid in enumerate(ids):
        groups = tuple(
            GroupVotes(_int(group_agree[g][j]), _int(group_disagree[g][j]), _int(group_seen[g][j]))
            for g in range(k)
        )
        topic_id, topic_label = topic_of.get(sid, (None, None))
        rows.append(
            StatementRow(
                id=sid,
                text=texts.get(sid, ""),
                active=not bool((table.get("moderated_out") or [False] * len(ids))[j]),
                agree=_int(table["n_agree"][j]),
                disagree=_int(table["n_disagree"][j]),
                passed=_int(table["n_pass"][j]),
                seen=_int(table["n_seen"][j]),
                groups=groups,
                topic_id=topic_id,
                topic_label=topic_label,
            )
        )
    return tuple(rows)


def _rest(row: StatementRow, group: int, direction: str) -> Tally:
    others = [g for i, g in enumerate(row.groups) if i != group]
    count = sum(g.agree if direction == AGREE else g.disagree for g in others)
    return Tally(count, sum(g.seen for g in others))


def _groups(votes: Mapping[str, Any], row_of) -> tuple[GroupFigure, ...]:
    out = []
    for g in votes.get("groups") or []:
        gid = int(g["id"])
        distinctive = []
        for r in g.get("representative") or []:
            row = row_of(r["statement_id"])
            if row is None:
                continue
            distinctive.append(
                Distinctive(
                    statement=row,
                    direction=r["direction"],
                    group=Tally(_int(r["n_success"]), _int(r["n_seen"])),
                    rest=_rest(row, gid, r["direction"]),
                    q_value=_float(r.get("q_value"), 1.0),
                )
            )
        center = g.get("center") or (0.0, 0.0)
        out.append(
            GroupFigure(
                id=gid,
                size=_int(g.get("size")),
                n_assigned=_int(g.get("n_assigned")),
                center=(_float(center[0], 0.0), _float(center[1], 0.0)),
                distinctive=tuple(distinctive),
            )
        )
    return tuple(out)


def _consensus(items: Sequence[Mapping[str, Any]], row_of) -> tuple[ConsensusFigure, ...]:
    out = []
    for c in items or []:
        row = row_of(c["statement_id"])
        if row is None:
            continue
        out.append(
            ConsensusFigure(
                statement=row,
                direction=c["direction"],
                per_group=tuple(Tally(_int(a), _int(n)) for a, n in c.get("group_counts") or []),
                q_value=_float(c.get("q_value"), 1.0),
            )
        )
    return tuple(out)


def _divisive(items: Sequence[Mapping[str, Any]], row_of) -> tuple[DivisiveFigure, ...]:
    out = []
    for d in items or []:
        row = row_of(d["statement_id"])
        if row is None or not row.groups:
            continue
        out.append(
            DivisiveFigure(
                statement=row,
                most_agreeing=int(d["most_agreeing_group"]),
                most_disagreeing=int(d["most_disagreeing_group"]),
                q_value=_float(d.get("q_value"), 1.0),
            )
        )
    return tuple(out)


def _role_figure(r: Mapping[str, Any], row_of) -> RoleFigure | None:
    row = row_of(r["statement_id"])
    if row is None:
        return None
    return RoleFigure(
        statement=row,
        staff=Tally(_int(r["staff_agree"]), _int(r["staff_seen"])),
        citizens=Tally(_int(r["citizen_agree"]), _int(r["citizen_seen"])),
        staff_disagree=Tally(_int(r["staff_disagree"]), _int(r["staff_seen"])),
        citizens_disagree=Tally(_int(r["citizen_disagree"]), _int(r["citizen_seen"])),
        q_value=_float(r.get("q_value"), 1.0),
        both_agree_q=_float(r.get("both_agree_q"), 1.0),
        test=str(r.get("test") or ""),
    )


def _roles(votes: Mapping[str, Any], row_of) -> Roles | None:
    roles = votes.get("roles")
    if not roles:
        return None

    def figures(items) -> tuple[RoleFigure, ...]:
        return tuple(f for f in (_role_figure(r, row_of) for r in items or []) if f is not None)

    return Roles(
        n_staff=_int(roles.get("n_staff")),
        n_citizens=_int(roles.get("n_citizens")),
        message=str(roles.get("message") or ""),
        n_compared=_int(roles.get("n_tests")),
        differ_most=figures(roles.get("differ_most")),
        both_agree=figures(roles.get("both_agree")),
    )


def _topic_votes(tally: Mapping[str, Any] | None) -> TopicVotes | None:
    if not tally:
        return None
    return TopicVotes(
        agree=_int(tally.get("agree")),
        disagree=_int(tally.get("disagree")),
        passed=_int(tally.get("pass")),
        votes=_int(tally.get("votes")),
        voters=_int(tally.get("voters")),
    )


def topic_of_statements(stored: Mapping[str, Any] | None) -> dict[int, tuple[int, str]]:
    """Statement id -> (topic id, label) as the run stored them."""
    stored = stored or {}
    ids = stored.get("statement_ids") or []
    assignments = stored.get("assignments") or []
    labels = {int(t["id"]): str(t["label"]) for t in stored.get("topics") or []}
    return {
        int(sid): (int(tid), labels.get(int(tid), "Other"))
        for sid, tid in zip(ids, assignments, strict=False)
    }


def _topics(stored: Mapping[str, Any] | None, k: int, row_of) -> Topics:
    if not stored:
        return Topics(False, "Topics are not available for this run.")
    status = stored.get("status")
    if status != "ok":
        message = str(stored.get("message") or "")
        return Topics(False, f"Topics are not available for this run. {message}".strip())
    joined = {int(t["topic_id"]): t for t in stored.get("by_topic") or []}
    ids = [int(s) for s in stored.get("statement_ids") or []]
    figures = []
    described = {int(t["id"]): t for t in stored.get("topics") or []}
    order = list(described) + [tid for tid in joined if tid not in described]
    for tid in order:
        topic = described.get(tid, {})
        join = joined.get(tid, {})
        members = tuple(int(s) for s in join.get("statement_ids") or ())
        if not members:
            members = tuple(
                sid
                for sid, t in zip(ids, stored.get("assignments") or [], strict=False)
                if int(t) == tid
            )
        representative_ids = join.get("representative_statement_ids")
        if representative_ids is None:
            representative_ids = [ids[i] for i in topic.get("representative") or [] if i < len(ids)]
        representative = tuple(
            row for row in (row_of(sid) for sid in representative_ids) if row is not None
        )
        roles = join.get("roles") or {}
        groups = join.get("groups") or {}
        figures.append(
            TopicFigure(
                id=tid,
                label=str(topic.get("label") or join.get("label") or "Other"),
                keywords=tuple(topic.get("keywords") or ()),
                size=_int(topic.get("size", len(members))),
                statement_ids=members,
                representative=representative,
                everyone=_topic_votes(join.get("everyone")),
                staff=_topic_votes(roles.get("staff")),
                citizens=_topic_votes(roles.get("citizen")),
                groups=tuple(_topic_votes(groups.get(str(g))) for g in range(k)),
            )
        )
    figures.sort(key=lambda t: (t.is_other, -t.size, t.id))
    return Topics(
        available=True,
        message=str(stored.get("message") or ""),
        topics=tuple(figures),
        language=str(stored.get("language") or ""),
        model_name=str(stored.get("model_name") or ""),
        model_fingerprint=str(stored.get("model_fingerprint") or ""),
        parameters=stored.get("parameters") or {},
        n_statements=len(ids),
    )


def _opinion_map(votes: Mapping[str, Any]) -> OpinionMap | None:
    stored = votes.get("opinion_map")
    if not stored:
        return None
    xs, ys = stored.get("x") or [], stored.get("y") or []
    groups = stored.get("group") or []
    assigned = stored.get("assigned_group") or groups
    points = []
    for x, y, g, a in zip(xs, ys, groups, assigned, strict=False):
        if x is None or y is None:
            continue
        clustered = g is not None and g >= 0
        nearest = int(g) if clustered else (int(a) if a is not None else -1)
        points.append(MapPoint(float(x), float(y), nearest, clustered))
    return OpinionMap(
        points=tuple(points),
        n_people=len(points),
        explained=tuple(float(v) for v in stored.get("explained_variance_ratio") or ()),
    )


def build_figures(results: Mapping[str, Any], texts: Mapping[int, str]) -> Figures:
    """The figures of a run from its stored results and the texts of its statements."""
    votes = results.get("votes") or {}
    topics_stored = results.get("topics")
    topic_of = (
        topic_of_statements(topics_stored) if (topics_stored or {}).get("status") == "ok" else {}
    )
    rows = _statement_rows(votes, texts, topic_of)
    by_id = {r.id: r for r in rows}

    def row_of(statement_id: Any) -> StatementRow | None:
        return by_id.get(int(statement_id)) if statement_id is not None else None

    roles = _roles(votes, row_of)
    k = _int(votes.get("k"))
    params = votes.get("parameters") or {}
    n_participants = _int(votes.get("n_participants"))
    n_voters = roles.n_staff + roles.n_citizens if roles else n_participants
    return Figures(
        status=str(votes.get("status") or "not_enough_data"),
        message=str(votes.get("message") or ""),
        alpha=_float(params.get("alpha"), 0.1),
        n_participants=n_participants,
        n_voters=n_voters,
        n_staff=roles.n_staff if roles else 0,
        n_citizens=roles.n_citizens if roles else n_voters,
        n_statements=_int(votes.get("n_statements")),
        n_active_statements=_int(votes.get("n_active_statements")),
        n_votes=_int(votes.get("n_votes")),
        n_clustered=_int(votes.get("n_clustered")),
        k=k,
        groups=_groups(votes, row_of),
        consensus_agree=_consensus(votes.get("consensus_agree"), row_of),
        consensus_disagree=_consensus(votes.get("consensus_disagree"), row_of),
        divisive=_divisive(votes.get("divisive"), row_of),
        roles=roles,
        topics=_topics(topics_stored, k, row_of),
        statements=rows,
        opinion_map=_opinion_map(votes),
        silhouettes=votes.get("silhouettes") or {},
        rejected_k=votes.get("rejected_k") or {},
        n_tests=votes.get("n_tests") or {},
        method_version=str(votes.get("method_version") or ""),
        index=by_id,
    )
