"""A consultation's background jobs as its team sees them: waiting, running and failed.

Read from the runner (RQ's queue and registries, or the in-process runner's own state) and from
the jobs kept in the database while Redis did not answer. A failed analysis or embedding shows
the reason stored on its failed run: a short summary, never a stack trace or personal data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from deliberate import jobs
from deliberate.extensions import db
from deliberate.jobs import pending
from deliberate.models import AnalysisRun, RunStatus

KINDS = {
    "analyse": _l("Analysis"),
    "embed": _l("Embedding new statements"),
    "similar": _l("Checking a held comment against the statements"),
}

STATES = {
    "queued": _l("Queued"),
    "scheduled": _l("Scheduled"),
    "running": _l("Running"),
    "retrying": _l("Retrying"),
    "failed": _l("Failed"),
    "kept": _l("Queued (kept until the job queue answers)"),
}


@dataclass(frozen=True)
class JobRow:
    what: str
    state: str  # one of STATES
    at: datetime | None
    tries: int = 1
    error: str | None = None


def jobs_of(consultation_id: int) -> list[JobRow]:
    """Running first, then waiting, then failed (newest first), then those kept while Redis did
    not answer."""
    views = jobs.runner().jobs_of(consultation_id)
    run_ids = [v.failed_run_id for v in views if v.failed_run_id]
    reasons = dict(
        db.session.execute(
            select(AnalysisRun.id, AnalysisRun.error).where(
                AnalysisRun.id.in_(run_ids), AnalysisRun.status == RunStatus.FAILED
            )
        ).all()
    )
    order = {"running": 0, "retrying": 1, "queued": 2, "scheduled": 2, "failed": 3}
    rows = [
        JobRow(
            _what(v.kind),
            v.state,
            v.at,
            v.tries,
            reasons.get(v.failed_run_id) or _plain_error(v.error),
        )
        for v in sorted(views, key=lambda v: order.get(v.state, 9))
    ]
    rows += [
        JobRow(_what(jobs.kind_named(p.function)), "kept", p.created_at)
        for p in pending.of_consultation(consultation_id)
    ]
    return rows


def _what(kind: str) -> str:
    return str(KINDS[kind]) if kind in KINDS else kind.capitalize()


def _plain_error(error: str | None) -> str | None:
    """An exception's type name as a person reads it."""
    if error == "WorkerStopped":
        return _("The worker running it stopped before it ended")
    if error == "JobTimeoutException":
        return _("It took longer than the time a job may take")
    return _("%(error)s (the service's log has the details)", error=error) if error else None
