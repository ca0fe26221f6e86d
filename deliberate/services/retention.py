"""Retention: deleting what the privacy page says is not kept, once its time has passed.

What goes, and when (the periods are settings, and the privacy page states them):

- comments held back for a similarity check and never posted (``SimilarityCheck`` rows; a posted
  one is deleted when it is posted): ``RETENTION_HELD_COMMENT_DAYS`` after they were written;
- staff verification links and account links (password reset, new email address), with the
  address each was sent to: ``RETENTION_TOKEN_DAYS`` after they were used or expired (a confirmed
  work address stays on the account);
- accounts whose email address was never confirmed (nobody could ever sign in to them):
  ``RETENTION_TOKEN_DAYS`` after they were created, with their links;
- emails written to the outbox folder when no mail server is set: ``RETENTION_OUTBOX_DAYS`` after
  they were written;
- the keyed hash of the address a new anonymous participant came from (``Participant.address_key``,
  kept to review bursts of new participants): cleared ``RETENTION_ADDRESS_KEY_DAYS`` after the
  participant joined. A participant the team left out of the analysis stays left out;
- email addresses that asked to follow a consultation (``Follower``, deliberate.services
  .following): never confirmed, ``FOLLOWER_CONFIRM_DAYS`` after the confirmation link was sent
  (when it stops working); confirmed, ``FOLLOWER_KEEP_DAYS`` after the last round of the
  consultation that opened was closed.

Each purge is recorded in the audit log as ``retention.purged`` with what it deleted, counted.

How it runs: ``flask deliberate purge`` purges at once (from cron, say). Besides, with
``RETENTION_SCHEDULE`` on (the default), the site runs it by itself, at most once a day, with no
scheduler to set up: each web process, on a request, asks for the ``purge_expired_data`` job at
most once an hour (``ask_now_and_then``, keyed "retention-purge", so a request already waiting is
not queued twice), and the job purges only when the audit log has no purge from the last day
(``purge_if_due``; with Redis a lock also keeps two workers from purging at once). A site nobody
visits purges nothing, but then nothing new arrives either; the first request catches up.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import current_app
from sqlalchemy import delete, func, or_, select, update

from deliberate.extensions import db
from deliberate.models import (
    AccountToken,
    AuditEvent,
    Participant,
    SimilarityCheck,
    StaffVerification,
    User,
    utcnow,
)
from deliberate.services import audit, following
from deliberate.wording import counted

ACTION = "retention.purged"
PURGE_INTERVAL = timedelta(days=1)  # the scheduled purge runs at most this often
ASK_EVERY = timedelta(hours=1)  # how often a web process asks for it
JOB_KEY = "retention-purge"


@dataclass(frozen=True)
class Purged:
    """How many of each kind of thing one purge deleted."""

    held_comments: int = 0
    staff_verifications: int = 0
    account_tokens: int = 0
    outbox_emails: int = 0
    address_keys: int = 0  # participants whose address key was cleared
    unconfirmed_accounts: int = 0
    unconfirmed_followers: int = 0  # follow requests never confirmed
    followers: int = 0  # followers of consultations whose last round closed long enough ago

    def summary(self) -> str:
        return (
            f"Deleted {counted(self.held_comments, 'held comment')}, "
            f"{counted(self.staff_verifications, 'staff verification link')}, "
            f"{counted(self.account_tokens, 'account link')}, "
            f"{counted(self.unconfirmed_accounts, 'account')} never confirmed and "
            f"{counted(self.outbox_emails, 'outbox email')}. Cleared the address key of "
            f"{counted(self.address_keys, 'participant')}. Deleted "
            f"{counted(self.unconfirmed_followers, 'follow request')} never confirmed and "
            f"{counted(self.followers, 'follower')} of consultations closed for good."
        )


def _days(setting: str) -> timedelta:
    return timedelta(days=int(current_app.config[setting]))


def _deleted(statement) -> int:
    result = db.session.execute(statement, execution_options={"synchronize_session": False})
    return int(result.rowcount or 0)


def purge(now: datetime | None = None) -> Purged:
    """Delete everything past its period, now, and record it in the audit log. Flushes."""
    now = now or utcnow()
    held_before = now - _days("RETENTION_HELD_COMMENT_DAYS")
    links_before = now - _days("RETENTION_TOKEN_DAYS")
    followers = following.purge(now)
    purged = Purged(
        held_comments=_deleted(
            delete(SimilarityCheck).where(SimilarityCheck.created_at < held_before)
        ),
        # A link is used before it expires, so "expired before" covers every old unused one and
        # "used before" the used ones.
        staff_verifications=_deleted(
            delete(StaffVerification).where(
                or_(
                    StaffVerification.used_at < links_before,
                    StaffVerification.expires_at < links_before,
                )
            )
        ),
        account_tokens=_deleted(
            delete(AccountToken).where(
                or_(AccountToken.used_at < links_before, AccountToken.expires_at < links_before)
            )
        ),
        outbox_emails=_purge_outbox(now - _days("RETENTION_OUTBOX_DAYS")),
        unconfirmed_accounts=_purge_unconfirmed_accounts(links_before),
        address_keys=_deleted(
            update(Participant)
            .where(
                Participant.address_key.is_not(None),
                Participant.created_at < now - _days("RETENTION_ADDRESS_KEY_DAYS"),
            )
            .values(address_key=None)
        ),
        unconfirmed_followers=followers.unconfirmed,
        followers=followers.after_last_round,
    )
    audit.record(ACTION, target_type="retention", actor_id=None, **asdict(purged))
    return purged


def _purge_unconfirmed_accounts(before: datetime) -> int:
    """Accounts registered before ``before`` whose address was never confirmed: nobody could sign
    in to them, so they hold nothing of anyone's participation; their links go with them."""
    users = db.session.scalars(
        select(User).where(User.email_confirmed_at.is_(None), User.created_at < before)
    ).all()
    for user in users:
        db.session.delete(user)
    db.session.flush()
    return len(users)


