"""A person's own account: a new password, a new email address, a copy of their data, and
deleting the account while what they contributed stays, detached from them.

Decisions worth knowing:

- Changing the password ends every other session (a copied cookie stops working); the view signs
  the person in again so this browser stays signed in.
- A new email address is confirmed by a one-time link sent to it. Whether the address already
  has an account is never shown on the page: the email sent to a taken address says so instead.
  The address is checked again when the link is opened (it may have been taken meanwhile).
- Deleting an account keeps answers, statements, ideas and idea supports, with their link to the
  account set to NULL, so published counts and analyses stay true; nobody, the person included,
  can then reach them through an account. Team memberships, staff verifications, account
  tokens and personal API tokens go with the account. The audit log keeps ids only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, delete, func, or_, select, update

from deliberate.extensions import db, token_hash
from deliberate.mail import queue_email
from deliberate.models import (
    AccountToken,
    ApiHeldComment,
    ApiToken,
    AuditEvent,
    Consultation,
    Idea,
    IdeaStageChange,
    IdeaSupport,
    MissionTeamMember,
    Participant,
    StaffVerification,
    Statement,
    TokenPurpose,
    User,
    Vote,
    VoteChoice,
    VoteEvent,
    utcnow,
)
from deliberate.services import accounts, audit
from deliberate.services.errors import Refused

EMAIL_CHANGE_VALID_FOR = timedelta(hours=24)


def _check_password(user: User, password: str, field: str = "password") -> None:
    if not user.check_password(password or ""):
        raise Refused(_("Your current password is not correct"), field)


def _end_pending_tokens(user: User, purpose: TokenPurpose, now: datetime) -> None:
    """Links already emailed for ``purpose`` stop working (marked used, as a used link is)."""
    db.session.execute(
        update(AccountToken)
        .where(
            AccountToken.user_id == user.id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )


# -- a new password --------------------------------------------------------------------------------


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Set a new password after checking the current one, and end every session of the account
    (the caller signs this browser in again). Password reset links already sent stop working."""
    _check_password(user, current_password, "current_password")
    problem = accounts.password_problem(new_password, user.email)
    if problem:
        raise Refused(problem, "new_password")
    if user.check_password(new_password):
        raise Refused(
            _("Your new password must be different from your current one"), "new_password"
        )
    user.set_password(new_password, current_app.config["PASSWORD_HASH_METHOD"])
    _end_pending_tokens(user, TokenPurpose.PASSWORD_RESET, utcnow())
    accounts.sign_out_everywhere(user)
    audit.record("account.password_changed", user, actor_id=user.id)


def email_password_changed(user: User, sign_in_link: str) -> None:
    queue_email(
        user.email,
        _l("Your Deliberate password was changed"),
        "email/password_changed.txt",
        link=sign_in_link,
    )


# -- a new email address ---------------------------------------------------------------------------


@dataclass(frozen=True)
class EmailChange:
    """What a request for a new address led to. ``token`` is None when the address is taken:
    the person is told the same thing either way, the email to the address says the difference."""

    old_email: str
    new_email: str
    token: str | None


def request_email_change(
    user: User, new_email: str, password: str, now: datetime | None = None
) -> EmailChange:
    """Check the password, then prepare a one-time link to ``new_email`` (unless it is taken).

    Only the latest link works: asking again ends the earlier ones."""
    _check_password(user, password)
    new_email = accounts.normalise_email(new_email)
    if new_email == accounts.normalise_email(user.email):
        raise Refused(_("This is already your email address"), "new_email")
    now = now or utcnow()
    _end_pending_tokens(user, TokenPurpose.EMAIL_CHANGE, now)
    token = None
    if accounts.find_user_by_email(new_email) is None:
        token = secrets.token_urlsafe(32)
        db.session.add(
            AccountToken(
                user_id=user.id,
                purpose=TokenPurpose.EMAIL_CHANGE,
                token_hash=token_hash(token),
                new_email=new_email,
                created_at=now,
                expires_at=now + EMAIL_CHANGE_VALID_FOR,
            )
        )
    audit.record("account.email_change_requested", user, actor_id=user.id)
    return EmailChange(old_email=user.email, new_email=new_email, token=token)


