"""Which analysis run the public sees, who may see a run, and publishing one.

- the public sees a consultation's *published* run: the run most recently published by the
  mission team. A newer run that nobody published changes nothing the public sees;
- every run that was ever published keeps its permanent link (an earlier summary stays readable
  after a newer one is published); runs never published are for the mission team only;
- drafts are for the team only, as everywhere else.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import defer

from deliberate.extensions import db
from deliberate.models import (
    AnalysisRun,
    Consultation,
    ConsultationState,
    RunStatus,
    User,
    utcnow,
)
from deliberate.services import audit, following
from deliberate.services.consultations import NotPermitted, may_run
from deliberate.services.errors import Refused
from deliberate.services.reports.cache import reader_words


def _runs(consultation_id: int) -> Select[tuple[AnalysisRun]]:
    """Finished runs of a consultation, without their (large) results until a page needs them."""
    return (
        select(AnalysisRun)
        .options(defer(AnalysisRun.results))
        .where(AnalysisRun.consultation_id == consultation_id, AnalysisRun.status == RunStatus.DONE)
    )


def published_run(consultation_id: int) -> AnalysisRun | None:
    """The run the public sees: the one the mission team published last."""
    return db.session.scalar(
        _runs(consultation_id)
        .where(AnalysisRun.published_at.is_not(None))
        .order_by(AnalysisRun.published_at.desc(), AnalysisRun.id.desc())
        .limit(1)
    )


def has_published_run(consultation_id: int) -> bool:
    """Whether the public has a summary to read: for the link on every consultation page, so one
    light query (an id, not the run)."""
    return (
        db.session.scalar(
            select(AnalysisRun.id)
            .where(
                AnalysisRun.consultation_id == consultation_id,
                AnalysisRun.status == RunStatus.DONE,
                AnalysisRun.published_at.is_not(None),
            )
            .limit(1)
        )
        is not None
    )


def finished_run(consultation_id: int, run_id: int) -> AnalysisRun | None:
    return db.session.scalar(_runs(consultation_id).where(AnalysisRun.id == run_id))


def finished_runs(consultation_id: int, limit: int = 50) -> list[AnalysisRun]:
    """Newest first."""
    return list(
        db.session.scalars(_runs(consultation_id).order_by(AnalysisRun.id.desc()).limit(limit))
    )


def published_runs(consultation_id: int) -> list[AnalysisRun]:
    """Every run ever published, newest publication first: the permanent links of the report."""
    return list(
        db.session.scalars(
            _runs(consultation_id)
            .where(AnalysisRun.published_at.is_not(None))
            .order_by(AnalysisRun.published_at.desc(), AnalysisRun.id.desc())
        )
    )


def is_team(user: User | None, consultation: Consultation) -> bool:
    return user is not None and user.is_authenticated and may_run(user, consultation.mission_id)


def visible_consultation(consultation_id: int, user: User | None) -> Consultation | None:
    """The consultation if this person may read about it: drafts only for the mission's team."""
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        return None
    if consultation.state is ConsultationState.DRAFT and not is_team(user, consultation):
        return None
    return consultation


def may_see_run(user: User | None, consultation: Consultation, run: AnalysisRun) -> bool:
    """Published once (even if a newer one replaced it): everyone. Never published: the team."""
    return run.published_at is not None or is_team(user, consultation)


def publish_run(
    user: User, consultation: Consultation, run: AnalysisRun, now: datetime | None = None
) -> AnalysisRun:
    """Make ``run`` what the public sees on the consultation's report.

    Publishing an earlier run again makes it the public one again; publishing the run already
    shown changes nothing (a double click is harmless). A run published for the first time is
    emailed to the consultation's followers (deliberate.services.following)."""
    _ = reader_words().gettext
    if not is_team(user, consultation):
        raise NotPermitted(_("Only the mission team can publish this consultation's summary"))
    if run.consultation_id != consultation.id or run.status is not RunStatus.DONE:
        raise Refused(_("Only a finished analysis of this consultation can be published"))
    if consultation.state is ConsultationState.DRAFT:
        raise Refused(_("Open the consultation before publishing a summary of it"))
    current = published_run(consultation.id)
    if current is not None and current.id == run.id:
        return run
    first_time = run.published_at is None
    run.published_at = now or utcnow()
    db.session.flush()
    audit.record("run.published", run, actor_id=user.id, consultation=consultation.id)
    if first_time:  # publishing an earlier summary again tells followers nothing new
        following.summary_published(consultation)
    return run
