"""Participants reporting a statement, and what the reports do until a moderator decides.

- Anyone who may take part may report a statement written by a participant that is live (accepted
  and not already hidden), once: with a reason from the moderation policy and an optional note.
  Anonymous participants report as their participant (the cookie), signed-in people as theirs; a
  report creates the participant if it is the person's first action, as a vote would.
- When ``REPORT_THRESHOLD`` distinct participants (``DELIBERATE_REPORT_THRESHOLD``, default 3)
  have reported it since the last moderator decision, the statement is hidden from participants:
  it is no longer offered for voting, votes on it are refused, and its page says it is waiting for
  a moderator. It then sits in the moderation queue with its reports.
- A moderator's decision closes the reports: accepting clears the hide (the statement is offered
  again), rejecting removes it as any rejection does. Reports made after a decision start a new
  count; someone who has reported once cannot report the same statement again.

Hidden by reports is not removed. Reports can be mistaken or organised (a few people can hide a
view they dislike), so only a moderator's rejection changes what the statement counts for: until
then its votes are kept and every analysis and published report treats it as live (the analysis
leaves out only rejected statements). The hide is what participants are shown; the decision is
the moderator's.

The audit log records ``statement.reported`` (the participant id, never the account) and
``statement.hidden_by_reports``, both without an actor; the closing decision is recorded as
``statement.reports_reviewed`` with the moderator as actor.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from deliberate.extensions import db
from deliberate.models import (
    Consultation,
    ModerationStatus,
    Participant,
    ReportReason,
    Statement,
    StatementOrigin,
    StatementReport,
    User,
    utcnow,
)
from deliberate.models.statement_report import REPORT_NOTE_MAX
from deliberate.services import audit
from deliberate.services.errors import Refused

if TYPE_CHECKING:
    from deliberate.services.participation import Presence, Visitor

DEFAULT_REPORT_THRESHOLD = 3


class AlreadyReported(Refused):
    def __init__(self):
        super().__init__(_("You have already reported this statement"))


@dataclass(frozen=True)
class ReportOutcome:
    presence: Presence
    statement: Statement
    hidden_now: bool  # this report was the one that hid the statement


@dataclass
class ReportedStatement:
    """A statement with reports nobody has acted on yet, as the moderation queue shows it."""

    statement: Statement
    reporters: int
    first_reported_at: datetime
    reasons: list[tuple[ReportReason, int]] = field(default_factory=list)  # most given first
    notes: list[str] = field(default_factory=list)  # oldest first

    @property
    def is_hidden(self) -> bool:
        return self.statement.is_hidden_by_reports


def report_threshold() -> int:
    return int(current_app.config.get("REPORT_THRESHOLD", DEFAULT_REPORT_THRESHOLD))


def why_not_reportable(statement: Statement) -> str | None:
    """Why participants cannot report this statement, in words for the page; None if they can."""
    if statement.origin is not StatementOrigin.PARTICIPANT:
        return _("This statement was written by the mission team, so it cannot be reported here")
    if statement.is_hidden_by_reports:
        return _("This statement is already hidden until a moderator has checked it")
    if statement.moderation is not ModerationStatus.ACCEPTED:
        return _("That statement is not shown to people taking part")
    return None


def reportable_statement(consultation: Consultation, statement_id: int) -> Statement:
    """The statement if participants may report it now; refused in plain words otherwise."""
    statement = db.session.get(Statement, statement_id)
    if statement is None or statement.consultation_id != consultation.id:
        raise Refused(_("That statement is not part of this consultation"))
    reason = why_not_reportable(statement)
    if reason:
        raise Refused(reason)
    return statement


def clean_note(note: str | None, reason: ReportReason) -> str | None:
    note = (note or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if len(note) > REPORT_NOTE_MAX:
        raise Refused(
            _("Your note must be %(max)s characters or fewer", max=REPORT_NOTE_MAX), "note"
        )
    if not note and reason is ReportReason.OTHER:
        raise Refused(_("Say what is wrong with this statement"), "note")
    return note or None


def has_reported(participant: Participant | None, statement: Statement) -> bool:
    if participant is None:
        return False
    return (
        db.session.scalar(
            select(StatementReport.id).where(
                StatementReport.statement_id == statement.id,
                StatementReport.participant_id == participant.id,
            )
        )
        is not None
    )


def open_report_count(statement: Statement) -> int:
    """Distinct participants who reported the statement since the last moderator decision."""
    return db.session.scalar(
        select(func.count(StatementReport.id)).where(
            StatementReport.statement_id == statement.id, StatementReport.reviewed_at.is_(None)
        )
    )


def report_statement(
    consultation: Consultation,
    visitor: Visitor,
    statement_id: int,
    reason: ReportReason | str | None,
    note: str | None = None,
    now: datetime | None = None,
) -> ReportOutcome:
    """Record one participant's report; hide the statement once enough people have reported it.

    Everything is checked before the participant is created, so a refused report leaves nothing
    behind. Two identical requests racing past the check meet the unique key; the view runs the
    use-case again, which then refuses the second as already reported."""
    # Imported here: moderation (and through it the report pages) reaches this module, and
    # participation brings numpy with its choice of the next statement.
    from deliberate.services import participation

    closed = participation.why_not_accepting(consultation)
    if closed:
        raise Refused(closed)
    statement = reportable_statement(consultation, statement_id)
    try:
        reason = ReportReason(reason)
    except ValueError:
        raise Refused(_("Choose why you are reporting this statement"), "reason") from None
    note = clean_note(note, reason)
    presence = participation.join(consultation, visitor)
    participant = presence.participant
    if has_reported(participant, statement):
        raise AlreadyReported()
    now = now or utcnow()
    db.session.add(
        StatementReport(
            statement_id=statement.id,
            participant_id=participant.id,
            reason=reason,
            note=note,
            created_at=now,
        )
    )
    db.session.flush()
    audit.record(
        "statement.reported",
        statement,
        no_actor=True,
        reason=reason.value,
        participant=participant.id,
        consultation=consultation.id,
    )
    reporters = open_report_count(statement)
    threshold = report_threshold()
    hidden_now = reporters >= threshold
    if hidden_now:
        statement.hidden_by_reports_at = now
        db.session.flush()
        audit.record(
            "statement.hidden_by_reports",
            statement,
            no_actor=True,
            reporters=reporters,
            threshold=threshold,
            consultation=consultation.id,
        )
    return ReportOutcome(presence=presence, statement=statement, hidden_now=hidden_now)


# -- moderators -----------------------------------------------------------------------------------


def close_reports(user: User, statement: Statement, accept: bool) -> int:
    """A moderator decided about the statement: its open reports are reviewed and the hide is
    lifted (an accepted statement is offered again; a rejected one is removed by the rejection).
    Returns how many reports were closed. Nothing to close, nothing recorded."""
    reports = list(
        db.session.scalars(
            select(StatementReport).where(
                StatementReport.statement_id == statement.id,
                StatementReport.reviewed_at.is_(None),
            )
        )
    )
    was_hidden = statement.is_hidden_by_reports
    if not reports and not was_hidden:
        return 0
    now = utcnow()
    for report in reports:
        report.reviewed_at = now
    statement.hidden_by_reports_at = None
    db.session.flush()
    audit.record(
        "statement.reports_reviewed",
        statement,
        actor_id=user.id,
        decision="accept" if accept else "reject",
        reports=len(reports),
        was_hidden=was_hidden,
        consultation=statement.consultation_id,
    )
    return len(reports)


def reported_statements(consultation: Consultation) -> list[ReportedStatement]:
    """Statements with reports nobody has acted on, the longest waiting first, with how many
    people reported each, for which reasons, and their notes (in two small queries)."""
    return _open_reports(Statement.consultation_id == consultation.id)


def reports_of(statement: Statement) -> ReportedStatement | None:
    """The statement's reports nobody has acted on yet, if any."""
    found = _open_reports(Statement.id == statement.id)
    return found[0] if found else None


