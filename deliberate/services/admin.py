"""What administrators do: find people, change their roles and mission teams, undo a staff
verification, sign a person out everywhere, and read the audit log.

Every change takes the acting admin as an argument, needs a reason, and records one audit event
in the same unit of work (so the event is kept exactly when the change is). A change that is
already true (granting a role someone holds) changes nothing and records nothing. An admin
cannot remove their own admin role, so the site always keeps at least one admin.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from math import ceil
from typing import Generic, TypeVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select

from deliberate.extensions import db
from deliberate.models import (
    AuditEvent,
    Mission,
    MissionTeamMember,
    StaffVerification,
    User,
    utcnow,
)
from deliberate.services import accounts, audit
from deliberate.services.errors import Refused

PEOPLE_PER_PAGE = 25
EVENTS_PER_PAGE = 50
SEARCH_MAX = 100
HISTORY_COUNT = 20

T = TypeVar("T")


class NotAnAdmin(Refused):
    def __init__(self) -> None:
        super().__init__(_("Only administrators can do this"))


class Role(enum.StrEnum):
    """The roles an admin hands out; mission teams and staff status are managed apart."""

    ADMIN = "admin"
    MODERATOR = "moderator"

    @property
    def label(self) -> str:
        return {"admin": "administrator", "moderator": "moderator"}[self.value]

    @property
    def with_article(self) -> str:
        return {"admin": "an administrator", "moderator": "a moderator"}[self.value]

    def held_by(self, person: User) -> bool:
        return person.is_admin if self is Role.ADMIN else person.is_moderator

    def set_for(self, person: User, held: bool) -> None:
        if self is Role.ADMIN:
            person.is_admin = held
        else:
            person.is_moderator = held


# The names of the ways a person takes part (User.role_names), in the interface language.
_ROLE_NAMES = {
    "Citizen": _l("Citizen"),
    "Verified frontline staff": _l("Verified frontline staff"),
    "Mission team": _l("Mission team"),
    "Moderator": _l("Moderator"),
    "Administrator": _l("Administrator"),
}


def role_names(person: User) -> list[str]:
    """How the person takes part, each way named in the interface language."""
    return [str(_ROLE_NAMES.get(name, name)) for name in person.role_names]


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list; ``number`` counts from 1."""

    items: list[T]
    number: int
    size: int
    total: int

    @property
    def count(self) -> int:
        return max(1, ceil(self.total / self.size))

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.count


def _page_of(query: Select[tuple[T]], number: int, size: int) -> Page[T]:
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    number = min(max(1, number), max(1, ceil((total or 0) / size)))
    items = list(db.session.scalars(query.limit(size).offset((number - 1) * size)))
    return Page(items, number, size, total or 0)


def _require_admin(admin: User) -> None:
    if not (admin.is_authenticated and admin.is_admin):
        raise NotAnAdmin()


def clean_reason(reason: str | None) -> str:
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        raise Refused(_("Enter the reason for this change"), "reason")
    if len(reason) > audit.REASON_MAX:
        raise Refused(
            _("Reason must be %(max)s characters or fewer", max=audit.REASON_MAX), "reason"
        )
    return reason


# -- finding people -------------------------------------------------------------------------------


def find_people(search: str | None = None, page: int = 1) -> Page[User]:
    """Everyone whose email address or name contains ``search`` (any letter case), newest
    accounts first."""
    query = select(User).order_by(User.created_at.desc(), User.id.desc())
    words = (search or "").strip()[:SEARCH_MAX].lower()
    if words:
        query = query.where(
            or_(
                func.lower(User.email).contains(words, autoescape=True),
                func.lower(User.display_name).contains(words, autoescape=True),
            )
        )
    return _page_of(query, page, PEOPLE_PER_PAGE)


def pending_staff_verification(person: User) -> StaffVerification | None:
    """The newest verification link sent to the person that is still waiting to be used."""
    return db.session.scalar(
        select(StaffVerification)
        .where(
            StaffVerification.user_id == person.id,
            StaffVerification.used_at.is_(None),
            StaffVerification.expires_at > utcnow(),
        )
        .order_by(StaffVerification.id.desc())
        .limit(1)
    )


def missions() -> list[Mission]:
    return list(db.session.scalars(select(Mission).order_by(Mission.position, Mission.id)))


def missions_to_join(person: User) -> list[Mission]:
    joined = {m.mission_id for m in person.team_memberships}
    return [m for m in missions() if m.id not in joined]