def email_about_email_change(change: EmailChange, confirm_link: str | None, site_link: str) -> None:
    """The link (or the reason there is none) to the new address; a notice to the old one."""
    hours = round(EMAIL_CHANGE_VALID_FOR.total_seconds() / 3600)
    if confirm_link is not None:
        queue_email(
            change.new_email,
            _l("Confirm your new email address for Deliberate"),
            "email/email_change_confirm.txt",
            link=confirm_link,
            hours=hours,
        )
    else:
        queue_email(
            change.new_email,
            _l("This email address cannot be used for your Deliberate account"),
            "email/email_change_taken.txt",
            link=site_link,
        )
    queue_email(
        change.old_email,
        _l("A change of email address was asked for on your Deliberate account"),
        "email/email_change_notice.txt",
        hours=hours,
        link=site_link,
    )


def confirm_email_change(user: User, token: str, now: datetime | None = None) -> None:
    now = now or utcnow()
    pending = db.session.scalar(
        select(AccountToken).where(
            AccountToken.token_hash == token_hash(token),
            AccountToken.purpose == TokenPurpose.EMAIL_CHANGE,
        )
    )
    if pending is None or pending.user_id != user.id or not pending.new_email:
        raise Refused(_("This link is not valid. Ask for a new one from your account."))
    if pending.used_at is not None:
        raise Refused(_("This link has already been used, or a newer one was sent."))
    if pending.expires_at <= now:
        raise Refused(_("This link has expired. Ask for a new one from your account."))
    taken = accounts.find_user_by_email(pending.new_email)
    if taken is not None and taken.id != user.id:
        raise Refused(
            _(
                "This email address can no longer be used for your account. "
                "Your email address has not changed."
            )
        )
    pending.used_at = now
    user.email = pending.new_email
    # A password reset link sent to the old address must not open the account any more.
    _end_pending_tokens(user, TokenPurpose.PASSWORD_RESET, now)
    audit.record("account.email_changed", user, actor_id=user.id)
    db.session.flush()


# -- a copy of the person's data -------------------------------------------------------------------


def _when(value: datetime | None) -> str | None:
    return value.replace(tzinfo=UTC).isoformat(timespec="seconds") if value else None


