"""Jobs asked for while Redis did not answer, kept until it answers again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from deliberate.extensions import db
from deliberate.models._types import utcnow


class PendingJob(db.Model):
    """One job that could not be queued because Redis was unreachable: the site took the vote (or
    the statement, or the email request) all the same, and queues this job once Redis is back
    (``deliberate.jobs``). A row lives minutes, not days; an email job's row holds its address
    until then, as the queue on Redis would have.

    ``key`` is the job's key (``analyse-12``): one waiting row per key, as on the queue."""

    __tablename__ = "pending_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    function: Mapped[str] = mapped_column(String(200))
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # The consultation it is about, when it is about one (the team's jobs page lists it).
    consultation_id: Mapped[int | None]
    due_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
