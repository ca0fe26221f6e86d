"""Agreement across viewpoints, as stored under ``results["bridging"]``: typed, read once."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deliberate.findings._json import JSON, integer, obj, real, seq


@dataclass(frozen=True)
class StatementBridging:
    """A statement's bridging score (on the -1..+1 answer scale) with its 90% interval."""

    statement_id: int
    score: float | None
    low: float | None
    high: float | None
    n_answers: int
    rank: int | None  # 1 = the most bridging; None: not ranked (too few answers, moderated out)


@dataclass(frozen=True)
class BridgingFindings:
    statements: tuple[StatementBridging, ...]
    parameters: JSON
    n_participants: int
    converged: bool

    @property
    def min_answers(self) -> int:
        return integer(self.parameters.get("min_answers"), 10)

    @property
    def interval(self) -> float:
        return real(self.parameters.get("interval"), 0.9)

    def ranking(self) -> tuple[StatementBridging, ...]:
        """The ranked statements, most bridging first."""
        ranked = [s for s in self.statements if s.rank is not None]
        return tuple(sorted(ranked, key=lambda s: s.rank or 0))


def _optional(value: Any) -> float | None:
    return None if value is None else float(value)


def read_bridging(data: Any) -> BridgingFindings | None:
    """None for a run made before bridging was stored."""
    if not data:
        return None
    b = obj(data, "bridging")
    statements = []
    for i, item in enumerate(seq(b.get("statements"), "bridging.statements")):
        s = obj(item, f"bridging.statements[{i}]")
        rank = s.get("rank")
        statements.append(
            StatementBridging(
                statement_id=integer(s["statement_id"]),
                score=_optional(s.get("score")),
                low=_optional(s.get("interval_low")),
                high=_optional(s.get("interval_high")),
                n_answers=integer(s.get("n_answers")),
                rank=None if rank is None or not s.get("ranked", True) else int(rank),
            )
        )
    return BridgingFindings(
        statements=tuple(statements),
        parameters=obj(b.get("parameters"), "bridging.parameters"),
        n_participants=integer(b.get("n_participants")),
        converged=bool(b.get("converged")),
    )
