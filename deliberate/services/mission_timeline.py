"""A mission's public timeline: the dated things that happened on the way to its goal.

Consultation rounds opening and closing, summaries published, and the staff ideas the team moved
to a trial or to a decision (with the reason it gave, and what a trial learnt), and the team's
responses ("you said, we did") with their dated updates. Other features may add their own dated
events by passing them in as ``extra``. Oldest first, the order of the indicator chart's time
axis; the page lists them in the same order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date as Day
from datetime import datetime, time

from flask import url_for
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import (
    AnalysisRun,
    Consultation,
    ConsultationState,
    Idea,
    IdeaStage,
    IdeaStageChange,
    Mission,
    RunStatus,
)
from deliberate.services import responses

ROUND_OPENED = "round_opened"
ROUND_CLOSED = "round_closed"
SUMMARY_PUBLISHED = "summary_published"
IDEA_TRIALLED = "idea_trialled"
IDEA_ADOPTED = "idea_adopted"
IDEA_NOT_TAKEN_FORWARD = "idea_not_taken_forward"
RESPONSE = "response"

KIND_LABELS = {
    ROUND_OPENED: "Consultation opened",
    ROUND_CLOSED: "Consultation closed",
    SUMMARY_PUBLISHED: "Summary published",
    IDEA_TRIALLED: "Staff idea trialled",
    IDEA_ADOPTED: "Staff idea adopted",
    IDEA_NOT_TAKEN_FORWARD: "Staff idea not taken forward",
    RESPONSE: "Mission team response",
}
IDEA_KINDS = {
    IdeaStage.BEING_TRIALLED: IDEA_TRIALLED,
    IdeaStage.ADOPTED: IDEA_ADOPTED,
    IdeaStage.NOT_TAKEN_FORWARD: IDEA_NOT_TAKEN_FORWARD,
}


@dataclass(frozen=True)
class TimelineEvent:
    """One dated event. ``date`` is a datetime (naive UTC) or a day; ``url`` where to read more;
    ``detail`` the reason or note that goes with it; ``learnt`` what a trial taught, if anything."""

    date: datetime | Day
    kind: str
    title: str
    url: str | None = None
    detail: str = ""
    learnt: str = ""

    @property
    def day(self) -> Day:
        return self.date.date() if isinstance(self.date, datetime) else self.date

    @property
    def moment(self) -> datetime:
        if isinstance(self.date, datetime):
            return self.date
        return datetime.combine(self.date, time())

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.kind, self.kind.replace("_", " ").capitalize())


def multi_round_ids(consultations: Iterable[Consultation]) -> set[int]:
    """The consultations that are one round of a question asked more than once (among these)."""
    consultations = list(consultations)
    earlier = {c.previous_round_id for c in consultations if c.previous_round_id is not None}
    return {c.id for c in consultations if c.round_number > 1 or c.id in earlier}


def round_name(consultation: Consultation, several_rounds: bool) -> str:
    """“Question”, or “Question” (round 2) when the question was asked more than once."""
    name = f"“{consultation.title}”"
    return f"{name} (round {consultation.round_number})" if several_rounds else name


def mission_timeline(mission: Mission, extra: Iterable[TimelineEvent] = ()) -> list[TimelineEvent]:
    """Every public dated event of the mission, oldest first."""
    consultations = list(
        db.session.scalars(
            select(Consultation).where(
                Consultation.mission_id == mission.id,
                Consultation.state != ConsultationState.DRAFT,
            )
        )
    )
    several = multi_round_ids(consultations)
    events = [*_round_events(consultations, several), *_summary_events(consultations, several)]
    events += _idea_events(mission)
    events += _response_events(mission)
    events += list(extra)
    return sorted(events, key=lambda e: e.moment)


def _round_events(consultations: list[Consultation], several: set[int]) -> list[TimelineEvent]:
    events = []
    for c in consultations:
        url = url_for("consultations.show", consultation_id=c.id)
        name = round_name(c, c.id in several)
        if c.opened_at is not None:
            events.append(TimelineEvent(c.opened_at, ROUND_OPENED, f"{name} opened", url))
        if c.closed_at is not None:
            events.append(TimelineEvent(c.closed_at, ROUND_CLOSED, f"{name} closed", url))
    return events


def _summary_events(consultations: list[Consultation], several: set[int]) -> list[TimelineEvent]:
    by_id = {c.id: c for c in consultations}
    if not by_id:
        return []
    runs = db.session.execute(
        select(AnalysisRun.id, AnalysisRun.consultation_id, AnalysisRun.published_at).where(
            AnalysisRun.consultation_id.in_(by_id),
            AnalysisRun.status == RunStatus.DONE,
            AnalysisRun.published_at.is_not(None),
        )
    )
    events = []
    for run_id, consultation_id, published_at in runs:
        c = by_id[consultation_id]
        events.append(
            TimelineEvent(
                published_at,
                SUMMARY_PUBLISHED,
                f"Summary of {round_name(c, c.id in several)} published",
                url_for("reports.run_report", consultation_id=c.id, run_id=run_id),
            )
        )
    return events


def _idea_events(mission: Mission) -> list[TimelineEvent]:
    changes = list(
        db.session.execute(
            select(IdeaStageChange, Idea)
            .join(Idea, IdeaStageChange.idea_id == Idea.id)
            .where(Idea.mission_id == mission.id, IdeaStageChange.to_stage.in_(IDEA_KINDS))
            .order_by(IdeaStageChange.changed_at, IdeaStageChange.id)
        )
    )
    last_of_idea = {idea.id: change.id for change, idea in changes}
    events = []
    for change, idea in changes:
        # What a trial learnt belongs to the idea's latest event: the trial, or the decision
        # that followed it.
        learnt = (idea.trial_learning or "") if last_of_idea[idea.id] == change.id else ""
        events.append(
            TimelineEvent(
                change.changed_at,
                IDEA_KINDS[change.to_stage],
                f"Staff idea “{idea.title}”: {change.to_stage.label.lower()}",
                url_for("ideas.idea", idea_id=idea.id),
                change.reason,
                learnt,
            )
        )
    return events


def _response_events(mission: Mission) -> list[TimelineEvent]:
    """Each response when it was recorded, and each later update that changed its status or
    said something, with the round of the consultation it answers."""
    events = []
    for r in responses.mission_responses(mission):
        url = url_for("responses.response", consultation_id=r.consultation_id, response_id=r.id)
        answers = f"Answers round {r.round_number} of “{r.consultation_title}”"
        events.append(
            TimelineEvent(
                r.recorded_at, RESPONSE, f"{r.title} ({r.status.label.lower()})", url, answers
            )
        )
        for update in r.updates[1:]:
            changed = update.to_status is not None and update.to_status != update.from_status
            if not (changed or update.note):
                continue
            status = (
                f" (now {update.to_status.label.lower()})" if changed and update.to_status else ""
            )
            events.append(
                TimelineEvent(
                    update.created_at, RESPONSE, f"Update: {r.title}{status}", url, update.note
                )
            )
    return events
