"""One call for everything a consultation report needs from the votes, as one immutable result.

``analyse_votes(votes)`` runs the opinion groups, representative statements, consensus, divisive
statements and the staff / citizen comparison and returns a ``VoteAnalysis`` whose ``to_dict()`` is
plain JSON (stored as an immutable analysis run, with the parameters used and the method version).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from deliberate.analysis.group_evidence import GroupsTest, groups_beyond_chance
from deliberate.analysis.held_out_groups import (
    HELD_OUT_STATEMENTS,
    SAME_VOTES,
    HeldOutCounts,
    held_out_counts,
)
from deliberate.analysis.opinion_groups import (
    GroupParameters,
    NotEnoughData,
    OpinionGroups,
    VoteMatrix,
    compute_opinion_groups,
    one_group,
)
from deliberate.analysis.statement_stats import (
    AGREE,
    DISAGREE,
    ConsensusStatement,
    DivisiveStatement,
    GroupCounts,
    RepresentativeStatement,
    RoleComparison,
    compare_roles,
    consensus_statements,
    divisive_statements,
    divisiveness,
    group_informed_consensus,
    representative_statements,
)

# 2: groups tested against shuffled answers; group claims tested against held-out groups.
METHOD_VERSION = "deliberate-groups/2"
STATUS_OK = "ok"
STATUS_NOT_ENOUGH_DATA = "not_enough_data"


@dataclass(frozen=True)
class AnalysisParameters:
    """All parameters of a run; stored with it so that anyone can reproduce it."""

    groups: GroupParameters = field(default_factory=GroupParameters)
    alpha: float = 0.1  # false-discovery rate of every family of published claims
    max_representative: int = 5  # per group
    max_consensus: int = 5  # per direction
    max_divisive: int = 5
    max_role_statements: int = 10  # per list
    staff_role: str = "staff"
    citizen_role: str = "citizen"
    # Groups are published only if they separate better than on shuffled answers (0: untested).
    groups_test_permutations: int = 99
    groups_test_alpha: float = 0.05
    # How group claims are tested: against groups found without the statement (honest), or on
    # the votes that made the groups (SAME_VOTES, as before version 2; kept for comparison).
    claims_method: str = HELD_OUT_STATEMENTS
    claims_folds: int = 5

    def __post_init__(self) -> None:
        if self.claims_method not in (HELD_OUT_STATEMENTS, SAME_VOTES):
            raise ValueError(f"unknown claims_method {self.claims_method!r}")

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["groups"] = self.groups.to_dict()
        return out


@dataclass(frozen=True)
class OpinionGroup:
    """One opinion group: who, where on the map, and what sets it apart."""

    id: int
    size: int  # clustered participants (the statistics use these)
    n_assigned: int  # participants with too few votes placed in this group provisionally
    center: tuple[float, float]
    representative: tuple[RepresentativeStatement, ...]


@dataclass(frozen=True, eq=False)
class OpinionMap:
    """Every participant on the 2-D map, column by column (cheap for 50,000 people)."""

    participant_ids: tuple[Any, ...]
    x: np.ndarray  # NaN when the participant has no vote on an active statement
    y: np.ndarray
    group: np.ndarray  # -1 when not clustered
    assigned_group: np.ndarray  # group, or nearest group for those with too few votes
    clustered: np.ndarray
    n_votes: np.ndarray
    components: np.ndarray  # (2, n_statements): each statement's loading on the two axes
    statement_means: np.ndarray
    explained_variance_ratio: np.ndarray


@dataclass(frozen=True, eq=False)
class StatementTable:
    """The counts behind every figure, for every statement (all participants / per group)."""

    statement_ids: tuple[Any, ...]
    moderated_out: np.ndarray
    n_agree: np.ndarray
    n_disagree: np.ndarray
    n_pass: np.ndarray
    n_seen: np.ndarray
    group_agree: np.ndarray  # (k, m), clustered participants only
    group_disagree: np.ndarray
    group_seen: np.ndarray
    group_informed_consensus_agree: np.ndarray
    group_informed_consensus_disagree: np.ndarray
    divisiveness: np.ndarray


@dataclass(frozen=True, eq=False)
class VoteAnalysis:
    """Everything a report needs from the votes. ``status`` is "ok" or "not_enough_data"."""

    status: str
    message: str
    parameters: AnalysisParameters
    method_version: str
    n_participants: int
    n_statements: int
    n_active_statements: int
    n_votes: int
    n_clustered: int
    k: int
    silhouettes: dict[int, float]
    rejected_k: dict[int, str]
    groups: tuple[OpinionGroup, ...]
    consensus_agree: tuple[ConsensusStatement, ...]
    consensus_disagree: tuple[ConsensusStatement, ...]
    n_consensus: dict[str, int]  # statements that passed each consensus test, quoted or not
    divisive: tuple[DivisiveStatement, ...]
    roles: RoleComparison | None
    opinion_map: OpinionMap | None
    statements: StatementTable | None
    n_tests: dict[str, int]  # size of each family under FDR control
    groups_test: GroupsTest | None  # None when there was not enough data for groups
    claims_method: str  # HELD_OUT_STATEMENTS or SAME_VOTES (what the group claims' p-values use)
    claims_label_agreement: float | None  # held-out groups vs published, share of people
    claims_untested_statements: int  # active statements whose held-out groups could not be found
    n_too_few_votes: int  # voters below the clustering threshold: on the map, not in statistics

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only (NaN becomes None), ready to be stored as an immutable run."""
        plain: dict[str, Any] = _jsonable(self)
        return plain


