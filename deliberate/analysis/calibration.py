"""Votes whose truth is known, and how many of a run's group claims are false: calibration.

A claim type with a stated error rate needs a measurement of its realised error (DESIGN.md,
"Honest statistics"). Every participant here votes with known probabilities: the same for everyone
on a null matrix, their planted group's on a planted one. A claim about a published group is true
when it holds for the probabilities of the group's members who saw the statement, so its truth is
judged for the groups as published, whatever they are:

- representative (g, s, agree): the members' mean agree probability is above 1/2 and above the
  rest's (both halves of the claim); the same for disagree;
- divisive s: the groups' mean agree or disagree probabilities differ;
- consensus (s, agree): every group's mean agree probability is above 1/2 (disagree likewise).

``bench/calibrate_claims.py`` runs many seeds; tests/analysis/test_calibration.py a few.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from deliberate.analysis.opinion_groups import VoteMatrix
from deliberate.analysis.statement_stats import AGREE
from deliberate.analysis.vote_analysis import VoteAnalysis

CLAIM_TYPES = ("representative", "divisive", "consensus")
_EPS = 1e-9  # rates closer than this are equal (they are exactly equal on null statements)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class KnownVotes:
    """A vote matrix with the probabilities behind it: per true group, per statement."""

    votes: VoteMatrix
    group: IntArray  # true group of each participant (0 on a null matrix)
    agree: FloatArray  # (true groups, statements) probability of agreeing
    disagree: FloatArray
    differs: npt.NDArray[np.bool_]  # per statement: do the true groups' probabilities differ?


def _draw(
    group: IntArray,
    agree: FloatArray,
    disagree: FloatArray,
    per_person: IntArray,
    rng: np.random.Generator,
) -> VoteMatrix:
    """Each person answers ``per_person[i]`` random statements with their group's probabilities."""
    n, m = len(group), agree.shape[1]
    keys = np.argsort(rng.random((n, m)), axis=1)
    take = np.arange(m)[None, :] < per_person[:, None]
    rows = np.repeat(np.arange(n), take.sum(1))
    cols = keys[take]
    u = rng.random(len(rows))
    pa, pd = agree[group[rows], cols], disagree[group[rows], cols]
    values = np.where(u < pa, 1.0, np.where(u < pa + pd, -1.0, 0.0))
    return VoteMatrix.from_triples(rows, cols, values, n_participants=n, n_statements=m)


def _answers_per_person(
    n: int, m: int, seen: float, rng: np.random.Generator, min_answers: int = 7
) -> IntArray:
    """Everyone sees everything when ``seen`` is 1; else uneven (heavy and light voters)."""
    if seen >= 1:
        return np.full(n, m, dtype=np.int64)
    per = rng.gamma(2.0, seen * m / 2.0, n)
    return np.clip(np.round(per), min(min_answers, m), m).astype(np.int64)


def null_votes(n: int, m: int, *, seen: float = 1.0, seed: int = 0) -> KnownVotes:
    """No opinion groups: everyone answers a statement with the same probabilities."""
    rng = np.random.default_rng(seed)
    agree = rng.uniform(0.1, 0.8, m)
    passes = rng.uniform(0.0, 0.2, m)
    disagree = np.clip(1 - agree - passes, 0.0, 1.0)
    group = np.zeros(n, dtype=np.int64)
    votes = _draw(group, agree[None], disagree[None], _answers_per_person(n, m, seen, rng), rng)
    return KnownVotes(votes, group, agree[None], disagree[None], np.zeros(m, dtype=bool))


def planted_votes(
    shares: tuple[float, ...],
    n: int,
    m: int,
    n_differ: int,
    *,
    shift: float = 0.25,
    seen: float = 1.0,
    seed: int = 0,
) -> KnownVotes:
    """Groups (``shares`` of n) that differ on ``n_differ`` random statements and on no other.

    On a differing statement each group's agree probability is the statement's own plus or minus
    ``shift`` (a random sign per group, at least one of each); disagree takes the rest but passes.
    """
    rng = np.random.default_rng(seed)
    t = len(shares)
    group = rng.choice(t, size=n, p=np.asarray(shares) / sum(shares)).astype(np.int64)
    base = rng.uniform(0.3, 0.6, m)
    passes = rng.uniform(0.0, 0.15, m)
    differs = np.zeros(m, dtype=bool)
    differs[rng.choice(m, n_differ, replace=False)] = True
    signs = rng.choice([-1.0, 1.0], size=(t, m))
    signs[0], signs[1] = 1.0, -1.0  # at least one group on each side
    signs = signs[rng.permutation(t)]
    agree = np.where(differs[None], base[None] + shift * signs, base[None])
    disagree = np.clip(1 - agree - passes[None], 0.0, 1.0)
    votes = _draw(group, agree, disagree, _answers_per_person(n, m, seen, rng), rng)
    return KnownVotes(votes, group, agree, disagree, differs)