def history_of(person: User, limit: int = HISTORY_COUNT) -> list[AuditEvent]:
    """What happened to this person's account, newest first."""
    return list(
        db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.target_type == "user", AuditEvent.target_id == str(person.id))
            .order_by(AuditEvent.id.desc())
            .limit(limit)
        )
    )


# -- changing roles, teams and staff status -------------------------------------------------------


def grant_role(admin: User, person: User, role: Role, reason: str | None) -> bool:
    """Give ``person`` the role; False when they hold it already."""
    _require_admin(admin)
    reason = clean_reason(reason)
    if role.held_by(person):
        return False
    role.set_for(person, True)
    db.session.flush()
    audit.record("role.granted", person, actor_id=admin.id, reason=reason, role=role.value)
    return True


def revoke_role(admin: User, person: User, role: Role, reason: str | None) -> bool:
    """Take the role away from ``person``; False when they do not hold it."""
    _require_admin(admin)
    if role is Role.ADMIN and person.id == admin.id:
        raise Refused(
            _(
                "You cannot remove your own administrator role: there must always be at least "
                "one administrator. Ask another administrator to do it."
            )
        )
    reason = clean_reason(reason)
    if not role.held_by(person):
        return False
    role.set_for(person, False)
    db.session.flush()
    audit.record("role.revoked", person, actor_id=admin.id, reason=reason, role=role.value)
    return True


def _membership(person: User, mission: Mission) -> MissionTeamMember | None:
    return next((m for m in person.team_memberships if m.mission_id == mission.id), None)


def add_to_team(admin: User, person: User, mission: Mission | None, reason: str | None) -> bool:
    """Put ``person`` on the mission's team; False when they are on it already."""
    _require_admin(admin)
    if mission is None:
        raise Refused(_("Select the mission whose team to join"), "mission")
    reason = clean_reason(reason)
    if _membership(person, mission) is not None:
        return False
    person.team_memberships.append(MissionTeamMember(mission=mission))
    db.session.flush()
    audit.record(
        "team.member_added", person, actor_id=admin.id, reason=reason, mission=mission.slug
    )
    return True


def remove_from_team(admin: User, person: User, mission: Mission, reason: str | None) -> bool:
    """Take ``person`` off the mission's team; False when they are not on it."""
    _require_admin(admin)
    reason = clean_reason(reason)
    membership = _membership(person, mission)
    if membership is None:
        return False
    person.team_memberships.remove(membership)
    db.session.flush()
    audit.record(
        "team.member_removed", person, actor_id=admin.id, reason=reason, mission=mission.slug
    )
    return True


def undo_staff_verification(admin: User, person: User, reason: str | None) -> bool:
    """From now on the person takes part as a citizen: the verified work address is forgotten,
    and any verification link still waiting to be used stops working. What they wrote or voted
    as staff keeps the role they had then. False when the person was not verified."""
    _require_admin(admin)
    reason = clean_reason(reason)
    if person.staff_verified_at is None and person.staff_email is None:
        return False
    now = utcnow()
    person.staff_email = None
    person.staff_verified_at = None
    waiting = db.session.scalars(
        select(StaffVerification).where(
            StaffVerification.user_id == person.id,
            StaffVerification.used_at.is_(None),
            StaffVerification.expires_at > now,
        )
    )
    for link in waiting:
        link.expires_at = now
    db.session.flush()
    audit.record("staff.verification_undone", person, actor_id=admin.id, reason=reason)
    return True


def sign_out_everywhere(admin: User, person: User, reason: str | None) -> None:
    """End every session of the person's account, on every device."""
    _require_admin(admin)
    reason = clean_reason(reason)
    accounts.sign_out_everywhere(person)
    audit.record("account.signed_out_everywhere", person, actor_id=admin.id, reason=reason)


# -- the audit log --------------------------------------------------------------------------------


def audit_page(page: int = 1, action: str | None = None) -> Page[AuditEvent]:
    """The log, newest first, optionally one action only."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action == action)
    return _page_of(query, page, EVENTS_PER_PAGE)


def audit_actions() -> list[str]:
    """Every action the log holds, to filter by."""
    query = select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    return list(db.session.scalars(query))


def display_names(user_ids: Iterable[int | None]) -> dict[int, str]:
    """The current display name of each account that still exists."""
    ids = {i for i in user_ids if i is not None}
    if not ids:
        return {}
    rows = db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {user_id: name for user_id, name in rows}
