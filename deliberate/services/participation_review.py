"""Participation that may be scripted, for the team's review, and leaving it out of the analysis.

Anonymous participants can be made by a script. Two signs are flagged for a person to judge:

- a **burst**: ``BURST_PARTICIPANTS`` or more new participants of one consultation from one address
  (its daily keyed hash, ``Participant.address_key``) within ``BURST_SECONDS``;
- **identical answers**: participants whose current votes are exactly the same (the same
  statements, the same choices), ``IDENTICAL_MIN_VOTES`` votes or more each.

Flags are computed when the team opens the review page, from what is stored anyway (when each
participant joined, from which address key, and their votes), and are not stored themselves: a
stored flag would have to be kept in step with every new vote and every change of the settings,
and would be wrong whenever it was not. Both computations are a grouped query or two, and nothing
runs on the voting path. What is stored is the team's decision: ``Participant.excluded_at`` and
``excluded_for`` (the flag it was excluded for), with who decided and why in the audit log
(``participant.excluded``, ``participant.included``).

The analysis leaves excluded participants out (their votes stay stored) and records which, and how
many for each reason (``services.analysis``); a run that left out a different set is stale.

A flag is a reason to look, not a verdict: people in one office or school share an address, and with
few statements many honest people answer alike. So a participant is only ever left out by a person,
with a reason, and can be included again.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import BigInteger, cast, func, select

from deliberate.extensions import db
from deliberate.models import Consultation, Participant, ParticipantFlag, User, Vote, utcnow
from deliberate.services import audit
from deliberate.services.consultations import NotPermitted, may_moderate
from deliberate.services.errors import Refused

CHUNK = 1000  # ids per IN (...) list


@dataclass(frozen=True)
class ReviewSettings:
    burst_participants: int = 5
    burst_seconds: int = 60
    identical_min_votes: int = 5

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ReviewSettings:
        return cls(
            burst_participants=config["BURST_PARTICIPANTS"],
            burst_seconds=config["BURST_SECONDS"],
            identical_min_votes=config["IDENTICAL_MIN_VOTES"],
        )


@dataclass(frozen=True)
class Reviewed:
    """One participant as the review page lists them (an id, never anything about the person)."""

    id: int
    created_at: datetime
    n_votes: int
    excluded_for: ParticipantFlag | None

    @property
    def excluded(self) -> bool:
        return self.excluded_for is not None


@dataclass(frozen=True)
class FlagGroup:
    """Participants flagged together: a burst from one address, or one set of identical answers."""

    kind: ParticipantFlag
    participants: tuple[Reviewed, ...]
    n_shared_votes: int = 0  # identical answers: how many votes they share

    @property
    def key(self) -> str:
        """Names the group on the page (its forms and anchors), stable while it lasts."""
        return f"{self.kind.value}-{min(p.id for p in self.participants)}"

    @property
    def size(self) -> int:
        return len(self.participants)

    @property
    def first_at(self) -> datetime:
        return min(p.created_at for p in self.participants)

    @property
    def last_at(self) -> datetime:
        return max(p.created_at for p in self.participants)

    @property
    def seconds(self) -> int:
        return round((self.last_at - self.first_at).total_seconds())

    @property
    def n_excluded(self) -> int:
        return sum(p.excluded for p in self.participants)


@dataclass(frozen=True)
class Review:
    settings: ReviewSettings
    bursts: tuple[FlagGroup, ...]
    identical: tuple[FlagGroup, ...]
    excluded_elsewhere: tuple[Reviewed, ...]  # excluded, and no longer flagged

    @property
    def n_flagged(self) -> int:
        return len({p.id for g in self.bursts + self.identical for p in g.participants})

    @property
    def n_excluded(self) -> int:
        flagged = {p.id: p for g in self.bursts + self.identical for p in g.participants}
        return sum(p.excluded for p in flagged.values()) + len(self.excluded_elsewhere)

    def group(self, key: str) -> FlagGroup | None:
        return next((g for g in self.bursts + self.identical if g.key == key), None)


# -- finding the flags ----------------------------------------------------------------------------


def burst_groups(
    consultation_id: int, min_participants: int, seconds: int
) -> list[list[tuple[int, datetime]]]:
    """Bursts of new participants from one address key: each a list of (participant id, joined),
    in order. A participant is in a burst when some span of ``seconds`` holding it holds at least
    ``min_participants`` from its address key; overlapping spans make one burst."""
    crowded = (
        select(Participant.address_key)
        .where(Participant.consultation_id == consultation_id, Participant.address_key.is_not(None))
        .group_by(Participant.address_key)
        .having(func.count() >= min_participants)
    )
    rows = db.session.execute(
        select(Participant.address_key, Participant.id, Participant.created_at)
        .where(Participant.consultation_id == consultation_id, Participant.address_key.in_(crowded))
        .order_by(Participant.address_key, Participant.created_at, Participant.id)
    ).all()
    by_key: dict[str, list[tuple[int, datetime]]] = defaultdict(list)
    for key, pid, created_at in rows:
        by_key[key].append((pid, created_at))
    window = timedelta(seconds=seconds)
    bursts = []
    for joined in by_key.values():
        bursts.extend(_bursts_in(joined, min_participants, window))
    return sorted(bursts, key=lambda burst: (burst[0][1], burst[0][0]))


def _bursts_in(
    joined: Sequence[tuple[int, datetime]], least: int, window: timedelta
) -> list[list[tuple[int, datetime]]]:
    """The bursts in one address key's participants (sorted by time): two pointers over them."""
    spans: list[list[int]] = []  # [first index, last index], merged when they overlap
    end = 0
    for start in range(len(joined)):
        end = max(end, start)
        while end + 1 < len(joined) and joined[end + 1][1] - joined[start][1] <= window:
            end += 1
        if end - start + 1 >= least:
            if spans and start <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], end)
            else:
                spans.append([start, end])
    return [list(joined[first : last + 1]) for first, last in spans]


