"""Intervals and tests behind every share and change a page states (pure Python, checked against
scipy and published values)."""

from __future__ import annotations

import random

import pytest
from scipy.stats import false_discovery_control, fisher_exact

from deliberate.findings import read_findings
from deliberate.reporting.changes import changes_between
from deliberate.reporting.figures import StatementRow, Tally, build_figures
from deliberate.reporting.summary import summarise
from deliberate.reporting.uncertainty import (
    benjamini_hochberg,
    difference_interval,
    fisher_exact_p,
    two_proportion_p,
    wilson,
)


def test_newcombe_interval_matches_his_published_example():
    # Newcombe (1998), Statistics in Medicine 17:873, table II: 56/70 against 48/80.
    low, high = difference_interval(48, 80, 56, 70)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


def test_wilson_interval_of_a_small_share():
    low, high = wilson(3, 5)
    assert (round(low, 3), round(high, 3)) == (0.231, 0.882)
    assert wilson(0, 0) is None


def test_fisher_and_benjamini_hochberg_agree_with_scipy():
    rng = random.Random(4)
    for _ in range(50):
        n1, n2 = rng.randint(1, 40), rng.randint(1, 40)
        a, b = rng.randint(0, n1), rng.randint(0, n2)
        expected = fisher_exact([[a, n1 - a], [b, n2 - b]]).pvalue
        assert fisher_exact_p(a, n1, b, n2) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    p = [rng.random() ** 3 for _ in range(40)]
    assert benjamini_hochberg(p) == pytest.approx(list(false_discovery_control(p)))


def row(sid: int, agree: int, seen: int) -> StatementRow:
    return StatementRow(sid, f"statement {sid}", True, agree, seen - agree, 0, seen)


def test_a_change_between_rounds_is_called_a_change_only_when_its_test_holds():
    pairs = [
        (row(1, 80, 100), row(11, 30, 100)),  # down 50 points on 100 people each: clear
        (row(2, 8, 9), row(12, 5, 10)),  # "8 of 9 against 5 of 10": 39 points, few people
        (row(3, 50, 100), row(13, 52, 100)),  # 2 points: noise
    ]
    carried = {c.then.id: c for c in changes_between(pairs, alpha=0.1)}
    assert carried[1].changed and carried[1].change == -50
    assert carried[1].high < 0 < carried[2].high  # the small one's interval crosses zero
    assert carried[2].change == -39 and not carried[2].changed
    assert not carried[3].changed
    assert carried[2].p_value == pytest.approx(two_proportion_p(8, 9, 5, 10))
    assert [c.then.id for c in changes_between(pairs, alpha=0.1)] == [1, 2, 3]  # largest first


def test_small_shares_carry_their_interval_and_large_ones_do_not():
    assert Tally(3, 5).small and Tally(3, 5).interval_percent == (23, 89)
    assert not Tally(300, 500).small


def test_the_summary_says_participants_chose_to_take_part_and_when_groups_are_small():
    stored = {
        "votes": {
            "status": "ok",
            "k": 2,
            "n_participants": 9,
            "n_clustered": 9,
            "groups": [
                {"id": 0, "size": 6, "center": [0, 0], "representative": []},
                {"id": 1, "size": 3, "center": [1, 1], "representative": []},
            ],
        }
    }
    text = " ".join(s.text for s in summarise(build_figures(read_findings(stored), {})))
    assert "chose to take part and are not a sample of the population" in text
    assert "This is a small consultation (9 people)" in text
    assert "The groups are small (the smallest has 3 people)" in text
