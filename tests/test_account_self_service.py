"""A person manages their own account: a new password, a new email address, a copy of their
data, and deleting the account while their answers stay, detached from them."""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import (
    AccountToken,
    AuditEvent,
    Consultation,
    Idea,
    IdeaSupport,
    MissionTeamMember,
    Participant,
    ParticipantRole,
    StaffVerification,
    Statement,
    StatementOrigin,
    TokenPurpose,
    User,
    Vote,
    VoteChoice,
    utcnow,
)
from deliberate.services import ideas, participation, reports
from deliberate.services.participation import Visitor
from deliberate.services.statements import write_statement
from tests.helpers import count, error_summary, html_of, run_background_jobs, sign_in, submit_form
from tests.helpers import text_of as text_of_html
from tests.test_accounts import confirm_through_email
from tests.test_reports import add_votes, analyse
from tests.test_reports import open_consultation as open_with

PASSWORD = "correct horse battery"
NEW_PASSWORD = "walnut kettle orbit"


def emails_to(app, outbox, address: str) -> list[tuple[str, str]]:
    """(subject, body) of every email sent to ``address``, once the background jobs are done;
    the body's line breaks and spaces are tidied to single spaces."""
    run_background_jobs(app)
    found = []
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if message["To"] == address:
            found.append((message["Subject"], " ".join(message.get_content().split())))
    return found


def link_in(body: str) -> str:
    match = re.search(r"http://deliberate\.test(/account/email/confirm/\S+)", body)
    assert match, body
    return match.group(1)


def audit_actions(user_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.target_type == "user", AuditEvent.target_id == str(user_id))
            .order_by(AuditEvent.id)
        )
    )


def replay(app, cookie: str):
    other = app.test_client()
    other.set_cookie("session", cookie, domain="deliberate.test")
    return other


def session_cookie(client) -> str:
    return client.get_cookie("session", domain="deliberate.test").value


def refused_to_sign_in(response) -> bool:
    return response.status_code == 302 and "/sign-in" in response.headers["Location"]


# -- the account page ------------------------------------------------------------------------------


def test_the_account_page_links_to_every_self_service_page_and_keeps_staff_verification(
    client, create_user
):
    create_user(email="asha@example.org")
    sign_in(client, "asha@example.org")
    html = html_of(client.get("/account"))
    assert "Manage your account" in html
    for href in ("/account/password", "/account/email", "/account/my-data.json", "/account/delete"):
        assert f'href="{href}"' in html, href
    assert 'action="/account/staff"' in html


def test_every_self_service_page_needs_sign_in(client):
    for url in ("/account/password", "/account/email", "/account/my-data.json", "/account/delete"):
        assert refused_to_sign_in(client.get(url)), url


# -- a new password --------------------------------------------------------------------------------


