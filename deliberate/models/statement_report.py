"""Participants reporting a statement they think breaks the moderation policy.

Each participant may report a statement once. Reports are kept (with their reason and optional
note) until a moderator decides about the statement: the decision marks them reviewed, so the
count of distinct reporters that hides a statement only counts reports nobody has acted on yet.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberate.extensions import db
from deliberate.models._types import enum_column, utcnow
from deliberate.models.participation import RemovalReason

REPORT_NOTE_MAX = 500


# Participants report a statement for one of the reasons of the published moderation policy: the
# moderators' removal reasons, so that a report and the decision about it speak one language.
ReportReason = RemovalReason


# What each reason covers, as the report form's hints put it to a participant.
REPORT_HINTS = {
    ReportReason.ABUSIVE: _l("Insults, threats or hateful words about a person or group"),
    ReportReason.PERSONAL_INFORMATION: _l("Names or details that could identify someone"),
    ReportReason.OFF_TOPIC: _l("Not about the question of this consultation"),
    ReportReason.DUPLICATE: _l("The same point as another statement"),
    ReportReason.SPAM: _l("Advertising, links or nonsense"),
    ReportReason.UNLAWFUL: _l("For example libel, or encouraging a crime"),
    ReportReason.OTHER: _l("Say what is wrong in the box below"),
}


class StatementReport(db.Model):
    """One participant's report of one statement. The reporter is kept as a participant only
    (never the account), so moderators see how many people reported, not who."""

    __tablename__ = "statement_reports"
    __table_args__ = (UniqueConstraint("statement_id", "participant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unique key's index (statement_id first) also serves the foreign key.
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[ReportReason] = mapped_column(enum_column(ReportReason, name="reportreason"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When a moderator decided about the statement (accepted or rejected it) after this report.
    reviewed_at: Mapped[datetime | None]

    statement: Mapped[Statement] = relationship()  # noqa: F821
