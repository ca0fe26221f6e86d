"""Agreement on one statement in two rounds, and whether it changed, with its interval and test.

The rounds' participants chose to take part and are not the same people, so a change is a change
among those who answered; it is called a change only when the two-proportion test (Fisher's exact
test for small counts) survives Benjamini-Hochberg over every statement the rounds share, at the
report's false-discovery rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from deliberate.reporting.figures import StatementRow
from deliberate.reporting.uncertainty import (
    benjamini_hochberg,
    difference_interval,
    two_proportion_p,
)


@dataclass(frozen=True)
class CarriedStatement:
    """A statement asked in both rounds (same words once normalised), with both rounds' votes."""

    then: StatementRow
    now: StatementRow
    low: float | None = None  # 95% interval of the change in agreement, in percentage points
    high: float | None = None
    p_value: float = 1.0
    q_value: float = 1.0
    alpha: float = 0.1

    @property
    def change(self) -> int | None:
        """Points of agreement gained (or lost, when negative) between the rounds."""
        if self.then.agreed.percent is None or self.now.agreed.percent is None:
            return None
        return self.now.agreed.percent - self.then.agreed.percent

    @property
    def changed(self) -> bool:
        """The change survives its test at the false-discovery rate: only then is it "changed"."""
        return self.change is not None and self.change != 0 and self.q_value <= self.alpha


def changes_between(
    pairs: Iterable[tuple[StatementRow, StatementRow]], alpha: float
) -> tuple[CarriedStatement, ...]:
    """Every (then, now) pair with its interval and a q-value over all of them; largest change
    first."""
    pairs = list(pairs)
    p_values = [two_proportion_p(then.agree, then.seen, now.agree, now.seen) for then, now in pairs]
    q_values = benjamini_hochberg(p_values)
    carried = []
    for (then, now), p, q in zip(pairs, p_values, q_values, strict=True):
        interval = difference_interval(then.agree, then.seen, now.agree, now.seen)
        low, high = (100 * interval[0], 100 * interval[1]) if interval else (None, None)
        carried.append(CarriedStatement(then, now, low, high, p, q, alpha))
    carried.sort(key=lambda c: (-abs(c.change or 0), c.now.id))
    return tuple(carried)
