"""Intervals and tests for shares and changes, in pure Python (the request path has no numpy).

Used wherever a page states a share of a small group or a change between rounds, so that the
words "changed" or "rose" appear only when the change survives a test, and every small share
carries its interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

Z95 = 1.959963984540054  # two-sided 95%


def wilson(count: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval of a share: well behaved near 0 and 1 and for small n."""
    if n <= 0:
        return None
    p = count / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def difference_interval(
    a: int, n1: int, b: int, n2: int, z: float = Z95
) -> tuple[float, float] | None:
    """Newcombe's hybrid score interval (his method 10) for b/n2 - a/n1."""
    first, second = wilson(a, n1, z), wilson(b, n2, z)
    if first is None or second is None:
        return None
    p1, p2 = a / n1, b / n2
    (l1, u1), (l2, u2) = first, second
    d = p2 - p1
    low = d - math.sqrt((p2 - l2) ** 2 + (u1 - p1) ** 2)
    high = d + math.sqrt((u2 - p2) ** 2 + (p1 - l1) ** 2)
    return max(-1.0, low), min(1.0, high)


def _log_hypergeometric(k: int, row: int, column: int, total: int) -> float:
    return (
        math.lgamma(row + 1)
        - math.lgamma(k + 1)
        - math.lgamma(row - k + 1)
        + math.lgamma(total - row + 1)
        - math.lgamma(column - k + 1)
        - math.lgamma(total - row - column + k + 1)
        - math.lgamma(total + 1)
        + math.lgamma(column + 1)
        + math.lgamma(total - column + 1)
    )


def fisher_exact_p(a: int, n1: int, b: int, n2: int) -> float:
    """Two-sided Fisher exact p-value of a/n1 against b/n2 (tables no more likely than seen)."""
    total, column = n1 + n2, a + b
    low, high = max(0, column - n2), min(column, n1)
    seen = _log_hypergeometric(a, n1, column, total)
    p = sum(
        math.exp(log)
        for k in range(low, high + 1)
        if (log := _log_hypergeometric(k, n1, column, total)) <= seen + 1e-7
    )
    return min(1.0, p)


def two_proportion_p(a: int, n1: int, b: int, n2: int) -> float:
    """Two-sided p-value that a/n1 and b/n2 differ: exact (Fisher) when any expected count is
    under 5, else the pooled two-proportion z-test."""
    if n1 <= 0 or n2 <= 0:
        return 1.0
    pooled = (a + b) / (n1 + n2)
    expected = (n1 * pooled, n1 * (1 - pooled), n2 * pooled, n2 * (1 - pooled))
    if min(expected) < 5:
        return fisher_exact_p(a, n1, b, n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if se == 0:
        return 1.0
    z = abs(b / n2 - a / n1) / se
    return math.erfc(z / math.sqrt(2))


def benjamini_hochberg(p_values: Sequence[float]) -> list[float]:
    """Benjamini-Hochberg q-values, in the order given."""
    m = len(p_values)
    order = sorted(range(m), key=lambda i: p_values[i])
    q = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, p_values[i] * m / rank)
        q[i] = min(1.0, running)
    return q
