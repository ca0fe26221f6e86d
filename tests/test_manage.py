"""Mission teams running consultations, and the moderation queue."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import (
    Consultation,
    ConsultationState,
    ModerationMode,
    ModerationStatus,
    Participant,
    ParticipantRole,
    RemovalReason,
    Statement,
    StatementOrigin,
    utcnow,
)
from deliberate.services import consultations as service
from deliberate.services.errors import Refused
from deliberate.services.statements import write_statement
from tests.conftest import make_test_app
from tests.helpers import count, csrf_token_from, error_summary, html_of, sign_in, submit_form

NEXT_YEAR = utcnow().year + 1
NO_DATE = ["", "", ""]
GOOD = {
    "title": "What would most improve getting care when you need it?",
    "context": "Patients and NHS staff: tell us what you would change first.",
    "moderation_mode": "pre",
    "allow_anonymous": "no",
    "service_areas": "A&E\r\nGP surgery\r\n\r\n  Pharmacy  ",
    "opens_on": NO_DATE,
    "closes_on": ["31", "3", str(NEXT_YEAR)],
}
NEW_NHS = "/manage/missions/nhs/consultations/new"


def only_consultation() -> Consultation:
    db.session.expire_all()
    return db.session.scalars(select(Consultation)).one()


def page_of(consultation: Consultation) -> str:
    return f"/manage/consultations/{consultation.id}"


def post_on_page(client, consultation: Consultation, action: str, data=None, **kwargs):
    """Press a button of the consultation's management page, as a person would."""
    return submit_form(
        client,
        page_of(consultation),
        data or {},
        action=f"{page_of(consultation)}/{action}",
        **kwargs,
    )


def confirm(client, consultation: Consultation, action: str, data=None, **kwargs):
    """Open a move's confirmation page and press its button, as a person would."""
    url = f"{page_of(consultation)}/{action}"
    return submit_form(client, url, {"confirm": "yes", **(data or {})}, **kwargs)


@pytest.fixture
def team_member(client, missions, create_user):
    """A signed-in member of the NHS mission team."""
    user = create_user(email="team@example.org", team=(missions["nhs"],))
    sign_in(client, "team@example.org")
    return user


def make_consultation(mission, state=ConsultationState.DRAFT, **fields) -> Consultation:
    consultation = Consultation(mission=mission, title=fields.pop("title", "A question"), **fields)
    if state is not ConsultationState.DRAFT:
        consultation.open()
    if state is ConsultationState.CLOSED:
        consultation.close()
    db.session.add(consultation)
    db.session.commit()
    return consultation


def comment(consultation: Consultation, text: str, role=ParticipantRole.CITIZEN) -> Statement:
    """A comment from someone taking part, written through the statement service."""
    participant = Participant(
        consultation_id=consultation.id, role=role, anonymous_token_hash=uuid.uuid4().hex
    )
    db.session.add(participant)
    db.session.flush()
    statement = write_statement(
        consultation, text, origin=StatementOrigin.PARTICIPANT, author=participant
    )
    db.session.commit()
    return statement


def moderate(client, statement: Statement, decision: str, reason: str = "off_topic", **kwargs):
    """A decision as the statement's page sends it (a rejection with a reason from the policy)."""
    return submit_form(
        client,
        f"/manage/consultations/{statement.consultation_id}/moderation",
        {"decision": decision, "removal_reason": reason if decision == "reject" else ""},
        action=f"/manage/statements/{statement.id}/moderate",
        **kwargs,
    )


# -- the team's journey ---------------------------------------------------------------------------


