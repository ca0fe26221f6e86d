"""Following a consultation by email: double opt-in, the emails followers get (from the job queue,
read from the outbox), one-click unsubscribing, the invitation to a next round and the report's
count of who came back, and how long addresses are kept."""

from __future__ import annotations

import email
import email.policy
import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import Consultation, Follower, Participant, ParticipantRole, utcnow
from deliberate.services import consultations as consultation_service
from deliberate.services import following, retention
from tests.helpers import html_of, run_background_jobs, sign_in, submit_form, text_of
from tests.test_participation import vote
from tests.test_reports import analyse, open_consultation, publish

TEXTS = [
    "GPs should offer evening appointments.",
    "Pharmacists should treat minor illnesses.",
    "Hospital parking should be free for patients.",
]


@pytest.fixture
def team(create_user, missions):
    return create_user(email="team@example.org", team=(missions["nhs"],))


@pytest.fixture
def first_round(missions):
    consultation, _statements = open_consultation(missions, "Getting care when you need it", TEXTS)
    return consultation


def emails(app, outbox, to: str | None = None) -> list[email.message.EmailMessage]:
    run_background_jobs(app)
    messages = [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(outbox.glob("*.eml"))
    ]
    return [m for m in messages if to is None or m["To"] == to]


def link_in(message, path: str) -> str:
    match = re.search(rf"http://deliberate\.test({re.escape(path)}\S*)", message.get_content())
    assert match, f"no {path} link in: {message.get_content()}"
    return match.group(1)


def ask(client, consultation: Consultation, address: str):
    return submit_form(client, f"/consultations/{consultation.id}/follow", {"email": address})


def follow_and_confirm(app, outbox, consultation: Consultation, address: str) -> None:
    client = app.test_client()
    assert ask(client, consultation, address).status_code == 302
    link = link_in(emails(app, outbox, address.strip().lower())[-1], "/follow/confirm/")
    page = html_of(client.get(link))
    assert "Confirm you want emails about this consultation" in page
    done = submit_form(client, link, {})
    assert done.status_code == 200 and "You will get emails" in html_of(done)


def publish_a_run(app, consultation: Consultation, team) -> None:
    people = [(ParticipantRole.CITIZEN, {0: 1, 1: -1, 2: 1}) for _ in range(3)]
    from tests.test_reports import add_votes

    add_votes(consultation, list(consultation_statements(consultation)), people)
    db.session.commit()
    run = analyse(consultation.id)
    team_client = app.test_client()
    sign_in(team_client, team.email)
    assert publish(team_client, consultation.id, run.id).status_code == 302


def consultation_statements(consultation: Consultation):
    from deliberate.models import Statement

    return db.session.scalars(
        select(Statement).where(Statement.consultation_id == consultation.id).order_by(Statement.id)
    ).all()


def test_asking_sends_only_a_confirmation_and_an_unconfirmed_address_gets_nothing_else(
    app, client, outbox, first_round, team
):
    response = ask(client, first_round, "asha@example.org")
    assert response.status_code == 302
    page = text_of(html_of(client.get(response.headers["Location"])))
    assert "We have sent an email to asha@example.org" in page
    (confirmation,) = emails(app, outbox, "asha@example.org")
    assert confirmation["Subject"].startswith("Confirm you want emails about")
    assert "/follow/confirm/" in confirmation.get_content()
    # Stored apart: the address and hashes only, linked to nothing but the consultation.
    (row,) = db.session.scalars(select(Follower)).all()
    assert row.email == "asha@example.org" and row.confirmed_at is None
    token = link_in(confirmation, "/follow/confirm/").rsplit("/", 1)[1]
    assert token not in (row.confirm_token_hash or "")

    publish_a_run(app, first_round, team)
    assert len(emails(app, outbox, "asha@example.org")) == 1  # still only the confirmation


def test_publishing_emails_each_confirmed_follower_once_with_one_click_unsubscribe(
    app, client, outbox, first_round, team
):
    follow_and_confirm(app, outbox, first_round, "asha@example.org")
    follow_and_confirm(app, outbox, first_round, "Ben@Example.org ")
    ask(app.test_client(), first_round, "never@example.org")  # never confirmed

    publish_a_run(app, first_round, team)
    for address in ("asha@example.org", "ben@example.org"):
        published = [
            m for m in emails(app, outbox, address) if m["Subject"].startswith("A summary")
        ]
        assert len(published) == 1, address
        (message,) = published
        assert f"/consultations/{first_round.id}/report" in message.get_content()
        unsubscribe = link_in(message, "/follow/unsubscribe/")
        assert message["List-Unsubscribe"].strip() == f"<http://deliberate.test{unsubscribe}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len(emails(app, outbox, "never@example.org")) == 1