def _jsonable(obj: Any) -> Any:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        if hasattr(obj, "to_dict") and not isinstance(obj, VoteAnalysis):
            return _jsonable(obj.to_dict())
        return {f.name: _jsonable(getattr(obj, f.name)) for f in fields(obj)}
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        f = float(obj)
        return None if math.isnan(f) or math.isinf(f) else f
    if obj is None or isinstance(obj, str):
        return obj
    return str(obj)


def _overall_counts(votes: VoteMatrix) -> tuple[np.ndarray, ...]:
    m = votes.n_statements
    act = votes.active
    cols, vals = votes.cols[act], votes.values[act]
    n_agree = np.bincount(cols[vals == 1], minlength=m)
    n_disagree = np.bincount(cols[vals == -1], minlength=m)
    n_pass = np.bincount(cols[vals == 0], minlength=m)
    return n_agree, n_disagree, n_pass, n_agree + n_disagree + n_pass


def _roles(votes: VoteMatrix, params: AnalysisParameters) -> RoleComparison | None:
    if votes.roles is None:
        return None
    roles = np.array([r if r is not None else "" for r in votes.roles], dtype=object)
    return compare_roles(
        votes,
        roles == params.staff_role,
        roles == params.citizen_role,
        alpha=params.alpha,
        top=params.max_role_statements,
    )


def analyse_votes(
    votes: VoteMatrix, params: AnalysisParameters | None = None, *, seed: int | None = None
) -> VoteAnalysis:
    """Run the whole vote analysis. Never raises for small inputs: returns "not_enough_data".

    ``seed`` (default: ``GroupParameters.seed``, fixed) overrides the seed of ``params``; the same
    votes, parameters and seed give the same result in any process. BLAS and OpenMP are limited to
    one thread for the duration: results then do not depend on the machine, and on a shared 2-core
    box one thread is faster for these sizes anyway.
    """
    params = params or AnalysisParameters()
    if seed is not None:
        params = dataclasses.replace(params, groups=dataclasses.replace(params.groups, seed=seed))
    with threadpool_limits(limits=1):
        return _analyse(votes, params)


