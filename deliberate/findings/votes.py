"""What the vote analysis found, as stored under ``results["votes"]``: typed, read once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from deliberate.findings._json import (
    JSON,
    integer,
    ints,
    matrix,
    obj,
    optional_ints,
    optional_reals,
    real,
    reals,
    seq,
    text,
)

AGREE = "agree"
DISAGREE = "disagree"
STATUS_OK = "ok"


@dataclass(frozen=True)
class RepresentativeFinding:
    """A statement on which one group differs from the rest (tested, BH q-value)."""

    statement_id: int
    direction: str
    n_success: int  # members of the group who agreed (or disagreed)
    n_seen: int  # members of the group who voted on it
    q_value: float


@dataclass(frozen=True)
class GroupFinding:
    id: int
    size: int  # clustered participants (the statistics use these)
    n_assigned: int  # too few votes: placed in this group on the map only
    center: tuple[float, float]
    representative: tuple[RepresentativeFinding, ...]


@dataclass(frozen=True)
class ConsensusFinding:
    """A statement a majority of every group agreed with (or rejected), tested."""

    statement_id: int
    direction: str
    group_counts: tuple[tuple[int, int], ...]  # (answered that way, voted) per group
    q_value: float


@dataclass(frozen=True)
class DivisiveFinding:
    statement_id: int
    most_agreeing_group: int
    most_disagreeing_group: int
    q_value: float


@dataclass(frozen=True)
class RoleFinding:
    """Staff and citizens on one statement, with the tests between them."""

    statement_id: int
    staff_agree: int
    staff_disagree: int
    staff_seen: int
    citizen_agree: int
    citizen_disagree: int
    citizen_seen: int
    q_value: float
    both_agree_q: float
    test: str


@dataclass(frozen=True)
class RoleFindings:
    n_staff: int
    n_citizens: int
    message: str
    n_tests: int  # statements both sides voted on: the family under FDR control
    differ_most: tuple[RoleFinding, ...]
    both_agree: tuple[RoleFinding, ...]
    # Every active statement both sides voted on, with its counts (empty for older runs).
    statements: tuple[RoleFinding, ...] = ()


@dataclass(frozen=True)
class StatementCounts:
    """The counts behind every figure, statement by statement (columns in ``statement_ids``)."""

    statement_ids: tuple[int, ...]
    moderated_out: tuple[bool, ...]
    n_agree: tuple[int, ...]
    n_disagree: tuple[int, ...]
    n_pass: tuple[int, ...]
    n_seen: tuple[int, ...]
    group_agree: tuple[tuple[int, ...], ...]  # [group][statement], clustered participants only
    group_disagree: tuple[tuple[int, ...], ...]
    group_seen: tuple[tuple[int, ...], ...]
    # Polis' group-informed consensus of agreement: the product over groups of (agree+1)/(seen+2).
    group_informed_consensus: tuple[float | None, ...]


@dataclass(frozen=True)
class OpinionMapData:
    """Every participant's place on the 2-D map (``None`` when they voted on nothing active)."""

    participant_ids: tuple[int, ...]
    x: tuple[float | None, ...]
    y: tuple[float | None, ...]
    group: tuple[int | None, ...]  # -1 when not clustered
    assigned_group: tuple[int | None, ...]  # nearest group for those with too few votes
    explained_variance_ratio: tuple[float, ...]
    # What places a new participant the way the analysis placed everyone (one entry per statement
    # in ``VoteFindings.statements``): the two PCA axes and each statement's mean answer. None for
    # a run stored without them.
    components: tuple[tuple[float, ...], tuple[float, ...]] | None = None
    statement_means: tuple[float, ...] | None = None
    clustered: tuple[bool, ...] | None = None  # None: not stored (read ``group >= 0`` instead)

    @cached_property
    def position(self) -> Mapping[int, int]:
        """Participant id -> position in these columns (built once per read run)."""
        return {p: i for i, p in enumerate(self.participant_ids)}