def test_team_member_runs_a_consultation_from_draft_to_a_second_round(
    client, app, missions, team_member
):
    overview = html_of(client.get("/manage"))
    assert "Build an NHS fit for the future" in overview
    assert f'href="{NEW_NHS}"' in overview
    assert "Kickstart economic growth" not in overview  # not on that team

    response = submit_form(client, NEW_NHS, GOOD, follow_redirects=True)
    assert "Draft consultation created" in html_of(response)
    consultation = only_consultation()
    assert consultation.state is ConsultationState.DRAFT
    assert consultation.mission_id == missions["nhs"].id
    assert consultation.title == GOOD["title"] and consultation.context == GOOD["context"]
    assert consultation.moderation_mode is ModerationMode.PRE
    assert consultation.allow_anonymous is False
    assert consultation.service_area_choices == ["A&E", "GP surgery", "Pharmacy"]
    assert consultation.opens_at is None
    assert consultation.closes_at.date() == date(NEXT_YEAR, 3, 31)

    public = app.test_client()
    assert GOOD["title"] not in html_of(public.get("/missions/nhs"))

    seeds = [
        "Staff spend too much time on paperwork.",
        "GP appointments should be bookable online.",
    ]
    for text in seeds:
        response = post_on_page(
            client, consultation, "seeds", {"text": text}, follow_redirects=True
        )
        assert "Seed statement added." in html_of(response)
    page = html_of(client.get(page_of(consultation)))
    assert "Seed statements (2)" in page and "Staff spend too much time on paperwork." in page
    seeds = db.session.scalars(select(Statement).order_by(Statement.id)).all()
    assert [s.origin for s in seeds] == [StatementOrigin.SEED] * 2
    assert all(s.moderation is ModerationStatus.ACCEPTED for s in seeds)

    response = confirm(client, consultation, "open", follow_redirects=True)
    assert "Consultation opened" in html_of(response)
    assert only_consultation().state is ConsultationState.OPEN
    assert GOOD["title"] in html_of(public.get("/missions/nhs"))

    consultation = only_consultation()
    accepted = comment(consultation, "Pharmacists should prescribe more.")
    service.moderate(team_member, accepted, accept=True)
    rejected = comment(consultation, "This is spam.")
    service.moderate(team_member, rejected, accept=False, removal_reason=RemovalReason.SPAM)
    comment(consultation, "Still waiting for a decision.")
    db.session.commit()

    response = confirm(client, consultation, "close", follow_redirects=True)
    assert "Consultation closed" in html_of(response)
    assert only_consultation().state is ConsultationState.CLOSED

    response = post_on_page(client, consultation, "next-round")
    assert response.status_code == 302
    round_two = db.session.scalars(select(Consultation).where(Consultation.round_number == 2)).one()
    assert response.headers["Location"].endswith(page_of(round_two))
    assert round_two.state is ConsultationState.DRAFT
    assert round_two.previous_round_id == consultation.id
    assert round_two.mission_id == consultation.mission_id
    assert (round_two.title, round_two.context) == (consultation.title, consultation.context)
    assert round_two.moderation_mode is ModerationMode.PRE and round_two.allow_anonymous is False
    assert round_two.service_areas == consultation.service_areas
    carried = db.session.scalars(
        select(Statement).where(Statement.consultation_id == round_two.id).order_by(Statement.id)
    ).all()
    assert [s.text for s in carried] == [
        "Staff spend too much time on paperwork.",
        "GP appointments should be bookable online.",
        "Pharmacists should prescribe more.",
    ]
    assert all(s.origin is StatementOrigin.SEED and s.is_votable for s in carried)

    new_page = html_of(client.get(page_of(round_two)))
    assert "Round 2" in new_page and f'href="{page_of(consultation)}"' in new_page
    assert f'href="{page_of(round_two)}"' in html_of(client.get(page_of(consultation)))
    overview = html_of(client.get("/manage"))
    assert f'href="{page_of(consultation)}"' in overview
    assert f'href="{page_of(round_two)}"' in overview


