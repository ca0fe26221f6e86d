"""A consultation: one question put to the public on a mission, and its life cycle."""

from __future__ import annotations

import enum
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberate.extensions import db
from deliberate.models._types import enum_column, utcnow

TITLE_MAX = 200


class ConsultationState(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"


class ModerationMode(enum.StrEnum):
    PRE = "pre"  # comments wait for a moderator before anyone votes on them
    POST = "post"  # comments go live at once and can be taken down afterwards


class IllegalTransition(Exception):
    """A consultation was asked to move to a state it cannot reach from where it is."""


class Consultation(db.Model):
    __tablename__ = "consultations"
    __table_args__ = (UniqueConstraint("source_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mission_id: Mapped[int] = mapped_column(ForeignKey("missions.id"), index=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    context: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[ConsultationState] = mapped_column(
        enum_column(ConsultationState), default=ConsultationState.DRAFT
    )
    moderation_mode: Mapped[ModerationMode] = mapped_column(
        enum_column(ModerationMode), default=ModerationMode.POST
    )
    allow_anonymous: Mapped[bool] = mapped_column(default=True)
    opens_at: Mapped[datetime | None]
    closes_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # The parts of the public service a participant may say they work in or use, one per line.
    service_areas: Mapped[str] = mapped_column(Text, default="", server_default="")
    round_number: Mapped[int] = mapped_column(default=1)
    previous_round_id: Mapped[int | None] = mapped_column(ForeignKey("consultations.id"))
    # Where an imported consultation came from, and the attribution its licence requires.
    source_key: Mapped[str | None] = mapped_column(String(200))
    source_url: Mapped[str | None] = mapped_column(String(500))
    source_attribution: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Counts the changes to statements already written that an analysis reads: moderation
    # decisions and moderators' edits. New votes and statements are seen by their ids; these
    # are not, so a run keeps this count and is stale once it has grown (services.analysis_runs).
    moderation_changes: Mapped[int] = mapped_column(default=0, server_default="0")
    # The language its title, description and seed statements are written in, and the other
    # languages it takes part in (codes separated by commas, say "cy"): models/translation.py.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    other_languages: Mapped[str] = mapped_column(String(100), default="", server_default="")

    mission: Mapped[Mission] = relationship(back_populates="consultations")  # noqa: F821
    previous_round: Mapped[Consultation | None] = relationship(remote_side=[id])
    # Loaded when a page shows them, never on the vote path (it reads no words).
    translations: Mapped[list[ConsultationTranslation]] = relationship(  # noqa: F821
        cascade="all, delete-orphan", passive_deletes=True
    )

    def __init__(self, **fields):
        # Column defaults only apply at flush; the state machine needs them from the start.
        fields.setdefault("state", ConsultationState.DRAFT)
        fields.setdefault("moderation_mode", ModerationMode.POST)
        fields.setdefault("allow_anonymous", True)
        fields.setdefault("round_number", 1)
        fields.setdefault("service_areas", "")
        fields.setdefault("moderation_changes", 0)
        fields.setdefault("language", "en")
        fields.setdefault("other_languages", "")
        super().__init__(**fields)

    @property
    def service_area_choices(self) -> list[str]:
        return [line.strip() for line in self.service_areas.splitlines() if line.strip()]

    @property
    def languages(self) -> list[str]:
        """Its main language first, then its other languages."""
        others = [code.strip() for code in self.other_languages.split(",") if code.strip()]
        return [self.language, *[code for code in others if code != self.language]]

    @property
    def is_multilingual(self) -> bool:
        return len(self.languages) > 1

    def why_not_open(self, now: datetime | None = None) -> str | None:
        """Why the consultation cannot be opened now, or None when it can."""
        now = now or utcnow()
        if self.state is not ConsultationState.DRAFT:
            if self.state is ConsultationState.OPEN:
                return _("Only a draft consultation can be opened; this one is open.")
            return _("Only a draft consultation can be opened; this one is closed.")
        if self.closes_at is not None and self.closes_at <= now:
            return _("The closing date has passed: set a later one before opening.")
        return None

    def open(self, now: datetime | None = None) -> None:
        now = now or utcnow()
        problem = self.why_not_open(now)
        if problem:
            raise IllegalTransition(problem)
        self.state = ConsultationState.OPEN
        self.opened_at = now

    def why_not_close(self) -> str | None:
        if self.state is not ConsultationState.OPEN:
            if self.state is ConsultationState.DRAFT:
                return _("Only an open consultation can be closed; this one is draft.")
            return _("Only an open consultation can be closed; this one is closed.")
        return None

    def close(self, now: datetime | None = None) -> None:
        problem = self.why_not_close()
        if problem:
            raise IllegalTransition(problem)
        self.state = ConsultationState.CLOSED
        self.closed_at = now or utcnow()

    def closed_on(self, now: datetime | None = None) -> datetime | None:
        """When it stopped taking answers: closed by the team, or its closing date passed."""
        if self.state is ConsultationState.CLOSED:
            return self.closed_at or self.closes_at
        if self.state is ConsultationState.OPEN and self.closing_date_passed(now):
            return self.closes_at
        return None

    def why_not_reopen(self) -> str | None:
        if self.state is not ConsultationState.CLOSED:
            if self.state is ConsultationState.DRAFT:
                return _("Only a closed consultation can be reopened; this one is draft.")
            return _("Only a closed consultation can be reopened; this one is open.")
        return None

    def closing_date_passed(self, now: datetime | None = None) -> bool:
        return self.closes_at is not None and self.closes_at <= (now or utcnow())

    def reopen(self, now: datetime | None = None) -> None:
        """Take part again after a close, say one made too early or by mistake.

        A closing date that has passed is cleared (a closed consultation's dates cannot be edited,
        and reopening it only to stop at once would help nobody): it then stays open until it is
        closed, and the team can set a new closing date while it is open."""
        problem = self.why_not_reopen()
        if problem:
            raise IllegalTransition(problem)
        if self.closing_date_passed(now):
            self.closes_at = None
        self.state = ConsultationState.OPEN
        self.closed_at = None

    def next_round(self) -> Consultation:
        """A new draft asking the same question of the same mission, linked back to this round so
        the two can be compared. Dates are not copied: the old ones have passed."""
        if self.state is not ConsultationState.CLOSED:
            raise IllegalTransition(
                _("Only a closed consultation can start a next round; this one is draft.")
                if self.state is ConsultationState.DRAFT
                else _("Only a closed consultation can start a next round; this one is open.")
            )
        return Consultation(
            mission_id=self.mission_id,
            title=self.title,
            context=self.context,
            moderation_mode=self.moderation_mode,
            allow_anonymous=self.allow_anonymous,
            service_areas=self.service_areas,
            language=self.language,
            other_languages=self.other_languages,
            round_number=self.round_number + 1,
            previous_round_id=self.id,
        )

    def is_accepting_input(self, now: datetime | None = None) -> bool:
        """Open, and within its optional dates: the one rule every write checks."""
        now = now or utcnow()
        if self.state is not ConsultationState.OPEN:
            return False
        if self.opens_at is not None and now < self.opens_at:
            return False
        return self.closes_at is None or now < self.closes_at
