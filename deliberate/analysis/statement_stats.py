"""What each statement tells us: representative, consensus, divisive; staff vs citizens.

Every published claim ("group A agrees with this more than the rest", "everyone agrees with this",
"staff and citizens differ on this") comes from a family of tests, and each family is controlled
with Benjamini-Hochberg at false-discovery rate ``alpha``: among the claims we publish, at most a
share alpha are expected to be flukes. Polis tests each statement at 90% on its own, so with 300
statements and 3 groups it publishes dozens of chance findings; the q-value of each claim is
reported so a reader can apply a stricter level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy import special

from deliberate.analysis.opinion_groups import VoteMatrix

AGREE = "agree"
DISAGREE = "disagree"


def normal_sf(z: np.ndarray) -> np.ndarray:
    """Upper tail of the standard normal, P(Z > z)."""
    return special.ndtr(-np.asarray(z, dtype=np.float64))


def _log_choose(n: npt.NDArray[np.int64], k: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    return special.gammaln(n + 1) - special.gammaln(k + 1) - special.gammaln(n - k + 1)


def benjamini_hochberg(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values); NaN means "not tested" and stays NaN.

    q_(i) = min_{j >= i} p_(j) * m / j over the m tested hypotheses sorted by p, capped at 1.
    A claim is kept at FDR level alpha when its q-value is <= alpha.
    """
    p = np.asarray(p_values, dtype=np.float64)
    q = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return q
    pv = p[ok]
    order = np.argsort(pv, kind="stable")
    ranked = pv[order] * m / np.arange(1, m + 1)
    adjusted = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    out = np.empty(m)
    out[order] = adjusted
    q[ok] = out
    return q