def test_overview_counts_statements_pending_comments_and_participants(
    client, missions, team_member
):
    consultation = make_consultation(
        missions["nhs"], ConsultationState.OPEN, moderation_mode=ModerationMode.PRE
    )
    write_statement(consultation, "A seed.", origin=StatementOrigin.SEED)
    comment(consultation, "First comment.")
    comment(consultation, "Second comment.")
    counts = service.counts_for([consultation.id])[consultation.id]
    assert counts == service.ConsultationCounts(statements=1, pending_comments=2, participants=2)
    html = html_of(client.get("/manage"))
    assert f'href="/manage/consultations/{consultation.id}/moderation">2<' in html


def test_draft_settings_can_all_be_changed(client, missions, team_member):
    submit_form(client, NEW_NHS, GOOD)
    consultation = only_consultation()
    edit = f"{page_of(consultation)}/edit"
    page = html_of(client.get(edit))
    assert GOOD["title"] in page and 'value="31"' in page  # the form starts from what is stored
    changed = {
        **GOOD,
        "title": "A better question?",
        "moderation_mode": "post",
        "allow_anonymous": "yes",
        "service_areas": "",
        "opens_on": ["1", "2", str(NEXT_YEAR)],
        "closes_on": NO_DATE,
    }
    response = submit_form(client, edit, changed, follow_redirects=True)
    assert "Your changes have been saved." in html_of(response)
    consultation = only_consultation()
    assert consultation.title == "A better question?"
    assert consultation.moderation_mode is ModerationMode.POST and consultation.allow_anonymous
    assert consultation.service_areas == ""
    assert consultation.opens_at.date() == date(NEXT_YEAR, 2, 1) and consultation.closes_at is None


def test_an_open_consultation_may_change_only_its_context_and_closing_date(
    client, missions, team_member
):
    consultation = make_consultation(missions["nhs"], ConsultationState.OPEN, title="Fixed?")
    edit = f"{page_of(consultation)}/edit"
    page = html_of(client.get(edit))
    assert 'name="context"' in page and 'name="closes_on"' in page
    assert 'name="title"' not in page and 'name="moderation_mode"' not in page
    response = submit_form(
        client,
        edit,
        {"context": "Clarified.", "closes_on": ["1", "6", str(NEXT_YEAR)], "title": "Sneaky"},
        follow_redirects=True,
    )
    assert "Your changes have been saved." in html_of(response)
    consultation = only_consultation()
    assert consultation.title == "Fixed?" and consultation.context == "Clarified."
    assert consultation.closes_at.date() == date(NEXT_YEAR, 6, 1)
    assert consultation.state is ConsultationState.OPEN

    with pytest.raises(Refused, match="The question cannot change while the consultation is open"):
        service.update_consultation(
            team_member,
            consultation,
            service.ConsultationSettings(
                **{
                    **service.ConsultationSettings.of(consultation).__dict__,
                    "title": "Another question",
                }
            ),
        )
    db.session.rollback()

    yesterday = utcnow().date() - timedelta(days=1)
    response = submit_form(
        client,
        edit,
        {
            "context": "x",
            "closes_on": [str(yesterday.day), str(yesterday.month), str(yesterday.year)],
        },
    )
    assert response.status_code == 400
    assert "Closing date must be today or in the future" in error_summary(html_of(response))


def test_a_closed_consultation_cannot_be_changed(client, missions, team_member):
    consultation = make_consultation(missions["nhs"], ConsultationState.CLOSED, title="Done")
    response = client.get(f"{page_of(consultation)}/edit")
    assert response.status_code == 409
    assert "A closed consultation cannot be changed" in error_summary(html_of(response))
    response = post_on_page(client, consultation, "seeds", {"text": "Too late."})
    assert response.status_code == 400
    assert "A closed consultation cannot take new statements" in html_of(response)
    assert count(Statement) == 0


# -- moderation -----------------------------------------------------------------------------------


