"""Statements, the people taking part, and their votes."""

from __future__ import annotations

import enum
import re
import unicodedata
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberate.extensions import db
from deliberate.findings.exclusions import REASON_WORDS
from deliberate.models._types import enum_column, utcnow
from deliberate.wording import counted

STATEMENT_MAX = 1000


class StatementOrigin(enum.StrEnum):
    SEED = "seed"  # written by the mission team to start the conversation
    PARTICIPANT = "participant"  # a comment from someone taking part


class ModerationStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class RemovalReason(enum.StrEnum):
    """Why moderators removed or edited a statement: the reasons the published moderation policy
    names. Defined once here; the policy page, the moderation forms, the author's answers page,
    the moderation log and the report's count of removals all read them from here."""

    ABUSIVE = "abusive"
    PERSONAL_INFORMATION = "personal_information"
    OFF_TOPIC = "off_topic"
    DUPLICATE = "duplicate"
    SPAM = "spam"
    UNLAWFUL = "unlawful"
    OTHER = "other"

    @property
    def label(self) -> str:
        """The public name of the reason, as the policy and the author see it."""
        return str(_REASON_LABELS[self])

    @property
    def explanation(self) -> str:
        """What the reason covers, in the words of the default policy."""
        return _REASON_EXPLANATIONS[self]

    def counted(self, n: int) -> str:
        """``n`` statements removed for this reason, in a sentence: "7 duplicates", "2 abusive"."""
        if self is RemovalReason.DUPLICATE:
            return counted(n, "duplicate")
        if self is RemovalReason.OTHER:
            return f"{n:,} for other reasons" if n != 1 else "1 for another reason"
        return f"{n:,} {self.label.lower()}"


_REASON_LABELS = {
    RemovalReason.ABUSIVE: _l("Abusive"),
    RemovalReason.PERSONAL_INFORMATION: _l("Personal information"),
    RemovalReason.OFF_TOPIC: _l("Off-topic"),
    RemovalReason.DUPLICATE: _l("Duplicate"),
    RemovalReason.SPAM: _l("Spam"),
    RemovalReason.UNLAWFUL: _l("Unlawful"),
    RemovalReason.OTHER: _l("Other"),
}
_REASON_EXPLANATIONS = {
    RemovalReason.ABUSIVE: "insults, threats, harassment, or hateful words about a person or a "
    "group of people",
    RemovalReason.PERSONAL_INFORMATION: "anything that could identify a person, such as a name, "
    "an address, a ward or a job title with a place",
    RemovalReason.OFF_TOPIC: "not about the question this consultation asks",
    RemovalReason.DUPLICATE: "says what another statement already says, so people can vote on "
    "that one instead",
    RemovalReason.SPAM: "advertising, links to sell something, or text posted again and again",
    RemovalReason.UNLAWFUL: "breaks the law, for example by defaming someone, inciting a crime "
    "or being in contempt of court",
    RemovalReason.OTHER: "breaks these rules in a way not listed above; the moderator explains "
    "why in a note",
}


class ParticipantRole(enum.StrEnum):
    """The role someone held when taking part, kept so analyses can compare staff and citizens."""

    CITIZEN = "citizen"
    STAFF = "staff"


class ParticipantFlag(enum.StrEnum):
    """Why a participant is flagged for the team's review, and so why one may be left out of the
    analysis (deliberate.services.participation_review)."""

    BURST = "burst"  # one of a burst of new participants from one address
    IDENTICAL_VOTES = "identical_votes"  # the very same answers as other participants

    @property
    def label(self) -> str:
        """In a report's words: "3 participants ... joined in a burst from one address"."""
        return REASON_WORDS[self.value]


class VoteChoice(enum.IntEnum):
    AGREE = 1
    DISAGREE = -1
    PASS = 0

    @property
    def label(self) -> str:
        return {1: _("Agree"), -1: _("Disagree"), 0: _("Pass / unsure")}[self.value]