def polis_prop_z(successes: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Polis' one-proportion z (pat): 2*sqrt(n+1) * ((s+1)/(n+1) - 1/2), +1 pseudo-counts."""
    s = np.asarray(successes, dtype=np.float64) + 1
    nn = np.asarray(n, dtype=np.float64) + 1
    return 2 * np.sqrt(nn) * (s / nn - 0.5)


def polis_two_prop_z(
    s_in: np.ndarray, s_out: np.ndarray, n_in: np.ndarray, n_out: np.ndarray
) -> np.ndarray:
    """Polis' two-proportion z (rat) of a group against the rest, +1 pseudo-counts on all four."""
    s1, s2 = np.asarray(s_in, float) + 1, np.asarray(s_out, float) + 1
    n1, n2 = np.asarray(n_in, float) + 1, np.asarray(n_out, float) + 1
    pooled = (s1 + s2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (s1 / n1 - s2 / n2) / np.sqrt(var)
    return np.where(var > 0, z, 0.0)


def binomial_majority_p(successes: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Exact one-sided p-value that the true rate exceeds 1/2: P(X >= s | n, 1/2); 1 if n = 0."""
    s = np.rint(np.asarray(successes, dtype=np.float64)).astype(np.int64)
    nn = np.rint(np.asarray(n, dtype=np.float64)).astype(np.int64)
    with np.errstate(invalid="ignore"):
        tail = special.bdtrc(np.maximum(s - 1, 0), nn, 0.5)  # P(X > s - 1) = P(X >= s)
    return np.where((nn > 0) & (s > 0), tail, 1.0)


@dataclass(frozen=True)
class GroupCounts:
    """Votes per group (rows) and statement (columns), active statements only."""

    agree: np.ndarray  # (k, m) int
    disagree: np.ndarray
    seen: np.ndarray

    @classmethod
    def from_labels(cls, votes: VoteMatrix, labels: np.ndarray, k: int) -> GroupCounts:
        """Counts among participants with labels 0..k-1 (-1 = not in any group)."""
        members = np.flatnonzero(labels >= 0)
        g = sp.csr_matrix(
            (np.ones(len(members)), (labels[members], members)), shape=(k, votes.n_participants)
        )

        def count(mat: sp.csr_matrix) -> npt.NDArray[np.int64]:
            counted: npt.NDArray[np.float64] = np.asarray((g @ mat).todense())
            return np.rint(counted).astype(np.int64)

        return cls(count(votes.agree), count(votes.disagree), count(votes.seen))

    @property
    def k(self) -> int:
        return int(self.agree.shape[0])

    def successes(self, direction: str) -> np.ndarray:
        return self.agree if direction == AGREE else self.disagree


@dataclass(frozen=True)
class RepresentativeStatement:
    """A statement on which a group differs from everyone else (Polis' repness), with its test."""

    statement_id: Any
    statement_index: int
    group: int
    direction: str  # "agree" or "disagree"
    n_success: int  # members of the group who agreed (or disagreed)
    n_seen: int  # members of the group who voted on it
    probability: float  # pa = (na+1)/(ns+2)
    rest_probability: float  # the same among the other groups
    representativeness: float  # ra = pa / rest_probability
    probability_z: float  # pat
    representativeness_z: float  # rat
    metric: float  # ra * rat * pa * pat, Polis' ranking
    p_value: float  # max of the two one-sided p-values (both must hold)
    q_value: float  # BH over every (group, statement, direction) tested


def representative_statements(
    counts: GroupCounts,
    moderated_out: np.ndarray,
    statement_ids: Sequence[Any],
    *,
    alpha: float = 0.1,
    top: int = 5,
    tested: GroupCounts | None = None,
) -> tuple[tuple[tuple[RepresentativeStatement, ...], ...], int]:
    """Representative statements per group with Benjamini-Hochberg control over all claims.

    For group g and statement s, Polis' claim "g agrees (disagrees) more than the rest" needs both
    pat and rat above 1.2816. We turn both z-scores into one-sided normal p-values and take their
    maximum (an intersection-union test: the claim holds only if both do), then adjust with BH over
    every group x active statement x direction that the group saw. Kept: q <= alpha, ranked by
    Polis' ra*rat*pa*pat, at most ``top`` per group. Returns (per-group tuples, family size).
    Moderated-out statements are never tested, so never representative. ``tested``: the counts
    the p-values come from (e.g. held-out groups, held_out_groups.py), if not ``counts``.
    """
    k = counts.k
    active = ~np.asarray(moderated_out, dtype=bool)
    ns = counts.seen
    ns_rest = ns.sum(0, keepdims=True) - ns
    candidates: list[tuple[int, str, np.ndarray, dict[str, np.ndarray]]] = []
    p_all: list[np.ndarray] = []
    for direction in (AGREE, DISAGREE):
        s = counts.successes(direction)
        s_rest = s.sum(0, keepdims=True) - s
        p = (s + 1) / (ns + 2)
        p_rest = (s_rest + 1) / (ns_rest + 2)
        pz = polis_prop_z(s, ns)
        rz = polis_two_prop_z(s, s_rest, ns, ns_rest) if k > 1 else np.zeros_like(pz)
        pval = _representative_p(counts if tested is None else tested, direction, active)
        fields_ = {"p": p, "p_rest": p_rest, "pz": pz, "rz": rz, "s": s}
        for g in range(k):
            candidates.append((g, direction, pval[g], fields_))
            p_all.append(pval[g])
    if not p_all:
        return tuple(() for _ in range(k)), 0
    flat = np.concatenate(p_all)
    q_flat = benjamini_hochberg(flat)
    n_tests = int((~np.isnan(flat)).sum())
    m = counts.seen.shape[1]
    per_group: list[list[RepresentativeStatement]] = [[] for _ in range(k)]
    for block, (g, direction, pval, f) in enumerate(candidates):
        q = q_flat[block * m : (block + 1) * m]
        for j in np.flatnonzero(q <= alpha):
            ra = f["p"][g, j] / f["p_rest"][g, j]
            per_group[g].append(
                RepresentativeStatement(
                    statement_id=statement_ids[int(j)],
                    statement_index=int(j),
                    group=g,
                    direction=direction,
                    n_success=int(f["s"][g, j]),
                    n_seen=int(ns[g, j]),
                    probability=float(f["p"][g, j]),
                    rest_probability=float(f["p_rest"][g, j]),
                    representativeness=float(ra),
                    probability_z=float(f["pz"][g, j]),
                    representativeness_z=float(f["rz"][g, j]),
                    metric=float(ra * f["rz"][g, j] * f["p"][g, j] * f["pz"][g, j]),
                    p_value=float(pval[j]),
                    q_value=float(q[j]),
                )
            )
    out = tuple(
        tuple(sorted(reps, key=lambda r: (-r.metric, r.statement_index, r.direction))[:top])
        for reps in per_group
    )
    return out, n_tests


def _representative_p(counts: GroupCounts, direction: str, active: np.ndarray) -> np.ndarray:
    """(k, m) p-values of "the group agrees (disagrees) more than the rest, and mostly does"."""
    ns = counts.seen
    ns_rest = ns.sum(0, keepdims=True) - ns
    s = counts.successes(direction)
    pz = polis_prop_z(s, ns)
    rz = polis_two_prop_z(s, s.sum(0, keepdims=True) - s, ns, ns_rest)
    tested = (ns > 0) & active[None, :] & (counts.k > 1)  # one group has no "rest"
    return np.where(tested, np.maximum(normal_sf(pz), normal_sf(rz)), np.nan)


def group_informed_consensus(counts: GroupCounts, direction: str = AGREE) -> np.ndarray:
    """Polis' group-informed consensus: the product over groups of (n_g + 1) / (ns_g + 2).

    High only if every group, large or small, agrees (disagrees): a majority group cannot carry it.
    """
    s = counts.successes(direction)
    consensus: npt.NDArray[np.float64] = np.prod((s + 1) / (counts.seen + 2), axis=0)
    return consensus


@dataclass(frozen=True)
class ConsensusStatement:
    """A statement agreed (or rejected) by a majority within every group."""

    statement_id: Any
    statement_index: int
    direction: str
    group_informed_consensus: float
    group_rates: tuple[float, ...]  # share of each group who agreed (disagreed), among who saw it
    group_counts: tuple[tuple[int, int], ...]  # (n_success, n_seen) per group
    p_value: float  # max over groups of the exact one-sided binomial p (rate > 1/2)
    q_value: float


def consensus_statements(
    counts: GroupCounts,
    moderated_out: np.ndarray,
    statement_ids: Sequence[Any],
    *,
    alpha: float = 0.1,
    top: int | None = 5,
    tested: GroupCounts | None = None,
) -> tuple[tuple[ConsensusStatement, ...], tuple[ConsensusStatement, ...], int]:
    """Statements a majority of *every* group agrees with (and, separately, rejects).

    Polis' consensus uses all participants pooled, so a large group can make a statement look
    consensual on its own. Here each group must have a majority, tested exactly (binomial, rate >
    1/2); the claim's p-value is the largest over groups (intersection-union) and BH runs over all
    active statements x both directions. Ranked by group-informed consensus.
    ``tested``: the counts the p-values come from, if not ``counts``.
    Returns (agreed, rejected, family size); ``top`` None keeps every statement that passed.
    """
    active = ~np.asarray(moderated_out, dtype=bool)
    results: list[tuple[ConsensusStatement, ...]] = []
    p_blocks = []
    t = counts if tested is None else tested
    for direction in (AGREE, DISAGREE):
        p = binomial_majority_p(t.successes(direction), t.seen).max(axis=0)
        p_blocks.append(np.where(active & (t.seen.min(axis=0) > 0), p, np.nan))
    q_all = benjamini_hochberg(np.concatenate(p_blocks))
    n_tests = int((~np.isnan(np.concatenate(p_blocks))).sum())
    m = counts.seen.shape[1]
    for b, direction in enumerate((AGREE, DISAGREE)):
        s = counts.successes(direction)
        gic = group_informed_consensus(counts, direction)
        q = q_all[b * m : (b + 1) * m]
        keep = np.flatnonzero(q <= alpha)
        keep = keep[np.lexsort((keep, -gic[keep]))][:top]
        results.append(
            tuple(
                ConsensusStatement(
                    statement_id=statement_ids[int(j)],
                    statement_index=int(j),
                    direction=direction,
                    group_informed_consensus=float(gic[j]),
                    group_rates=tuple(float(x) for x in s[:, j] / counts.seen[:, j]),
                    group_counts=tuple(
                        (int(a), int(n)) for a, n in zip(s[:, j], counts.seen[:, j], strict=True)
                    ),
                    p_value=float(p_blocks[b][j]),
                    q_value=float(q[j]),
                )
                for j in keep
            )
        )
    return results[0], results[1], n_tests


def divisiveness(counts: GroupCounts) -> np.ndarray:
    """Half the range of the groups' net agreement, in [0, 1).

    Net agreement of group g = (na+1)/(ns+2) - (nd+1)/(ns+2). 1 would be one group unanimous for
    and another unanimous against; 0.5 one group all for and another all passing. The +1 counts
    keep a group that barely saw the statement from looking extreme.
    """
    net = (counts.agree - counts.disagree) / (counts.seen + 2)
    spread: npt.NDArray[np.float64] = (net.max(axis=0) - net.min(axis=0)) / 2
    return spread


def homogeneity_p(counts: GroupCounts) -> np.ndarray:
    """Chi-square test of homogeneity of (agree, disagree, pass) across groups, per statement.

    Groups that did not see the statement and empty vote kinds are left out of the table; NaN when
    fewer than two groups or vote kinds remain (not testable).
    """
    obs = np.stack(
        [counts.agree, counts.disagree, counts.seen - counts.agree - counts.disagree], axis=-1
    ).astype(np.float64)  # (k, m, 3)
    row = obs.sum(-1, keepdims=True)
    col = obs.sum(0, keepdims=True)
    total = obs.sum((0, 2), keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        exp = row * col / total
        cells = np.where(exp > 0, (obs - exp) ** 2 / exp, 0.0)
    chi2 = cells.sum((0, 2))
    df = ((row[..., 0] > 0).sum(0) - 1) * ((col[0] > 0).sum(-1) - 1)
    return np.where(df > 0, special.chdtrc(np.maximum(df, 1), chi2), np.nan)


@dataclass(frozen=True)
class DivisiveStatement:
    """A statement on which the groups split: some mostly agree, others mostly disagree."""

    statement_id: Any
    statement_index: int
    divisiveness: float
    group_net_agreement: tuple[float, ...]
    group_agree_rates: tuple[float, ...]
    group_disagree_rates: tuple[float, ...]
    most_agreeing_group: int
    most_disagreeing_group: int
    p_value: float  # chi-square homogeneity across groups
    q_value: float


def divisive_statements(
    counts: GroupCounts,
    moderated_out: np.ndarray,
    statement_ids: Sequence[Any],
    *,
    alpha: float = 0.1,
    top: int = 5,
    tested: GroupCounts | None = None,
) -> tuple[tuple[DivisiveStatement, ...], int]:
    """Statements where groups differ significantly (BH), ranked by divisiveness.

    ``tested``: the counts the p-values come from, if not ``counts``.
    """
    active = ~np.asarray(moderated_out, dtype=bool)
    if counts.k < 2:
        return (), 0
    p = np.where(active, homogeneity_p(counts if tested is None else tested), np.nan)
    q = benjamini_hochberg(p)
    div = divisiveness(counts)
    net = (counts.agree - counts.disagree) / (counts.seen + 2)
    keep = np.flatnonzero(q <= alpha)
    keep = keep[np.lexsort((keep, -div[keep]))][:top]
    with np.errstate(invalid="ignore", divide="ignore"):
        ar = counts.agree / counts.seen
        dr = counts.disagree / counts.seen
    out = tuple(
        DivisiveStatement(
            statement_id=statement_ids[int(j)],
            statement_index=int(j),
            divisiveness=float(div[j]),
            group_net_agreement=tuple(float(x) for x in net[:, j]),
            group_agree_rates=tuple(float(x) for x in ar[:, j]),
            group_disagree_rates=tuple(float(x) for x in dr[:, j]),
            most_agreeing_group=int(np.argmax(net[:, j])),
            most_disagreeing_group=int(np.argmin(net[:, j])),
            p_value=float(p[j]),
            q_value=float(q[j]),
        )
        for j in keep
    )
    return out, int((~np.isnan(p)).sum())


@dataclass(frozen=True)
class RoleStatementStats:
    """One statement seen by staff and by citizens: counts, rates, the test and its effect size."""

    statement_id: Any
    statement_index: int
    staff_agree: int
    staff_disagree: int
    staff_seen: int
    citizen_agree: int
    citizen_disagree: int
    citizen_seen: int
    staff_agree_rate: float
    citizen_agree_rate: float
    staff_disagree_rate: float
    citizen_disagree_rate: float
    difference: float  # staff agree rate - citizen agree rate
    cohens_h: float  # 2 asin sqrt(p1) - 2 asin sqrt(p2), an effect size that is fair near 0 and 1
    test: str  # "z" (two-proportion) or "fisher" (exact, for small counts)
    p_value: float
    q_value: float
    both_agree_p: float  # both sides' agree rate > 1/2: max of two exact binomial p-values
    both_agree_q: float


@dataclass(frozen=True)
class RoleComparison:
    """Staff vs citizens, statement by statement, with FDR-controlled lists for a report."""

    n_staff: int
    n_citizens: int
    statements: tuple[RoleStatementStats, ...]  # every active statement both sides voted on
    differ_most: tuple[RoleStatementStats, ...]  # significant differences, largest first
    both_agree: tuple[RoleStatementStats, ...]  # both sides agree, significantly
    n_tests: int
    message: str = ""


def fisher_exact_p(a: np.ndarray, b: np.ndarray, c: np.ndarray, d: np.ndarray) -> np.ndarray:
    """Two-sided Fisher exact p-values of 2x2 tables [[a, b], [c, d]], vectorised.

    Sums the hypergeometric probabilities of every table with the same margins that is no more
    likely than the observed one (scipy's rule, with its 1e-7 relative tolerance); scipy's
    fisher_exact costs ~1 ms a table, too slow for thousands of statements.
    """
    a, b, c, d = (np.asarray(x, dtype=np.int64) for x in (a, b, c, d))
    r1, c1, n = a + b, a + c, a + b + c + d
    lo = np.maximum(0, r1 + c1 - n)
    hi = np.minimum(r1, c1)
    out = np.ones(len(a))
    if len(a) == 0:
        return out
    width = int((hi - lo).max()) + 1
    x = lo[:, None] + np.arange(width)[None, :]
    valid = x <= hi[:, None]
    xs = np.where(valid, x, lo[:, None])

    def logpmf(x: np.ndarray, n: np.ndarray, r1: np.ndarray, c1: np.ndarray) -> np.ndarray:
        return _log_choose(r1, x) + _log_choose(n - r1, c1 - x) - _log_choose(n, c1)

    logp = logpmf(xs, n[:, None], r1[:, None], c1[:, None])
    obs = logpmf(a, n, r1, c1)
    with np.errstate(under="ignore"):
        pm = np.where(valid & (logp <= obs[:, None] + np.log1p(1e-7)), np.exp(logp), 0.0)
    p_values: npt.NDArray[np.float64] = np.minimum(pm.sum(1), 1.0)
    return p_values


def _two_proportion_p(a1: np.ndarray, n1: np.ndarray, a2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    pooled = (a1 + a2) / (n1 + n2)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (a1 / n1 - a2 / n2) / np.sqrt(var)
    return np.where(var > 0, 2 * normal_sf(np.abs(z)), 1.0)


def compare_roles(
    votes: VoteMatrix,
    is_staff: np.ndarray,
    is_citizen: np.ndarray,
    *,
    alpha: float = 0.1,
    top: int = 10,
    min_expected: float = 5.0,
) -> RoleComparison:
    """Compare the agree rates of staff and citizens on every active statement.

    The test is the two-proportion z-test when every expected cell of the 2x2 table (agree / not
    agree x staff / citizen) is at least ``min_expected``, Fisher's exact test otherwise; BH over
    the statements both sides saw. "Both agree" needs each side's agree rate above 1/2 (exact
    binomial, the larger p-value of the two) under its own BH family.
    """
    n_staff = int(np.sum(is_staff & (votes.votes_per_participant > 0)))
    n_cit = int(np.sum(is_citizen & (votes.votes_per_participant > 0)))
    labels = np.full(votes.n_participants, -1)
    labels[is_staff] = 0
    labels[is_citizen & ~is_staff] = 1
    c = GroupCounts.from_labels(votes, labels, 2)
    active = ~votes.moderated_out
    cols = np.flatnonzero(active & (c.seen[0] > 0) & (c.seen[1] > 0))
    if n_staff == 0 or n_cit == 0 or len(cols) == 0:
        msg = (
            "no staff votes"
            if n_staff == 0
            else "no citizen votes"
            if n_cit == 0
            else ("no statement was voted on by both staff and citizens")
        )
        return RoleComparison(n_staff, n_cit, (), (), (), 0, msg)
    a1, d1, n1 = (x[0, cols].astype(float) for x in (c.agree, c.disagree, c.seen))
    a2, d2, n2 = (x[1, cols].astype(float) for x in (c.agree, c.disagree, c.seen))
    p = _two_proportion_p(a1, n1, a2, n2)
    total = n1 + n2
    agree_tot = a1 + a2
    exp_min = np.minimum.reduce(
        [
            n1 * agree_tot / total,
            n1 * (total - agree_tot) / total,
            n2 * agree_tot / total,
            n2 * (total - agree_tot) / total,
        ]
    )
    small = exp_min < min_expected
    if small.any():
        p[small] = fisher_exact_p(a1[small], (n1 - a1)[small], a2[small], (n2 - a2)[small])
    q = benjamini_hochberg(p)
    pb = np.maximum(binomial_majority_p(a1, n1), binomial_majority_p(a2, n2))
    qb = benjamini_hochberg(pb)
    r1, r2 = a1 / n1, a2 / n2
    h = 2 * np.arcsin(np.sqrt(r1)) - 2 * np.arcsin(np.sqrt(r2))
    rows = tuple(
        RoleStatementStats(
            statement_id=votes.statement_ids[j],
            statement_index=int(j),
            staff_agree=int(a1[i]),
            staff_disagree=int(d1[i]),
            staff_seen=int(n1[i]),
            citizen_agree=int(a2[i]),
            citizen_disagree=int(d2[i]),
            citizen_seen=int(n2[i]),
            staff_agree_rate=float(r1[i]),
            citizen_agree_rate=float(r2[i]),
            staff_disagree_rate=float(d1[i] / n1[i]),
            citizen_disagree_rate=float(d2[i] / n2[i]),
            difference=float(r1[i] - r2[i]),
            cohens_h=float(h[i]),
            test="fisher" if small[i] else "z",
            p_value=float(p[i]),
            q_value=float(q[i]),
            both_agree_p=float(pb[i]),
            both_agree_q=float(qb[i]),
        )
        for i, j in enumerate(cols)
    )
    differ = sorted(
        (r for r in rows if r.q_value <= alpha), key=lambda r: (-abs(r.cohens_h), r.statement_index)
    )[:top]
    both = sorted(
        (r for r in rows if r.both_agree_q <= alpha),
        key=lambda r: (-min(r.staff_agree_rate, r.citizen_agree_rate), r.statement_index),
    )[:top]
    return RoleComparison(n_staff, n_cit, rows, tuple(differ), tuple(both), len(cols))