def test_pre_moderated_comments_wait_in_the_queue_until_accepted(client, missions, team_member):
    consultation = make_consultation(
        missions["nhs"], ConsultationState.OPEN, moderation_mode=ModerationMode.PRE
    )
    first = comment(consultation, "Evening GP appointments would help me.")
    second = comment(consultation, "Buy cheap watches here.", role=ParticipantRole.STAFF)
    assert first.moderation is ModerationStatus.PENDING and not first.is_votable

    queue = html_of(client.get(f"{page_of(consultation)}/moderation"))
    assert "Awaiting moderation (2)" in queue
    assert queue.index("Evening GP appointments") < queue.index("Buy cheap watches")
    assert "Citizen" in queue and "Verified staff" in queue

    response = moderate(client, first, "accept", follow_redirects=True)
    assert "Comment accepted: people can now vote on it." in html_of(response)
    db.session.expire_all()
    first = db.session.get(Statement, first.id)
    assert first.moderation is ModerationStatus.ACCEPTED and first.is_votable
    assert first.moderated_at is not None

    response = moderate(client, second, "reject", follow_redirects=True)
    html = html_of(response)
    assert "Comment rejected." in html and "Awaiting moderation (0)" in html
    assert "Rejected" in html and "Live" in html  # both in the recently moderated list
    db.session.expire_all()
    assert db.session.get(Statement, second.id).moderation is ModerationStatus.REJECTED


def test_double_submitted_decisions_change_nothing_the_second_time(client, missions, team_member):
    consultation = make_consultation(
        missions["nhs"], ConsultationState.OPEN, moderation_mode=ModerationMode.PRE
    )
    statement = comment(consultation, "Please fund more nurses.")
    moderate(client, statement, "accept")
    db.session.expire_all()
    first_time = db.session.get(Statement, statement.id).moderated_at
    response = moderate(client, statement, "accept")
    assert response.status_code == 302
    db.session.expire_all()
    again = db.session.get(Statement, statement.id)
    assert again.moderation is ModerationStatus.ACCEPTED and again.moderated_at == first_time


def test_a_live_comment_of_a_post_moderated_consultation_can_be_taken_down(
    client, missions, team_member
):
    consultation = make_consultation(missions["nhs"], ConsultationState.OPEN)
    statement = comment(consultation, "Something rude.")
    assert statement.is_votable
    queue = html_of(client.get(f"{page_of(consultation)}/moderation"))
    assert "Something rude." in queue and "Take down" in queue
    response = submit_form(
        client,
        f"/manage/statements/{statement.id}",
        {"decision": "reject", "return_to": "statement", "removal_reason": "abusive"},
        action=f"/manage/statements/{statement.id}/moderate",
        follow_redirects=True,
    )
    assert "Comment rejected." in html_of(response) and "Statement" in html_of(response)
    db.session.expire_all()
    assert not db.session.get(Statement, statement.id).is_votable


def test_seed_statements_are_not_moderated_and_decisions_must_be_accept_or_reject(
    client, missions, team_member
):
    consultation = make_consultation(missions["nhs"], ConsultationState.OPEN)
    seed = write_statement(consultation, "A seed statement.", origin=StatementOrigin.SEED)
    live = comment(consultation, "A comment.")
    response = moderate(client, seed, "reject")
    assert response.status_code == 409
    assert "Seed statements" in error_summary(html_of(response))
    assert moderate(client, live, "delete").status_code == 400
    db.session.expire_all()
    assert db.session.get(Statement, seed.id).is_votable
    assert db.session.get(Statement, live.id).is_votable


# -- who may do what ------------------------------------------------------------------------------


