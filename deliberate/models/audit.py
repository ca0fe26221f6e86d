"""The audit log: who did what, to what, when and why. Rows are only ever added.

Every account, role, moderation, publication and admin action is recorded here by
``deliberate.services.audit.record``. The mapper refuses to update or delete a row, so nothing in
the app can rewrite history; the actor is kept as a plain id (no foreign key), so deleting an
account does not touch the log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from deliberate.extensions import db
from deliberate.models._types import utcnow


class AppendOnly(RuntimeError):
    """Something tried to change or remove an audit event."""


class AuditEvent(db.Model):
    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # The account that acted (None: the system, or someone not signed in).
    actor_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)  # e.g. "account.password_changed"
    target_type: Mapped[str | None] = mapped_column(String(32))  # e.g. "user", "statement"
    target_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)  # no personal data beyond ids
    reason: Mapped[str | None] = mapped_column(Text)


@event.listens_for(AuditEvent, "before_update")
def _refuse_update(mapper, connection, target) -> None:
    raise AppendOnly("Audit events are never changed")


@event.listens_for(AuditEvent, "before_delete")
def _refuse_delete(mapper, connection, target) -> None:
    raise AppendOnly("Audit events are never removed")