def _when_ms(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def my_data(user: User) -> dict[str, Any]:
    """Everything kept about this person, as plain JSON-ready values."""
    participants = list(
        db.session.scalars(
            select(Participant).where(Participant.user_id == user.id).order_by(Participant.id)
        )
    )
    participant_ids = [p.id for p in participants]
    about_them = and_(AuditEvent.target_type == "user", AuditEvent.target_id == str(user.id))
    return {
        "about": "Everything Deliberate keeps about your account, downloaded on "
        f"{_when(utcnow())}.",
        "profile": {
            "email": user.email,
            "name": user.display_name,
            "created": _when(user.created_at),
            "roles": user.role_names,
            "staff_email": user.staff_email,
            "staff_verified": _when(user.staff_verified_at),
            "mission_teams": [m.mission.name for m in user.team_memberships],
        },
        "participations": [_participation(p) for p in participants],
        "statements_written": _statements_written(participant_ids),
        "ideas_proposed": [
            {
                "id": idea.id,
                "mission": idea.mission.name,
                "title": idea.title,
                "problem": idea.problem,
                "proposal": idea.proposal,
                "evidence": idea.evidence,
                "stage": idea.stage.value,
                "proposed": _when(idea.created_at),
            }
            for idea in db.session.scalars(
                select(Idea).where(Idea.author_id == user.id).order_by(Idea.id)
            )
        ],
        "idea_supports": [
            {"idea_id": idea_id, "idea_title": title, "role": role.value, "when": _when(at)}
            for idea_id, title, role, at in db.session.execute(
                select(IdeaSupport.idea_id, Idea.title, IdeaSupport.role, IdeaSupport.created_at)
                .join(Idea, Idea.id == IdeaSupport.idea_id)
                .where(IdeaSupport.user_id == user.id)
                .order_by(IdeaSupport.id)
            )
        ],
        # Names and dates only: the tokens themselves were never kept.
        "api_tokens": [
            {
                "name": token.name,
                "created": _when(token.created_at),
                "last_used": _when(token.last_used_at),
                "revoked": _when(token.revoked_at),
            }
            for token in db.session.scalars(
                select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
            )
        ],
        "audit_events": [
            {
                "at": _when(e.at),
                "action": e.action,
                "by_you": e.actor_id == user.id,
                "target_type": e.target_type,
                "target_id": e.target_id,
                "reason": e.reason,
                "detail": e.detail or {},
            }
            for e in db.session.scalars(
                select(AuditEvent)
                .where(or_(AuditEvent.actor_id == user.id, about_them))
                .order_by(AuditEvent.id)
            )
        ],
    }


def _participation(participant: Participant) -> dict[str, Any]:
    rows = db.session.execute(
        select(Vote, Statement)
        .join(Statement, Statement.id == Vote.statement_id)
        .where(Vote.participant_id == participant.id)
        .order_by(Vote.id)
    )
    history = db.session.scalars(
        select(VoteEvent)
        .where(
            VoteEvent.participant_id == participant.id,
            VoteEvent.consultation_id == participant.consultation_id,
        )
        .order_by(VoteEvent.id)
    )
    consultation: Consultation = participant.consultation
    return {
        "consultation_id": consultation.id,
        "consultation_title": consultation.title,
        "role": participant.role.value,
        "service_area": participant.service_area,
        "joined": _when(participant.created_at),
        "answers": [
            {
                "statement_id": statement.id,
                # A statement moderators later removed keeps its text hidden, as on the site,
                # unless the person wrote it.
                "statement_text": statement.text
                if statement.is_votable or statement.author_id == participant.id
                else None,
                "choice": VoteChoice(vote.choice).label,
                "when": _when_ms(vote.cast_at_ms),
            }
            for vote, statement in rows
        ],
        "answer_history": [
            {
                "statement_id": event.statement_id,
                "choice": VoteChoice(event.choice).label,
                "when": _when_ms(event.cast_at_ms),
            }
            for event in history
        ],
    }


def _statements_written(participant_ids: list[int]) -> list[dict[str, Any]]:
    if not participant_ids:
        return []
    return [
        {
            "id": s.id,
            "consultation_id": s.consultation_id,
            "consultation_title": title,
            "text": s.text,
            "moderation": s.moderation.value,
            "written": _when(s.created_at),
        }
        for s, title in db.session.execute(
            select(Statement, Consultation.title)
            .join(Consultation, Consultation.id == Statement.consultation_id)
            .where(Statement.author_id.in_(participant_ids))
            .order_by(Statement.id)
        )
    ]


# -- deleting the account --------------------------------------------------------------------------


def delete_account(user: User, password: str) -> int:
    """Remove the account; what the person contributed stays, linked to no account. Returns the
    id the account had (for the audit log and the caller)."""
    _check_password(user, password)
    if user.is_admin and _other_admins(user) == 0:
        raise Refused(
            _(
                "You are the only administrator. Make someone else an administrator before you "
                "delete your account."
            ),
            "password",
        )
    user_id = user.id
    detach = (
        (Participant, Participant.user_id),
        (Idea, Idea.author_id),
        (IdeaStageChange, IdeaStageChange.changed_by_id),
        (IdeaSupport, IdeaSupport.user_id),
    )
    for model, column in detach:
        db.session.execute(update(model).where(column == user_id).values({column.key: None}))
    for model, column in (
        (MissionTeamMember, MissionTeamMember.user_id),
        (StaffVerification, StaffVerification.user_id),
        (AccountToken, AccountToken.user_id),
        (ApiHeldComment, ApiHeldComment.user_id),
        (ApiToken, ApiToken.user_id),
    ):
        db.session.execute(delete(model).where(column == user_id))
    db.session.expire(user, ["team_memberships"])
    db.session.delete(user)
    audit.record("account.deleted", target_type="user", target_id=user_id, actor_id=user_id)
    db.session.flush()
    return user_id


def _other_admins(user: User) -> int:
    return db.session.scalar(
        select(func.count(User.id)).where(User.is_admin.is_(True), User.id != user.id)
    )
