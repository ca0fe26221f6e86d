"""Recording what people did, for the append-only audit log, and reading it back for admins."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

from flask_login import current_user
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import AuditEvent
from deliberate.polis_format.cells import safe_cell

# The longest reason a person may give for what they did (a few sentences, not an essay).
REASON_MAX = 1000


def record(
    action: str,
    target: Any = None,
    *,
    target_type: str | None = None,
    target_id: int | str | None = None,
    reason: str | None = None,
    actor_id: int | None = None,
    no_actor: bool = False,
    **detail: Any,
) -> AuditEvent:
    """Add one event to the log, in the open unit of work (so it is kept only if the action is).

    ``target`` is a model instance (its table's singular name and its id are kept) or None with
    ``target_type``/``target_id`` given. The actor is the signed-in person unless ``actor_id``
    says otherwise; ``no_actor`` records none even when someone is signed in (a participant's
    report names the participant, never the account). ``detail`` holds ids and short labels,
    never personal data such as emails."""
    if target is not None:
        target_type = target_type or _type_name(target)
        target_id = getattr(target, "id", target_id)
    if no_actor:
        actor_id = None
    elif actor_id is None and current_user and current_user.is_authenticated:
        actor_id = current_user.id
    event = AuditEvent(
        actor_id=actor_id,
        action=action,
        target_type=target_type,
        target_id=None if target_id is None else str(target_id),
        detail=detail,
        reason=reason,
    )
    db.session.add(event)
    db.session.flush()
    return event


def _type_name(target: Any) -> str:
    table = getattr(target, "__tablename__", type(target).__name__.lower())
    return table[:-1] if table.endswith("s") else table


def events(limit: int | None = None, action: str | None = None) -> list[AuditEvent]:
    """The newest events first."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc())
    if action:
        query = query.where(AuditEvent.action == action)
    if limit:
        query = query.limit(limit)
    return list(db.session.scalars(query))


CSV_COLUMNS = ("id", "at", "actor_id", "action", "target_type", "target_id", "reason", "detail")


def events_csv(rows: Iterable[AuditEvent]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for e in rows:
        detail = ";".join(f"{k}={v}" for k, v in sorted((e.detail or {}).items()))
        writer.writerow(
            [
                e.id,
                e.at.isoformat(timespec="seconds"),
                e.actor_id if e.actor_id is not None else "",
                e.action,
                e.target_type or "",
                e.target_id or "",
                safe_cell(e.reason or ""),
                safe_cell(detail),
            ]
        )
    return out.getvalue()
