"""Bridging-based ranking: agreement across the divide ranks first, with honest intervals."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.stats import spearmanr

from deliberate.analysis import VoteMatrix
from deliberate.analysis.bridging import (
    BridgingParameters,
    bridging_ranking,
    polis_group_informed_consensus,
)
from deliberate.polis_format import read_export

POLIS_DATA = Path(__file__).resolve().parents[2] / "data" / "polis"
FAST = BridgingParameters(n_bootstrap=0)


def two_camps(
    seed: int = 0, n_people: int = 300, n_divisive: int = 30, seen: float = 0.8
) -> tuple[VoteMatrix, dict[str, list[int]]]:
    """Two camps (65% / 35%) that disagree on most statements, and three both agree with.

    One more statement is loved by the big camp only (98% agree, 20% in the small camp): the big
    camp carries it to the same expected agree rate as the shared statements, so popularity cannot
    tell it from common ground.
    """
    rng = np.random.default_rng(seed)
    in_big = rng.random(n_people) < 0.65
    loved_big, loved_small = 0.98, 0.2
    shared = 0.65 * loved_big + 0.35 * loved_small
    side = rng.choice([0.15, 0.85], size=n_divisive)  # the big camp's agree rate; the other: 1 - it
    agree_big = np.concatenate([side, [shared] * 3, [loved_big]])
    agree_small = np.concatenate([1 - side, [shared] * 3, [loved_small]])
    p = np.where(in_big[:, None], agree_big, agree_small)
    u = rng.random(p.shape)
    dense = np.where(u < p * 0.95, 1.0, np.where(u > 0.95, 0.0, -1.0))  # 5% pass
    dense[rng.random(p.shape) > seen] = np.nan
    planted = {"shared": [n_divisive, n_divisive + 1, n_divisive + 2], "loved": [n_divisive + 3]}
    return VoteMatrix.from_dense(dense), planted


def planted_model(seed: int) -> tuple[VoteMatrix, np.ndarray]:
    """Answers drawn from the model itself: E[answer] = c_statement + f_person * g_statement.

    Two equal camps at f = ±1 (the middle of the axis is the average person) and intercepts that
    average zero (so none of them belongs to μ): the planted c is what the fit estimates.
    """
    rng = np.random.default_rng(seed)
    n_people, n_statements = 400, 30
    f = np.where(np.arange(n_people) % 2 == 0, 1.0, -1.0)
    c = rng.uniform(-0.3, 0.3, n_statements)
    c -= c.mean()
    g = rng.choice([-0.5, 0.5], n_statements)
    mean = c[None, :] + f[:, None] * g[None, :]
    dense = np.where(rng.random(mean.shape) < (1 + mean) / 2, 1.0, -1.0)
    dense[rng.random(mean.shape) > 0.7] = np.nan
    return VoteMatrix.from_dense(dense), c


def test_statements_both_camps_agree_with_rank_top() -> None:
    votes, planted = two_camps()
    result = bridging_ranking(votes, FAST)
    top = [s.statement_index for s in result.ranking()[:3]]
    assert sorted(top) == planted["shared"]


def test_a_statement_loved_by_the_big_camp_only_is_not_common_ground() -> None:
    """Over ten seeds it ranks below every shared statement; by agree rate it mostly would not."""
    below_by_bridging = below_by_agree_rate = 0
    for seed in range(10):
        votes, planted = two_camps(seed)
        (loved,) = planted["loved"]
        result = bridging_ranking(votes, FAST)
        rank = result.statements[loved].rank
        assert rank is not None
        below_by_bridging += rank > 3
        agree_rate = np.asarray(votes.agree.sum(axis=0)).ravel() / np.bincount(votes.cols)
        below_by_agree_rate += agree_rate[loved] < agree_rate[planted["shared"]].min()
    assert below_by_bridging >= 9
    assert below_by_agree_rate <= 5


def test_same_seed_same_result_in_full() -> None:
    votes, _ = two_camps(seed=3)
    params = BridgingParameters(n_bootstrap=30, seed=11)
    assert bridging_ranking(votes, params).to_dict() == bridging_ranking(votes, params).to_dict()


def test_the_fit_converges_in_few_sweeps_to_the_minimum_of_the_objective() -> None:
    """Community Notes' objective, written out plainly, cannot be lowered from where we stop."""
    votes, _ = two_camps(seed=1, n_people=120, n_divisive=12)
    result = bridging_ranking(votes, BridgingParameters(n_bootstrap=0, tolerance=1e-7))
    assert result.converged and result.iterations < 100
    person, statement = votes.rows.astype(int), votes.cols.astype(int)
    y = votes.values.astype(float)
    n_p, n_s, n = votes.n_participants, votes.n_statements, len(y)

    def objective(x: np.ndarray) -> tuple[float, np.ndarray]:
        """Mean squared error + 0.15 x mean of squared intercepts + 0.03 x of factors; gradient."""
        mu, b, f = x[0], x[1 : 1 + n_p], x[1 + n_p : 1 + 2 * n_p]
        c, g = x[1 + 2 * n_p : 1 + 2 * n_p + n_s], x[1 + 2 * n_p + n_s :]
        r = y - mu - b[person] - c[statement] - f[person] * g[statement]
        value = r @ r / n + 0.15 * (b @ b / n_p + c @ c / n_s + mu**2)
        value += 0.03 * (f @ f / n_p + g @ g / n_s)
        gradient = np.concatenate(
            (
                [-2 * r.sum() / n + 0.3 * mu],
                -2 * np.bincount(person, r, n_p) / n + 0.3 * b / n_p,
                -2 * np.bincount(person, r * g[statement], n_p) / n + 0.06 * f / n_p,
                -2 * np.bincount(statement, r, n_s) / n + 0.3 * c / n_s,
                -2 * np.bincount(statement, r * f[person], n_s) / n + 0.06 * g / n_s,
            )
        )
        return float(value), gradient

    start = np.random.default_rng(0).normal(0, 0.1, 1 + 2 * (n_p + n_s))
    best = minimize(
        objective,
        start,
        jac=True,
        method="L-BFGS-B",
        options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 20_000},
    )
    np.testing.assert_allclose(result.scores(), best.x[1 + 2 * n_p : 1 + 2 * n_p + n_s], atol=1e-4)


