"""Accepting or rejecting many statements of one consultation at once, from the moderation queue
or from a statement's near neighbours.

One request, one unit of work: every selected statement is checked before anything changes, so a
selection that names a statement of another consultation (or one that does not exist, or a seed
statement) is refused as a whole and nothing is saved. Each statement then goes through the same
decision as on its own (``consultations.moderate``), so each change is in the audit log as
``statement.moderated`` (and ``statement.reports_reviewed`` where reports are closed), and one
``statement.bulk_moderated`` event records the selection as a whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import (
    Consultation,
    ModerationStatus,
    ReportReason,
    Statement,
    StatementOrigin,
    User,
)
from deliberate.services import audit, statement_reports
from deliberate.services.audit import REASON_MAX
from deliberate.services.consultations import NotPermitted, may_moderate, moderate
from deliberate.services.errors import Refused

BULK_MAX = 200  # statements in one decision: more than a page of the queue shows


@dataclass(frozen=True)
class BulkOutcome:
    accept: bool
    changed: list[Statement]  # changed state, or had reports closed
    unchanged: list[Statement]  # already as asked


def _ids(statement_ids: Iterable[int]) -> list[int]:
    return sorted(set(int(i) for i in statement_ids))


def _shown(ids: list[int]) -> str:
    shown = ", ".join(str(i) for i in ids[:5])
    return _("%(ids)s and others", ids=shown) if len(ids) > 5 else shown


def bulk_moderate(
    user: User,
    consultation: Consultation,
    statement_ids: Iterable[int],
    accept: bool,
    reason: ReportReason | str | None = None,
    note: str | None = None,
) -> BulkOutcome:
    """Accept or reject the selected statements of ``consultation`` together; rejecting needs one
    reason (from the moderation policy) for them all. All or nothing."""
    if not may_moderate(user, consultation):
        raise NotPermitted(_("Only the mission team and moderators can moderate comments"))
    ids = _ids(statement_ids)
    if not ids:
        raise Refused(_("Select at least one statement"), "statement_ids")
    if len(ids) > BULK_MAX:
        raise Refused(
            _("Select %(most)s statements or fewer at a time", most=BULK_MAX), "statement_ids"
        )
    statements = list(
        db.session.scalars(
            select(Statement)
            .where(Statement.id.in_(ids), Statement.consultation_id == consultation.id)
            .order_by(Statement.id)
        )
    )
    foreign = sorted(set(ids) - {s.id for s in statements})
    if foreign:
        raise Refused(
            ngettext(
                "Statement %(ids)s is not part of this consultation: nothing was changed",
                "Statements %(ids)s are not part of this consultation: nothing was changed",
                len(foreign),
                ids=_shown(foreign),
            ),
            "statement_ids",
        )
    seeds = [s.id for s in statements if s.origin is not StatementOrigin.PARTICIPANT]
    if seeds:
        raise Refused(
            ngettext(
                "Statement %(ids)s is written by the mission team, and seed statements are not "
                "moderated: nothing was changed",
                "Statements %(ids)s are written by the mission team, and seed statements are not "
                "moderated: nothing was changed",
                len(seeds),
                ids=_shown(seeds),
            ),
            "statement_ids",
        )
    chosen = _reason(reason, accept)
    note = (note or "").replace("\x00", "").strip() or None
    if note is not None and len(note) > REASON_MAX:
        raise Refused(_("Your note must be %(max)s characters or fewer", max=REASON_MAX), "note")

    wanted = ModerationStatus.ACCEPTED if accept else ModerationStatus.REJECTED
    changed, unchanged = [], []
    for statement in statements:
        was = (statement.moderation, statement.is_hidden_by_reports)
        had_reports = statement_reports.open_report_count(statement) > 0
        moderate(user, statement, accept, note, removal_reason=chosen)
        if had_reports or was != (wanted, False):
            changed.append(statement)
        else:
            unchanged.append(statement)
    if not changed:
        return BulkOutcome(accept=accept, changed=changed, unchanged=unchanged)
    audit.record(
        "statement.bulk_moderated",
        consultation,
        actor_id=user.id,
        reason=note,
        decision="accept" if accept else "reject",
        removal_reason=chosen.value if chosen else None,
        statements=[s.id for s in changed],
    )
    return BulkOutcome(accept=accept, changed=changed, unchanged=unchanged)


def _reason(reason: ReportReason | str | None, accept: bool) -> ReportReason | None:
    if accept:
        return None
    if not reason:
        raise Refused(_("Choose the reason for rejecting the selected statements"), "reason")
    try:
        return ReportReason(reason)
    except ValueError:
        raise Refused(_("Choose a reason from the list"), "reason") from None