def test_the_unsubscribe_link_works_with_its_button(app, client, outbox, first_round, team):
    follow_and_confirm(app, outbox, first_round, "asha@example.org")
    link = link_in(emails(app, outbox, "asha@example.org")[-1], "/follow/unsubscribe/")
    page = html_of(client.get(link))
    assert "Stop emails about this consultation" in page
    assert db.session.scalar(select(Follower.id)) is not None  # a GET changes nothing
    done = submit_form(client, link, {})
    assert done.status_code == 200 and "You are unsubscribed" in html_of(done)
    db.session.expire_all()
    assert db.session.scalars(select(Follower)).all() == []
    publish_a_run(app, first_round, team)
    assert not any(m["Subject"].startswith("A summary") for m in emails(app, outbox))
    # The button's form without its CSRF token is refused; the link again is harmless.
    assert client.post(link, data={}).status_code == 400
    assert "You are unsubscribed" in html_of(client.get(link))


def test_a_mail_clients_one_click_post_unsubscribes_without_a_csrf_token(
    app, client, outbox, first_round
):
    follow_and_confirm(app, outbox, first_round, "asha@example.org")
    message = emails(app, outbox, "asha@example.org")[-1]
    link = message["List-Unsubscribe"].strip().strip("<>").replace("http://deliberate.test", "")
    response = client.post(link, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    db.session.expire_all()
    assert db.session.scalars(select(Follower)).all() == []


def test_asking_again_answers_the_same_whether_or_not_the_address_follows(app, outbox, first_round):
    follow_and_confirm(app, outbox, first_round, "asha@example.org")
    answers = []
    for address in ("asha@example.org", "new@example.org"):
        client = app.test_client()
        response = ask(client, first_round, address)
        page = text_of(html_of(client.get(response.headers["Location"])))
        answers.append(
            (response.status_code, response.headers["Location"], page.replace(address, "X"))
        )
    assert answers[0] == answers[1]
    already = emails(app, outbox, "asha@example.org")[-1]
    assert already["Subject"].startswith("You already follow")
    assert "/follow/unsubscribe/" in already.get_content() and already["List-Unsubscribe"]
    assert db.session.scalar(select(Follower.id).where(Follower.email == "asha@example.org"))


def test_confirmation_links_that_are_wrong_used_or_expired_say_so(app, client, outbox, first_round):
    assert client.get("/follow/confirm/not-a-token").status_code == 400
    ask(client, first_round, "asha@example.org")
    link = link_in(emails(app, outbox, "asha@example.org")[-1], "/follow/confirm/")
    row = db.session.scalars(select(Follower)).one()
    row.confirm_sent_at = utcnow() - timedelta(days=app.config["FOLLOWER_CONFIRM_DAYS"], seconds=1)
    db.session.commit()
    expired = client.get(link)
    assert expired.status_code == 400 and "expired" in html_of(expired)


def test_the_form_prefills_only_a_signed_in_persons_own_address(
    app, client, create_user, first_round
):
    anonymous = html_of(client.get(f"/consultations/{first_round.id}/follow"))
    field = re.search(r"<input[^>]*name=\"email\"[^>]*>", anonymous, re.S).group(0)
    assert 'value=""' in field
    person = create_user(email="asha@example.org")
    sign_in(client, person.email)
    assert "asha@example.org" in html_of(client.get(f"/consultations/{first_round.id}/follow"))


def test_a_next_round_invites_followers_and_its_report_counts_who_came_back(
    app, outbox, first_round, team, create_user
):
    returning_member = create_user(email="member@example.org")
    member = app.test_client()
    sign_in(member, returning_member.email)
    statements = consultation_statements(first_round)
    assert vote(member, first_round, statements[0].id, "agree").status_code == 302
    follow_and_confirm(app, outbox, first_round, "asha@example.org")

    consultation_service.close_consultation(team, first_round)
    second = consultation_service.start_next_round(team, first_round)
    db.session.commit()
    team_client = app.test_client()
    sign_in(team_client, team.email)
    opened = submit_form(team_client, f"/manage/consultations/{second.id}/open", {"confirm": "yes"})
    assert opened.status_code == 302

    (invitation,) = [
        m for m in emails(app, outbox, "asha@example.org") if "new round" in m["Subject"]
    ]
    assert invitation["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    invited = app.test_client()
    landing = invited.get(link_in(invitation, f"/consultations/{second.id}/invitation/"))
    assert landing.status_code == 302 and landing.headers["Location"].endswith(
        f"/consultations/{second.id}"
    )
    carried = consultation_statements(second)
    assert vote(invited, second, carried[0].id, "agree").status_code == 302
    assert vote(member, second, carried[0].id, "disagree").status_code == 302
    stranger = app.test_client()
    assert vote(stranger, second, carried[0].id, "agree").status_code == 302
    # a forged marker is no invitation
    forged = app.test_client()
    forged.get(f"/consultations/{second.id}/invitation/made-up")
    assert vote(forged, second, carried[1].id, "agree").status_code == 302

    flags = db.session.scalars(
        select(Participant.invited_back)
        .where(Participant.consultation_id == second.id)
        .order_by(Participant.id)
    ).all()
    assert flags == [True, False, False, False]
    run = analyse(second.id)
    assert publish(team_client, second.id, run.id).status_code == 302
    report = text_of(html_of(app.test_client().get(f"/consultations/{second.id}/report")))
    assert (
        "2 of 4 participants in this round took part in round 1 too (as far as we can tell: "
        "those who signed in both times or followed their invitation)." in report
    )
    # The follower of round 1 hears about round 2's summary too.
    assert any(
        m["Subject"].startswith("A summary") for m in emails(app, outbox, "asha@example.org")
    )


def test_addresses_are_deleted_after_their_periods(app, missions, first_round):
    now = utcnow()
    keep, confirm = app.config["FOLLOWER_KEEP_DAYS"], app.config["FOLLOWER_CONFIRM_DAYS"]
    closed_long_ago, _ = open_consultation(missions, "Closed long ago", TEXTS)
    closed_lately, _ = open_consultation(missions, "Closed lately", TEXTS)
    closed_long_ago.close(now - timedelta(days=keep, hours=1))
    closed_lately.close(now - timedelta(days=keep - 1))

    def add(consultation, address, confirmed=True, sent_days_ago=0):
        follower = Follower(
            consultation_id=consultation.id,
            email=address,
            unsubscribe_salt=address,
            unsubscribe_hash=address,
            confirm_sent_at=now - timedelta(days=sent_days_ago),
            confirmed_at=now if confirmed else None,
        )
        db.session.add(follower)

    add(closed_long_ago, "gone@example.org")
    add(closed_lately, "kept@example.org")
    add(first_round, "open@example.org")
    add(first_round, "stale@example.org", confirmed=False, sent_days_ago=confirm + 1)
    add(first_round, "fresh@example.org", confirmed=False, sent_days_ago=confirm - 1)
    db.session.commit()

    purged = retention.purge()
    db.session.commit()
    assert (purged.unconfirmed_followers, purged.followers) == (1, 1)
    assert set(db.session.scalars(select(Follower.email))) == {
        "kept@example.org",
        "open@example.org",
        "fresh@example.org",
    }


def test_no_email_address_reaches_the_logs(app, outbox, first_round, team, caplog):
    caplog.set_level(logging.DEBUG)
    follow_and_confirm(app, outbox, first_round, "asha@example.org")
    publish_a_run(app, first_round, team)
    run_background_jobs(app)
    assert len(emails(app, outbox, "asha@example.org")) == 2
    assert "asha@example.org" not in caplog.text
    assert "asha" not in caplog.text


def test_the_team_response_hook_emails_confirmed_followers(app, outbox, first_round):
    follow_and_confirm(app, outbox, first_round, "asha@example.org")
    sent = following.response_recorded(
        first_round.id, "http://deliberate.test/somewhere", response_title="What we will do"
    )
    db.session.commit()
    assert sent == 1
    (message,) = [m for m in emails(app, outbox, "asha@example.org") if "responded" in m["Subject"]]
    assert "What we will do" in message.get_content()
    assert message["List-Unsubscribe"]


def test_asking_is_limited_per_email_address_and_per_network_address(
    database_url, tmp_path, app, first_round
):
    from tests.conftest import make_test_app

    limited = make_test_app(
        database_url,
        tmp_path,
        RATELIMIT_ENABLED=True,
        FOLLOW_RATE_LIMITS={"per_email": "2 per hour", "per_address": "4 per hour"},
    )

    def ask_from(address: str, network_address: str):
        client = limited.test_client()
        client.environ_base["REMOTE_ADDR"] = network_address
        return ask(client, first_round, address)

    for network_address in ("192.0.2.1", "192.0.2.2"):
        assert ask_from("asha@example.org", network_address).status_code == 302
    # A third email to one address, from anywhere, waits; other addresses still go.
    assert ask_from("Asha@example.org", "192.0.2.3").status_code == 429
    assert ask_from("ben@example.org", "192.0.2.1").status_code == 302
    assert ask_from("cleo@example.org", "192.0.2.1").status_code == 302
    assert ask_from("dev@example.org", "192.0.2.1").status_code == 302
    assert ask_from("eve@example.org", "192.0.2.1").status_code == 429  # a fifth from one network


def test_the_privacy_page_states_how_long_addresses_are_kept(app, client):
    app.config.update(FOLLOWER_KEEP_DAYS=45, FOLLOWER_CONFIRM_DAYS=3)
    page = text_of(html_of(client.get("/privacy")))
    assert "Deleted as soon as you unsubscribe" in page
    assert "deleted 45 days after the last round of the consultation closes" in page
    assert "3 days after we sent the confirmation link" in page


def test_each_follower_is_emailed_in_the_language_they_followed_in(app, outbox, first_round, team):
    welsh = {"Accept-Language": "cy"}
    cai = app.test_client()
    asked = submit_form(
        cai, f"/consultations/{first_round.id}/follow", {"email": "cai@example.org"}, headers=welsh
    )
    assert asked.status_code == 302
    (confirmation,) = emails(app, outbox, "cai@example.org")
    assert confirmation["Subject"].startswith("Cadarnhewch eich bod eisiau e-byst am:")
    link = link_in(confirmation, "/follow/confirm/")
    assert submit_form(cai, link, {}, headers=welsh).status_code == 200
    follow_and_confirm(app, outbox, first_round, "lee@example.org")  # an English browser
    assert (
        db.session.scalar(select(Follower.language).where(Follower.email == "cai@example.org"))
        == "cy"
    )

    publish_a_run(app, first_round, team)  # the team's request is in English
    with app.test_request_context(headers=welsh):  # and this team member reads Welsh
        sent = following.response_recorded(
            first_round.id, "http://deliberate.test/somewhere", response_title="What we will do"
        )
        db.session.commit()
    assert sent == 2

    def news(address: str) -> list[tuple[str, str]]:
        return [
            (m["Subject"], " ".join(m.get_content().split()))
            for m in emails(app, outbox, address)[1:]  # after the confirmation
        ]

    (summary, response) = news("cai@example.org")
    assert summary[0] == "Mae crynodeb wedi’i gyhoeddi: Getting care when you need it"  # noqa: RUF001
    assert summary[1].startswith("Helo,")
    assert "ymgynghoriad “Getting care when you need it” (cylch 1)" in summary[1]
    assert "I atal yr e-byst hyn" in summary[1]
    assert "Hello" not in summary[1] and "has been published" not in summary[1]
    assert response[0] == "Mae tîm y genhadaeth wedi ymateb: Getting care when you need it"
    assert "Darllenwch yr ymateb:" in response[1] and "What we will do" in response[1]
    assert "Hello" not in response[1]

    (summary, response) = news("lee@example.org")
    assert summary[0] == "A summary has been published: Getting care when you need it"
    assert summary[1].startswith("Hello,") and "Helo" not in summary[1]
    assert response[0] == "The mission team has responded: Getting care when you need it"
    assert "Read the response:" in response[1] and "Darllenwch" not in response[1]


def test_a_command_opening_the_next_round_writes_links_from_the_public_address(
    app, outbox, first_round, team
):
    """`flask deliberate load-demo` opens rounds outside any request (and without SERVER_NAME):
    the invitation's links come from DELIBERATE_PUBLIC_URL."""
    follow_and_confirm(app, outbox, first_round, "asha@example.org")
    consultation_service.close_consultation(team, first_round)
    second = consultation_service.start_next_round(team, first_round)
    db.session.commit()
    app.config.update(SERVER_NAME=None, PUBLIC_URL="https://deliberate.example.gov.uk")
    with app.app_context():
        consultation_service.open_consultation(team, db.session.get(Consultation, second.id))
        db.session.commit()
    (invitation,) = [
        m for m in emails(app, outbox, "asha@example.org") if "new round" in m["Subject"]
    ]
    assert re.search(
        rf"https://deliberate\.example\.gov\.uk/consultations/{second.id}/invitation/\S+",
        invitation.get_content(),
    )
    assert invitation["List-Unsubscribe"].startswith("<https://deliberate.example.gov.uk/follow/")