def _every_manage_url(consultation: Consultation, statement: Statement, slug: str):
    """(method, url) for every page and action of the consultation's mission."""
    base = page_of(consultation)
    return [
        ("GET", f"/manage/missions/{slug}/consultations/new"),
        ("POST", f"/manage/missions/{slug}/consultations/new"),
        ("GET", base),
        ("GET", f"{base}/edit"),
        ("POST", f"{base}/edit"),
        ("POST", f"{base}/seeds"),
        ("GET", f"/manage/statements/{statement.id}/edit"),
        ("POST", f"/manage/statements/{statement.id}/edit"),
        ("GET", f"/manage/statements/{statement.id}/remove"),
        ("POST", f"/manage/statements/{statement.id}/remove"),
        ("GET", f"{base}/open"),
        ("POST", f"{base}/open"),
        ("GET", f"{base}/close"),
        ("POST", f"{base}/close"),
        ("GET", f"{base}/reopen"),
        ("POST", f"{base}/reopen"),
        ("GET", f"{base}/delete"),
        ("POST", f"{base}/delete"),
        ("POST", f"{base}/next-round"),
        ("GET", f"{base}/data/polis-export.zip"),
        ("GET", f"{base}/moderation"),
        ("GET", f"/manage/statements/{statement.id}"),
        ("POST", f"/manage/statements/{statement.id}/moderate"),
    ]


def test_other_teams_and_citizens_get_403_on_every_manage_url(app, missions, create_user):
    consultation = make_consultation(
        missions["nhs"], ConsultationState.OPEN, moderation_mode=ModerationMode.PRE
    )
    statement = comment(consultation, "Waiting for the NHS team.")
    create_user(email="growth@example.org", team=(missions["growth"],))
    create_user(email="citizen@example.org")
    create_user(email="nurse@example.org", staff_email="nurse@nhs.net")
    for email in ["growth@example.org", "citizen@example.org", "nurse@example.org"]:
        client = app.test_client()
        sign_in(client, email)
        token = csrf_token_from(html_of(client.get("/account")))
        for method, url in _every_manage_url(consultation, statement, "nhs"):
            if method == "GET":
                response = client.get(url)
            else:
                response = client.post(
                    url, data={"csrf_token": token, "text": "x", "title": "x", "decision": "accept"}
                )
            assert response.status_code == 403, (email, method, url)
            assert "You do not have permission" in html_of(response)
    growth_overview = app.test_client()
    sign_in(growth_overview, "growth@example.org")
    assert growth_overview.get("/manage").status_code == 200
    citizen = app.test_client()
    sign_in(citizen, "citizen@example.org")
    assert citizen.get("/manage").status_code == 403
    consultation = only_consultation()
    assert consultation.state is ConsultationState.OPEN and count(Consultation) == 1
    assert db.session.get(Statement, statement.id).moderation is ModerationStatus.PENDING


def test_people_who_are_not_signed_in_are_sent_to_sign_in(client, missions):
    consultation = make_consultation(missions["nhs"])
    statement = write_statement(consultation, "A seed.", origin=StatementOrigin.SEED)
    db.session.commit()
    token = csrf_token_from(html_of(client.get("/sign-in")))
    for method, url in [("GET", "/manage"), *_every_manage_url(consultation, statement, "nhs")]:
        response = client.open(url, method=method, data={"csrf_token": token})
        assert response.status_code == 302, url
        assert "/sign-in" in response.headers["Location"]


def test_admin_can_manage_any_mission(client, missions, create_user):
    create_user(email="admin@example.org", admin=True)
    sign_in(client, "admin@example.org")
    overview = html_of(client.get("/manage"))
    for mission in missions.values():
        assert mission.name in overview
    submit_form(client, "/manage/missions/growth/consultations/new", GOOD)
    consultation = only_consultation()
    assert consultation.mission_id == missions["growth"].id
    confirm(client, consultation, "open")
    assert only_consultation().state is ConsultationState.OPEN