def normalise_statement(text: str) -> str:
    """The form in which two statements are compared to catch duplicates: letter case,
    punctuation and spacing are ignored; letters (accented or not, in any script) are kept."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    folded = re.sub(r"[^\w\s]", "", folded)
    return re.sub(r"\s+", " ", folded).strip()


class Statement(db.Model):
    __tablename__ = "statements"
    __table_args__ = (
        UniqueConstraint("consultation_id", "source_id"),
        Index("ix_statements_consultation_normalised", "consultation_id", "normalised_text"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    normalised_text: Mapped[str] = mapped_column(Text)
    origin: Mapped[StatementOrigin] = mapped_column(enum_column(StatementOrigin))
    moderation: Mapped[ModerationStatus] = mapped_column(
        enum_column(ModerationStatus), default=ModerationStatus.PENDING
    )
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True
    )
    author_role: Mapped[ParticipantRole | None] = mapped_column(enum_column(ParticipantRole))
    is_meta: Mapped[bool] = mapped_column(default=False)
    source_id: Mapped[int | None]  # the comment id in an imported export, written back on export
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    moderated_at: Mapped[datetime | None]
    # Set when enough distinct participants reported it (DELIBERATE_REPORT_THRESHOLD): hidden
    # from participants until a moderator decides. See services/statement_reports.py.
    hidden_by_reports_at: Mapped[datetime | None]
    # Why the moderators removed it (set while it is rejected), and what they told its author.
    # Who decided is in the audit log ("statement.moderated"), with the moderator's role.
    removal_reason: Mapped[RemovalReason | None] = mapped_column(enum_column(RemovalReason))
    removal_note: Mapped[str | None] = mapped_column(Text)
    # When the moderators last edited its words (to take out personal details, say). Nothing of
    # the words taken out is kept anywhere; the audit event has the statement and the reason.
    redacted_at: Mapped[datetime | None]
    # The language it was written in (a code such as "en" or "cy"); its translations by the team
    # are in ``translations`` (models/translation.py). Votes are on the statement, whatever the
    # language it was read in.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")

    consultation: Mapped[Consultation] = relationship()  # noqa: F821
    author: Mapped[Participant | None] = relationship(foreign_keys=[author_id])
    # Loaded when a page shows them (lists load them together: selectinload), never on the vote
    # path, which reads no words.
    translations: Mapped[list[StatementTranslation]] = relationship(  # noqa: F821
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="StatementTranslation.language",
    )

    @property
    def is_hidden_by_reports(self) -> bool:
        return self.hidden_by_reports_at is not None

    @property
    def is_votable(self) -> bool:
        """Offered to participants: accepted, and not hidden after reports."""
        return self.moderation is ModerationStatus.ACCEPTED and self.hidden_by_reports_at is None


class Participant(db.Model):
    """One person's presence in one consultation: a signed-in user or an anonymous cookie."""

    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("consultation_id", "user_id"),
        UniqueConstraint("consultation_id", "anonymous_token_hash"),
        UniqueConstraint("consultation_id", "source_id"),
        Index("ix_participants_address_key_created_at", "address_key", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    anonymous_token_hash: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[ParticipantRole] = mapped_column(
        enum_column(ParticipantRole), default=ParticipantRole.CITIZEN
    )
    service_area: Mapped[str | None] = mapped_column(String(100))
    source_id: Mapped[int | None]  # the participant id in an imported export
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # An anonymous participant's address, as a keyed hash that changes daily (never the address:
    # deliberate.services.address_keys); None for accounts, imports and older participants.
    address_key: Mapped[str | None] = mapped_column(String(32))
    # Left out of the analysis by the team, and why; the votes stay stored.
    excluded_at: Mapped[datetime | None]
    excluded_for: Mapped[ParticipantFlag | None] = mapped_column(enum_column(ParticipantFlag))
    # Arrived through the invitation emailed to the followers of an earlier round: what a round's
    # report counts as "came back" (with the accounts that took part in both). Never which
    # follower, nor their address.
    invited_back: Mapped[bool] = mapped_column(default=False, server_default=false())

    consultation: Mapped[Consultation] = relationship()  # noqa: F821
    user: Mapped[User | None] = relationship()  # noqa: F821


class Vote(db.Model):
    """The current answer of one participant to one statement. Changing it rewrites this row and
    appends to ``vote_events``, so exports can give both the final matrix and the full history.

    ``consultation_id`` is a plain indexed copy (no foreign key): PostgreSQL checks each foreign
    key row by row, and the statement's key already ties a vote to its consultation."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("participant_id", "statement_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(index=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participants.id", ondelete="CASCADE"))
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("statements.id", ondelete="CASCADE"), index=True
    )
    choice: Mapped[int] = mapped_column(SmallInteger)
    cast_at_ms: Mapped[int] = mapped_column(BigInteger)

    @property
    def vote_choice(self) -> VoteChoice:
        return VoteChoice(self.choice)


class VoteEvent(db.Model):
    """Every vote ever cast, in order; never updated. An append-only log tied to its consultation
    (deleted with it); participant and statement ids are kept without per-row key checks, which
    would triple the cost of importing a large conversation."""

    __tablename__ = "vote_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    participant_id: Mapped[int]
    statement_id: Mapped[int]
    choice: Mapped[int] = mapped_column(SmallInteger)
    cast_at_ms: Mapped[int] = mapped_column(BigInteger)
