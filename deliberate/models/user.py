"""People who sign in, and what they are allowed to do."""

from __future__ import annotations

import enum
import hmac
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from deliberate.extensions import db
from deliberate.models._types import enum_column, utcnow

EMAIL_MAX = 254
NAME_MAX = 100


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class User(UserMixin, db.Model):
    """An account. Everyone is a citizen; staff status, teams and moderation are earned on top.

    Roles are not exclusive (a verified nurse may also sit on the NHS mission team), so they are
    flags and memberships rather than one enum.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    display_name: Mapped[str] = mapped_column(String(NAME_MAX))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_moderator: Mapped[bool] = mapped_column(default=False)
    staff_email: Mapped[str | None] = mapped_column(String(EMAIL_MAX))
    staff_verified_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When the person opened the link sent to their email address. An account registered through
    # the site cannot be signed in to until then; accounts made by an operator are confirmed.
    email_confirmed_at: Mapped[datetime | None]
    # Part of every session cookie's user id: a new token ends every session signed in before it
    # (signing out, a new password, an admin's "sign out everywhere").
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)

    team_memberships: Mapped[list[MissionTeamMember]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    def get_id(self) -> str:
        """What the session cookie keeps: the id and the current session token."""
        return f"{self.id}:{self.session_token}"

    def holds_session(self, token: str) -> bool:
        return hmac.compare_digest(self.session_token.encode(), token.encode())

    def end_sessions(self) -> None:
        """Make every session cookie issued so far useless."""
        self.session_token = new_session_token()

    def set_password(self, password: str, method: str = "scrypt") -> None:
        self.password_hash = generate_password_hash(password, method=method)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def email_confirmed(self) -> bool:
        return self.email_confirmed_at is not None

    @property
    def is_staff(self) -> bool:
        return self.staff_verified_at is not None

    @property
    def staff_domain(self) -> str | None:
        return self.staff_email.rsplit("@", 1)[1] if self.staff_email else None

    def is_on_team(self, mission_id: int) -> bool:
        return self.is_admin or any(m.mission_id == mission_id for m in self.team_memberships)

    @property
    def role_names(self) -> list[str]:
        roles = ["Citizen"]
        if self.is_staff:
            roles.append("Verified frontline staff")
        if self.team_memberships:
            roles.append("Mission team")
        if self.is_moderator:
            roles.append("Moderator")
        if self.is_admin:
            roles.append("Administrator")
        return roles


class MissionTeamMember(db.Model):
    """Membership of one mission's team: who may open, run and moderate its consultations."""

    __tablename__ = "mission_team_members"
    __table_args__ = (UniqueConstraint("user_id", "mission_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    mission_id: Mapped[int] = mapped_column(ForeignKey("missions.id", ondelete="CASCADE"))
    added_at: Mapped[datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship(back_populates="team_memberships")
    mission: Mapped[Mission] = relationship()  # noqa: F821


class StaffVerification(db.Model):
    """A one-time, expiring link sent to a work address. Only the token's hash is stored."""

    __tablename__ = "staff_verifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class TokenPurpose(enum.StrEnum):
    PASSWORD_RESET = "password_reset"  # noqa: S105 (a purpose, not a password)
    EMAIL_CHANGE = "email_change"
    CONFIRM_EMAIL = "confirm_email"  # a new account's address, before it can be signed in to


class AccountToken(db.Model):
    """A one-time, expiring link emailed to a person about their account (a password reset, a
    new email address to confirm). Only the token's hash is stored."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[TokenPurpose] = mapped_column(enum_column(TokenPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    new_email: Mapped[str | None] = mapped_column(String(EMAIL_MAX))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
