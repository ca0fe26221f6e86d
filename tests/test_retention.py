"""Retention: what the privacy page says is not kept is deleted once its time has passed, by
`flask deliberate purge` and by the daily job, through the real database."""

from __future__ import annotations

import os
import secrets
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from deliberate.extensions import db
from deliberate.models import (
    AccountToken,
    AuditEvent,
    Consultation,
    SimilarityCheck,
    StaffVerification,
    TokenPurpose,
    User,
    utcnow,
)
from deliberate.services import retention
from tests.conftest import make_test_app
from tests.helpers import cli, count, run_background_jobs

DAY = timedelta(days=1)


@pytest.fixture
def consultation(missions) -> Consultation:
    consultation = Consultation(mission=missions["nhs"], title="Waiting times")
    db.session.add(consultation)
    db.session.commit()
    return consultation


def held(consultation: Consultation, text: str, age: timedelta) -> None:
    db.session.add(
        SimilarityCheck(consultation_id=consultation.id, text=text, created_at=utcnow() - age)
    )


def link(model, user, label: str, *, expired_ago=None, used_ago=None) -> None:
    """A link sent a day before it expires; ``expired_ago`` negative: still valid."""
    now = utcnow()
    expires = now - expired_ago if expired_ago is not None else now + DAY
    fields = {"email": f"{label}@nhs.net"} if model is StaffVerification else {}
    if model is AccountToken:
        fields = {"purpose": TokenPurpose.EMAIL_CHANGE, "new_email": f"{label}@example.org"}
    db.session.add(
        model(
            user=user,
            token_hash=secrets.token_hex(32),
            created_at=expires - DAY,
            expires_at=expires,
            used_at=now - used_ago if used_ago is not None else None,
            **fields,
        )
    )


def remaining(model) -> set[str]:
    if model is SimilarityCheck:
        return set(db.session.scalars(select(SimilarityCheck.text)))
    if model is StaffVerification:
        return {e.split("@")[0] for e in db.session.scalars(select(StaffVerification.email))}
    return {e.split("@")[0] for e in db.session.scalars(select(AccountToken.new_email))}


def purge_events() -> list[AuditEvent]:
    return list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.action == "retention.purged"))
    )


@pytest.fixture
def old_and_new(app, consultation, create_user, outbox):
    """Rows on each side of the default periods (1 day for held comments, 30 for links, 7 for
    outbox emails)."""
    user = create_user()
    held(consultation, "old held comment", 2 * DAY)
    held(consultation, "new held comment", timedelta(hours=2))
    for model in (StaffVerification, AccountToken):
        link(model, user, "used-long-ago", expired_ago=30 * DAY, used_ago=31 * DAY)
        link(model, user, "used-lately", expired_ago=28 * DAY, used_ago=29 * DAY)
        link(model, user, "expired-long-ago", expired_ago=31 * DAY)
        link(model, user, "expired-lately", expired_ago=29 * DAY)
        link(model, user, "still-valid")
    db.session.commit()
    outbox.mkdir(parents=True, exist_ok=True)
    old_email, new_email = outbox / "old.eml", outbox / "new.eml"
    for email, age in ((old_email, 8 * DAY), (new_email, 6 * DAY)):
        email.write_text("Subject: a link\n")
        written = time.time() - age.total_seconds()
        os.utime(email, (written, written))
    return old_email, new_email


KEPT_LINKS = {"used-lately", "expired-lately", "still-valid"}


def test_the_purge_command_deletes_what_is_past_its_period_and_keeps_the_rest(app, old_and_new):
    old_email, new_email = old_and_new
    output = cli(app, "purge")
    assert (
        "Deleted 1 held comment, 2 staff verification links, 2 account links, "
        "0 accounts never confirmed and 1 outbox email." in output
    )
    db.session.expire_all()
    assert remaining(SimilarityCheck) == {"new held comment"}
    assert remaining(StaffVerification) == KEPT_LINKS
    assert remaining(AccountToken) == KEPT_LINKS
    assert not old_email.exists() and new_email.exists()
    (event,) = purge_events()
    assert event.actor_id is None and event.target_type == "retention"
    assert event.detail == {
        "held_comments": 1,
        "staff_verifications": 2,
        "account_tokens": 2,
        "outbox_emails": 1,
        "address_keys": 0,
        "unconfirmed_accounts": 0,
        "unconfirmed_followers": 0,
        "followers": 0,
    }
    assert "Deleted 0 held comments, 0 staff" in cli(app, "purge")  # nothing left to delete