def test_intervals_contain_the_planted_value_in_most_seeds() -> None:
    covered = []
    for seed in range(3):
        votes, planted = planted_model(seed)
        result = bridging_ranking(votes, BridgingParameters(n_bootstrap=100, seed=seed))
        low = np.array([s.interval_low for s in result.statements])
        high = np.array([s.interval_high for s in result.statements])
        assert np.all(low < result.scores()) and np.all(result.scores() < high)
        covered.append(np.mean((low <= planted) & (planted <= high)))
    assert np.mean(covered) >= 0.75
    assert min(covered) >= 0.6


def test_moderated_out_statements_are_not_ranked_nor_fitted() -> None:
    votes, planted = two_camps(seed=2)
    (shared, *_) = planted["shared"]
    moderated = np.zeros(votes.n_statements, dtype=bool)
    moderated[shared] = True
    result = bridging_ranking(
        VoteMatrix.from_triples(votes.rows, votes.cols, votes.values, moderated_out=moderated),
        FAST,
    )
    out = result.statements[shared]
    assert (out.ranked, out.rank, out.score, out.interval_low) == (False, None, None, None)
    assert out.n_answers == int(np.sum(votes.cols == shared))
    # Its answers play no part: the fit equals one on the votes without them.
    keep = votes.cols != shared
    without = bridging_ranking(
        VoteMatrix.from_triples(
            votes.rows[keep], votes.cols[keep], votes.values[keep], n_statements=votes.n_statements
        ),
        FAST,
    )
    np.testing.assert_allclose(result.scores(), without.scores(), equal_nan=True)


def test_a_statement_with_few_answers_gets_a_score_but_no_rank() -> None:
    votes, _ = two_camps(seed=4)
    few = votes.n_statements
    rows = np.concatenate([votes.rows, np.arange(5)])
    cols = np.concatenate([votes.cols, np.full(5, few)])
    values = np.concatenate([votes.values, np.ones(5, dtype=np.int8)])
    result = bridging_ranking(
        VoteMatrix.from_triples(rows, cols, values), BridgingParameters(n_bootstrap=0)
    )
    statement = result.statements[few]
    assert statement.n_answers == 5 and statement.score is not None
    assert not statement.ranked and statement.rank is None
    assert [s.rank for s in result.ranking()] == list(range(1, len(result.ranking()) + 1))


@pytest.mark.parametrize(
    "dense",
    [
        np.empty((0, 0)),
        np.full((3, 2), np.nan),
        np.array([[1.0]]),
        np.array([[1.0, -1.0], [1.0, np.nan]]),
        np.zeros((4, 3)),  # everyone passes on everything
        np.ones((5, 1)),
    ],
    ids=["nothing", "no answers", "one answer", "two people", "all passes", "one statement"],
)
def test_tiny_inputs_give_a_result_without_error(dense: np.ndarray) -> None:
    votes = VoteMatrix.from_dense(dense)
    result = bridging_ranking(votes, BridgingParameters(n_bootstrap=20, min_answers=1))
    assert len(result.statements) == votes.n_statements
    for s in result.statements:
        assert (s.score is None) == (s.n_answers == 0)
        assert s.score is None or np.isfinite(s.score)
    json.dumps(result.to_dict(), allow_nan=False)


def test_to_dict_is_plain_json_with_every_statement() -> None:
    votes, _ = two_camps(seed=5)
    result = bridging_ranking(votes, BridgingParameters(n_bootstrap=20))
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert len(data["statements"]) == votes.n_statements
    assert data["parameters"]["min_answers"] == 10
    first = data["statements"][0]
    assert set(first) >= {"score", "interval_low", "interval_high", "factor", "n_answers", "ranked"}


def test_group_informed_consensus_counts_passes_in_the_denominator() -> None:
    """Group 0: 2 agree, 1 pass; group 1: 1 agree, 1 disagree; the last person is in no group."""
    votes = VoteMatrix.from_dense([[1.0], [1.0], [0.0], [1.0], [-1.0], [-1.0]])
    gic = polis_group_informed_consensus(votes, [0, 0, 0, 1, 1, -1])
    assert gic[0] == pytest.approx((2 + 1) / (3 + 2) * (1 + 1) / (2 + 2))


def test_real_conversation_ranks_like_group_informed_consensus() -> None:
    """Brexit consensus, read with the Polis importer, against GIC from Polis' own groups."""
    export = read_export(POLIS_DATA / "brexit-consensus")
    people = [p.participant_id for p in export.participants]
    statements = sorted({v.comment_id for v in export.votes})
    rejected = {c.comment_id for c in export.comments if c.moderated == -1}
    votes = VoteMatrix.from_triples(
        [people.index(v.voter_id) for v in export.votes],
        [statements.index(v.comment_id) for v in export.votes],
        [v.vote for v in export.votes],
        moderated_out=[c in rejected for c in statements],
    )
    groups = [-1 if p.group_id is None else p.group_id for p in export.participants]
    result = bridging_ranking(votes, FAST)
    ranked = np.array([s.ranked for s in result.statements])
    gic = polis_group_informed_consensus(votes, groups)
    assert ranked.sum() >= 40
    assert spearmanr(result.scores()[ranked], gic[ranked])[0] >= 0.9