GROUPS = "groups"  # the split is beyond chance: the groups are published
NO_CLEAR_GROUPS = "no_clear_groups"  # the split is no better than on shuffled answers
NOT_TESTED = "not_tested"


@dataclass(frozen=True)
class GroupsTest:
    """The evidence that the opinion groups are real: the clustering's separation against its
    distribution when each statement's answers are shuffled among the people who saw it."""

    decision: str  # GROUPS, NO_CLEAR_GROUPS or NOT_TESTED
    statistic: float  # silhouette of the k found on the real votes
    k_found: int  # the k the clustering chose before the test
    k: int  # the k kept
    p_value: float | None
    permutations: int
    stopped_early: bool
    alpha: float
    null_q95: float  # the separation reached by 5% of the shuffles
    message: str  # the sentence the analysis wrote, with its figures
    # The shuffles that separated as well, and the best separation of any shuffle (None: a run
    # stored without them; its stored message is then shown as it is).
    as_separated: int | None = None
    null_max: float | None = None

    @property
    def no_clear_groups(self) -> bool:
        return self.decision == NO_CLEAR_GROUPS


@dataclass(frozen=True)
class VoteFindings:
    status: str  # "ok" or "not_enough_data"
    message: str
    method_version: str
    parameters: JSON
    alpha: float  # the false-discovery rate of every family of claims
    n_participants: int
    n_statements: int
    n_active_statements: int
    n_votes: int
    n_clustered: int
    k: int
    silhouettes: Mapping[str, float]
    rejected_k: Mapping[str, str]
    groups: tuple[GroupFinding, ...]
    consensus_agree: tuple[ConsensusFinding, ...]  # the best few, for quoting
    consensus_disagree: tuple[ConsensusFinding, ...]
    # How many statements passed the consensus test in all (not only those quoted). None: a run
    # written before this was stored, whose quoted list was cut short, so the total is unknown.
    n_consensus_agree: int | None
    n_consensus_disagree: int | None
    divisive: tuple[DivisiveFinding, ...]
    roles: RoleFindings | None
    opinion_map: OpinionMapData | None
    statements: StatementCounts | None
    n_tests: Mapping[str, int]
    groups_test: GroupsTest | None  # None: a run made before groups were tested against chance
    claims_method: str  # "same-votes" (before version 2) or "held-out-statements"
    n_too_few_votes: int  # on the map, left out of the statistics

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    def opinion_group_of(self) -> dict[int, int]:
        """Participant id -> opinion group (clustered participants only); nobody is in a group
        when the groups did not beat shuffled answers."""
        m = self.opinion_map
        if m is None or (self.groups_test is not None and self.groups_test.no_clear_groups):
            return {}
        return {
            p: g
            for p, g in zip(m.participant_ids, m.group, strict=True)
            if g is not None and g >= 0
        }


def _representative(data: Any, where: str) -> RepresentativeFinding:
    r = obj(data, where)
    return RepresentativeFinding(
        statement_id=integer(r["statement_id"]),
        direction=text(r["direction"]),
        n_success=integer(r.get("n_success")),
        n_seen=integer(r.get("n_seen")),
        q_value=real(r.get("q_value"), 1.0),
    )


def _group(data: Any, where: str) -> GroupFinding:
    g = obj(data, where)
    center = reals(g.get("center") or (0.0, 0.0), f"{where}.center")
    return GroupFinding(
        id=integer(g["id"]),
        size=integer(g.get("size")),
        n_assigned=integer(g.get("n_assigned")),
        center=(center[0], center[1]),
        representative=tuple(
            _representative(r, f"{where}.representative[{i}]")
            for i, r in enumerate(seq(g.get("representative"), f"{where}.representative"))
        ),
    )


def _consensus(data: Any, where: str) -> tuple[ConsensusFinding, ...]:
    out = []
    for i, item in enumerate(seq(data, where)):
        c = obj(item, f"{where}[{i}]")
        counts = tuple(
            (integer(pair[0]), integer(pair[1]))
            for pair in seq(c.get("group_counts"), f"{where}[{i}].group_counts")
        )
        out.append(
            ConsensusFinding(
                statement_id=integer(c["statement_id"]),
                direction=text(c["direction"]),
                group_counts=counts,
                q_value=real(c.get("q_value"), 1.0),
            )
        )
    return tuple(out)