def identical_groups(consultation_id: int, min_votes: int) -> list[tuple[int, list[int]]]:
    """Participants whose current votes are the same (statements and choices), each with at least
    ``min_votes``: (the number of votes, participant ids), largest groups first.

    The database gives each participant a fingerprint of their votes (count, sum and sum of squares
    of one number per statement and choice); only participants sharing a fingerprint have their
    votes read and compared exactly, so a large consultation costs one grouped query."""
    code = cast(Vote.statement_id, BigInteger) * 3 + (Vote.choice + 1)
    fingerprints = db.session.execute(
        select(Vote.participant_id, func.count(), func.sum(code), func.sum(code * code))
        .where(Vote.consultation_id == consultation_id)
        .group_by(Vote.participant_id)
        .having(func.count() >= min_votes)
    ).all()
    alike: dict[tuple[int, int, int], list[int]] = defaultdict(list)
    for pid, n, total, squares in fingerprints:
        alike[(int(n), int(total), int(squares))].append(pid)
    candidates = [pid for ids in alike.values() if len(ids) > 1 for pid in ids]
    answers: dict[int, set[tuple[int, int]]] = defaultdict(set)
    for chunk in _chunks(candidates):
        for pid, sid, choice in db.session.execute(
            select(Vote.participant_id, Vote.statement_id, Vote.choice).where(
                Vote.participant_id.in_(chunk)
            )
        ):
            answers[pid].add((sid, choice))
    same: dict[frozenset[tuple[int, int]], list[int]] = defaultdict(list)
    for pid in candidates:
        same[frozenset(answers[pid])].append(pid)
    groups = [(len(votes), sorted(ids)) for votes, ids in same.items() if len(ids) > 1]
    return sorted(groups, key=lambda group: (-len(group[1]), group[1][0]))


def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def flagged_ids(consultation_id: int, settings: ReviewSettings, kind: ParticipantFlag) -> set[int]:
    if kind is ParticipantFlag.BURST:
        bursts = burst_groups(consultation_id, settings.burst_participants, settings.burst_seconds)
        return {pid for burst in bursts for pid, _ in burst}
    groups = identical_groups(consultation_id, settings.identical_min_votes)
    return {pid for _, ids in groups for pid in ids}


def review(consultation: Consultation, settings: ReviewSettings) -> Review:
    """Everything the review page lists: flagged participants by reason, and the excluded ones."""
    bursts = burst_groups(consultation.id, settings.burst_participants, settings.burst_seconds)
    identical = identical_groups(consultation.id, settings.identical_min_votes)
    excluded = set(
        db.session.scalars(
            select(Participant.id).where(
                Participant.consultation_id == consultation.id,
                Participant.excluded_at.is_not(None),
            )
        )
    )
    flagged = {pid for burst in bursts for pid, _ in burst} | {
        pid for _, ids in identical for pid in ids
    }
    listed = _reviewed(sorted(flagged | excluded))
    return Review(
        settings=settings,
        bursts=tuple(
            FlagGroup(ParticipantFlag.BURST, tuple(listed[pid] for pid, _ in burst))
            for burst in bursts
        ),
        identical=tuple(
            FlagGroup(ParticipantFlag.IDENTICAL_VOTES, tuple(listed[pid] for pid in ids), n)
            for n, ids in identical
        ),
        excluded_elsewhere=tuple(listed[pid] for pid in sorted(excluded - flagged)),
    )