def change_password(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return submit_form(
        client,
        "/account/password",
        {"current_password": current, "new_password": new, "confirm_new_password": confirm or new},
    )


def test_changing_the_password_keeps_this_browser_and_refuses_every_copied_cookie(
    app, client, create_user, outbox
):
    user = create_user(email="asha@example.org")
    sign_in(client, "asha@example.org")
    copied = session_cookie(client)
    laptop = app.test_client()
    sign_in(laptop, "asha@example.org")

    response = change_password(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/account")
    page = client.get("/account")
    assert page.status_code == 200
    assert "Your password has been changed" in html_of(page)

    assert refused_to_sign_in(replay(app, copied).get("/account"))
    assert refused_to_sign_in(laptop.get("/account"))
    db.session.refresh(user)
    assert user.check_password(NEW_PASSWORD) and not user.check_password(PASSWORD)
    assert audit_actions(user.id) == ["account.password_changed"]
    [(subject, body)] = emails_to(app, outbox, "asha@example.org")
    assert subject == "Your Deliberate password was changed" and "/sign-in" in body

    fresh = app.test_client()
    sign_in(fresh, "asha@example.org", NEW_PASSWORD)


def test_a_wrong_current_password_is_refused_next_to_its_field_and_changes_nothing(
    app, client, create_user, outbox
):
    user = create_user(email="asha@example.org")
    sign_in(client, "asha@example.org")
    token_before = user.session_token
    response = change_password(client, current="not my password at all")
    html = html_of(response)
    assert "Your current password is not correct" in error_summary(html)
    assert 'id="current_password-error"' in html
    db.session.refresh(user)
    assert user.check_password(PASSWORD) and user.session_token == token_before
    assert audit_actions(user.id) == []
    assert client.get("/account").status_code == 200
    assert emails_to(app, outbox, "asha@example.org") == []


def test_the_new_password_must_follow_the_rules_match_and_differ_from_the_current_one(
    client, create_user
):
    user = create_user(email="asha@example.org")
    sign_in(client, "asha@example.org")
    weak = error_summary(html_of(change_password(client, new="password123", confirm="other")))
    assert "too common" in weak and "Passwords must match" in weak
    same = error_summary(html_of(change_password(client, new=PASSWORD)))
    assert "must be different from your current one" in same
    missing = error_summary(html_of(change_password(client, current="", new="", confirm="")))
    assert "Enter your current password" in missing and "Enter a new password" in missing
    db.session.refresh(user)
    assert user.check_password(PASSWORD)


# -- a new email address ---------------------------------------------------------------------------


def ask_for_email_change(client, new_email: str, password: str = PASSWORD):
    return submit_form(
        client,
        "/account/email",
        {"new_email": new_email, "password": password},
        follow_redirects=True,
    )


def test_a_new_email_address_is_confirmed_by_a_one_time_link_sent_to_it(
    app, client, create_user, outbox
):
    user = create_user(email="asha@example.org")
    sign_in(client, "asha@example.org")
    page = text_of_html(html_of(ask_for_email_change(client, " Asha.Patel@Example.NET ")))
    assert "We have sent a link to asha.patel@example.net" in page
    db.session.refresh(user)
    assert user.email == "asha@example.org"  # nothing changes before the link is opened

    [(subject, body)] = emails_to(app, outbox, "asha.patel@example.net")
    assert subject == "Confirm your new email address for Deliberate"
    link = link_in(body)
    stored = db.session.scalar(select(AccountToken))
    assert stored.purpose is TokenPurpose.EMAIL_CHANGE and link.rsplit("/", 1)[1] not in (
        stored.token_hash
    )
    assert stored.expires_at - stored.created_at == timedelta(hours=24)
    [(notice, text)] = emails_to(app, outbox, "asha@example.org")
    assert "change of email address was asked for" in notice
    assert "asha.patel" not in text

    confirmed = client.get(link, follow_redirects=True)
    assert "Your email address has been changed." in html_of(confirmed)
    db.session.refresh(user)
    assert user.email == "asha.patel@example.net"
    assert audit_actions(user.id) == [
        "account.email_change_requested",
        "account.email_changed",
    ]
    events = db.session.scalars(select(AuditEvent)).all()
    assert not any("example" in json.dumps(e.detail) + (e.reason or "") for e in events)

    again = client.get(link)
    assert again.status_code == 400 and "already been used" in html_of(again)
    fresh = app.test_client()
    sign_in(fresh, "asha.patel@example.net")


def test_asking_for_an_address_that_has_an_account_looks_the_same_and_the_email_says_why(
    app, client, create_user, outbox
):
    create_user(email="asha@example.org")
    other = create_user(email="lee@example.org")
    sign_in(client, "asha@example.org")
    page = text_of_html(html_of(ask_for_email_change(client, "LEE@example.org")))
    assert "We have sent a link to lee@example.org" in page
    assert count(AccountToken) == 0
    [(subject, body)] = emails_to(app, outbox, "lee@example.org")
    assert "cannot be used" in subject and "already belongs to an account" in body
    assert "/account/email/confirm/" not in body
    assert len(emails_to(app, outbox, "asha@example.org")) == 1  # the notice, as always
    db.session.refresh(other)
    assert other.email == "lee@example.org"


def test_an_address_taken_after_the_link_was_sent_is_refused_without_saying_by_whom(
    app, client, create_user, outbox
):
    user = create_user(email="asha@example.org")
    sign_in(client, "asha@example.org")
    ask_for_email_change(client, "shared@example.net")
    link = link_in(emails_to(app, outbox, "shared@example.net")[0][1])
    create_user(email="shared@example.net", name="Someone Else")
    response = client.get(link)
    assert response.status_code == 400
    html = html_of(response)
    assert "can no longer be used" in html and "Someone Else" not in html
    db.session.refresh(user)
    assert user.email == "asha@example.org"


def test_the_email_change_link_expires_and_works_only_for_its_own_account(
    app, client, create_user, outbox
):
    user = create_user(email="asha@example.org")
    create_user(email="lee@example.org")
    sign_in(client, "asha@example.org")
    ask_for_email_change(client, "new@example.net")
    link = link_in(emails_to(app, outbox, "new@example.net")[0][1])

    lee = app.test_client()
    sign_in(lee, "lee@example.org")
    assert lee.get(link).status_code == 400

    stored = db.session.scalar(select(AccountToken))
    stored.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    response = client.get(link)
    assert response.status_code == 400 and "has expired" in html_of(response)
    db.session.refresh(user)
    assert user.email == "asha@example.org"
    assert refused_to_sign_in(app.test_client().get(link))


def test_only_the_latest_email_change_link_works(app, client, create_user, outbox):
    user = create_user(email="asha@example.org")
    sign_in(client, "asha@example.org")
    ask_for_email_change(client, "first@example.net")
    ask_for_email_change(client, "second@example.net")
    first = link_in(emails_to(app, outbox, "first@example.net")[0][1])
    assert client.get(first).status_code == 400
    client.get(link_in(emails_to(app, outbox, "second@example.net")[0][1]))
    db.session.refresh(user)
    assert user.email == "second@example.net"


def test_asking_for_a_new_email_with_a_wrong_password_is_refused_and_sends_nothing(
    app, client, create_user, outbox
):
    create_user(email="asha@example.org")
    sign_in(client, "asha@example.org")
    response = ask_for_email_change(client, "new@example.net", password="not my password")
    html = html_of(response)
    assert "Your current password is not correct" in error_summary(html)
    assert 'id="password-error"' in html
    same = error_summary(html_of(ask_for_email_change(client, "ASHA@example.org")))
    assert "already your email address" in same
    bad = error_summary(html_of(ask_for_email_change(client, "not-an-address")))
    assert "Enter an email address in the correct format" in bad
    assert count(AccountToken) == 0 and count(AuditEvent) == 0
    run_background_jobs(app)
    assert not list(outbox.glob("*.eml"))


# -- what the two people of the next tests did ----------------------------------------------------


def open_consultation(missions, title: str = "Getting a GP appointment") -> Consultation:
    consultation = Consultation(mission=missions["nhs"], title=title)
    db.session.add(consultation)
    db.session.flush()
    for text in ("Same-day appointments matter most.", "Phone lines open too late."):
        write_statement(consultation, text, origin=StatementOrigin.SEED)
    consultation.open()
    db.session.commit()
    return consultation


def take_part(consultation: Consultation, user: User, choices: list[VoteChoice], comment: str):
    statements = db.session.scalars(
        select(Statement)
        .where(Statement.consultation_id == consultation.id)
        .order_by(Statement.id)
        .limit(len(choices))
    ).all()
    visitor = Visitor(user=user)
    for statement, choice in zip(statements, choices, strict=True):
        participation.cast_vote(consultation, visitor, statement.id, choice)
    participation.add_comment(consultation, visitor, comment)
    db.session.commit()


def propose(user: User, mission, title: str) -> Idea:
    idea = ideas.propose_idea(
        user,
        mission,
        title=title,
        problem=f"The problem behind {title}.",
        proposal=f"The proposal of {title}.",
        evidence=f"What we saw behind {title}.",
    )
    db.session.commit()
    return idea


@pytest.fixture
def two_people(create_user, missions):
    """Asha and Lee each took part, wrote a statement, proposed an idea, supported the other's."""
    consultation = open_consultation(missions)
    asha = create_user(
        email="asha@example.org", name="Asha Patel", staff_email="asha.patel@nhs.net"
    )
    lee = create_user(email="lee@example.org", name="Lee Chen", staff_email="lee.chen@nhs.net")
    take_part(consultation, asha, [VoteChoice.AGREE, VoteChoice.DISAGREE], "Asha's own statement.")
    take_part(consultation, lee, [VoteChoice.PASS], "Lee's own statement.")
    asha_idea = propose(asha, missions["nhs"], "Asha's weekend clinics")
    lee_idea = propose(lee, missions["nhs"], "Lee's evening phone line")
    ideas.support_idea(asha, lee_idea)
    ideas.support_idea(lee, asha_idea)
    db.session.commit()
    return consultation, asha, lee, asha_idea, lee_idea


# -- a copy of one's data --------------------------------------------------------------------------


def test_my_data_is_a_download_of_exactly_my_own_data(app, client, two_people):
    consultation, _asha, _lee, _asha_idea, lee_idea = two_people
    sign_in(client, "asha@example.org")
    submit_form(
        client,
        "/account/password",
        {
            "current_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "confirm_new_password": NEW_PASSWORD,
        },
    )
    response = client.get("/account/my-data.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in response.headers["Cache-Control"]
    data = json.loads(response.data)

    profile = data["profile"]
    assert (profile["email"], profile["name"], profile["staff_email"]) == (
        "asha@example.org",
        "Asha Patel",
        "asha.patel@nhs.net",
    )
    assert profile["roles"] == ["Citizen", "Verified frontline staff"]
    assert profile["created"] and profile["staff_verified"]

    [taking_part] = data["participations"]
    assert taking_part["consultation_id"] == consultation.id
    assert taking_part["consultation_title"] == "Getting a GP appointment"
    assert taking_part["role"] == "staff"
    answers = [(a["statement_text"], a["choice"]) for a in taking_part["answers"]]
    assert answers == [
        ("Same-day appointments matter most.", "Agree"),
        ("Phone lines open too late.", "Disagree"),
        ("Asha's own statement.", "Agree"),  # the author agrees with their own statement
    ]
    assert all(a["statement_id"] and a["when"] for a in taking_part["answers"])
    assert len(taking_part["answer_history"]) == 3

    [written] = data["statements_written"]
    assert (written["text"], written["consultation_id"]) == (
        "Asha's own statement.",
        consultation.id,
    )
    assert written["moderation"] in ("pending", "accepted")
    assert [i["title"] for i in data["ideas_proposed"]] == ["Asha's weekend clinics"]
    assert data["ideas_proposed"][0]["proposal"] == "The proposal of Asha's weekend clinics."
    assert [(s["idea_id"], s["role"]) for s in data["idea_supports"]] == [(lee_idea.id, "staff")]
    assert [e["action"] for e in data["audit_events"]] == ["account.password_changed"]

    # Nothing of Lee's: not his account, answers, statement, idea text or support.
    body = response.get_data(as_text=True)
    for theirs in (
        "lee@example.org",
        "Lee Chen",
        "lee.chen",
        "Lee's own statement.",
        "The proposal of Lee's evening phone line",
        "Pass / unsure",
    ):
        assert theirs not in body, theirs


def test_my_data_of_someone_who_did_nothing_yet_is_just_the_profile(client, create_user):
    create_user(email="new@example.org", name="New Person")
    sign_in(client, "new@example.org")
    data = json.loads(client.get("/account/my-data.json").data)
    assert data["profile"]["email"] == "new@example.org"
    assert data["profile"]["staff_email"] is None and data["profile"]["staff_verified"] is None
    for part in (
        "participations",
        "statements_written",
        "ideas_proposed",
        "idea_supports",
        "audit_events",
    ):
        assert data[part] == [], part


# -- deleting the account --------------------------------------------------------------------------


def delete_account(client, password: str = PASSWORD):
    return submit_form(client, "/account/delete", {"password": password})


def test_the_delete_page_says_exactly_what_happens_before_asking_for_the_password(
    client, create_user
):
    create_user(email="asha@example.org")
    sign_in(client, "asha@example.org")
    text = text_of_html(html_of(client.get("/account/delete")))
    for promise in (
        "Your account, your email address and your name are removed.",
        "Your answers and the statements you wrote stay, but are no longer linked to you or to "
        "any account, so published analyses stay true.",
        "Ideas you proposed stay, but no longer show your name.",
        "You are signed out on every device.",
        "You cannot undo this.",
    ):
        assert promise in text, promise
    assert "Enter your password to confirm" in text and "Delete my account" in text


def test_a_wrong_password_does_not_delete_the_account(app, client, create_user):
    user = create_user(email="asha@example.org")
    sign_in(client, "asha@example.org")
    response = delete_account(client, "not my password")
    assert "Your current password is not correct" in error_summary(html_of(response))
    assert db.session.get(User, user.id) is not None
    assert client.get("/account").status_code == 200
    assert count(AuditEvent) == 0


def test_deleting_an_account_keeps_votes_statements_ideas_and_supports_detached(
    app, client, missions, two_people, outbox
):
    consultation, asha, lee, asha_idea, lee_idea = two_people
    asha_id = asha.id
    db.session.add(MissionTeamMember(user_id=asha_id, mission_id=missions["growth"].id))
    db.session.add(
        StaffVerification(
            user_id=asha_id,
            email="asha.patel@nhs.net",
            token_hash="f" * 64,
            expires_at=utcnow(),
        )
    )
    db.session.commit()
    votes_before = count(Vote, Vote.consultation_id == consultation.id)
    taking_part_before = participation.participant_count(consultation)
    supports_before = ideas.support_counts([asha_idea.id, lee_idea.id])
    sign_in(client, "asha@example.org")
    copied = session_cookie(client)

    response = delete_account(client)
    assert response.status_code == 302
    home = client.get(response.headers["Location"])
    assert "Your account has been deleted" in html_of(home)
    assert refused_to_sign_in(client.get("/account"))
    assert refused_to_sign_in(replay(app, copied).get("/account"))

    db.session.expire_all()
    assert db.session.get(User, asha_id) is None
    assert count(User, User.email == "asha@example.org") == 0
    # What Asha contributed stays, linked to no account.
    assert count(Vote, Vote.consultation_id == consultation.id) == votes_before
    assert participation.participant_count(consultation) == taking_part_before
    assert count(Participant, Participant.user_id.is_(None)) == 1
    assert count(Participant, Participant.anonymous_token_hash.is_(None)) == 2
    statement = db.session.scalar(select(Statement).where(Statement.text.startswith("Asha's")))
    assert statement.author is not None and statement.author.user_id is None
    assert statement.author_role.value == "staff"
    assert ideas.support_counts([asha_idea.id, lee_idea.id]) == supports_before
    assert count(IdeaSupport, IdeaSupport.user_id.is_(None)) == 1
    idea = db.session.get(Idea, asha_idea.id)
    assert idea.author_id is None
    idea_page = text_of_html(html_of(client.get(f"/ideas/{idea.id}")))
    assert "Asha" not in idea_page.replace("Asha's weekend clinics", "")
    # What belonged to the account alone has gone.
    for model in (MissionTeamMember, StaffVerification, AccountToken):
        assert count(model, model.user_id == asha_id) == 0, model
    # Lee's account and everything of his is untouched.
    assert db.session.get(User, lee.id).email == "lee@example.org"
    assert count(Participant, Participant.user_id == lee.id) == 1
    # The audit log says an account was deleted, by whom (its id), without its email.
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "account.deleted"))
    assert (event.actor_id, event.target_type, event.target_id) == (asha_id, "user", str(asha_id))
    assert "asha" not in json.dumps(event.detail).lower() and not event.reason

    # The address is free to register again, as a new account with nothing of the old one.
    again = submit_form(
        client,
        "/register",
        {
            "display_name": "Asha Patel",
            "email": "asha@example.org",
            "password": NEW_PASSWORD,
            "confirm_password": NEW_PASSWORD,
        },
    )
    assert again.status_code == 302
    confirm_through_email(client, app, outbox, "asha@example.org")
    data = json.loads(client.get("/account/my-data.json").data)
    assert data["participations"] == [] and data["ideas_proposed"] == []


def test_deleting_an_account_leaves_the_published_report_and_a_new_analysis_unchanged(
    app, client, missions, create_user
):
    consultation, statements = open_with(
        missions, "Waiting times", [f"Waiting statement number {i}." for i in range(6)]
    )
    add_votes(
        consultation,
        statements,
        [
            (ParticipantRole.CITIZEN, {i: 1 if (i + n) % 3 else -1 for i in range(6)})
            for n in range(14)
        ],
    )
    asha = create_user(email="asha@example.org")
    visitor = Visitor(user=asha)
    for statement in statements:
        participation.cast_vote(consultation, visitor, statement.id, VoteChoice.AGREE)
    team = create_user(email="team@example.org", team=(missions["nhs"],))
    db.session.commit()
    first = analyse(consultation.id)
    reports.publish_run(team, consultation, first)
    db.session.commit()
    report_before = text_of_html(html_of(client.get(f"/consultations/{consultation.id}/report")))
    assert "15 people took part" in report_before

    sign_in(client, "asha@example.org")
    assert delete_account(client).status_code == 302

    report_after = text_of_html(html_of(client.get(f"/consultations/{consultation.id}/report")))
    assert "15 people took part" in report_after
    again = analyse(consultation.id)
    assert (again.n_participants, again.n_votes) == (first.n_participants, first.n_votes)


def test_the_only_administrator_cannot_delete_their_account(client, create_user):
    admin = create_user(email="admin@example.org", admin=True)
    sign_in(client, "admin@example.org")
    response = delete_account(client)
    assert "You are the only administrator" in error_summary(html_of(response))
    assert db.session.get(User, admin.id) is not None