def shuffled_real_votes(votes: VoteMatrix, seed: int) -> KnownVotes:
    """A real conversation with each statement's answers shuffled among its voters.

    The truth is then the statement's own answer rates, the same for every voter.
    """
    from deliberate.analysis.group_evidence import shuffle_answers

    shuffled = shuffle_answers(votes, np.random.default_rng(seed))
    seen = np.asarray(votes.seen.sum(0)).ravel()
    with np.errstate(invalid="ignore", divide="ignore"):
        agree = np.asarray(votes.agree.sum(0)).ravel() / seen
        disagree = np.asarray(votes.disagree.sum(0)).ravel() / seen
    group = np.zeros(votes.n_participants, dtype=np.int64)
    m = votes.n_statements
    return KnownVotes(
        shuffled,
        group,
        np.nan_to_num(agree)[None],
        np.nan_to_num(disagree)[None],
        np.zeros(m, dtype=bool),
    )


@dataclass(frozen=True)
class ClaimErrors:
    """One run's claims (all with q <= alpha, before any top-n cut) and how many are false."""

    groups_reported: bool
    claims: dict[str, int]
    false: dict[str, int]
    found_differing: dict[str, int]  # truly differing statements with a claim of that type
    n_differing: int

    def fdp(self, kind: str) -> float:
        """Realised false-discovery proportion (0 when nothing was claimed)."""
        return self.false[kind] / self.claims[kind] if self.claims[kind] else 0.0


@dataclass(frozen=True)
class _Rates:
    """Mean probabilities of each published group's voters, and of everyone else's, (k, m)."""

    agree: FloatArray
    disagree: FloatArray
    rest_agree: FloatArray
    rest_disagree: FloatArray


def _group_rates(known: KnownVotes, labels: IntArray, k: int) -> _Rates:
    seen = known.votes.seen
    n = known.votes.n_participants
    members = np.flatnonzero(labels >= 0)
    t = known.agree.shape[0]
    weight = np.zeros((k, t, known.votes.n_statements))
    for true_group in range(t):
        sel = members[known.group[members] == true_group]
        onehot = sp.csr_matrix((np.ones(len(sel)), (labels[sel], sel)), shape=(k, n))
        weight[:, true_group] = np.asarray((onehot @ seen).todense())
    total = weight.sum(1)
    sums_a = (weight * known.agree[None]).sum(1)
    sums_d = (weight * known.disagree[None]).sum(1)
    rest = total.sum(0) - total
    with np.errstate(invalid="ignore", divide="ignore"):
        return _Rates(
            sums_a / total,
            sums_d / total,
            (sums_a.sum(0) - sums_a) / rest,
            (sums_d.sum(0) - sums_d) / rest,
        )


def claim_errors(known: KnownVotes, result: VoteAnalysis) -> ClaimErrors:
    """Count the run's claims of each type and those that are false for the published groups."""
    assert result.opinion_map is not None
    labels = np.asarray(result.opinion_map.group, dtype=np.int64)
    rates = _group_rates(known, labels, max(result.k, 1))
    claims = dict.fromkeys(CLAIM_TYPES, 0)
    false = dict.fromkeys(CLAIM_TYPES, 0)
    found: dict[str, set[int]] = {kind: set() for kind in CLAIM_TYPES}
    for g in result.groups:
        for r in g.representative:
            j = r.statement_index
            own, rest = (
                (rates.agree, rates.rest_agree)
                if r.direction == AGREE
                else (rates.disagree, rates.rest_disagree)
            )
            holds = bool(own[g.id, j] > 0.5 and own[g.id, j] > rest[g.id, j] + _EPS)
            claims["representative"] += 1
            false["representative"] += not holds
            found["representative"].add(j)
    for d in result.divisive:
        j = d.statement_index
        spread = max(np.ptp(rates.agree[:, j]), np.ptp(rates.disagree[:, j]))
        claims["divisive"] += 1
        false["divisive"] += not spread > _EPS
        found["divisive"].add(j)
    for c in result.consensus_agree + result.consensus_disagree:
        rate = rates.agree if c.direction == AGREE else rates.disagree
        claims["consensus"] += 1
        false["consensus"] += not bool(np.all(rate[:, c.statement_index] > 0.5))
        found["consensus"].add(c.statement_index)
    differing = set(np.flatnonzero(known.differs).tolist())
    return ClaimErrors(
        groups_reported=result.k > 1,
        claims=claims,
        false=false,
        found_differing={kind: len(found[kind] & differing) for kind in CLAIM_TYPES},
        n_differing=len(differing),
    )