def test_moderator_can_use_the_queue_but_not_run_consultations(app, client, missions, create_user):
    consultation = make_consultation(
        missions["nhs"], ConsultationState.OPEN, moderation_mode=ModerationMode.PRE
    )
    statement = comment(consultation, "Please check me.")
    create_user(email="mod@example.org", moderator=True)
    sign_in(client, "mod@example.org")
    overview = html_of(client.get("/manage"))
    assert f'href="/manage/consultations/{consultation.id}/moderation"' in overview
    assert "Create a consultation" not in overview
    response = moderate(client, statement, "accept", follow_redirects=True)
    assert "Comment accepted" in html_of(response)
    assert client.get(f"/manage/statements/{statement.id}").status_code == 200
    token = csrf_token_from(html_of(client.get("/account")))
    assert client.get(NEW_NHS).status_code == 403
    assert client.post(NEW_NHS, data={**GOOD, "csrf_token": token}).status_code == 403
    assert client.get(page_of(consultation)).status_code == 403
    close = client.post(f"{page_of(consultation)}/close", data={"csrf_token": token})
    assert close.status_code == 403
    assert count(Consultation) == 1 and only_consultation().state is ConsultationState.OPEN


def test_a_team_cannot_moderate_another_missions_comments(client, missions, team_member):
    growth = make_consultation(missions["growth"], ConsultationState.OPEN)
    statement = comment(growth, "A growth comment.")
    token = csrf_token_from(html_of(client.get("/manage")))
    response = client.post(
        f"/manage/statements/{statement.id}/moderate",
        data={"csrf_token": token, "decision": "reject"},
    )
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Statement, statement.id).is_votable


def test_team_members_see_a_manage_link_in_the_navigation(
    app, client, missions, create_user, team_member
):
    assert 'href="/manage"' in html_of(client.get("/"))
    create_user(email="citizen@example.org")
    citizen = app.test_client()
    sign_in(citizen, "citizen@example.org")
    assert 'href="/manage"' not in html_of(citizen.get("/"))
    assert 'href="/manage"' not in html_of(app.test_client().get("/"))


# -- bad input ------------------------------------------------------------------------------------


BAD_SETTINGS = [
    ({"title": ""}, "Enter the question"),
    ({"title": "   "}, "Enter the question"),
    ({"title": "x" * 201}, "Question must be 200 characters or fewer"),
    ({"context": "x" * 5001}, "Context must be 5000 characters or fewer"),
    ({"moderation_mode": ""}, "Select how comments should be moderated"),
    ({"allow_anonymous": ""}, "Select whether people can take part anonymously"),
    ({"closes_on": ["31", "2", str(NEXT_YEAR)]}, "Closing date must be a real date"),
    ({"closes_on": ["1", "", str(NEXT_YEAR)]}, "Closing date must include a month"),
    ({"opens_on": ["", "", str(NEXT_YEAR)]}, "Opening date must include a day and a month"),
    ({"closes_on": ["1", "1", "99"]}, "Closing date must be a real date"),
    ({"closes_on": ["first", "May", str(NEXT_YEAR)]}, "Closing date must be a real date"),
    (
        {"opens_on": ["1", "6", str(NEXT_YEAR)], "closes_on": ["1", "5", str(NEXT_YEAR)]},
        "Closing date must be after the opening date",
    ),
    (
        {"opens_on": ["1", "6", str(NEXT_YEAR)], "closes_on": ["1", "6", str(NEXT_YEAR)]},
        "Closing date must be after the opening date",
    ),
    ({"closes_on": ["1", "1", "2020"]}, "Closing date must be today or in the future"),
    ({"service_areas": "\n".join(f"Area {i}" for i in range(21))}, "20 service areas or fewer"),
    ({"service_areas": "A&E\n" + "x" * 101}, "Each service area must be 100 characters"),
]


def test_bad_consultation_settings_are_explained_and_nothing_is_saved(
    client, missions, team_member
):
    for changes, message in BAD_SETTINGS:
        response = submit_form(client, NEW_NHS, {**GOOD, **changes})
        assert response.status_code == 400, changes
        html = html_of(response)
        assert message in error_summary(html), changes
        assert "<title>Error: " in html
    assert count(Consultation) == 0


