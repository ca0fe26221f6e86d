"""Registering, signing in and out, and earning verified-staff status."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from deliberate.extensions import db
from deliberate.models import StaffVerification, User, utcnow
from tests.helpers import csrf_token_from, error_summary, sign_in, submit_form

GOOD = {
    "display_name": "Asha Patel",
    "email": "asha@example.org",
    "password": "walnut kettle orbit",
    "confirm_password": "walnut kettle orbit",
}


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


def test_person_registers_and_is_signed_in_as_a_citizen(client):
    response = submit_form(client, "/register", GOOD, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert "Your account has been created." in html
    assert "Asha Patel" in html and "Citizen" in html
    user = db.session.scalar(select(User))
    assert user.email == "asha@example.org" and not user.is_staff and not user.is_admin
    assert user.password_hash != GOOD["password"] and user.check_password(GOOD["password"])


def test_duplicate_email_is_refused_next_to_the_field(client, create_user):
    create_user(email="asha@example.org")
    response = submit_form(client, "/register", {**GOOD, "email": "  ASHA@example.org "})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "An account with this email address already exists" in error_summary(html)
    assert 'id="email-error"' in html
    assert user_count() == 1


def test_malformed_email_weak_password_and_mismatch_are_each_explained(client):
    response = submit_form(
        client,
        "/register",
        {**GOOD, "email": "not-an-email", "password": "short", "confirm_password": "other"},
    )
    summary = error_summary(response.get_data(as_text=True))
    assert "Enter an email address in the correct format" in summary
    assert "Passwords must match" in summary
    assert user_count() == 0


def test_weak_passwords_are_refused_with_a_reason(client):
    for password, reason in [
        ("short", "at least 10 characters"),
        ("password123", "too easy to guess"),
        ("aaaaaaaaaaaa", "too easy to guess"),
        ("ashapatel-secret", "must not contain your email address"),
    ]:
        data = {
            **GOOD,
            "email": "ashapatel@example.org",
            "password": password,
            "confirm_password": password,
        }
        response = submit_form(client, "/register", data)
        assert reason in error_summary(response.get_data(as_text=True)), password
    assert user_count() == 0


def test_over_long_fields_are_refused_and_nothing_is_saved(client):
    response = submit_form(
        client,
        "/register",
        {**GOOD, "display_name": "x" * 101, "email": "a" * 250 + "@example.org"},
    )
    summary = error_summary(response.get_data(as_text=True))
    assert "Name must be 100 characters or fewer" in summary
    assert "Email address must be 254 characters or fewer" in summary
    assert user_count() == 0


def test_a_form_without_its_csrf_token_is_rejected_and_saves_nothing(client):
    response = client.post("/register", data=GOOD)
    assert response.status_code == 400
    assert "form" in response.get_data(as_text=True).lower()
    assert user_count() == 0


def test_sign_in_with_a_wrong_password_says_so_and_does_not_sign_in(client, create_user):
    create_user(email="lee@example.org")
    response = submit_form(
        client, "/sign-in", {"email": "lee@example.org", "password": "wrong password here"}
    )
    assert "Email address or password is not correct" in error_summary(
        response.get_data(as_text=True)
    )
    assert client.get("/account").status_code == 302


def test_unknown_email_gets_the_same_message_as_a_wrong_password(client):
    response = submit_form(
        client, "/sign-in", {"email": "nobody@example.org", "password": "whatever you like"}
    )
    assert "Email address or password is not correct" in response.get_data(as_text=True)


def test_sign_in_then_sign_out(client, create_user):
    create_user(email="lee@example.org", name="Lee Chen")
    sign_in(client, "lee@example.org")
    assert "Lee Chen" in client.get("/account").get_data(as_text=True)
    page = client.get("/account").get_data(as_text=True)
    assert 'action="/sign-out"' in page
    response = submit_form(client, "/account", {}, action="/sign-out", follow_redirects=True)
    assert "You have signed out." in response.get_data(as_text=True)
    assert client.get("/account").status_code == 302


def test_sign_in_never_redirects_to_another_site(client, create_user):
    create_user(email="lee@example.org")
    page = client.get("/sign-in?next=//evil.example/steal")
    response = client.post(
        "/sign-in?next=//evil.example/steal",
        data={
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
            "email": "lee@example.org",
            "password": "correct horse battery",
        },
    )
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def _request_link(client, work_email: str):
    response = submit_form(
        client,
        "/account",
        {"work_email": work_email},
        action="/account/staff",
        follow_redirects=True,
    )
    # The email is sent by a background job, after the request has committed.
    assert client.application.extensions["deliberate_jobs"].wait_until_idle(timeout=60)
    return response


def _link_from_outbox(outbox) -> str:
    emails = sorted(outbox.glob("*.eml"))
    assert emails, "no email was sent"
    message = email.message_from_bytes(emails[-1].read_bytes(), policy=email.policy.default)
    match = re.search(r"http://deliberate\.test(/account/verify-staff/\S+)", message.get_content())
    assert match
    return match.group(1)


def test_staff_member_verifies_a_work_email_with_a_one_time_link(client, create_user, outbox):
    user = create_user(email="nurse@example.org")
    sign_in(client, "nurse@example.org")
    response = _request_link(client, "Sam.Nurse@NHS.net")
    assert "We have sent a link to" in response.get_data(as_text=True)
    link = _link_from_outbox(outbox)
    stored = db.session.scalar(select(StaffVerification))
    assert link.rsplit("/", 1)[1] not in stored.token_hash  # only a hash is kept

    page = client.get(link, follow_redirects=True).get_data(as_text=True)
    assert "you now take part as verified staff" in page
    assert "Verified frontline staff" in page
    db.session.refresh(user)
    assert user.is_staff and user.staff_email == "sam.nurse@nhs.net"

    again = client.get(link)
    assert again.status_code == 400
    assert "already been used" in again.get_data(as_text=True)


def test_subdomains_of_an_allowed_domain_are_accepted(client, create_user, outbox):
    user = create_user(email="teacher@example.org")
    sign_in(client, "teacher@example.org")
    _request_link(client, "J.Smith@Greenfield.sch.uk")
    stored = db.session.scalar(select(StaffVerification))
    assert stored.email == "j.smith@greenfield.sch.uk" and stored.used_at is None
    assert not user.is_staff

    page = client.get(_link_from_outbox(outbox), follow_redirects=True).get_data(as_text=True)
    assert "you now take part as verified staff" in page
    db.session.refresh(user)
    db.session.refresh(stored)
    assert user.is_staff and user.staff_email == "j.smith@greenfield.sch.uk"
    assert stored.used_at is not None and user.staff_verified_at == stored.used_at


def test_a_domain_not_on_the_list_is_refused_and_no_email_is_sent(client, create_user, outbox):
    create_user(email="someone@example.org")
    sign_in(client, "someone@example.org")
    response = _request_link(client, "someone@gmail.com")
    assert response.status_code == 400
    assert "Enter a work email address on one of these domains" in error_summary(
        response.get_data(as_text=True)
    )
    assert not list(outbox.glob("*.eml"))
    assert db.session.scalar(select(func.count(StaffVerification.id))) == 0


def test_an_expired_link_is_refused(client, create_user, outbox):
    user = create_user(email="officer@example.org")
    sign_in(client, "officer@example.org")
    _request_link(client, "pc.jones@met.police.uk")
    link = _link_from_outbox(outbox)
    verification = db.session.scalar(select(StaffVerification))
    verification.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.get(link)
    assert response.status_code == 400
    assert "has expired" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert not user.is_staff


def test_a_link_whose_domain_was_removed_from_the_list_is_refused(client, app, create_user, outbox):
    user = create_user(email="clerk@example.org")
    sign_in(client, "clerk@example.org")
    _request_link(client, "clerk@council.gov.uk")
    app.config["STAFF_EMAIL_DOMAINS"] = ("nhs.net",)
    response = client.get(_link_from_outbox(outbox))
    assert response.status_code == 400
    assert "no longer accepted" in response.get_data(as_text=True)
    db.session.refresh(user)
    assert not user.is_staff


def test_someone_elses_link_does_not_verify_you(client, app, create_user, outbox):
    create_user(email="first@example.org")
    create_user(email="second@example.org")
    sign_in(client, "first@example.org")
    _request_link(client, "first@nhs.net")
    link = _link_from_outbox(outbox)
    other = app.test_client()
    sign_in(other, "second@example.org")
    assert other.get(link).status_code == 400
    assert not db.session.scalar(select(User).where(User.email == "second@example.org")).is_staff


def test_admin_is_created_from_the_command_line(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "deliberate",
            "create-admin",
            "--email",
            "admin@example.org",
            "--name",
            "Ada",
            "--password",
            "quiet harbour lantern",
        ],
    )
    assert result.exit_code == 0, result.output
    admin = db.session.scalar(select(User).where(User.email == "admin@example.org"))
    assert admin.is_admin and admin.check_password("quiet harbour lantern")


def test_create_admin_refuses_a_weak_password(app):
    result = app.test_cli_runner().invoke(
        args=[
            "deliberate",
            "create-admin",
            "--email",
            "a@example.org",
            "--name",
            "A",
            "--password",
            "short",
        ],
    )
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output
    assert user_count() == 0


def test_a_session_cookie_copied_before_sign_out_is_refused_afterwards(
    app, client, create_user, missions
):
    create_user(email="asha@example.org", team=(missions["nhs"],))
    sign_in(client, "asha@example.org")
    assert client.get("/account").status_code == 200
    stolen = client.get_cookie("session", domain="deliberate.test").value
    submit_form(client, "/account", {}, action="/sign-out")

    replay = app.test_client()
    replay.set_cookie("session", stolen, domain="deliberate.test")
    for page in ("/account", "/manage"):
        response = replay.get(page)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"], page


def test_the_audit_log_keeps_what_happened_and_refuses_to_change_it(app, create_user):
    from deliberate.models import AppendOnly, AuditEvent
    from deliberate.services import audit

    user = create_user(email="asha@example.org")
    audit.record("account.signed_out_everywhere", user, actor_id=user.id, reason="lost phone")
    db.session.commit()
    [event] = db.session.scalars(select(AuditEvent)).all()
    assert (event.action, event.target_type, event.target_id, event.actor_id, event.reason) == (
        "account.signed_out_everywhere",
        "user",
        str(user.id),
        user.id,
        "lost phone",
    )
    event.reason = "nothing happened"
    with pytest.raises(AppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(AppendOnly):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEvent, event.id).reason == "lost phone"