def test_the_periods_are_the_settings(app, old_and_new):
    app.config.update(RETENTION_HELD_COMMENT_DAYS=3, RETENTION_TOKEN_DAYS=90)
    cli(app, "purge")
    db.session.expire_all()
    assert remaining(SimilarityCheck) == {"old held comment", "new held comment"}
    assert count(StaffVerification) == 5 and count(AccountToken) == 5
    app.config.update(RETENTION_HELD_COMMENT_DAYS=1, RETENTION_TOKEN_DAYS=1)
    retention.purge()
    db.session.commit()
    assert remaining(SimilarityCheck) == {"new held comment"}
    assert remaining(StaffVerification) == {"still-valid"}


def test_a_purge_not_due_deletes_nothing(app, consultation, old_and_new):
    assert retention.purge_if_due() is not None
    held(consultation, "x", 3 * DAY)
    db.session.commit()
    assert retention.purge_if_due() is None  # a purge was recorded less than a day ago
    assert retention.purge_if_due(utcnow() + DAY + timedelta(minutes=1)) is not None
    db.session.commit()
    assert "x" not in remaining(SimilarityCheck) and len(purge_events()) == 2


def test_the_site_asks_for_the_purge_hourly_and_it_runs_at_most_once_a_day(
    database_url, tmp_path, app, consultation
):
    site = make_test_app(database_url, tmp_path, RETENTION_SCHEDULE=True)
    browser = site.test_client()
    held(consultation, "first", 2 * DAY)
    db.session.commit()

    browser.get("/privacy")
    run_background_jobs(site)
    assert remaining(SimilarityCheck) == set() and len(purge_events()) == 1

    held(consultation, "second", 2 * DAY)
    db.session.commit()
    browser.get("/privacy")  # within the hour: not asked again
    run_background_jobs(site)
    assert remaining(SimilarityCheck) == {"second"}

    site.extensions["deliberate_retention"]["next_ask"] = 0.0  # an hour later
    browser.get("/")
    run_background_jobs(site)
    assert remaining(SimilarityCheck) == {"second"}  # asked, but purged less than a day ago
    assert len(purge_events()) == 1

    # A day later. The audit log cannot be edited through the app, nor on PostgreSQL by anyone
    # but the table's owner, who must first switch its guard off: moved back in SQL as the owner.
    table = AuditEvent.__table__
    guard = "TRIGGER audit_events_append_only"
    guarded = db.engine.dialect.name == "postgresql"
    if guarded:
        db.session.execute(text(f"ALTER TABLE audit_events DISABLE {guard}"))
    db.session.execute(table.update().values(at=utcnow() - DAY - timedelta(minutes=1)))
    if guarded:
        db.session.execute(text(f"ALTER TABLE audit_events ENABLE {guard}"))
    db.session.commit()
    site.extensions["deliberate_retention"]["next_ask"] = 0.0
    browser.get("/")
    run_background_jobs(site)
    assert remaining(SimilarityCheck) == set() and len(purge_events()) == 2


def test_without_the_schedule_the_site_never_asks(database_url, tmp_path, app, consultation):
    site = make_test_app(database_url, tmp_path)  # RETENTION_SCHEDULE off, as in every test
    held(consultation, "kept", 2 * DAY)
    db.session.commit()
    site.test_client().get("/privacy")
    run_background_jobs(site)
    assert remaining(SimilarityCheck) == {"kept"} and purge_events() == []


def test_accounts_never_confirmed_are_deleted_after_the_links_period(app, create_user):
    """Nobody could ever sign in to them; a confirmed account of the same age stays."""
    period = timedelta(days=app.config["RETENTION_TOKEN_DAYS"])
    long_ago = utcnow() - period - DAY
    never = create_user(email="never@example.org")
    recent = create_user(email="recent@example.org")
    confirmed = create_user(email="confirmed@example.org")
    never.email_confirmed_at = recent.email_confirmed_at = None
    never.created_at = confirmed.created_at = long_ago
    db.session.commit()
    assert retention.purge().unconfirmed_accounts == 1
    db.session.commit()
    left = set(db.session.scalars(select(User.email)))
    assert left == {"recent@example.org", "confirmed@example.org"}
