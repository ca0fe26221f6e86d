"""Personal API tokens: how a participant's own program answers and adds statements through the
JSON API (``/api/v1``) as them, without a browser session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberate.extensions import db
from deliberate.models._types import utcnow

API_TOKEN_NAME_MAX = 100


class ApiToken(db.Model):
    """A token its owner named and was shown once, on their account page. Only its SHA-256 is
    stored (``extensions.token_hash``), so the database alone opens nothing. A revoked token is
    kept (its owner's data download lists it) but no longer opens anything."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(API_TOKEN_NAME_MAX))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()  # noqa: F821

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ApiHeldComment(db.Model):
    """Whose program a comment held for the similarity check belongs to. The site keeps that in
    the author's browser session; an API client has none, so only the account that sent the
    comment may follow it and post it. Goes with the held comment (and with the account)."""

    __tablename__ = "api_held_comments"

    check_id: Mapped[int] = mapped_column(
        ForeignKey("similarity_checks.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
