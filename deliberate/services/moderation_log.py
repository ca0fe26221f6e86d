"""The moderation log of a consultation, and what the moderators removed, counted for a run.

The log is read from the audit log (``statement.moderated``, ``statement.redacted``): one row
per action, naming the moderator's role, never the person. The team downloads it as CSV; the
public report shows only counts by reason, stored with each analysis run like any finding.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, select

from deliberate.extensions import db
from deliberate.models import (
    AuditEvent,
    Consultation,
    ModerationStatus,
    RemovalReason,
    Statement,
)
from deliberate.polis_format.cells import safe_cell

# Audit actions that are moderation, and how the log words each (from the event's detail).
MODERATION_ACTIONS = ("statement.moderated", "statement.redacted")
CSV_COLUMNS = (
    "statement_id",
    "statement_text",
    "action",
    "reason",
    "public_note",
    "moderator_role",
    "at_utc",
)


@dataclass(frozen=True)
class LogRow:
    statement_id: int
    statement_text: str  # as the statement reads now (after any edit), removed or not
    action: str  # "accepted", "rejected", "redacted"
    reason: str  # the policy's label, or "" where none was recorded
    note: str  # what the author was told with a rejection, or ""
    role: str  # "mission team", "moderator", "admin" or "not recorded"
    at: datetime


def _action(event: AuditEvent) -> str:
    if event.action == "statement.redacted":
        return "redacted"
    return {"accept": "accepted", "reject": "rejected"}.get(
        (event.detail or {}).get("decision", ""), "moderated"
    )


def _reason_label(value: Any) -> str:
    try:
        return RemovalReason(value).label
    except ValueError:
        return ""


def log_rows(consultation: Consultation) -> list[LogRow]:
    """Every moderation action on the consultation's statements, oldest first.

    Events written before reasons and roles were recorded give what they have: their free-text
    reason was private to administrators then, so it is not shown as a note to the author."""
    rows = db.session.execute(
        select(AuditEvent, Statement.id, Statement.text)
        .join(Statement, AuditEvent.target_id == cast(Statement.id, String))
        .where(
            AuditEvent.action.in_(MODERATION_ACTIONS),
            AuditEvent.target_type == "statement",
            Statement.consultation_id == consultation.id,
        )
        .order_by(AuditEvent.id)
    )
    log = []
    for event, statement_id, text in rows:
        detail = event.detail or {}
        log.append(
            LogRow(
                statement_id=statement_id,
                statement_text=text,
                action=_action(event),
                reason=_reason_label(detail.get("removal_reason")),
                note=(event.reason or "") if detail.get("note_public") else "",
                role=str(detail.get("role") or "not recorded"),
                at=event.at,
            )
        )
    return log


def log_csv(consultation: Consultation) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in log_rows(consultation):
        writer.writerow(
            [
                row.statement_id,
                safe_cell(row.statement_text),
                row.action,
                row.reason,
                safe_cell(row.note),
                row.role,
                row.at.isoformat(timespec="seconds"),
            ]
        )
    return out.getvalue()


def removal_counts(consultation_id: int, last_statement_id: int) -> dict[str, Any]:
    """What an analysis run stores under ``results["moderation"]``: of the statements it saw,
    how many the moderators had removed, by reason, and how many shown ones they had edited."""
    seen = (
        Statement.consultation_id == consultation_id,
        Statement.id <= last_statement_id,
    )
    removed = db.session.execute(
        select(Statement.removal_reason, func.count(Statement.id))
        .where(*seen, Statement.moderation == ModerationStatus.REJECTED)
        .group_by(Statement.removal_reason)
    ).all()
    by_reason = {reason.value: n for reason, n in removed if reason is not None}
    edited = db.session.scalar(
        select(func.count(Statement.id)).where(
            *seen,
            Statement.moderation != ModerationStatus.REJECTED,
            Statement.redacted_at.is_not(None),
        )
    )
    return {
        "n_removed": sum(n for _, n in removed),
        "by_reason": by_reason,
        "n_without_reason": sum(n for reason, n in removed if reason is None),
        "n_edited": edited or 0,
    }
