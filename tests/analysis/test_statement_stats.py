"""Representative, consensus and divisive statements; Benjamini-Hochberg; exact tests."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from deliberate.analysis import VoteAnalysis, VoteMatrix, analyse_votes, benjamini_hochberg
from deliberate.analysis.statement_stats import (
    GroupCounts,
    binomial_majority_p,
    fisher_exact_p,
    homogeneity_p,
    polis_prop_z,
    polis_two_prop_z,
)
from tests.analysis.helpers import PolisConversation


def test_benjamini_hochberg_on_the_1995_paper_example() -> None:
    # Benjamini & Hochberg (1995), section 4: 15 p-values, FDR 0.05 rejects the four smallest.
    p = [
        0.0201,
        0.0001,
        0.0004,
        0.0019,
        0.0095,
        0.0278,
        0.0298,
        0.0344,
        0.0459,
        0.3240,
        0.4262,
        0.5719,
        0.6528,
        0.7590,
        1.0,
    ]
    q = benjamini_hochberg(p)
    assert sorted(np.flatnonzero(q <= 0.05).tolist()) == [1, 2, 3, 4]
    assert q[1] == pytest.approx(0.0001 * 15)
    assert q[4] == pytest.approx(0.0095 * 15 / 4)


def test_benjamini_hochberg_is_monotone_and_ignores_untested() -> None:
    q = benjamini_hochberg([0.01, 0.04, np.nan, 0.03, 0.005])
    assert np.isnan(q[2])
    np.testing.assert_allclose(q[[0, 1, 3, 4]], [0.02, 0.04, 0.04, 0.02])
    assert benjamini_hochberg([]).shape == (0,)


def test_polis_statistics_follow_the_design_formulas() -> None:
    expected = 2 * np.sqrt(11) * (10 / 11 - 0.5)
    assert polis_prop_z(np.array(9), np.array(10)) == pytest.approx(expected)
    s1, s2, n1, n2 = 11, 5, 21, 41  # +1 pseudo-counts included
    pooled = (s1 + s2) / (n1 + n2)
    z = (s1 / n1 - s2 / n2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    ours = polis_two_prop_z(np.array(10), np.array(4), np.array(20), np.array(40))
    assert ours == pytest.approx(z)


def test_fisher_exact_matches_scipy() -> None:
    tables = np.random.default_rng(1).integers(0, 12, size=(300, 4))
    ours = fisher_exact_p(*tables.T)
    ref = [stats.fisher_exact(t.reshape(2, 2)).pvalue for t in tables]
    np.testing.assert_allclose(ours, ref, rtol=1e-9, atol=1e-12)


def test_exact_and_chi_square_tests_match_scipy() -> None:
    rng = np.random.default_rng(2)
    agree = rng.integers(0, 20, size=(3, 50))
    disagree = rng.integers(0, 20, size=(3, 50))
    seen = agree + disagree + rng.integers(1, 10, size=(3, 50))
    ours = homogeneity_p(GroupCounts(agree, disagree, seen))
    for j in range(50):
        table = np.stack([agree[:, j], disagree[:, j], seen[:, j] - agree[:, j] - disagree[:, j]])
        ref = stats.chi2_contingency(table.T, correction=False).pvalue
        assert ours[j] == pytest.approx(ref, rel=1e-9)
    s, n = agree[0], seen[0]
    np.testing.assert_allclose(binomial_majority_p(s, n), stats.binom.sf(s - 1, n, 0.5))


def _hand_built() -> VoteMatrix:
    """Two groups of 12; each statement's answer is known by construction."""
    a, b = np.arange(12), np.arange(12, 24)
    m = np.full((24, 10), np.nan)
    m[:, 0] = 1  # everyone agrees: consensus
    m[:, 1] = -1  # everyone disagrees: rejected by consensus
    for s in (2, 3, 4, 5):  # the split that defines the groups: divisive
        m[a, s], m[b, s] = 1, -1
    m[0, 3], m[12, 4], m[5, 5] = 0, 0, -1  # a little noise
    m[a, 6], m[b, 6] = np.tile([1, -1], 6), np.tile([1, -1], 6)  # split inside both: neither
    m[a, 7], m[b, 7] = 1, 0  # one side agrees, the other passes: divisive, less so
    m[:, 8] = 1  # everyone agrees but moderated out: never reported
    m[a, 9], m[b, 9] = 1, [1] * 7 + [-1] * 5  # group B only 7/12: not a consensus
    moderated = np.zeros(10, dtype=bool)
    moderated[8] = True
    return VoteMatrix.from_dense(m, moderated_out=moderated)


