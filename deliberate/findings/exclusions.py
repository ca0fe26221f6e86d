"""Participants the team left out of a run, as stored under ``results["exclusions"]``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from deliberate.findings._json import integer, ints, obj

# The reasons a participant may be left out for (deliberate.models.ParticipantFlag), in the words
# a report uses; an unknown reason is counted as "other reasons".
REASON_WORDS = {
    "burst": "joined in a burst from one address",
    "identical_votes": "gave exactly the same answers as other participants",
}


@dataclass(frozen=True)
class ExclusionFindings:
    """How many participants the run left out, how many for each reason, and which (by id).

    A run made before exclusions were stored reads as leaving nobody out (``recorded`` False):
    it did not, since no participant could be excluded then."""

    n_participants: int
    by_reason: Mapping[str, int]
    participant_ids: tuple[int, ...]
    recorded: bool

    @property
    def reasons(self) -> tuple[tuple[str, int], ...]:
        """(words, count) for each reason, the most common first."""
        counted = sorted(self.by_reason.items(), key=lambda item: (-item[1], item[0]))
        return tuple((REASON_WORDS.get(reason, "other reasons"), n) for reason, n in counted)


def read_exclusions(data: Any) -> ExclusionFindings:
    if data is None:
        return ExclusionFindings(0, {}, (), recorded=False)
    e = obj(data, "exclusions")
    by_reason = obj(e.get("by_reason"), "exclusions.by_reason")
    return ExclusionFindings(
        n_participants=integer(e.get("n_participants")),
        by_reason={str(reason): integer(n) for reason, n in by_reason.items()},
        participant_ids=ints(e.get("participant_ids"), "exclusions.participant_ids"),
        recorded=True,
    )
