"""Which statement to show a participant next: the Polis priority rule, seeded.

Polis (``math/src/polismath/math/conversation.clj``) scores every statement the participant has not
seen and draws one at random, weighted by the score:

    p_agree    = (A + 1) / (S + 2)          p_pass = (P + 1) / (S + 2)     (pseudo-counts)
    importance = (1 - p_pass) * (E + 1) * p_agree
    priority   = (importance * (1 + 8 * 2 ** (-S / 5))) ** 2

with A agrees, P passes, S votes seen in all and E the statement's extremity (its distance from the
centre of the opinion map, from a later analysis; 0 until there is one). The ``2 ** (-S / 5)`` term
lets new statements bubble up; importance favours statements people take a side on, agree with and
that separate opinion. Meta statements (about the consultation itself) get Polis's fixed 7 ** 2.

Unlike Polis the draw is seeded, so the same state always gives the same next statement: a page
reload does not reshuffle, and a test can say which statement comes next. Pure Python and numpy: no
Flask, no database.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

META_PRIORITY = 7.0


@dataclass(frozen=True)
class StatementTally:
    """The votes one statement has had so far."""

    statement_id: int
    agrees: int = 0
    disagrees: int = 0
    passes: int = 0
    is_meta: bool = False

    @property
    def seen(self) -> int:
        return self.agrees + self.disagrees + self.passes


def importance(tally: StatementTally, extremity: float = 0.0) -> float:
    seen = tally.seen
    p_agree = (tally.agrees + 1) / (seen + 2)
    p_pass = (tally.passes + 1) / (seen + 2)
    return (1 - p_pass) * (extremity + 1) * p_agree


def priority(tally: StatementTally, extremity: float = 0.0) -> float:
    if tally.is_meta:
        return META_PRIORITY**2
    novelty = 1 + 8 * 2 ** (-tally.seen / 5)
    return (importance(tally, extremity) * novelty) ** 2


def choose_next_statement(
    tallies: Iterable[StatementTally],
    seen: Collection[int],
    seed: Sequence[int],
    extremity: Mapping[int, float] | None = None,
) -> int | None:
    """The id of the statement to show next, or None when the participant has seen them all.

    ``tallies`` are the votable statements only; ``seen`` the ids the participant has answered;
    ``seed`` non-negative integers that describe the state (participant, number of answers...).
    """
    extremity = extremity or {}
    return draw_statement(
        [
            (t.statement_id, priority(t, extremity.get(t.statement_id, 0.0)))
            for t in tallies
            if t.statement_id not in seen
        ],
        seed,
    )


def draw_statement(weighted: Iterable[tuple[int, float]], seed: Sequence[int]) -> int | None:
    """The draw of ``choose_next_statement``, from (statement id, priority) pairs of the
    statements the participant has not seen: for a caller that keeps the priorities."""
    candidates = sorted(weighted)
    if not candidates:
        return None
    weights = np.array([weight for _, weight in candidates])
    rng = np.random.default_rng([int(part) for part in seed])
    total = float(weights.sum())
    if total <= 0:
        return candidates[int(rng.integers(len(candidates)))][0]
    point = rng.random() * total
    index = int(np.searchsorted(np.cumsum(weights), point, side="right"))
    return candidates[min(index, len(candidates) - 1)][0]


def draw_probabilities(
    tallies: Iterable[StatementTally],
    seen: Collection[int],
    extremity: Mapping[int, float] | None = None,
) -> dict[int, float]:
    """The chance each unseen statement has of being drawn next: for tests and for explaining."""
    extremity = extremity or {}
    weights = {
        t.statement_id: priority(t, extremity.get(t.statement_id, 0.0))
        for t in tallies
        if t.statement_id not in seen
    }
    total = sum(weights.values())
    if total <= 0:
        return {sid: 1 / len(weights) for sid in weights}
    return {sid: w / total for sid, w in weights.items()}