def test_consensus_and_divisive_on_a_hand_built_matrix() -> None:
    result = analyse_votes(_hand_built())
    assert result.ok and result.k == 2
    assert [g.size for g in result.groups] == [12, 12]
    assert [c.statement_id for c in result.consensus_agree] == [0]
    assert [c.statement_id for c in result.consensus_disagree] == [1]
    # Ranked by divisiveness: the clean split first, "agree vs pass" (statement 7) last.
    assert [d.statement_id for d in result.divisive] == [2, 3, 4, 5, 7]
    top = result.divisive[0]
    assert top.divisiveness == pytest.approx(12 / 14)
    assert {top.most_agreeing_group, top.most_disagreeing_group} == {0, 1}
    gic = result.statements.group_informed_consensus_agree  # type: ignore[union-attr]
    assert gic[0] == pytest.approx((13 / 14) ** 2)
    assert gic[0] > gic[9] > gic[2]


def test_moderated_out_statements_are_never_reported() -> None:
    result = analyse_votes(_hand_built())
    reported = [r.statement_id for g in result.groups for r in g.representative]
    reported += [c.statement_id for c in result.consensus_agree + result.consensus_disagree]
    reported += [d.statement_id for d in result.divisive]
    assert 8 not in reported
    assert result.statements is not None and result.statements.n_seen[8] == 0


def test_representative_statements_of_a_real_conversation(
    brexit: PolisConversation, brexit_result: VoteAnalysis
) -> None:
    result = brexit_result
    article_50 = next(i for i, t in brexit.texts.items() if "right to support the article 50" in t)
    stances = {
        r.direction: g.id
        for g in result.groups
        for r in g.representative
        if r.statement_id == article_50
    }
    # Against groups found without it, the smaller group agrees 61% (45 of 74): not enough for
    # "this group agrees" among 200 claims; the larger group's rejection (71 of 93) stands.
    assert stances == {"disagree": 0}
    assert article_50 in {d.statement_id for d in result.divisive}
    for g in result.groups:
        assert 1 <= len(g.representative) <= 5
        for r in g.representative:
            assert r.q_value <= 0.1 and r.q_value >= r.p_value
            assert r.probability > 0.5 and r.representativeness > 1
            assert r.probability_z > 1.2816 and r.representativeness_z > 1.2816
    # Moderating out every representative statement removes them from every list.
    reps = {r.statement_id for g in result.groups for r in g.representative}
    mask = np.array([sid in reps for sid in brexit.votes.statement_ids])
    v = brexit.votes
    moderated = VoteMatrix(v.rows, v.cols, v.values, v.participant_ids, v.statement_ids, mask)
    again = analyse_votes(moderated)
    reported = {r.statement_id for g in again.groups for r in g.representative}
    reported |= {c.statement_id for c in again.consensus_agree + again.consensus_disagree}
    reported |= {d.statement_id for d in again.divisive}
    assert again.ok and not reported & reps


def test_the_result_is_plain_json_with_its_parameters(
    brexit: PolisConversation, brexit_result: VoteAnalysis
) -> None:
    d = brexit_result.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text)["parameters"]["alpha"] == 0.1
    assert d["method_version"] and d["n_votes"] == brexit.votes.n_votes
    assert len(d["opinion_map"]["x"]) == brexit.votes.n_participants
