"""Claims keep their stated error rate: groups only when they exist, group claims tested honestly.

A fast version of bench/calibrate_claims.py (a few seeds, small matrices). Each check is also run
against the method before version 2, which must fail it: otherwise the check could not tell.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from sklearn.metrics import adjusted_rand_score

from deliberate.analysis import AnalysisParameters, GroupParameters, VoteAnalysis, analyse_votes
from deliberate.analysis.calibration import (
    claim_errors,
    null_votes,
    planted_votes,
    shuffled_real_votes,
)
from deliberate.analysis.group_evidence import (
    GROUPS,
    NO_CLEAR_GROUPS,
    groups_beyond_chance,
    shuffle_answers,
)
from deliberate.analysis.held_out_groups import HELD_OUT_STATEMENTS, SAME_VOTES, held_out_counts
from deliberate.analysis.opinion_groups import compute_opinion_groups
from tests.analysis.helpers import PolisConversation

ALL = 10**9
NEW = AnalysisParameters(max_representative=ALL, max_consensus=ALL, max_divisive=ALL)
OLD = dataclasses.replace(NEW, groups_test_permutations=0, claims_method=SAME_VOTES)
HELD_OUT_ONLY = dataclasses.replace(NEW, groups_test_permutations=0)
SEEDS = range(6)


def _mean_fdp(params: AnalysisParameters, kind: str, make: object) -> float:
    assert callable(make)
    fdps = []
    for seed in SEEDS:
        known = make(seed)
        fdps.append(claim_errors(known, analyse_votes(known.votes, params)).fdp(kind))
    return float(np.mean(fdps))


def test_shuffled_answers_keep_every_statement_and_person_count() -> None:
    votes = planted_votes((0.5, 0.5), 80, 20, 10, seen=0.6, seed=1).votes
    shuffled = shuffle_answers(votes, np.random.default_rng(0))
    assert np.array_equal(shuffled.rows, votes.rows) and np.array_equal(shuffled.cols, votes.cols)
    for value in (-1, 0, 1):
        before = np.bincount(votes.cols[votes.values == value], minlength=20)
        after = np.bincount(shuffled.cols[shuffled.values == value], minlength=20)
        assert np.array_equal(before, after)
    assert not np.array_equal(shuffled.values, votes.values)


def test_votes_without_groups_say_no_clear_opinion_groups() -> None:
    reported_new = reported_old = 0
    for seed in SEEDS:
        votes = null_votes(200, 25, seed=seed).votes
        new, old = analyse_votes(votes), analyse_votes(votes, OLD)
        reported_old += old.k > 1
        reported_new += new.k > 1
        if new.k == 1:
            test = new.groups_test
            assert test is not None and test.decision == NO_CLEAR_GROUPS
            assert new.message.startswith("No clear opinion groups")
            assert test.k_found > 1 and test.p_value is not None and test.p_value > 0.025
            assert test.stopped_early and test.permutations < test.max_permutations
            assert all(not g.representative for g in new.groups) and not new.divisive
    assert reported_old == len(SEEDS)  # k-means always finds groups
    assert reported_new <= 1  # aim 5%: at most one of six with a little tolerance


@pytest.mark.parametrize("kind", ["representative", "divisive"])
def test_group_claims_on_votes_without_groups_keep_their_error_rate(kind: str) -> None:
    # Groups forced (no groups test), so the claims alone are checked: every claim is false
    # here, so the realised error is the share of runs with any claim (BH: at most 10%).
    def make(seed: int) -> object:
        return null_votes(200, 25, seed=100 + seed)

    assert _mean_fdp(HELD_OUT_ONLY, kind, make) <= 0.2
    assert _mean_fdp(OLD, kind, make) >= 0.9


def test_claims_on_planted_groups_are_found_and_mostly_true() -> None:
    fdp: dict[str, list[float]] = {"representative": [], "divisive": []}
    power = []
    for seed in range(2):
        known = planted_votes((0.6, 0.4), 240, 30, 10, seen=0.8, seed=seed)
        result = analyse_votes(known.votes, NEW)
        test = result.groups_test
        assert test is not None and test.decision == GROUPS and result.k == 2
        assert test.p_value == pytest.approx(1 / 40) and test.permutations == 39
        assert result.opinion_map is not None
        # 10 of 30 statements differ: the groups overlap, so the recovery is partial.
        assert adjusted_rand_score(known.group, result.opinion_map.group) > 0.5
        errors = claim_errors(known, result)
        for kind in fdp:
            fdp[kind].append(errors.fdp(kind))
        power.append(errors.found_differing["divisive"] / errors.n_differing)
    assert max(np.mean(v) for v in fdp.values()) <= 0.2
    assert np.mean(power) >= 0.9


def test_held_out_groups_are_the_published_groups_when_groups_are_real() -> None:
    known = planted_votes((0.5, 0.3, 0.2), 300, 40, 20, seen=0.8, seed=3)
    groups = compute_opinion_groups(known.votes)
    held = held_out_counts(known.votes, groups, GroupParameters(), folds=5)
    assert held.folds == 5 and held.untested_statements == 0
    assert held.label_agreement > 0.8  # measured 0.87: the smallest group overlaps the others
    # Every clustered vote is counted once, against some held-out group.
    assert held.counts.seen.sum() == known.votes.seen[groups.labels >= 0].sum()


def test_shuffled_real_conversation_loses_its_groups(brexit: PolisConversation) -> None:
    known = shuffled_real_votes(brexit.votes, seed=1)
    result = analyse_votes(known.votes)
    assert result.k == 1 and result.groups_test is not None
    assert result.groups_test.decision == NO_CLEAR_GROUPS
    assert claim_errors(known, result).claims["divisive"] == 0


def test_real_groups_pass_the_test_and_are_stored(brexit_result: VoteAnalysis) -> None:
    result = brexit_result
    assert result.k == 2 and result.claims_method == HELD_OUT_STATEMENTS
    stored = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    test = stored["groups_test"]
    assert test["decision"] == GROUPS and test["k"] == 2 and test["p_value"] <= 0.025
    assert set(test["per_k"]["2"]) == {"silhouette", "null_median", "null_q95", "n_null", "p_value"}
    assert test["statistic"] > test["null_quantiles"]["1.0"]
    assert "beyond chance" in test["message"]
    assert stored["method_version"] == "deliberate-groups/2"
    assert stored["claims_label_agreement"] > 0.9
    assert stored["n_too_few_votes"] == 15 and "15 people with fewer than 7" in stored["message"]


def test_a_run_with_too_few_permutations_is_refused() -> None:
    votes = planted_votes((0.5, 0.5), 60, 20, 10, seed=0).votes
    groups = compute_opinion_groups(votes)
    with pytest.raises(ValueError, match="permutations"):
        groups_beyond_chance(votes, groups, GroupParameters(), permutations=10)