def test_a_date_input_keeps_what_was_typed_when_it_is_wrong(client, missions, team_member):
    response = submit_form(client, NEW_NHS, {**GOOD, "closes_on": ["31", "2", str(NEXT_YEAR)]})
    html = html_of(response)
    assert 'id="closes_on-day" name="closes_on" type="text" value="31"' in html
    assert 'id="closes_on-month" name="closes_on" type="text" value="2"' in html


def test_html_is_shown_as_text_and_unusual_text_is_stored_exactly(client, missions, team_member):
    script = "<script>alert('x')</script> Is this safe?"
    submit_form(client, NEW_NHS, {**GOOD, "title": script, "context": "<b>bold</b>"})
    consultation = only_consultation()
    assert consultation.title == script
    page = html_of(client.get(page_of(consultation)))
    assert "<script>alert" not in page and "&lt;script&gt;alert(" in page
    assert "<b>bold</b>" not in page and "&lt;b&gt;bold&lt;/b&gt;" in page

    texts = [
        "Mae angen mwy o feddygon teulu yng Nghymru – ŵ ŷ â ê î ô û",  # noqa: RUF001
        "نحتاج إلى المزيد من الممرضات في المستشفيات",
        "Shorter waits please 🙏🏽 and kinder staff ❤️",
        "<img src=x onerror=alert(1)> should not run",
    ]
    for text in texts:
        post_on_page(client, consultation, "seeds", {"text": text})
    stored = db.session.scalars(select(Statement.text).order_by(Statement.id)).all()
    assert stored == texts
    page = html_of(client.get(page_of(consultation)))
    for text in texts[:3]:
        assert text in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page

    welsh = "Ymgynghoriad ar ofal iechyd – beth sy’n bwysig i chi? 🏥"  # noqa: RUF001
    response = submit_form(
        client, f"{page_of(consultation)}/edit", {**GOOD, "title": welsh, "context": texts[1]}
    )
    assert response.status_code == 302
    consultation = only_consultation()
    assert consultation.title == welsh and consultation.context == texts[1]


BAD_STATEMENTS = [
    ("", "Enter the statement"),
    ("   ", "Enter the statement"),
    ("x" * 1001, "Statement must be 1000 characters or fewer"),
    ("?!... ---", "Statement must contain words"),
]


def test_bad_seed_statements_are_explained(client, missions, team_member):
    consultation = make_consultation(missions["nhs"])
    for text, message in BAD_STATEMENTS:
        response = post_on_page(client, consultation, "seeds", {"text": text})
        assert response.status_code == 400, text
        assert message in error_summary(html_of(response)), text
    assert count(Statement) == 0


def test_a_line_break_counts_as_one_character_in_seeds_and_context(client, missions, team_member):
    """Browsers send a line break as CRLF: a 989-character seed statement or a 4,949-character
    context with line breaks in it was refused as too long, as it was counted twice."""
    consultation = make_consultation(missions["nhs"])
    seed = "Line of words.\r\n" * 66  # 1,056 characters as sent, 989 as typed
    response = post_on_page(client, consultation, "seeds", {"text": seed})
    assert response.status_code == 302
    assert db.session.scalar(select(Statement.text)) == seed.replace("\r\n", "\n").strip()

    context = "Context words.\r\n" * 330  # 5,280 characters as sent, 4,949 as typed
    response = submit_form(client, f"{page_of(consultation)}/edit", {**GOOD, "context": context})
    assert response.status_code == 302
    assert only_consultation().context == context.replace("\r\n", "\n").strip()


def test_a_duplicate_seed_statement_is_refused_with_a_link_to_the_original(
    client, missions, team_member
):
    consultation = make_consultation(missions["nhs"], ConsultationState.OPEN)
    original = comment(consultation, "GP surgeries should open at weekends.")
    response = post_on_page(
        client, consultation, "seeds", {"text": "  gp SURGERIES should open at weekends!! "}
    )
    assert response.status_code == 400
    html = html_of(response)
    summary = error_summary(html)
    assert "This consultation already has that statement" in summary
    assert "vote on it instead" not in html  # the participants' wording, not the team's
    link = f"/manage/statements/{original.id}"
    assert f'href="{link}"' in html
    assert "GP surgeries should open at weekends." in html_of(client.get(link))
    assert count(Statement) == 1