def _purge_outbox(before: datetime) -> int:
    """Emails written to the development outbox folder before ``before`` (naive UTC)."""
    folder = Path(current_app.config.get("MAIL_OUTBOX") or "")
    if not current_app.config.get("MAIL_OUTBOX") or not folder.is_dir():
        return 0
    deleted = 0
    for email in folder.glob("*.eml"):
        written = datetime.fromtimestamp(email.stat().st_mtime, UTC).replace(tzinfo=None)
        if written < before:
            email.unlink(missing_ok=True)
            deleted += 1
    return deleted


def last_purge() -> datetime | None:
    return db.session.scalar(select(func.max(AuditEvent.at)).where(AuditEvent.action == ACTION))


def purge_if_due(now: datetime | None = None) -> Purged | None:
    """Purge unless a purge was recorded in the last day; None when it was not due."""
    now = now or utcnow()
    last = last_purge()
    if last is not None and now - last < PURGE_INTERVAL:
        return None
    return purge(now)


def request_purge() -> bool:
    """Queue the purge job (no second copy while one waits)."""
    from deliberate import jobs
    from deliberate.jobs.tasks import purge_expired_data

    return jobs.enqueue(purge_expired_data, key=JOB_KEY)


def ask_now_and_then() -> None:
    """Before a request: ask for the purge job, at most once an hour in this process, when
    ``RETENTION_SCHEDULE`` is on. Never stands in the way of the request."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if not app.config.get("RETENTION_SCHEDULE"):
        return
    state = app.extensions.setdefault("deliberate_retention", {"next_ask": 0.0})
    moment = time.monotonic()
    if moment < state["next_ask"]:
        return
    state["next_ask"] = moment + ASK_EVERY.total_seconds()
    try:
        request_purge()
    except Exception as error:  # a queue that does not answer must not fail the page
        app.logger.warning("Could not ask for the daily purge: %s", type(error).__name__)