def _divisive(data: Any, where: str) -> tuple[DivisiveFinding, ...]:
    return tuple(
        DivisiveFinding(
            statement_id=integer(d["statement_id"]),
            most_agreeing_group=integer(d["most_agreeing_group"]),
            most_disagreeing_group=integer(d["most_disagreeing_group"]),
            q_value=real(d.get("q_value"), 1.0),
        )
        for d in (obj(item, f"{where}[{i}]") for i, item in enumerate(seq(data, where)))
    )


def _role(data: Any, where: str) -> RoleFinding:
    r = obj(data, where)
    return RoleFinding(
        statement_id=integer(r["statement_id"]),
        staff_agree=integer(r["staff_agree"]),
        staff_disagree=integer(r["staff_disagree"]),
        staff_seen=integer(r["staff_seen"]),
        citizen_agree=integer(r["citizen_agree"]),
        citizen_disagree=integer(r["citizen_disagree"]),
        citizen_seen=integer(r["citizen_seen"]),
        q_value=real(r.get("q_value"), 1.0),
        both_agree_q=real(r.get("both_agree_q"), 1.0),
        test=text(r.get("test")),
    )


def _roles(data: Any, where: str) -> RoleFindings | None:
    if not data:
        return None
    r = obj(data, where)

    def findings(key: str) -> tuple[RoleFinding, ...]:
        items = seq(r.get(key), f"{where}.{key}")
        return tuple(_role(item, f"{where}.{key}[{i}]") for i, item in enumerate(items))

    return RoleFindings(
        n_staff=integer(r.get("n_staff")),
        n_citizens=integer(r.get("n_citizens")),
        message=text(r.get("message")),
        n_tests=integer(r.get("n_tests")),
        differ_most=findings("differ_most"),
        both_agree=findings("both_agree"),
        statements=findings("statements"),
    )


def _statements(data: Any, where: str) -> StatementCounts | None:
    t = obj(data, where)
    ids = ints(t.get("statement_ids"), f"{where}.statement_ids")
    if not ids:
        return None
    moderated = seq(t.get("moderated_out") or [False] * len(ids), f"{where}.moderated_out")
    return StatementCounts(
        statement_ids=ids,
        moderated_out=tuple(bool(v) for v in moderated),
        n_agree=ints(t.get("n_agree"), f"{where}.n_agree"),
        n_disagree=ints(t.get("n_disagree"), f"{where}.n_disagree"),
        n_pass=ints(t.get("n_pass"), f"{where}.n_pass"),
        n_seen=ints(t.get("n_seen"), f"{where}.n_seen"),
        group_agree=matrix(t.get("group_agree"), f"{where}.group_agree"),
        group_disagree=matrix(t.get("group_disagree"), f"{where}.group_disagree"),
        group_seen=matrix(t.get("group_seen"), f"{where}.group_seen"),
        group_informed_consensus=optional_reals(
            t.get("group_informed_consensus_agree") or [None] * len(ids), f"{where}.gic"
        ),
    )


def _opinion_map(data: Any, where: str) -> OpinionMapData | None:
    if not data:
        return None
    m = obj(data, where)
    group = optional_ints(m.get("group"), f"{where}.group")
    assigned = m.get("assigned_group")
    axes = seq(m.get("components"), f"{where}.components")
    means = m.get("statement_means")
    clustered = m.get("clustered")
    return OpinionMapData(
        participant_ids=ints(m.get("participant_ids"), f"{where}.participant_ids"),
        x=optional_reals(m.get("x"), f"{where}.x"),
        y=optional_reals(m.get("y"), f"{where}.y"),
        group=group,
        assigned_group=group if assigned is None else optional_ints(assigned, f"{where}.assigned"),
        explained_variance_ratio=reals(
            m.get("explained_variance_ratio"), f"{where}.explained_variance_ratio"
        ),
        components=(
            (reals(axes[0], f"{where}.components[0]"), reals(axes[1], f"{where}.components[1]"))
            if len(axes) == 2
            else None
        ),
        statement_means=None if means is None else reals(means, f"{where}.statement_means"),
        clustered=(
            None
            if clustered is None
            else tuple(bool(c) for c in seq(clustered, f"{where}.clustered"))
        ),
    )


