"""Analysis runs as the site sees them: the newest run, whether it is stale, asking for a new one.

Light on purpose: views import this module, so it must not pull in numpy or scikit-learn
(``deliberate.services.analysis`` does the work, in jobs and CLI commands).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import func, select

from deliberate import unit_of_work
from deliberate.extensions import db
from deliberate.findings import read_exclusions, read_findings
from deliberate.models import (
    AnalysisRun,
    Consultation,
    Participant,
    RunStatus,
    Statement,
    VoteEvent,
)


@dataclass(frozen=True)
class Watermark:
    """What a run has seen: the newest vote event and statement of the consultation, and how many
    moderation changes (decisions, moderators' edits) its statements had had by then. New votes
    and statements show by their ids; a statement taken down or edited keeps its id, so it shows
    by the count."""

    last_vote_event_id: int
    last_statement_id: int
    moderation_changes: int = 0


def watermark(consultation_id: int) -> Watermark:
    last_event = db.session.scalar(
        select(func.max(VoteEvent.id)).where(VoteEvent.consultation_id == consultation_id)
    )
    last_statement = db.session.scalar(
        select(func.max(Statement.id)).where(Statement.consultation_id == consultation_id)
    )
    changes = db.session.scalar(
        select(Consultation.moderation_changes).where(Consultation.id == consultation_id)
    )
    return Watermark(last_event or 0, last_statement or 0, changes or 0)


def latest_run(consultation_id: int) -> AnalysisRun | None:
    return db.session.scalar(
        select(AnalysisRun)
        .where(AnalysisRun.consultation_id == consultation_id, AnalysisRun.status == RunStatus.DONE)
        .order_by(AnalysisRun.id.desc())
        .limit(1)
    )


def latest_failure(consultation_id: int) -> AnalysisRun | None:
    """The newest attempt when it failed: a failed run newer than the newest finished one."""
    newest_done = (
        select(func.max(AnalysisRun.id))
        .where(AnalysisRun.consultation_id == consultation_id, AnalysisRun.status == RunStatus.DONE)
        .scalar_subquery()
    )
    return db.session.scalar(
        select(AnalysisRun)
        .where(
            AnalysisRun.consultation_id == consultation_id,
            AnalysisRun.status == RunStatus.FAILED,
            AnalysisRun.id > func.coalesce(newest_done, 0),
        )
        .order_by(AnalysisRun.id.desc())
        .limit(1)
    )


def is_stale(consultation_id: int) -> bool:
    """True when votes or statements have arrived, or the moderators changed a statement, since
    the newest run (or there is none), or the team has left out or included again participants
    since (the run stores whom it left out, so this holds whatever order things happened in)."""
    run = latest_run(consultation_id)
    if run is None:
        return True
    mark = watermark(consultation_id)
    return (
        mark.last_vote_event_id > run.last_vote_event_id
        or mark.last_statement_id > run.last_statement_id
        or excluded_ids(consultation_id) != set(left_out_by(run))
        or mark.moderation_changes > run.moderation_changes
    )


def excluded_ids(consultation_id: int) -> set[int]:
    """The participants the team has left out of the analysis now."""
    return set(
        db.session.scalars(
            select(Participant.id).where(
                Participant.consultation_id == consultation_id,
                Participant.excluded_at.is_not(None),
            )
        )
    )


def left_out_by(run: AnalysisRun) -> tuple[int, ...]:
    """The participants a run left out (none for a run made before exclusions were stored)."""
    return read_exclusions((run.results or {}).get("exclusions")).participant_ids


def opinion_group_of(run: AnalysisRun) -> dict[int, int]:
    """Participant id -> opinion group in a run (clustered participants only)."""
    return read_findings(run.results).votes.opinion_group_of()


def request_analysis(consultation_id: int) -> bool:
    """Ask for a background re-analysis; bursts of votes collapse into one run (debounced).

    Asked for inside a unit of work (a request), the job is queued once it commits, as
    ``jobs.enqueue`` does, and True says it was asked for; outside one, True says a job was queued
    and False that one was waiting already.

    Every vote asks. With RQ, asking costs a round trip to Redis (is a job under this key
    waiting?) and the decoding of that job; so a process that queued the job itself skips asking
    again while that job is sure to wait: until ``SKIP_MARGIN_SECONDS`` before it is due, so that
    every vote it skipped was committed well before the job reads the votes. The in-process runner
    answers from memory, and may run a waiting job early (``wait_until_idle``): it is always asked.
    """
    if time.monotonic() < _queued_here().get(consultation_id, 0.0):
        return False  # the job this process queued is waiting, and will see this vote
    work = unit_of_work.current()
    if work is None:
        return _ask(consultation_id)
    work.after_commit(lambda: _ask(consultation_id))
    return True


SKIP_MARGIN_SECONDS = 5.0
_QUEUED_HERE = "deliberate_analysis_queued_here"


def _queued_here() -> dict[int, float]:
    """Consultation id -> until when (time.monotonic()) a job this process queued surely waits."""
    return current_app.extensions.setdefault(_QUEUED_HERE, {})


def _ask(consultation_id: int) -> bool:
    from deliberate import jobs
    from deliberate.jobs.tasks import analyse_consultation

    delay = current_app.config["ANALYSIS_DEBOUNCE_SECONDS"]
    asked_at = time.monotonic()
    queued = jobs.enqueue(
        analyse_consultation, consultation_id, key=f"analyse-{consultation_id}", delay=delay
    )
    if queued and not isinstance(jobs.runner(), jobs.InProcessRunner):
        _queued_here()[consultation_id] = asked_at + delay - SKIP_MARGIN_SECONDS
    return queued
