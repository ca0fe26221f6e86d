"""The mission team's view of a consultation: taking part now, the analysis runs, running one now
and following it, and the moderation backlog."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from deliberate.extensions import db
from deliberate.models import (
    AnalysisRun,
    Consultation,
    ModerationStatus,
    Participant,
    ParticipantRole,
    Statement,
    User,
    Vote,
    VoteEvent,
    utcnow,
)
from deliberate.services import analysis_runs
from deliberate.services.consultations import ConsultationCounts, NotPermitted, counts_for
from deliberate.services.errors import Refused
from deliberate.services.reports._rows import count_rows
from deliberate.services.reports.cache import reader_words
from deliberate.services.reports.rounds import rounds_of
from deliberate.services.reports.runs import finished_run, finished_runs, is_team, published_run

RUN_NOW_PATIENCE = timedelta(minutes=30)  # after this, a requested run is reported as overdue


@dataclass(frozen=True)
class Participation:
    """Taking part as it stands now (live counts, not an analysis)."""

    counts: ConsultationCounts
    votes: int
    votes_last_day: int
    staff: int  # participants who voted, by role
    citizens: int


def participation_now(consultation: Consultation, now: datetime | None = None) -> Participation:
    now = now or utcnow()
    cid = consultation.id
    day_ago_ms = int((now - timedelta(days=1)).replace(tzinfo=UTC).timestamp() * 1000)
    by_role = dict(
        db.session.execute(
            select(Participant.role, func.count(func.distinct(Vote.participant_id)))
            .join(Vote, Vote.participant_id == Participant.id)
            .where(Participant.consultation_id == cid)
            .group_by(Participant.role)
        ).all()
    )
    return Participation(
        counts=counts_for([cid])[cid],
        votes=count_rows(Vote, cid),
        votes_last_day=count_rows(VoteEvent, cid, VoteEvent.cast_at_ms >= day_ago_ms),
        staff=by_role.get(ParticipantRole.STAFF, 0),
        citizens=by_role.get(ParticipantRole.CITIZEN, 0),
    )


@dataclass(frozen=True)
class RunRequest:
    """A "run the analysis now" the team asked for: when, and the newest run at that moment."""

    requested_at: datetime
    newest_run_id: int

    def to_session(self) -> list:
        return [self.requested_at.isoformat(), self.newest_run_id]

    @classmethod
    def from_session(cls, value: Any) -> RunRequest | None:
        try:
            return cls(datetime.fromisoformat(value[0]), int(value[1]))
        except (TypeError, ValueError, IndexError):
            return None


@dataclass(frozen=True)
class Progress:
    """Where a requested run is: "idle" (none asked), "running", "done" or "overdue" (the view
    shows "failed" when the newest attempt failed, from ``Dashboard.failure``)."""

    state: str
    requested_at: datetime | None = None
    run: AnalysisRun | None = None


def request_run_now(
    user: User, consultation: Consultation, now: datetime | None = None
) -> RunRequest:
    """Queue an analysis at once (not debounced); the page then follows it until it lands."""
    _ = reader_words().gettext
    if not is_team(user, consultation):
        raise NotPermitted(_("Only the mission team can run this consultation's analysis"))
    if not analysis_runs.is_stale(consultation.id):
        raise Refused(_("The analysis is up to date: nothing has changed since the last run"))
    from deliberate import jobs
    from deliberate.jobs.tasks import analyse_consultation

    newest = analysis_runs.latest_run(consultation.id)
    jobs.enqueue(
        analyse_consultation,
        consultation.id,
        key=f"analyse-now-{consultation.id}",
        delay=0,
    )
    return RunRequest(now or utcnow(), newest.id if newest else 0)


def progress_of(
    consultation: Consultation, request: RunRequest | None, now: datetime | None = None
) -> Progress:
    if request is None:
        return Progress("idle")
    newest = analysis_runs.latest_run(consultation.id)
    if newest is not None and newest.id > request.newest_run_id:
        return Progress("done", request.requested_at, newest)
    if (now or utcnow()) - request.requested_at > RUN_NOW_PATIENCE:
        return Progress("overdue", request.requested_at)
    return Progress("running", request.requested_at)


@dataclass(frozen=True)
class Dashboard:
    consultation: Consultation
    participation: Participation
    latest: AnalysisRun | None
    published: AnalysisRun | None
    stale: bool
    runs: list[AnalysisRun]
    rounds: list[Consultation]
    failure: AnalysisRun | None  # the newest attempt, when it failed


def dashboard(consultation: Consultation) -> Dashboard:
    return Dashboard(
        consultation=consultation,
        participation=participation_now(consultation),
        latest=analysis_runs.latest_run(consultation.id),
        published=published_run(consultation.id),
        stale=analysis_runs.is_stale(consultation.id),
        runs=finished_runs(consultation.id),
        rounds=rounds_of(consultation),
        failure=analysis_runs.latest_failure(consultation.id),
    )


def comparable_run(consultation: Consultation, team: bool) -> AnalysisRun | None:
    """The run a comparison uses for a round: the published one, else (for the team) the newest."""
    run = published_run(consultation.id)
    if run is None and team:
        newest = analysis_runs.latest_run(consultation.id)
        run = finished_run(consultation.id, newest.id) if newest else None
    return run


def moderation_backlog(consultation: Consultation) -> int:
    return count_rows(Statement, consultation.id, Statement.moderation == ModerationStatus.PENDING)