def test_illegal_moves_are_refused_with_a_clear_message_and_change_nothing(
    client, missions, team_member
):
    draft = make_consultation(missions["nhs"])
    response = post_on_page(client, draft, "close")
    assert response.status_code == 409
    assert "Only an open consultation can be closed; this one is draft." in error_summary(
        html_of(response)
    )
    response = post_on_page(client, draft, "next-round")
    assert response.status_code == 409
    assert "Only a closed consultation can start a next round" in html_of(response)

    assert confirm(client, draft, "open").status_code == 302
    opened_at = only_consultation().opened_at
    again = post_on_page(client, draft, "open", {"confirm": "yes"})  # a double-clicked button
    assert again.status_code == 409
    assert "Only a draft consultation can be opened; this one is open." in error_summary(
        html_of(again)
    )
    assert only_consultation().opened_at == opened_at

    response = post_on_page(client, draft, "next-round")
    assert response.status_code == 409
    assert "this one is open" in html_of(response)
    assert count(Consultation) == 1


def test_a_next_round_is_started_only_once(client, missions, team_member):
    closed = make_consultation(missions["nhs"], ConsultationState.CLOSED)
    assert post_on_page(client, closed, "next-round").status_code == 302
    response = post_on_page(client, closed, "next-round")
    assert response.status_code == 409
    assert "Round 2 of this consultation has already been started" in html_of(response)
    assert count(Consultation) == 2


def test_a_closing_date_that_has_passed_stops_a_draft_from_opening(client, missions, team_member):
    draft = make_consultation(missions["nhs"], closes_at=utcnow() - timedelta(days=1))
    response = post_on_page(client, draft, "open")
    assert response.status_code == 409
    assert "The closing date has passed" in html_of(response)
    assert only_consultation().state is ConsultationState.DRAFT


def test_writes_without_a_csrf_token_are_refused(client, missions, team_member):
    consultation = make_consultation(missions["nhs"], moderation_mode=ModerationMode.PRE)
    for action, data in [("open", {}), ("seeds", {"text": "A seed."})]:
        response = client.post(f"{page_of(consultation)}/{action}", data=data)
        assert response.status_code == 400
        assert "Your form expired" in html_of(response)
    response = client.post(NEW_NHS, data=GOOD)
    assert response.status_code == 400
    assert only_consultation().state is ConsultationState.DRAFT
    assert count(Statement) == 0


def test_unknown_things_are_404(client, missions, team_member):
    for url in [
        "/manage/missions/moonshot/consultations/new",
        "/manage/consultations/999",
        "/manage/consultations/999/moderation",
        "/manage/statements/999",
    ]:
        assert client.get(url).status_code == 404, url


def test_writes_are_rate_limited_per_user(database_url, tmp_path, missions, create_user):
    create_user(email="busy@example.org", team=(missions["nhs"],))
    consultation = make_consultation(missions["nhs"])
    limited = make_test_app(database_url, tmp_path, RATELIMIT_ENABLED=True)
    client = limited.test_client()
    sign_in(client, "busy@example.org")
    token = csrf_token_from(html_of(client.get(page_of(consultation))))
    seeds = f"{page_of(consultation)}/seeds"
    statuses = [
        client.post(seeds, data={"csrf_token": token, "text": ""}).status_code for _ in range(60)
    ]
    assert statuses == [400] * 60
    response = client.post(seeds, data={"csrf_token": token, "text": "One more."})
    assert response.status_code == 429
    assert "too many" in html_of(response).lower()
    assert count(Statement) == 0
    assert client.get(page_of(consultation)).status_code == 200  # reading is not limited
