"""The Polis rule for which statement comes next: its numbers, its seeding and its bias."""

from __future__ import annotations

import math

import pytest

from deliberate.analysis.priority import (
    META_PRIORITY,
    StatementTally,
    choose_next_statement,
    draw_probabilities,
    importance,
    priority,
)


def test_importance_and_priority_follow_the_polis_formula():
    tally = StatementTally(1, agrees=6, disagrees=2, passes=2)  # S = 10
    p_agree, p_pass = 7 / 12, 3 / 12
    assert importance(tally) == pytest.approx((1 - p_pass) * 1 * p_agree)
    assert importance(tally, extremity=0.5) == pytest.approx((1 - p_pass) * 1.5 * p_agree)
    expected = ((1 - p_pass) * p_agree * (1 + 8 * 2 ** (-10 / 5))) ** 2
    assert priority(tally) == pytest.approx(expected)


def test_a_statement_nobody_has_seen_uses_the_pseudo_counts():
    assert priority(StatementTally(1)) == pytest.approx((0.5 * 0.5 * 9) ** 2)


def test_meta_statements_get_the_fixed_polis_priority():
    assert priority(StatementTally(1, agrees=100, is_meta=True)) == META_PRIORITY**2


def test_the_same_state_gives_the_same_next_statement():
    tallies = [StatementTally(i, agrees=i, disagrees=3, passes=1) for i in range(1, 30)]
    first = choose_next_statement(tallies, seen={2, 5}, seed=(7, 42, 2))
    for _ in range(5):
        assert choose_next_statement(tallies, seen={2, 5}, seed=(7, 42, 2)) == first
    # Order of the input does not matter, only the state.
    assert choose_next_statement(list(reversed(tallies)), seen={5, 2}, seed=(7, 42, 2)) == first


def test_different_participants_are_not_all_shown_the_same_statement():
    tallies = [StatementTally(i) for i in range(1, 11)]
    shown = {
        choose_next_statement(tallies, seen=(), seed=(1, participant, 0))
        for participant in range(1, 200)
    }
    assert len(shown) == 10


def test_answered_statements_are_never_drawn_and_none_is_left_at_the_end():
    tallies = [StatementTally(i, agrees=1) for i in (3, 4, 5)]
    for seed in range(50):
        assert choose_next_statement(tallies, seen={3, 5}, seed=(seed,)) == 4
    assert choose_next_statement(tallies, seen={3, 4, 5}, seed=(1,)) is None
    assert choose_next_statement([], seen=(), seed=(1,)) is None


def test_statements_with_few_votes_are_drawn_far_more_often():
    """A built distribution: one fresh statement against one seen by 40 people, with the same
    share of agreement. The draws over many participants match the rule's probabilities."""
    fresh = StatementTally(1, agrees=1, disagrees=1)
    worn = StatementTally(2, agrees=20, disagrees=20)
    expected = draw_probabilities([fresh, worn], seen=())
    assert expected[1] > 0.9
    draws = 4000
    picked_fresh = sum(
        choose_next_statement([fresh, worn], seen=(), seed=(9, participant, 0)) == 1
        for participant in range(draws)
    )
    share = picked_fresh / draws
    margin = 4 * math.sqrt(expected[1] * (1 - expected[1]) / draws)
    assert abs(share - expected[1]) < margin


def test_statements_people_take_sides_on_beat_ones_they_pass():
    divisive = StatementTally(1, agrees=10, disagrees=10)
    passed = StatementTally(2, agrees=2, passes=18)
    probabilities = draw_probabilities([divisive, passed], seen=())
    assert probabilities[1] > 0.9


def test_extremity_from_a_later_analysis_raises_a_statement():
    tallies = [StatementTally(1, agrees=5, disagrees=5), StatementTally(2, agrees=5, disagrees=5)]
    even = draw_probabilities(tallies, seen=())
    assert even[1] == pytest.approx(0.5)
    skewed = draw_probabilities(tallies, seen=(), extremity={2: 1.0})
    assert skewed[2] == pytest.approx(0.8)  # (E + 1)^2 = 4 times the weight