def _analyse(votes: VoteMatrix, params: AnalysisParameters) -> VoteAnalysis:
    base: dict[str, Any] = {  # the fields every analysis has, groups or not
        "parameters": params,
        "method_version": METHOD_VERSION,
        "n_participants": votes.n_participants,
        "n_statements": votes.n_statements,
        "n_active_statements": int((~votes.moderated_out).sum()),
        "n_votes": votes.n_votes,
    }
    roles = _roles(votes, params)
    try:
        og = compute_opinion_groups(votes, params.groups)
    except NotEnoughData as exc:
        return VoteAnalysis(
            status=STATUS_NOT_ENOUGH_DATA,
            message=f"Not enough data for opinion groups: {exc}.",
            n_clustered=0,
            k=0,
            silhouettes={},
            rejected_k={},
            groups=(),
            consensus_agree=(),
            consensus_disagree=(),
            n_consensus={},
            divisive=(),
            roles=roles,
            opinion_map=None,
            statements=None,
            n_tests={},
            groups_test=None,
            claims_method=params.claims_method,
            claims_label_agreement=None,
            claims_untested_statements=0,
            n_too_few_votes=0,
            **base,
        )
    test = groups_beyond_chance(
        votes,
        og,
        params.groups,
        permutations=params.groups_test_permutations,
        alpha=params.groups_test_alpha,
    )
    og = _kept_groups(votes, og, test, params.groups)
    held: HeldOutCounts | None = None
    if params.claims_method == HELD_OUT_STATEMENTS and og.k > 1:
        held = held_out_counts(votes, og, params.groups, folds=params.claims_folds)
    tested = None if held is None else held.counts
    counts = GroupCounts.from_labels(votes, og.labels, og.k)
    mod = votes.moderated_out
    sids = votes.statement_ids
    alpha = params.alpha
    reps, n_rep = representative_statements(
        counts, mod, sids, alpha=alpha, top=params.max_representative, tested=tested
    )
    # Every statement that passed is counted (pages state the total); the best few are quoted.
    cons_a, cons_d, n_cons = consensus_statements(
        counts, mod, sids, alpha=alpha, top=None, tested=tested
    )
    n_consensus = {AGREE: len(cons_a), DISAGREE: len(cons_d)}
    cons_a, cons_d = cons_a[: params.max_consensus], cons_d[: params.max_consensus]
    div, n_div = divisive_statements(
        counts, mod, sids, alpha=alpha, top=params.max_divisive, tested=tested
    )
    groups = tuple(
        OpinionGroup(
            id=g,
            size=int(np.sum(og.labels == g)),
            n_assigned=int(np.sum((og.assigned_labels == g) & ~og.clustered)),
            center=(float(og.group_centers[g, 0]), float(og.group_centers[g, 1])),
            representative=reps[g],
        )
        for g in range(og.k)
    )
    n_agree, n_disagree, n_pass, n_seen = _overall_counts(votes)
    table = StatementTable(
        statement_ids=sids,
        moderated_out=mod,
        n_agree=n_agree,
        n_disagree=n_disagree,
        n_pass=n_pass,
        n_seen=n_seen,
        group_agree=counts.agree,
        group_disagree=counts.disagree,
        group_seen=counts.seen,
        group_informed_consensus_agree=group_informed_consensus(counts, AGREE),
        group_informed_consensus_disagree=group_informed_consensus(counts, DISAGREE),
        divisiveness=divisiveness(counts) if og.k > 1 else np.zeros(votes.n_statements),
    )
    omap = OpinionMap(
        participant_ids=votes.participant_ids,
        x=og.coordinates[:, 0],
        y=og.coordinates[:, 1],
        group=og.labels,
        assigned_group=og.assigned_labels,
        clustered=og.clustered,
        n_votes=votes.votes_per_participant,
        components=og.components,
        statement_means=og.center,
        explained_variance_ratio=og.explained_variance_ratio,
    )
    n_few = int(np.sum(~og.clustered & (votes.votes_per_participant > 0)))
    if og.k > 1:
        message = f"{og.k} opinion groups among {int(og.clustered.sum())} participants."
    elif test.k_found > 1:
        message = test.explanation()
    else:
        message = "No split into distinct opinion groups was found: one group."
    if n_few:
        threshold = min(params.groups.min_votes, votes.n_statements)
        message += (
            f" {n_few} {'person' if n_few == 1 else 'people'} with fewer than {threshold} answers "
            f"{'is' if n_few == 1 else 'are'} placed on the map provisionally and left out of the "
            "statistics."
        )
    n_tests = {"representative": n_rep, "consensus": n_cons, "divisive": n_div}
    if roles is not None:
        n_tests["roles"] = roles.n_tests
    return VoteAnalysis(
        status=STATUS_OK,
        message=message,
        n_clustered=int(og.clustered.sum()),
        k=og.k,
        silhouettes=og.silhouettes,
        rejected_k=og.rejected_k,
        groups=groups,
        consensus_agree=cons_a,
        consensus_disagree=cons_d,
        n_consensus=n_consensus,
        divisive=div,
        roles=roles,
        opinion_map=omap,
        statements=table,
        n_tests=n_tests,
        groups_test=test,
        claims_method=params.claims_method,
        claims_label_agreement=None if held is None else held.label_agreement,
        claims_untested_statements=0 if held is None else held.untested_statements,
        n_too_few_votes=n_few,
        **base,
    )


def _kept_groups(
    votes: VoteMatrix, found: OpinionGroups, test: GroupsTest, params: GroupParameters
) -> OpinionGroups:
    """The groups to publish: as found, with fewer groups, or one group when none is clear."""
    if test.k == found.k:
        return found
    if test.k == 1:
        return one_group(
            found, f"not better separated than on shuffled answers (p = {test.p_value:.3f})"
        )
    fewer = compute_opinion_groups(votes, params, k=test.k)
    p_k = test.per_k[found.k].p_value
    return dataclasses.replace(
        fewer,
        silhouettes={**found.silhouettes, **fewer.silhouettes},
        rejected_k={
            **found.rejected_k,
            found.k: f"not better separated than {found.k} groups of shuffled answers "
            f"(p = {p_k:.3f})",
        },
    )
