"""Ideas that frontline staff propose for a mission, and their public journey through stages."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberate.extensions import db
from deliberate.models._types import enum_column, utcnow
from deliberate.models.consultation import IllegalTransition
from deliberate.models.participation import ParticipantRole

IDEA_TITLE_MAX = 150
IDEA_TEXT_MAX = 3000
STAFF_DOMAIN_MAX = 253

# Where the author works, in words, from the staff domain their work address was verified on.
# A domain not listed here (an operator's own) is named as it is: "at example.org".
WORKPLACES = {
    "nhs.net": _l("in the NHS"),
    "nhs.uk": _l("in the NHS"),
    "police.uk": _l("in the police"),
    "gov.uk": _l("in central or local government"),
    "sch.uk": _l("at a school"),
    "ac.uk": _l("at a college or university"),
}


def workplace(staff_domain: str | None) -> str | None:
    """The workplace in words ("in the NHS" for nhs.net); None when no domain was kept."""
    if not staff_domain:
        return None
    if staff_domain in WORKPLACES:
        return str(WORKPLACES[staff_domain])
    return _("at %(domain)s", domain=staff_domain)


def describe_author(staff_domain: str | None) -> str:
    """An idea's author without a name: "a verified member of staff in the NHS"."""
    where = workplace(staff_domain)
    if where:
        return _("a verified member of staff %(workplace)s", workplace=where)
    return _("a verified member of staff")


class IdeaStage(enum.StrEnum):
    PROPOSED = "proposed"
    UNDER_REVIEW = "under_review"
    BEING_TRIALLED = "being_trialled"
    ADOPTED = "adopted"
    NOT_TAKEN_FORWARD = "not_taken_forward"

    @property
    def label(self) -> str:
        return str(_STAGE_LABELS[self])


_STAGE_LABELS = {
    IdeaStage.PROPOSED: _l("Proposed"),
    IdeaStage.UNDER_REVIEW: _l("Under review"),
    IdeaStage.BEING_TRIALLED: _l("Being trialled"),
    IdeaStage.ADOPTED: _l("Adopted"),
    IdeaStage.NOT_TAKEN_FORWARD: _l("Not taken forward"),
}


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
    # The author chose, when proposing, to have their name shown. By default (and for every idea
    # proposed before the choice existed) an idea says only who proposed it in general terms.
    show_author_name: Mapped[bool] = mapped_column(default=False, server_default=false())
    # The accepted staff domain (from the settings, such as nhs.net) the author's work address was
    # verified on when they proposed: the broad one, never their address or its subdomain. Kept
    # with the idea, so it still says where its author worked once their account is gone.
    author_staff_domain: Mapped[str | None] = mapped_column(String(STAFF_DOMAIN_MAX))

    mission: Mapped[Mission] = relationship()  # noqa: F821
    author: Mapped[User | None] = relationship()  # noqa: F821
    history: Mapped[list[IdeaStageChange]] = relationship(
        back_populates="idea", order_by="IdeaStageChange.changed_at", cascade="all, delete-orphan"
    )
    supports: Mapped[list[IdeaSupport]] = relationship(
        back_populates="idea", cascade="all, delete-orphan"
    )

    # The public stages and where each may go next, in one place. Every idea is reviewed before
    # any decision, and a decision (adopted or not taken forward) is final.
    MOVES: ClassVar[dict[IdeaStage, tuple[IdeaStage, ...]]] = {
        IdeaStage.PROPOSED: (IdeaStage.UNDER_REVIEW,),
        IdeaStage.UNDER_REVIEW: (
            IdeaStage.BEING_TRIALLED,
            IdeaStage.ADOPTED,
            IdeaStage.NOT_TAKEN_FORWARD,
        ),
        IdeaStage.BEING_TRIALLED: (IdeaStage.ADOPTED, IdeaStage.NOT_TAKEN_FORWARD),
        IdeaStage.ADOPTED: (),
        IdeaStage.NOT_TAKEN_FORWARD: (),
    }

    def __init__(self, **fields):
        fields.setdefault("stage", IdeaStage.PROPOSED)
        fields.setdefault("evidence", "")
        fields.setdefault("show_author_name", False)
        super().__init__(**fields)

    @property
    def author_description(self) -> str:
        """Who proposed the idea, without a name: "a verified member of staff in the NHS"."""
        return describe_author(self.author_staff_domain)

    @property
    def public_author_name(self) -> str | None:
        """The author's name, only when they chose to show it and their account still exists."""
        if self.show_author_name and self.author is not None:
            return self.author.display_name
        return None

    @property
    def next_stages(self) -> tuple[IdeaStage, ...]:
        return self.MOVES[self.stage]

    @property
    def is_decided(self) -> bool:
        """Adopted or not taken forward: the journey is over and the idea cannot move again."""
        return not self.next_stages

    @property
    def was_trialled(self) -> bool:
        return self.stage is IdeaStage.BEING_TRIALLED or any(
            change.to_stage is IdeaStage.BEING_TRIALLED for change in self.history
        )

    def move_to(
        self,
        stage: IdeaStage,
        reason: str,
        by: User | None,  # noqa: F821
        now: datetime | None = None,
    ) -> IdeaStageChange:
        """Move to a legal next stage, recording the public reason as the idea's history."""
        if stage not in self.next_stages:
            raise IllegalTransition(self._why_not(stage))
        if not reason or not reason.strip():
            raise IllegalTransition(_("Every move needs a public reason."))
        change = IdeaStageChange(
            from_stage=self.stage,
            to_stage=stage,
            reason=reason.strip(),
            changed_by=by,
            changed_at=now or utcnow(),
        )
        self.history.append(change)
        self.stage = stage
        return change

    def record_trial_learning(self, learning: str) -> None:
        """What a trial taught, kept once the idea has been trialled (even after the decision)."""
        if not self.was_trialled:
            raise IllegalTransition(
                _(
                    "Only an idea that is being trialled, or has been, can record what a trial "
                    "learnt."
                )
            )
        if not learning or not learning.strip():
            raise IllegalTransition(_("Say what the trial learnt."))
        self.trial_learning = learning.strip()

    def _why_not(self, stage: IdeaStage) -> str:
        here = self.stage.label.lower()
        if self.is_decided:
            return _(
                "This idea is %(stage)s: that decision is final, so it cannot move again.",
                stage=here,
            )
        if stage is self.stage:
            return _("This idea is already %(stage)s.", stage=here)
        allowed = _(" or ").join(s.label.lower() for s in self.next_stages)
        return _(
            "An idea that is %(stage)s can only move to %(allowed)s.", stage=here, allowed=allowed
        )


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
    """A signed-in person's support for an idea, once each, with their role at the time.

    A support outlives the account that gave it (``user_id`` becomes NULL when the person deletes
    their account), so an idea's published support counts stay true."""

    __tablename__ = "idea_supports"
    __table_args__ = (UniqueConstraint("idea_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idea_id: Mapped[int] = mapped_column(ForeignKey("ideas.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    role: Mapped[ParticipantRole] = mapped_column(enum_column(ParticipantRole))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    idea: Mapped[Idea] = relationship(back_populates="supports")