def _groups_test(data: Any) -> GroupsTest | None:
    if not data:
        return None
    t = obj(data, "votes.groups_test")
    quantiles = obj(t.get("null_quantiles"), "votes.groups_test.null_quantiles")
    p = t.get("p_value")
    as_separated, null_max = t.get("as_separated"), quantiles.get("1.0")
    return GroupsTest(
        decision=text(t.get("decision")) or NOT_TESTED,
        statistic=real(t.get("statistic")),
        k_found=integer(t.get("k_found")),
        k=integer(t.get("k")),
        p_value=None if p is None else float(p),
        permutations=integer(t.get("permutations")),
        stopped_early=bool(t.get("stopped_early")),
        alpha=real(t.get("alpha"), 0.05),
        null_q95=real(quantiles.get("0.95")),
        message=text(t.get("message")),
        as_separated=None if as_separated is None else integer(as_separated),
        null_max=None if null_max is None else real(null_max),
    )


def _total(stored: JSON, direction: str, quoted: int, cap: int) -> int | None:
    """Statements that passed the consensus test in all. Older runs stored only the quoted few:
    their total is known only when the list was not cut short."""
    totals = stored.get("n_consensus")
    if isinstance(totals, Mapping) and direction in totals:
        return integer(totals[direction])
    return quoted if quoted < cap else None


def read_votes(data: Any) -> VoteFindings:
    v = obj(data, "votes")
    params = obj(v.get("parameters"), "votes.parameters")
    cap = integer(params.get("max_consensus"), 5)
    consensus_agree = _consensus(v.get("consensus_agree"), "votes.consensus_agree")
    consensus_disagree = _consensus(v.get("consensus_disagree"), "votes.consensus_disagree")
    return VoteFindings(
        status=text(v.get("status")) or "not_enough_data",
        message=text(v.get("message")),
        method_version=text(v.get("method_version")),
        parameters=params,
        alpha=real(params.get("alpha"), 0.1),
        n_participants=integer(v.get("n_participants")),
        n_statements=integer(v.get("n_statements")),
        n_active_statements=integer(v.get("n_active_statements")),
        n_votes=integer(v.get("n_votes")),
        n_clustered=integer(v.get("n_clustered")),
        k=integer(v.get("k")),
        silhouettes={str(k): real(s) for k, s in obj(v.get("silhouettes"), "silhouettes").items()},
        rejected_k={str(k): text(s) for k, s in obj(v.get("rejected_k"), "rejected_k").items()},
        groups=tuple(
            _group(g, f"votes.groups[{i}]") for i, g in enumerate(seq(v.get("groups"), "groups"))
        ),
        consensus_agree=consensus_agree,
        consensus_disagree=consensus_disagree,
        n_consensus_agree=_total(v, AGREE, len(consensus_agree), cap),
        n_consensus_disagree=_total(v, DISAGREE, len(consensus_disagree), cap),
        divisive=_divisive(v.get("divisive"), "votes.divisive"),
        roles=_roles(v.get("roles"), "votes.roles"),
        opinion_map=_opinion_map(v.get("opinion_map"), "votes.opinion_map"),
        statements=_statements(v.get("statements"), "votes.statements"),
        n_tests={str(k): integer(n) for k, n in obj(v.get("n_tests"), "n_tests").items()},
        groups_test=_groups_test(v.get("groups_test")),
        claims_method=text(v.get("claims_method")) or "same-votes",
        n_too_few_votes=integer(v.get("n_too_few_votes")),
    )
