"""People who asked to be emailed about a consultation: its summary, the team's response and the
next round. Apart from everything else a person leaves here on purpose."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberate.extensions import db
from deliberate.models._types import utcnow
from deliberate.models.user import EMAIL_MAX


class Follower(db.Model):
    """An email address that asked to hear about one consultation and the rounds after it.

    Deliberately linked to nothing but the consultation: not to a participant, an account or an
    answer, so the address cannot tell anyone what its owner said. Only hashes of its links are
    stored: the confirmation link's (random, sent once) and the unsubscribe link's (a keyed hash
    of ``unsubscribe_salt`` under the app's secret key, so every email can carry it again while
    the database alone opens nothing). Deleted on unsubscribing, and by the retention purge
    (deliberate.services.retention): unconfirmed after ``FOLLOWER_CONFIRM_DAYS``, confirmed
    ``FOLLOWER_KEEP_DAYS`` after the last round of the consultation closed."""

    __tablename__ = "followers"
    __table_args__ = (UniqueConstraint("consultation_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(String(EMAIL_MAX))
    confirm_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    confirm_sent_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    unsubscribe_salt: Mapped[str] = mapped_column(String(64))
    unsubscribe_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The interface language (deliberate.i18n.LANGUAGES) of the request that asked to follow:
    # every email to the address is written in it. Rows from before it was kept: English.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")

    consultation: Mapped[Consultation] = relationship()  # noqa: F821

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None