def _reviewed(ids: Sequence[int]) -> dict[int, Reviewed]:
    listed: dict[int, Reviewed] = {}
    for chunk in _chunks(ids):
        n_votes = dict(
            db.session.execute(
                select(Vote.participant_id, func.count())
                .where(Vote.participant_id.in_(chunk))
                .group_by(Vote.participant_id)
            ).all()
        )
        for pid, created_at, excluded_for in db.session.execute(
            select(Participant.id, Participant.created_at, Participant.excluded_for).where(
                Participant.id.in_(chunk)
            )
        ):
            listed[pid] = Reviewed(pid, created_at, n_votes.get(pid, 0), excluded_for)
    return listed


def members_of(consultation: Consultation, settings: ReviewSettings, key: str) -> list[int]:
    """Everyone in the group the review page named ``key`` (see ``FlagGroup.key``), as it is now."""
    if key.startswith("excluded-"):
        return sorted(p.id for p in review(consultation, settings).excluded_elsewhere)
    group = review(consultation, settings).group(key)
    if group is None:
        raise Refused(_("This group has changed since you opened the page: look at it again"))
    return [p.id for p in group.participants]


# -- the team's decisions -------------------------------------------------------------------------


def _participants(consultation: Consultation, ids: Iterable[int]) -> list[Participant]:
    wanted = sorted(set(ids))
    if not wanted:
        raise Refused(_("Select at least one participant"), "participants")
    found = [
        participant
        for chunk in _chunks(wanted)
        for participant in db.session.scalars(
            select(Participant).where(
                Participant.id.in_(chunk), Participant.consultation_id == consultation.id
            )
        )
    ]
    if len(found) != len(wanted):
        raise Refused(
            _("Some of those participants are not part of this consultation"), "participants"
        )
    return sorted(found, key=lambda p: p.id)


def _require_moderator(user: User, consultation: Consultation) -> None:
    if not may_moderate(user, consultation):
        raise NotPermitted(_("Only the mission team and moderators can review participation"))


def exclude(
    user: User,
    consultation: Consultation,
    participant_ids: Iterable[int],
    kind: ParticipantFlag,
    reason: str,
    settings: ReviewSettings,
    now: datetime | None = None,
) -> int:
    """Leave flagged participants out of the analysis, for the flag ``kind``; returns how many
    were newly excluded (one already excluded is left as it is, so a double click is harmless).

    Only participants flagged for ``kind`` now may be excluded for it: the analysis says why each
    was left out, and that must be true."""
    _require_moderator(user, consultation)
    participants = _participants(consultation, participant_ids)
    flagged = flagged_ids(consultation.id, settings, kind)
    if any(p.id not in flagged for p in participants):
        raise Refused(
            _(
                "Some of those participants are no longer flagged for this reason: look at the "
                "list again"
            ),
            "participants",
        )
    now = now or utcnow()
    changed = 0
    for participant in participants:
        if participant.excluded_at is not None:
            continue
        participant.excluded_at, participant.excluded_for = now, kind
        audit.record(
            "participant.excluded",
            participant,
            actor_id=user.id,
            reason=reason,
            consultation=consultation.id,
            flag=kind.value,
        )
        changed += 1
    db.session.flush()
    return changed


def include_again(
    user: User, consultation: Consultation, participant_ids: Iterable[int], reason: str
) -> int:
    """Count excluded participants in the analysis again; returns how many changed."""
    _require_moderator(user, consultation)
    changed = 0
    for participant in _participants(consultation, participant_ids):
        if participant.excluded_at is None:
            continue
        flag = participant.excluded_for
        participant.excluded_at, participant.excluded_for = None, None
        audit.record(
            "participant.included",
            participant,
            actor_id=user.id,
            reason=reason,
            consultation=consultation.id,
            flag=flag.value if flag else None,
        )
        changed += 1
    db.session.flush()
    return changed


def exclusions(consultation_id: int) -> dict[int, ParticipantFlag]:
    """Participant id -> why it is left out of the analysis, for every excluded participant."""
    return {
        pid: flag
        for pid, flag in db.session.execute(
            select(Participant.id, Participant.excluded_for).where(
                Participant.consultation_id == consultation_id,
                Participant.excluded_at.is_not(None),
            )
        )
    }
