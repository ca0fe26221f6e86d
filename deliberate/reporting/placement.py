"""Where one person sits on a published run's opinion map, placed as the analysis places everyone.

Pure Python over the run's typed findings: no numpy, no database, no model and no refit, so a
person's page costs a few thousand multiplications. The projection is the analysis's own
(``analysis.opinion_groups._project``): each answer minus the statement's mean (unseen = 0,
moderated-out statements have zero axes), on the two stored axes, scaled by
√(n_statements / max(active answers + moderated-out statements, 1)) so that a sparse voter is not
pulled to the centre. Someone with too few answers for the clustering threshold of the run is not
placed at all.

Which group, in honest words (``Verdict``):
- IN_GROUP: the run clustered this person and their answers have not changed since (their place
  is the stored one): the stored group, whatever the distances say.
- CLOSEST: the nearest group centre is clearly nearer than the next one.
- UNCLEAR: the two nearest centres are nearly equidistant: the difference of the distances is
  less than ``UNCLEAR_SHARE`` of the distance between those two centres (for a point on the line
  joining them, the middle fifth of it). The page says "not clearly in any group".
- NO_GROUPS: the run published no groups (one group, or no better than shuffled answers).
- CANNOT_PLACE: the run has no map, or was stored before its axes were (older runs).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping
from dataclasses import dataclass

from deliberate.findings import GroupFinding, VoteFindings

UNCLEAR_SHARE = 0.2
# Stored coordinates went through JSON as floats: equal to these within this (relative) tolerance
# means the same answers as when the run was made.
SAME_PLACE = 1e-9


class Verdict(enum.StrEnum):
    IN_GROUP = "in_group"
    CLOSEST = "closest"
    UNCLEAR = "unclear"
    NO_GROUPS = "no_groups"
    CANNOT_PLACE = "cannot_place"


@dataclass(frozen=True)
class Placement:
    verdict: Verdict
    n_answers: int  # answers to statements the run saw (moderated-out ones included, as it counts)
    threshold: int  # answers needed to be placed: the run's clustering threshold
    x: float | None = None
    y: float | None = None
    group: int | None = None  # the stored group (IN_GROUP) or the nearest one
    next_group: int | None = None  # the second nearest (for "between Group A and Group B")
    stored: bool = False  # the place is the one the run stored for this person (answers unchanged)
    near_border: bool = False  # the two nearest centres are nearly equidistant

    @property
    def answers_needed(self) -> int:
        return max(self.threshold - self.n_answers, 0)

    @property
    def placed(self) -> bool:
        return self.x is not None


def clustering_threshold(votes: VoteFindings) -> int | None:
    """Answers a person needs to be clustered: min(min_votes, n_statements), from the parameters
    the run stored (None if it stored none)."""
    groups = votes.parameters.get("groups")
    if not isinstance(groups, Mapping) or groups.get("min_votes") is None:
        return None
    return min(int(groups["min_votes"]), votes.n_statements)


def has_groups(votes: VoteFindings) -> bool:
    """The run published opinion groups (more than one, and beyond chance where tested)."""
    no_clear = votes.groups_test is not None and votes.groups_test.no_clear_groups
    return votes.ok and votes.k > 1 and len(votes.groups) > 1 and not no_clear


def project(votes: VoteFindings, answers: Mapping[int, int]) -> tuple[float, float] | None:
    """The map coordinates of these answers (statement id -> +1 / 0 / -1), as the analysis would
    have placed them; None without an answer on an active statement, or without stored axes."""
    m, table = votes.opinion_map, votes.statements
    if m is None or table is None or m.components is None or m.statement_means is None:
        return None
    axis_x, axis_y = m.components
    x = y = 0.0
    active = 0
    for j, sid in enumerate(table.statement_ids):
        choice = answers.get(sid)
        if choice is None or table.moderated_out[j]:
            continue
        centred = choice - m.statement_means[j]
        x += centred * axis_x[j]
        y += centred * axis_y[j]
        active += 1
    if not active:
        return None
    n_moderated = sum(table.moderated_out)
    scale = math.sqrt(len(table.statement_ids) / max(active + n_moderated, 1))
    return x * scale, y * scale


def place(
    votes: VoteFindings, answers: Mapping[int, int], participant_id: int | None = None
) -> Placement:
    """Where a person with these current ``answers`` stands on the run's map. ``participant_id``
    finds their stored place: if their answers still project there, the stored group is theirs."""
    table = votes.statements
    seen = set(table.statement_ids) if table is not None else set()
    n_answers = sum(1 for sid in answers if sid in seen)
    threshold = clustering_threshold(votes)
    if threshold is None:
        return Placement(Verdict.CANNOT_PLACE, n_answers, 0)
    point = project(votes, answers)
    if point is None:
        return Placement(Verdict.CANNOT_PLACE, n_answers, threshold)
    stored_group, clustered = _stored(votes, participant_id, point)
    if n_answers < threshold and not clustered:
        return Placement(Verdict.CANNOT_PLACE, n_answers, threshold)
    x, y = point
    stored = stored_group is not None
    if not has_groups(votes):
        return Placement(Verdict.NO_GROUPS, n_answers, threshold, x, y, stored=stored)
    first, second = nearest_groups(votes, point)[:2]
    gap = _distance(first.center, second.center)
    near_border = _distance(point, second.center) - _distance(point, first.center) < (
        UNCLEAR_SHARE * gap
    )
    group = first.id if stored_group is None else stored_group
    verdict = Verdict.UNCLEAR if near_border else Verdict.CLOSEST
    if clustered:
        verdict = Verdict.IN_GROUP
    next_group = second.id if group == first.id else first.id
    return Placement(
        verdict, n_answers, threshold, x, y, group, next_group, stored, near_border=near_border
    )


def nearest_groups(votes: VoteFindings, point: tuple[float, float]) -> list[GroupFinding]:
    """The run's groups, nearest centre first (as the analysis assigns people with few answers)."""
    return sorted(votes.groups, key=lambda g: (_distance(point, g.center), g.id))


def _stored(
    votes: VoteFindings, participant_id: int | None, point: tuple[float, float]
) -> tuple[int | None, bool]:
    """The person's stored group (their group if clustered, else the nearest one the run gave
    them) and whether they were clustered: only if their answers still project to the stored
    place. (None, False) otherwise."""
    m = votes.opinion_map
    if participant_id is None or m is None:
        return None, False
    i = m.position.get(participant_id)
    if i is None:
        return None, False
    x, y = m.x[i], m.y[i]
    if x is None or y is None or not (_same(point[0], x) and _same(point[1], y)):
        return None, False
    group = m.group[i]
    clustered = m.clustered[i] if m.clustered is not None else group is not None and group >= 0
    return (group if clustered else m.assigned_group[i]), bool(clustered)


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= SAME_PLACE * max(1.0, abs(a), abs(b))


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])
