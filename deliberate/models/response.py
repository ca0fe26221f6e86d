"""The mission team's responses to a consultation ("You said, we did"): what was decided or done,
what it answers (statements, findings of an analysis run, topics, staff ideas), and its dated
public updates.

A response is public as soon as it is recorded: it is a commitment the team makes in the open,
and every later change of status is a dated update, so nothing is quietly rewritten.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import ClassVar

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberate.extensions import db
from deliberate.models._types import enum_column, utcnow
from deliberate.models.consultation import IllegalTransition

RESPONSE_TITLE_MAX = 200
RESPONSE_TEXT_MAX = 5000


class ResponseStatus(enum.StrEnum):
    CONSIDERING = "considering"
    DECIDED = "decided"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    NOT_DOING = "not_doing"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class LinkKind(enum.StrEnum):
    """What a response answers. The finding kinds name a finding of one analysis run, together
    with the run, the statement and (for a group's statements) the group or (for a topic) the
    topic: the same finding of the same run, however often the report is rendered."""

    STATEMENT = "statement"
    IDEA = "idea"
    CONSENSUS = "consensus"  # common ground: a majority of every group (agreed or rejected)
    DIVISIVE = "divisive"  # where the groups divide
    REPRESENTATIVE = "representative"  # what sets one group apart
    ROLE_DIFFERENCE = "role_difference"  # where staff and citizens differ
    ROLE_AGREEMENT = "role_agreement"  # where staff and citizens both agree
    TOPIC = "topic"

    @property
    def is_finding(self) -> bool:
        return self not in (LinkKind.STATEMENT, LinkKind.IDEA)


class MissionResponse(db.Model):
    __tablename__ = "mission_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(RESPONSE_TITLE_MAX))
    explanation: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ResponseStatus] = mapped_column(enum_column(ResponseStatus))
    # Why the team is not doing it: required while the status is "not doing".
    not_doing_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # When it was recorded or last updated: the date readers see as "last updated".
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    consultation: Mapped[Consultation] = relationship()  # noqa: F821
    created_by: Mapped[User | None] = relationship()  # noqa: F821
    links: Mapped[list[ResponseLink]] = relationship(
        back_populates="response", cascade="all, delete-orphan", order_by="ResponseLink.id"
    )
    updates: Mapped[list[ResponseUpdate]] = relationship(
        back_populates="response",
        cascade="all, delete-orphan",
        order_by="[ResponseUpdate.created_at, ResponseUpdate.id]",
    )

    # Where each status may go next. "Done" is final; a "not doing" may be reconsidered.
    MOVES: ClassVar[dict[ResponseStatus, tuple[ResponseStatus, ...]]] = {
        ResponseStatus.CONSIDERING: (
            ResponseStatus.DECIDED,
            ResponseStatus.IN_PROGRESS,
            ResponseStatus.DONE,
            ResponseStatus.NOT_DOING,
        ),
        ResponseStatus.DECIDED: (
            ResponseStatus.IN_PROGRESS,
            ResponseStatus.DONE,
            ResponseStatus.NOT_DOING,
        ),
        ResponseStatus.IN_PROGRESS: (ResponseStatus.DONE, ResponseStatus.NOT_DOING),
        ResponseStatus.DONE: (),
        ResponseStatus.NOT_DOING: (ResponseStatus.CONSIDERING,),
    }

    def __init__(self, **fields):
        status = fields.get("status", ResponseStatus.CONSIDERING)
        _check_reason(status, fields.get("not_doing_reason"))
        fields.setdefault("status", status)
        fields.setdefault("explanation", "")
        super().__init__(**fields)

    @property
    def next_statuses(self) -> tuple[ResponseStatus, ...]:
        return self.MOVES[self.status]

    def move_to(
        self,
        status: ResponseStatus,
        note: str,
        reason: str | None = None,
        by: User | None = None,  # noqa: F821
        now: datetime | None = None,
    ) -> ResponseUpdate:
        """A dated public update that changes the status; refused when the move is not allowed,
        or when "not doing" comes without its reason."""
        if status not in self.next_statuses:
            raise IllegalTransition(self._why_not(status))
        _check_reason(status, reason)
        update = self.note(note, by=by, now=now)
        update.from_status, update.to_status = self.status, status
        self.status = status
        self.not_doing_reason = reason.strip() if status is ResponseStatus.NOT_DOING else None
        return update

    def note(
        self,
        note: str,
        by: User | None = None,  # noqa: F821
        now: datetime | None = None,
    ) -> ResponseUpdate:
        """A dated public update that leaves the status as it is."""
        if not note or not note.strip():
            raise IllegalTransition("Say what has happened in this update.")
        now = now or utcnow()
        update = ResponseUpdate(note=note.strip(), created_by=by, created_at=now)
        self.updates.append(update)
        self.updated_at = now
        return update

    def _why_not(self, status: ResponseStatus) -> str:
        here = self.status.label.lower()
        if status is self.status:
            return f"This response is already “{here}”."
        if not self.next_statuses:
            return f"This response is {here}: that is final, so its status cannot change again."
        allowed = " or ".join(f"“{s.label.lower()}”" for s in self.next_statuses)
        return f"A response that is “{here}” can only move to {allowed}."


def _check_reason(status: ResponseStatus, reason: str | None) -> None:
    if status is ResponseStatus.NOT_DOING and not (reason and reason.strip()):
        raise IllegalTransition("Say why you are not doing this: the public reads the reason.")


class ResponseLink(db.Model):
    """One thing a response answers: a statement, a staff idea, or a finding of a run."""

    __tablename__ = "response_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("mission_responses.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[LinkKind] = mapped_column(enum_column(LinkKind))
    run_id: Mapped[int | None] = mapped_column(
        ForeignKey("analysis_runs.id", ondelete="CASCADE"), index=True
    )
    statement_id: Mapped[int | None] = mapped_column(
        ForeignKey("statements.id", ondelete="CASCADE"), index=True
    )
    group_id: Mapped[int | None]  # the opinion group, for what sets a group apart
    topic_id: Mapped[int | None]  # the topic's id in the run
    idea_id: Mapped[int | None] = mapped_column(
        ForeignKey("ideas.id", ondelete="CASCADE"), index=True
    )

    response: Mapped[MissionResponse] = relationship(back_populates="links")

    @property
    def key(self) -> str:
        """The finding or thing it names, as the team's form and the report name it."""
        return link_key(self.kind, self.statement_id, self.group_id, self.topic_id, self.idea_id)


def link_key(
    kind: LinkKind,
    statement_id: int | None = None,
    group_id: int | None = None,
    topic_id: int | None = None,
    idea_id: int | None = None,
) -> str:
    """The key of what a link names, within one run: "consensus:12", "representative:1:12",
    "topic:3", "statement:12", "idea:4"."""
    if kind is LinkKind.IDEA:
        return f"idea:{idea_id}"
    if kind is LinkKind.TOPIC:
        return f"topic:{topic_id}"
    if kind is LinkKind.REPRESENTATIVE:
        return f"representative:{group_id}:{statement_id}"
    return f"{kind.value}:{statement_id}"


class ResponseUpdate(db.Model):
    """A dated public note on a response, with the change of status it made (if any)."""

    __tablename__ = "response_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("mission_responses.id", ondelete="CASCADE"), index=True
    )
    note: Mapped[str] = mapped_column(Text)
    from_status: Mapped[ResponseStatus | None] = mapped_column(
        enum_column(ResponseStatus, "from_status")
    )
    to_status: Mapped[ResponseStatus | None] = mapped_column(
        enum_column(ResponseStatus, "to_status")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    response: Mapped[MissionResponse] = relationship(back_populates="updates")
    created_by: Mapped[User | None] = relationship()  # noqa: F821