def _open_reports(which) -> list[ReportedStatement]:
    rows = db.session.execute(
        select(
            StatementReport.statement_id,
            StatementReport.reason,
            StatementReport.note,
            StatementReport.created_at,
        )
        .join(Statement, Statement.id == StatementReport.statement_id)
        .where(which, StatementReport.reviewed_at.is_(None))
        .order_by(StatementReport.created_at, StatementReport.id)
    ).all()
    if not rows:
        return []
    statements = {
        s.id: s
        for s in db.session.scalars(select(Statement).where(Statement.id.in_({r[0] for r in rows})))
    }
    found: dict[int, ReportedStatement] = {}
    reasons: dict[int, Counter] = {}
    for statement_id, reason, note, created_at in rows:
        item = found.get(statement_id)
        if item is None:
            item = found[statement_id] = ReportedStatement(
                statement=statements[statement_id], reporters=0, first_reported_at=created_at
            )
            reasons[statement_id] = Counter()
        item.reporters += 1
        reasons[statement_id][reason] += 1
        if note:
            item.notes.append(note)
    order = list(ReportReason)
    for statement_id, item in found.items():
        given = reasons[statement_id].items()
        item.reasons = sorted(given, key=lambda pair: (-pair[1], order.index(pair[0])))
    return list(found.values())
