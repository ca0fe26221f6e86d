"""What the moderators took out, as stored under ``results["moderation"]``: typed, read once.

A finding like any other: counted when the run was made, from the statements it saw, so the
report's "12 statements were removed: 7 duplicates, ..." never changes under a reader and agrees
with the run's download. No moderator is named: only counts by reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from deliberate.findings._json import integer, obj


@dataclass(frozen=True)
class ModerationFindings:
    n_removed: int  # statements the run saw that the moderators had removed
    by_reason: tuple[tuple[str, int], ...]  # (reason, count), most first; reasons as stored
    n_without_reason: int  # removed before reasons were recorded (or imported as removed)
    n_edited: int  # statements still shown whose words the moderators edited


def read_moderation(data: Any) -> ModerationFindings | None:
    """None for a run made before removals were counted (schema versions 1 and 2)."""
    if data is None:
        return None
    m = obj(data, "moderation")
    by_reason = obj(m.get("by_reason"), "moderation.by_reason")
    counts = [(str(reason), integer(n)) for reason, n in by_reason.items() if integer(n) > 0]
    return ModerationFindings(
        n_removed=integer(m.get("n_removed")),
        by_reason=tuple(sorted(counts, key=lambda item: (-item[1], item[0]))),
        n_without_reason=integer(m.get("n_without_reason")),
        n_edited=integer(m.get("n_edited")),
    )
