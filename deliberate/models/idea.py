"""Ideas that frontline staff propose for a mission, and their public journey through stages."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberate.extensions import db
from deliberate.models._types import enum_column, utcnow
from deliberate.models.participation import ParticipantRole

IDEA_TITLE_MAX = 150
IDEA_TEXT_MAX = 3000


class IdeaStage(enum.StrEnum):
    PROPOSED = "proposed"
    UNDER_REVIEW = "under_review"
    BEING_TRIALLED = "being_trialled"
    ADOPTED = "adopted"
    NOT_TAKEN_FORWARD = "not_taken_forward"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Idea(db.Model):
    __tablename__ = "ideas"

    id: Mapped[int] = mapped_column(primary_key=True)
    mission_id: Mapped[int] = mapped_column(ForeignKey("missions.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(IDEA_TITLE_MAX))
    problem: Mapped[str] = mapped_column(Text)
    proposal: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text, default="")
    stage: Mapped[IdeaStage] = mapped_column(enum_column(IdeaStage), default=IdeaStage.PROPOSED)
    trial_learning: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    mission: Mapped[Mission] = relationship()  # noqa: F821
    author: Mapped[User | None] = relationship()  # noqa: F821
    history: Mapped[list[IdeaStageChange]] = relationship(
        back_populates="idea", order_by="IdeaStageChange.changed_at", cascade="all, delete-orphan"
    )
    supports: Mapped[list[IdeaSupport]] = relationship(
        back_populates="idea", cascade="all, delete-orphan"
    )

    def __init__(self, **fields):
        fields.setdefault("stage", IdeaStage.PROPOSED)
        super().__init__(**fields)


class IdeaStageChange(db.Model):
    """One public move of an idea, with the mission team's reason."""

    __tablename__ = "idea_stage_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    from_stage: Mapped[IdeaStage] = mapped_column(enum_column(IdeaStage, "from_stage"))
    to_stage: Mapped[IdeaStage] = mapped_column(enum_column(IdeaStage, "to_stage"))
    reason: Mapped[str] = mapped_column(Text)
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)

    idea: Mapped[Idea] = relationship(back_populates="history")
    changed_by: Mapped[User | None] = relationship()  # noqa: F821


class IdeaSupport(db.Model):
    """A signed-in person's support for an idea, once each, with their role at the time."""

    __tablename__ = "idea_supports"
    __table_args__ = (UniqueConstraint("idea_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[ParticipantRole] = mapped_column(enum_column(ParticipantRole))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    idea: Mapped[Idea] = relationship(back_populates="supports")
