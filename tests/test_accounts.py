"""Registering, signing in and out, and earning verified-staff status."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from deliberate.extensions import db
from deliberate.models import (
    AccountToken,
    AuditEvent,
    StaffVerification,
    TokenPurpose,
    User,
    utcnow,
)
from tests.helpers import csrf_token_from, error_summary, html_of, sign_in, submit_form, text_of

GOOD = {
    "display_name": "Asha Patel",
    "email": "asha@example.org",
    "password": "walnut kettle orbit",
    "confirm_password": "walnut kettle orbit",
}


def user_count() -> int:
    return db.session.scalar(select(func.count(User.id)))


def user_by_email(address: str) -> User:
    return db.session.scalar(select(User).where(User.email == address))


def audit_actions(target: User | None = None) -> list[str]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if target is not None:
        query = query.where(
            AuditEvent.target_type == "user", AuditEvent.target_id == str(target.id)
        )
    return [event.action for event in db.session.scalars(query)]


# -- emails, read from the outbox as the person would ---------------------------------------------


def sent_emails(app, outbox, to: str | None = None) -> list[email.message.EmailMessage]:
    """Every email sent so far (oldest first), once the background jobs have sent them."""
    runner = app.extensions["deliberate_jobs"]
    assert runner.wait_until_idle(timeout=60) and runner.failures == []
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(outbox.glob("*.eml"))
    ]
    return [m for m in messages if to is None or m["To"] == to]


def last_email(app, outbox, to: str) -> email.message.EmailMessage:
    messages = sent_emails(app, outbox, to)
    assert messages, f"no email was sent to {to}"
    return messages[-1]


def link_in(message: email.message.EmailMessage, path: str) -> str:
    """The path of the link in ``message`` that starts with ``path``."""
    match = re.search(rf"http://deliberate\.test({re.escape(path)}\S*)", message.get_content())
    assert match, f"no {path} link in: {message.get_content()}"
    return match.group(1)


def confirm_through_email(client, app, outbox, address: str):
    """Open the newest confirmation link sent to ``address`` and press its button."""
    link = link_in(last_email(app, outbox, address), "/confirm-email/")
    page = client.get(link)
    assert page.status_code == 200, html_of(page)
    return submit_form(client, link, {}, follow_redirects=True)


# -- registering and confirming the address -------------------------------------------------------


def test_person_registers_confirms_their_address_and_is_then_signed_in(client, app, outbox):
    response = submit_form(client, "/register", GOOD)
    assert response.status_code == 302
    page = html_of(client.get(response.headers["Location"]))
    assert "Check your email" in page and "asha@example.org" in page
    user = user_by_email("asha@example.org")
    assert not user.email_confirmed and not user.is_staff and not user.is_admin
    assert user.password_hash != GOOD["password"] and user.check_password(GOOD["password"])
    assert client.get("/account").status_code == 302  # not signed in yet

    message = last_email(app, outbox, "asha@example.org")
    assert message["Subject"] == "Confirm your email address for Deliberate"
    assert message.get_content().startswith("Hello,\n")
    assert "Asha" not in message.get_content()
    token = link_in(message, "/confirm-email/").rsplit("/", 1)[1]
    assert token not in db.session.scalar(select(AccountToken.token_hash))  # only a hash is kept

    confirmed = html_of(confirm_through_email(client, app, outbox, "asha@example.org"))
    assert "Your email address is confirmed and your account is ready." in confirmed
    assert "Asha Patel" in confirmed and "Citizen" in confirmed
    db.session.refresh(user)
    assert user.email_confirmed and not user.is_staff
    assert audit_actions(user) == ["account.registered", "account.email_confirmed"]


def test_an_unconfirmed_account_cannot_sign_in_and_only_the_right_password_says_why(
    client, app, outbox
):
    submit_form(client, "/register", GOOD)
    assert len(sent_emails(app, outbox, "asha@example.org")) == 1
    stranger = app.test_client()
    wrong = submit_form(
        stranger, "/sign-in", {"email": "asha@example.org", "password": "not her password"}
    )
    assert "Email address or password is not correct" in error_summary(html_of(wrong))
    assert "Confirm your email" not in html_of(wrong)
    assert len(sent_emails(app, outbox, "asha@example.org")) == 1

    right = submit_form(
        client, "/sign-in", {"email": "asha@example.org", "password": GOOD["password"]}
    )
    assert right.status_code == 200
    assert "Confirm your email address first: we have sent a new link" in error_summary(
        html_of(right)
    )
    assert client.get("/account").status_code == 302
    first, second = sent_emails(app, outbox, "asha@example.org")
    old_link = link_in(first, "/confirm-email/")
    assert old_link != link_in(second, "/confirm-email/")
    # The new link replaces the old one.
    assert "not valid" in html_of(client.get(old_link))
    confirm_through_email(client, app, outbox, "asha@example.org")
    assert client.get("/account").status_code == 200


def test_registering_a_taken_address_in_any_case_looks_the_same_and_emails_its_owner(
    app, client, create_user, outbox
):
    owner = create_user(email="asha@example.org", name="Asha Patel")
    before = owner.password_hash
    someone = app.test_client()
    taken = submit_form(
        someone,
        "/register",
        {**GOOD, "display_name": "Mallory Smith", "email": "  ASHA@Example.org "},
    )
    fresh = submit_form(client, "/register", {**GOOD, "email": "new.person@example.org"})
    assert taken.status_code == fresh.status_code == 302
    assert taken.headers["Location"] == fresh.headers["Location"]
    taken_page = text_of(html_of(someone.get(taken.headers["Location"])))
    fresh_page = text_of(html_of(client.get(fresh.headers["Location"])))
    assert "asha@example.org" in taken_page
    assert taken_page.replace("asha@example.org", "X") == fresh_page.replace(
        "new.person@example.org", "X"
    )

    assert user_count() == 2  # the owner and the new person; nothing made for the taken address
    db.session.refresh(owner)
    assert owner.password_hash == before and owner.display_name == "Asha Patel"
    [message] = sent_emails(app, outbox, "asha@example.org")
    body = message.get_content()
    assert "already has an account" in body and "Mallory" not in body
    assert link_in(message, "/sign-in") and link_in(message, "/forgot-password")
    assert "/confirm-email/" not in body
    assert db.session.scalar(select(func.count(AccountToken.id))) == 1  # the new person's link


def test_a_confirmation_link_works_once_and_expires(app, client, outbox):
    submit_form(client, "/register", GOOD)
    link = link_in(last_email(app, outbox, "asha@example.org"), "/confirm-email/")
    tampered = link[:-4] + ("aaaa" if not link.endswith("aaaa") else "bbbb")
    refused = client.get(tampered)
    assert refused.status_code == 400 and "This link is not valid" in html_of(refused)

    confirm_through_email(client, app, outbox, "asha@example.org")
    again = app.test_client().get(link)
    assert again.status_code == 400
    assert "already been used" in html_of(again) and 'href="/sign-in"' in html_of(again)

    other = app.test_client()
    submit_form(other, "/register", {**GOOD, "email": "late@example.org"})
    late_link = link_in(last_email(app, outbox, "late@example.org"), "/confirm-email/")
    stored = db.session.scalar(
        select(AccountToken).where(AccountToken.new_email == "late@example.org")
    )
    page_before_expiry = other.get(late_link)
    assert page_before_expiry.status_code == 200
    stored.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    expired = submit_form(other, "/register", {}, action=late_link)  # any page gives a token
    assert expired.status_code == 400 and "has expired" in html_of(expired)
    assert not user_by_email("late@example.org").email_confirmed
    assert other.get("/account").status_code == 302


def test_registering_with_a_staff_domain_address_verifies_staff_once_confirmed(app, client, outbox):
    response = submit_form(
        client, "/register", {**GOOD, "display_name": "Sam Nurse", "email": "Sam.Nurse@NHS.net"}
    )
    page = text_of(html_of(client.get(response.headers["Location"])))
    assert "work address on nhs.net, confirming it also verifies you as frontline staff" in page
    message = last_email(app, outbox, "sam.nurse@nhs.net")
    assert "confirming it also verifies you as frontline staff" in message.get_content()
    user = user_by_email("sam.nurse@nhs.net")
    assert not user.is_staff

    confirmed = text_of(html_of(confirm_through_email(client, app, outbox, "sam.nurse@nhs.net")))
    assert "You are also verified as frontline staff through sam.nurse@nhs.net" in confirmed
    assert "Verified frontline staff" in confirmed
    db.session.refresh(user)
    assert user.is_staff and user.staff_email == "sam.nurse@nhs.net"
    assert user.staff_verified_at == user.email_confirmed_at
    assert audit_actions(user) == [
        "account.registered",
        "account.email_confirmed",
        "account.staff_verified",
    ]
    [event] = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "account.staff_verified")
    ).all()
    assert event.detail == {"domain": "nhs.net"}


def test_an_ordinary_address_does_not_mention_staff_verification(app, client, outbox):
    response = submit_form(client, "/register", GOOD)
    assert "frontline staff" not in html_of(client.get(response.headers["Location"]))
    assert "frontline staff" not in last_email(app, outbox, "asha@example.org").get_content()


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
        ("password12", "This password is too common"),
        ("Password12", "This password is too common"),
        ("21drowssap", "This password is too common"),  # reversed
        ("P@ssword1234", "too easy to guess"),
        ("Kx9#mq2vL", "at least 12 characters"),
        ("aaaaaaaaaaaaaa", "too easy to guess"),
        ("Password123!", "too easy to guess"),
        ("qwertyuiop12", "too easy to guess"),
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


def test_the_passwords_people_are_told_to_choose_are_accepted():
    from deliberate.services.accounts import password_problem

    for password in (
        "correct horse battery",  # the test fixtures' own
        "walnut kettle orbit",
        "quiet harbour lantern",
        "demo passphrase 2026",
        "a" * 20 + "Zq9!kettle orbit walnut" * 5,  # longer than zxcvbn reads
    ):
        assert password_problem(password, "someone@example.org") is None, password


def test_names_that_are_not_plain_names_are_refused(client):
    for name in [
        "NHS IT: smartcard expires today, renew at https://evil.example",
        "renew at www.evil.example",
        "Visit nhs-login.com now",
        "Sam@nhs.net",
        "Sam\u0007Nurse",
        "Sam\u202eesruN",
        "Agent 007",
        "<b>Sam</b>",
        "...",
    ]:
        response = submit_form(client, "/register", {**GOOD, "display_name": name})
        assert response.status_code == 200, name
        assert "display_name-error" in html_of(response), name
    assert user_count() == 0


def test_plain_names_of_any_script_are_accepted():
    from deliberate.services.accounts import name_problem

    for name in [
        "Rhiannon Ŵyn",
        "Siobhán O\u2019Neill",
        "Jean-Luc d'Artagnan",
        "J. R. R. Tolkien",
        "Dr. Amara Okafor",
        "محمد علي",
        "李小龍",
        "अनुष्का शर्मा",  # Devanagari: vowel signs are combining marks
        "Zoë",
        "زهرا\u200cمحمدی",  # Persian: the zero-width non-joiner belongs in the name
    ]:
        assert name_problem(name) is None, name


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
    user = user_by_email("lee@example.org")
    [event] = db.session.scalars(select(AuditEvent)).all()
    assert (event.action, event.target_id, event.actor_id) == (
        "account.signed_out",
        str(user.id),
        user.id,
    )


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


def test_a_work_address_that_verifies_another_account_is_not_revealed(
    app, client, create_user, outbox
):
    create_user(email="first@example.org", staff_email="sam@nhs.net")
    second = create_user(email="second@example.org")
    sign_in(client, "second@example.org")
    response = _request_link(client, "Sam@NHS.net")
    assert "We have sent a link to sam@nhs.net" in response.get_data(as_text=True)
    assert "another account" not in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(StaffVerification.id))) == 0
    [message] = sent_emails(app, outbox, "sam@nhs.net")
    body = message.get_content()
    assert "already verifies another Deliberate account" in body
    assert "nothing has been verified" in body and "http" not in body
    db.session.refresh(second)
    assert not second.is_staff


def test_the_staff_verification_email_greets_without_the_name(app, client, create_user, outbox):
    create_user(email="nurse@example.org", name="Sam Nurse")
    sign_in(client, "nurse@example.org")
    _request_link(client, "sam@nhs.net")
    body = last_email(app, outbox, "sam@nhs.net").get_content()
    assert body.startswith("Hello,\n") and "Sam Nurse" not in body


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
    assert admin.email_confirmed  # an account an operator makes is usable at once


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
    assert "at least 12 characters" in result.output
    assert user_count() == 0


def test_create_admin_refuses_a_common_password(app):
    result = app.test_cli_runner().invoke(
        args=[
            "deliberate",
            "create-admin",
            "--email",
            "a@example.org",
            "--name",
            "A",
            "--password",
            "password12",
        ],
    )
    assert result.exit_code != 0
    assert "This password is too common" in result.output
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


# -- forgotten passwords --------------------------------------------------------------------------


def ask_for_reset(client, address: str):
    return submit_form(client, "/forgot-password", {"email": address}, follow_redirects=True)


def test_forgotten_password_email_new_password_signed_in_and_old_sessions_end(
    app, client, create_user, outbox
):
    user = create_user(email="lee@example.org")
    laptop = app.test_client()
    sign_in(laptop, "lee@example.org")
    stolen = laptop.get_cookie("session", domain="deliberate.test").value

    sign_in_page = html_of(client.get("/sign-in"))
    assert 'href="/forgot-password"' in sign_in_page and "Forgot your password?" in sign_in_page
    sent = text_of(html_of(ask_for_reset(client, "Lee@Example.org")))
    assert "If an account uses lee@example.org" in sent and "we have sent a link to it" in sent
    message = last_email(app, outbox, "lee@example.org")
    assert message["Subject"] == "Reset your Deliberate password"
    assert "expires in 60 minutes" in message.get_content()
    link = link_in(message, "/reset-password/")
    stored = db.session.scalar(select(AccountToken))
    assert stored.purpose == TokenPurpose.PASSWORD_RESET
    assert link.rsplit("/", 1)[1] not in stored.token_hash
    assert stored.expires_at - stored.created_at == timedelta(hours=1)

    form = client.get(link)
    assert form.status_code == 200 and "Choose a new password" in html_of(form)
    weak = submit_form(client, link, {"password": "password12", "confirm_password": "password12"})
    assert "This password is too common" in error_summary(html_of(weak))
    done = submit_form(
        client,
        link,
        {"password": "new strong passphrase", "confirm_password": "new strong passphrase"},
        follow_redirects=True,
    )
    assert "Your password has been changed and you are signed in" in html_of(done)
    assert client.get("/account").status_code == 200

    replay = app.test_client()
    replay.set_cookie("session", stolen, domain="deliberate.test")
    assert replay.get("/account").status_code == 302
    assert laptop.get("/account").status_code == 302
    db.session.refresh(user)
    assert user.check_password("new strong passphrase")
    assert not user.check_password("correct horse battery")
    assert audit_actions(user) == ["account.password_reset_requested", "account.password_reset"]
    requested = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "account.password_reset_requested")
    )
    assert requested.actor_id is None

    again = app.test_client().get(link)
    assert again.status_code == 400
    assert "already been used" in html_of(again) and 'href="/forgot-password"' in html_of(again)


def test_asking_for_a_reset_never_reveals_whether_an_account_exists(
    app, client, create_user, outbox
):
    create_user(email="lee@example.org")
    known = ask_for_reset(client, "lee@example.org")
    unknown = ask_for_reset(app.test_client(), "nobody@example.org")
    assert known.status_code == unknown.status_code == 200
    assert text_of(html_of(known)).replace("lee@example.org", "X") == text_of(
        html_of(unknown)
    ).replace("nobody@example.org", "X")
    assert sent_emails(app, outbox, "nobody@example.org") == []
    assert len(sent_emails(app, outbox, "lee@example.org")) == 1
    assert audit_actions() == ["account.password_reset_requested"]


def test_a_new_reset_link_makes_older_ones_useless_and_links_expire(
    app, client, create_user, outbox
):
    create_user(email="lee@example.org")
    ask_for_reset(client, "lee@example.org")
    first = link_in(last_email(app, outbox, "lee@example.org"), "/reset-password/")
    ask_for_reset(client, "lee@example.org")
    second = link_in(last_email(app, outbox, "lee@example.org"), "/reset-password/")
    old = client.get(first)
    assert old.status_code == 400 and "This link is not valid" in html_of(old)
    assert client.get(second).status_code == 200

    tampered = client.get(second[:-3] + "xyz")
    assert tampered.status_code == 400 and "Ask for a new link" in html_of(tampered)

    link = db.session.scalar(select(AccountToken).where(AccountToken.used_at.is_(None)))
    link.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    expired = client.get(second)
    assert expired.status_code == 400 and "has expired" in html_of(expired)
    posted = client.post(
        second,
        data={
            "csrf_token": csrf_token_from(html_of(client.get("/forgot-password"))),
            "password": "new strong passphrase",
            "confirm_password": "new strong passphrase",
        },
    )
    assert posted.status_code == 400
    assert user_by_email("lee@example.org").check_password("correct horse battery")


def test_resetting_the_password_of_an_unconfirmed_account_confirms_it(app, client, outbox):
    submit_form(client, "/register", GOOD)
    ask_for_reset(client, "asha@example.org")
    link = link_in(last_email(app, outbox, "asha@example.org"), "/reset-password/")
    submit_form(
        client,
        link,
        {"password": "new strong passphrase", "confirm_password": "new strong passphrase"},
    )
    assert client.get("/account").status_code == 200
    assert user_by_email("asha@example.org").email_confirmed


def test_a_reset_does_not_quietly_make_a_confirmed_account_staff(app, client, create_user, outbox):
    user = create_user(email="sam@nhs.net")
    ask_for_reset(client, "sam@nhs.net")
    link = link_in(last_email(app, outbox, "sam@nhs.net"), "/reset-password/")
    submit_form(
        client,
        link,
        {"password": "new strong passphrase", "confirm_password": "new strong passphrase"},
    )
    db.session.refresh(user)
    assert user.check_password("new strong passphrase") and not user.is_staff


def test_on_postgresql_the_database_itself_refuses_to_change_an_audit_event(
    app, create_user, is_postgres
):
    """Not only the app's mapper: raw SQL from any client is refused by a trigger."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from deliberate.models import AuditEvent
    from deliberate.services import audit

    if not is_postgres:
        pytest.skip("the trigger is PostgreSQL's; SQLite keeps the mapper's guard")
    user = create_user(email="asha@example.org")
    audit.record("account.signed_out", user, actor_id=user.id)
    db.session.commit()
    for statement in ("UPDATE audit_events SET reason = 'rewritten'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="never changed or removed"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert db.session.scalar(select(func.count(AuditEvent.id))) == 1
