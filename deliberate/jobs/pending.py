"""Jobs asked for while Redis did not answer, kept in the database until it answers again.

Each call runs in a transaction of its own on a connection of its own, never in the caller's
session: it is called after a request's commit, or from a worker's maintenance, and must neither
commit nor undo anything of theirs.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from deliberate.extensions import db
from deliberate.models import PendingJob, utcnow

BATCH = 1000  # rows queued per catching up; the next check takes the rest


def record(
    function: Any, args: tuple, key: str | None, delay: float, consultation_id: int | None
) -> bool:
    """Keep the job for later; False when a job with its key is already kept."""
    from deliberate.jobs import name_of

    now = utcnow()
    values = {
        "function": name_of(function) if callable(function) else str(function),
        "args": list(args),
        "key": key,
        "consultation_id": consultation_id,
        "due_at": now + timedelta(seconds=max(delay, 0)),
        "created_at": now,
    }
    try:
        with db.engine.begin() as connection:
            if key is not None and connection.scalar(
                select(PendingJob.id).where(PendingJob.key == key)
            ):
                return False
            connection.execute(insert(PendingJob).values(**values))
    except IntegrityError:  # another request kept the same key a moment ago
        return False
    return True


def waiting(limit: int = BATCH) -> list[Any]:
    """The kept jobs, oldest first."""
    with db.engine.connect() as connection:
        return list(
            connection.execute(select(PendingJob.__table__).order_by(PendingJob.id).limit(limit))
        )


def forget(job_id: int) -> None:
    with db.engine.begin() as connection:
        connection.execute(delete(PendingJob).where(PendingJob.id == job_id))


def of_consultation(consultation_id: int) -> list[PendingJob]:
    return list(
        db.session.scalars(
            select(PendingJob)
            .where(PendingJob.consultation_id == consultation_id)
            .order_by(PendingJob.id.desc())
        )
    )
