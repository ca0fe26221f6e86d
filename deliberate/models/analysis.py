"""Stored analysis runs: immutable records of what an analysis was given, how, and what it found."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from deliberate.extensions import db
from deliberate.models._types import enum_column, utcnow


class RunStatus(enum.StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class AnalysisRun(db.Model):
    """One analysis of one consultation. Written once when it finishes and never changed after,
    except to publish it, so a published summary never changes under a reader."""

    __tablename__ = "analysis_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[RunStatus] = mapped_column(enum_column(RunStatus), default=RunStatus.RUNNING)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    # The data it saw: the newest vote event and statement included, so staleness is one query.
    last_vote_event_id: Mapped[int] = mapped_column(default=0)
    last_statement_id: Mapped[int] = mapped_column(default=0)
    # The consultation's count of moderation changes when the run read its data.
    moderation_changes: Mapped[int] = mapped_column(default=0, server_default="0")
    n_participants: Mapped[int] = mapped_column(default=0)
    n_statements: Mapped[int] = mapped_column(default=0)
    n_votes: Mapped[int] = mapped_column(default=0)
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    code_version: Mapped[str] = mapped_column(String(80), default="")
    model_fingerprint: Mapped[str | None] = mapped_column(String(200))
    results: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None]
    published_at: Mapped[datetime | None]

    consultation: Mapped[Consultation] = relationship()  # noqa: F821
