"""Administrators: people, roles, mission teams, staff status, signing out, and the audit log."""

from __future__ import annotations

import csv
import io
import re
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import (
    AnalysisRun,
    AppendOnly,
    AuditEvent,
    Consultation,
    Idea,
    IdeaStage,
    MissionTeamMember,
    Participant,
    ParticipantRole,
    RunStatus,
    StaffVerification,
    StatementOrigin,
    User,
    utcnow,
)
from deliberate.services import accounts
from deliberate.services import admin as admin_service
from deliberate.services.statements import write_statement
from tests.helpers import REPO_ROOT, count, error_summary, html_of, sign_in, submit_form, text_of

REASON = "Asked for by the NHS mission lead, ticket 4521"


@pytest.fixture
def admin(client, create_user):
    """A signed-in administrator."""
    user = create_user(email="ada@example.org", name="Ada Admin", admin=True)
    sign_in(client, "ada@example.org")
    return user


@pytest.fixture
def sam(create_user):
    return create_user(email="sam@example.org", name="Sam Nurse")


def person_url(person: User, rest: str = "") -> str:
    return f"/admin/people/{person.id}{rest}"


def change(client, person: User, rest: str, data: dict):
    """Open the change's page from the person's page, as an admin would, and confirm it."""
    return submit_form(client, person_url(person, rest), data)


def events(action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.id)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(db.session.scalars(query))


def fresh(user: User) -> User:
    db.session.expire_all()
    return db.session.get(User, user.id)


# -- people ---------------------------------------------------------------------------------------


def test_admin_finds_people_by_part_of_their_email_or_name_page_by_page(client, admin, create_user):
    for n in range(30):
        create_user(email=f"nurse{n}@example.org", name=f"Nurse Number {n}")
    create_user(email="rare.bird@example.org", name="Kit Wren")
    create_user(email="percent@example.org", name="100% sure")

    first = text_of(html_of(client.get("/admin")))
    assert "Everyone (33)" in first
    second = client.get("/admin?page=2")
    assert second.status_code == 200
    names_1 = set(re.findall(r"Nurse Number \d+", first))
    names_2 = set(re.findall(r"Nurse Number \d+", text_of(html_of(second))))
    assert names_1 and names_2 and not names_1 & names_2, "each page shows other people"

    by_email = text_of(html_of(client.get("/admin?q=RARE.BIRD")))
    assert "1 person matches “RARE.BIRD”" in by_email and "Kit Wren" in by_email
    by_name = text_of(html_of(client.get("/admin?q=wren")))
    assert "rare.bird@example.org" in by_name
    assert "1 person matches" in text_of(html_of(client.get("/admin?q=100%25")))
    assert "Nobody matches" in text_of(html_of(client.get("/admin?q=nobody-like-this")))
    assert client.get("/admin?page=99999999999999999999").status_code == 200


def test_a_persons_page_shows_roles_teams_and_staff_status(client, admin, create_user, missions):
    nurse = create_user(
        email="kim@example.org",
        name="Kim Carer",
        staff_email="kim@nhs.net",
        moderator=True,
        team=(missions["nhs"],),
    )
    page = text_of(html_of(client.get(person_url(nurse))))
    assert "Kim Carer" in page and "kim@example.org" in page
    assert "Moderator Yes" in page and "Administrator No" in page
    assert missions["nhs"].name in page
    assert "Verified work email kim@nhs.net" in page
    assert client.get("/admin/people/999999").status_code == 404
    assert client.get("/admin/people/99999999999999999999999").status_code == 404


# -- roles ----------------------------------------------------------------------------------------


def test_admin_grants_and_revokes_the_moderator_role_with_a_reason(client, admin, sam):
    response = change(client, sam, "/roles/moderator/grant", {"reason": REASON})
    assert response.status_code == 302 and response.headers["Location"].endswith(person_url(sam))
    assert fresh(sam).is_moderator
    [granted] = events("role.granted")
    assert (granted.actor_id, granted.target_type, granted.target_id) == (
        admin.id,
        "user",
        str(sam.id),
    )
    assert (granted.detail, granted.reason) == ({"role": "moderator"}, REASON)
    assert "Sam Nurse is now a moderator." in text_of(html_of(client.get(person_url(sam))))

    change(client, sam, "/roles/moderator/revoke", {"reason": "Left the service"})
    assert not fresh(sam).is_moderator
    [revoked] = events("role.revoked")
    assert (revoked.detail, revoked.reason) == ({"role": "moderator"}, "Left the service")


def test_admin_makes_another_admin_who_can_then_use_the_admin_pages(app, client, admin, sam):
    change(client, sam, "/roles/admin/grant", {"reason": REASON})
    assert fresh(sam).is_admin
    assert events("role.granted")[0].detail == {"role": "admin"}
    other = app.test_client()
    sign_in(other, "sam@example.org")
    assert other.get("/admin").status_code == 200

    change(client, sam, "/roles/admin/revoke", {"reason": "Temporary cover ended"})
    assert not fresh(sam).is_admin
    assert other.get("/admin").status_code == 403


def test_granting_a_role_already_held_changes_and_records_nothing(client, admin, create_user):
    mod = create_user(email="mod@example.org", name="Mo Derator", moderator=True)
    response = change(client, mod, "/roles/moderator/grant", {"reason": REASON})
    assert response.status_code == 302
    assert events() == []
    assert "already a moderator: nothing changed" in text_of(html_of(client.get(person_url(mod))))


def test_an_admin_cannot_remove_their_own_admin_role(client, admin):
    page = text_of(html_of(client.get(person_url(admin))))
    assert "You cannot remove your own administrator role" in page
    response = change(client, admin, "/roles/admin/revoke", {"reason": "Stepping down"})
    assert response.status_code == 409
    assert "there must always be at least one administrator" in error_summary(html_of(response))
    assert fresh(admin).is_admin
    assert events() == []


def test_a_change_without_a_reason_is_refused_next_to_the_field(client, admin, sam):
    response = change(client, sam, "/roles/moderator/grant", {"reason": "   "})
    assert response.status_code == 400
    assert "Enter the reason for this change" in error_summary(html_of(response))
    assert 'href="#reason"' in html_of(response)
    too_long = change(client, sam, "/roles/moderator/grant", {"reason": "x" * 1001})
    assert "Reason must be 1000 characters or fewer" in error_summary(html_of(too_long))
    assert not fresh(sam).is_moderator
    assert events() == []


def test_unknown_roles_and_changes_are_not_found(client, admin, sam):
    assert client.get(person_url(sam, "/roles/superuser/grant")).status_code == 404
    assert client.get(person_url(sam, "/roles/moderator/toggle")).status_code == 404


# -- mission teams --------------------------------------------------------------------------------


def test_admin_adds_and_removes_a_mission_team_member(app, client, admin, sam, missions):
    response = change(client, sam, "/teams/add", {"mission": "nhs", "reason": REASON})
    assert response.status_code == 302
    assert [m.mission.slug for m in fresh(sam).team_memberships] == ["nhs"]
    [added] = events("team.member_added")
    assert (added.detail, added.reason, added.target_id) == (
        {"mission": "nhs"},
        REASON,
        str(sam.id),
    )

    member = app.test_client()
    sign_in(member, "sam@example.org")
    assert member.get("/manage/missions/nhs/consultations/new").status_code == 200

    # The add page offers only the missions the person is not yet on.
    offered = html_of(client.get(person_url(sam, "/teams/add")))
    assert 'value="nhs"' not in offered and 'value="growth"' in offered

    change(client, sam, "/teams/nhs/remove", {"reason": "Moved to another team"})
    assert fresh(sam).team_memberships == []
    [removed] = events("team.member_removed")
    assert (removed.detail, removed.reason) == ({"mission": "nhs"}, "Moved to another team")
    assert member.get("/manage/missions/nhs/consultations/new").status_code == 403


def test_adding_to_a_team_needs_a_mission(client, admin, sam, missions):
    response = change(client, sam, "/teams/add", {"mission": "", "reason": REASON})
    assert response.status_code == 400
    assert "Select the mission whose team to join" in error_summary(html_of(response))
    assert count(MissionTeamMember) == 0 and events() == []


def test_removing_from_a_team_one_is_not_on_changes_nothing(client, admin, sam, missions):
    assert change(client, sam, "/teams/growth/remove", {"reason": REASON}).status_code == 302
    assert events() == []
    assert client.get(person_url(sam, "/teams/no-such-mission/remove")).status_code == 404


# -- staff status ---------------------------------------------------------------------------------


def test_admin_undoes_a_staff_verification_and_the_person_takes_part_as_a_citizen(
    app, client, admin, create_user, missions
):
    nurse = create_user(email="kim@example.org", name="Kim Carer", staff_email="kim@nhs.net")
    # A second link, sent before and not yet used, must not verify the person again afterwards.
    token = accounts.start_staff_verification(
        nurse, "kim.other@nhs.net", ("nhs.net",), timedelta(hours=24)
    )
    db.session.commit()
    nurse_client = app.test_client()
    sign_in(nurse_client, "kim@example.org")
    assert nurse_client.get("/missions/nhs/ideas/new").status_code == 200

    response = change(client, nurse, "/staff/undo", {"reason": "Not a member of staff"})
    assert response.status_code == 302
    nurse = fresh(nurse)
    assert (nurse.staff_email, nurse.staff_verified_at, nurse.is_staff) == (None, None, False)
    [undone] = events("staff.verification_undone")
    assert (undone.target_id, undone.reason) == (str(nurse.id), "Not a member of staff")

    assert nurse_client.get("/missions/nhs/ideas/new").status_code == 403
    refused = nurse_client.get(f"/account/verify-staff/{token}")
    assert refused.status_code == 400 and "expired" in text_of(html_of(refused))
    assert not fresh(nurse).is_staff
    assert "Not verified: takes part as a citizen" in text_of(
        html_of(client.get(person_url(nurse)))
    )


def test_undoing_the_verification_of_someone_not_verified_changes_nothing(client, admin, sam):
    assert change(client, sam, "/staff/undo", {"reason": REASON}).status_code == 302
    assert events() == []


# -- sessions -------------------------------------------------------------------------------------


def test_admin_signs_a_person_out_everywhere(app, client, admin, sam):
    phone, laptop = app.test_client(), app.test_client()
    for device in (phone, laptop):
        sign_in(device, "sam@example.org")
        assert device.get("/account").status_code == 200

    response = change(client, sam, "/sign-out", {"reason": "Reported a stolen phone"})
    assert response.status_code == 302
    for device in (phone, laptop):
        refused = device.get("/account")
        assert refused.status_code == 302 and "/sign-in" in refused.headers["Location"]
    [event] = events("account.signed_out_everywhere")
    assert (event.actor_id, event.target_id, event.reason) == (
        admin.id,
        str(sam.id),
        "Reported a stolen phone",
    )
    sign_in(phone, "sam@example.org")  # the password still works


def test_an_admin_who_signs_themselves_out_everywhere_stays_signed_in_here(app, client, admin):
    other_device = app.test_client()
    sign_in(other_device, "ada@example.org")
    change(client, admin, "/sign-out", {"reason": "Left a session open at a library"})
    assert client.get("/admin").status_code == 200
    assert other_device.get("/admin").status_code == 302


# -- who may use the admin pages ------------------------------------------------------------------

ADMIN_PAGES = ("/admin", "/admin/audit", "/admin/audit.csv")


def test_people_who_are_not_admins_are_refused(app, client, create_user, missions, sam):
    create_user(
        email="lead@example.org",
        moderator=True,
        staff_email="lead@nhs.net",
        team=(missions["nhs"],),
    )
    sign_in(client, "lead@example.org")
    for page in (*ADMIN_PAGES, person_url(sam), person_url(sam, "/roles/moderator/grant")):
        assert client.get(page).status_code == 403, page
    token = re.search(r'name="csrf_token" value="([^"]+)"', html_of(client.get("/account")))
    for action in ("/roles/admin/grant", "/teams/add", "/staff/undo", "/sign-out"):
        response = client.post(
            person_url(sam, action),
            data={"csrf_token": token.group(1), "reason": "x", "mission": "nhs"},
        )
        assert response.status_code == 403, action
    assert not fresh(sam).is_admin and events() == []
    assert "/admin" not in html_of(client.get("/account")), "no Admin link for non-admins"


def test_visitors_who_are_not_signed_in_are_sent_to_sign_in(client, sam):
    for page in (*ADMIN_PAGES, person_url(sam)):
        response = client.get(page)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"], page


def test_admins_see_an_admin_link_and_admin_pages_are_never_cached(client, admin):
    html = html_of(client.get("/account"))
    assert re.search(r'href="/admin"[^>]*>\s*Admin\s*<', html)
    assert client.get("/admin").headers["Cache-Control"] == "no-store"


def test_admin_changes_need_a_csrf_token(client, admin, sam):
    response = client.post(person_url(sam, "/roles/admin/grant"), data={"reason": REASON})
    assert response.status_code == 400
    assert not fresh(sam).is_admin


# -- the audit log --------------------------------------------------------------------------------


def test_the_audit_log_shows_who_did_what_newest_first_and_filters_by_action(
    client, admin, sam, create_user, missions
):
    change(client, sam, "/roles/moderator/grant", {"reason": "First"})
    change(client, sam, "/teams/add", {"mission": "nhs", "reason": "Second"})
    change(client, sam, "/sign-out", {"reason": "Third"})
    gone = create_user(email="gone@example.org", name="Gone Person")
    db.session.add(AuditEvent(actor_id=gone.id, action="role.granted", detail={"role": "x"}))
    db.session.add(AuditEvent(actor_id=None, action="consultation.closed"))
    db.session.commit()
    db.session.delete(gone)
    db.session.commit()

    page = text_of(html_of(client.get("/admin/audit")))
    assert page.index("consultation.closed") < page.index("Third") < page.index("Second")
    assert page.index("Second") < page.index("First")
    assert f"Account #{admin.id} (Ada Admin)" in page
    assert f"Account #{sam.id} (Sam Nurse)" in page
    assert f"Account #{gone.id} (deleted)" in page
    assert "System" in page and "mission: nhs" in page

    only_roles = text_of(html_of(client.get("/admin/audit?action=role.granted")))
    assert "First" in only_roles and "Second" not in only_roles and "Third" not in only_roles
    assert "Every action" in html_of(client.get("/admin/audit?action=no.such.action"))


def test_the_audit_log_is_paginated(client, admin):
    for n in range(admin_service.EVENTS_PER_PAGE + 5):
        db.session.add(AuditEvent(action="test.event", reason=f"event {n}"))
    db.session.commit()
    first = text_of(html_of(client.get("/admin/audit")))
    second = text_of(html_of(client.get("/admin/audit?page=2")))
    assert "event 54 " in first and "event 0 " not in first
    assert "event 0 " in second and "event 54 " not in second


def test_the_audit_csv_holds_every_event_and_neutralises_formulas(client, admin, sam):
    change(client, sam, "/roles/moderator/grant", {"reason": '=HYPERLINK("http://evil","x")'})
    change(client, sam, "/sign-out", {"reason": "Lost laptop"})
    response = client.get("/admin/audit.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["action"] for r in rows] == ["account.signed_out_everywhere", "role.granted"]
    assert rows[1]["reason"] == '\'=HYPERLINK("http://evil","x")'
    assert rows[1]["detail"] == "role=moderator" and rows[1]["actor_id"] == str(admin.id)
    assert rows[0]["reason"] == "Lost laptop"
    only = client.get("/admin/audit.csv?action=role.granted").get_data(as_text=True)
    assert "role.granted" in only and "signed_out_everywhere" not in only


def test_nothing_can_change_or_remove_an_audit_event(app, client, admin, sam):
    change(client, sam, "/roles/moderator/grant", {"reason": REASON})
    [event] = events()
    event.reason = "rewritten"
    with pytest.raises(AppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(AppendOnly):
        db.session.commit()
    db.session.rollback()
    assert [e.reason for e in events()] == [REASON]

    # No route could: every URL about the audit log only reads it.
    for rule in app.url_map.iter_rules():
        if "audit" in rule.rule or "audit" in rule.endpoint:
            assert rule.methods <= {"GET", "HEAD", "OPTIONS"}, rule.rule
    # And no code outside the model issues a bulk UPDATE or DELETE on the table (which would
    # slip past the model's guard).
    bulk = re.compile(r"\b(update|delete)\(\s*(AuditEvent|[\"']?audit_events)")
    for path in Path(REPO_ROOT / "deliberate").rglob("*.py"):
        assert not bulk.search(path.read_text(encoding="utf-8")), path


# -- what the rest of the site records ------------------------------------------------------------


def test_team_actions_are_recorded_in_the_audit_log(client, create_user, missions):
    from tests.test_manage import GOOD  # the settings of a valid new consultation

    lead = create_user(email="lead@example.org", team=(missions["nhs"],))
    sign_in(client, "lead@example.org")
    submit_form(client, "/manage/missions/nhs/consultations/new", GOOD)
    consultation = db.session.scalars(select(Consultation)).one()
    base = f"/manage/consultations/{consultation.id}"
    submit_form(client, base, {"text": "Clinics should open on Saturdays."}, action=f"{base}/seeds")
    edited = {**GOOD, "context": "Changed context."}
    assert submit_form(client, f"{base}/edit", edited).status_code == 302
    submit_form(client, f"{base}/open", {"confirm": "yes"})

    participant = Participant(
        consultation_id=consultation.id,
        role=ParticipantRole.CITIZEN,
        anonymous_token_hash=uuid.uuid4().hex,
    )
    db.session.add(participant)
    db.session.flush()
    comment = write_statement(
        consultation,
        "Nights are short-staffed.",
        origin=StatementOrigin.PARTICIPANT,
        author=participant,
    )
    run = AnalysisRun(consultation_id=consultation.id, status=RunStatus.DONE, finished_at=utcnow())
    db.session.add(run)
    db.session.commit()
    statement_page = f"/manage/statements/{comment.id}"
    long_reason = submit_form(
        client,
        statement_page,
        {
            "decision": "reject",
            "return_to": "statement",
            "removal_reason": "personal_information",
            "note": "x" * 1001,
        },
        action=f"{statement_page}/moderate",
    )
    assert long_reason.status_code == 400
    assert "Note must be 1000 characters or fewer" in error_summary(html_of(long_reason))
    submit_form(
        client,
        statement_page,
        {
            "decision": "reject",
            "return_to": "statement",
            "removal_reason": "personal_information",
            "note": "Names a member of staff",
        },
        action=f"{statement_page}/moderate",
    )
    submit_form(client, f"{base}/runs/{run.id}/publish", {"confirm": "yes"})
    submit_form(client, f"{base}/close", {"confirm": "yes"})
    submit_form(client, base, {}, action=f"{base}/next-round")

    recorded = [(e.action, e.target_type, e.actor_id) for e in events()]
    assert [a for a, _, _ in recorded] == [
        "consultation.created",
        "seed.added",
        "consultation.edited",
        "consultation.opened",
        "statement.moderated",
        "run.published",
        "consultation.closed",
        "consultation.next_round",
    ]
    assert {actor for _, _, actor in recorded} == {lead.id}
    by_action = {e.action: e for e in events()}
    assert by_action["consultation.created"].detail == {"mission": "nhs"}
    assert by_action["consultation.edited"].detail == {"changed": "context"}
    assert by_action["statement.moderated"].detail == {
        "decision": "reject",
        "previous": "pending",
        "removal_reason": "personal_information",
        "role": "mission team",
        "note_public": True,
        "consultation": consultation.id,
    }
    assert by_action["statement.moderated"].reason == "Names a member of staff"
    assert by_action["run.published"].target_type == "analysis_run"
    next_round = db.session.scalars(
        select(Consultation).where(Consultation.previous_round_id == consultation.id)
    ).one()
    assert by_action["consultation.next_round"].detail == {"next_round": next_round.id}


def test_idea_decisions_are_recorded_in_the_audit_log(client, create_user, missions):
    author = create_user(email="kim@example.org", staff_email="kim@nhs.net")
    lead = create_user(email="lead@example.org", team=(missions["nhs"],))
    idea = Idea(
        mission_id=missions["nhs"].id,
        author_id=author.id,
        title="Protected breaks",
        problem="Nurses skip breaks.",
        proposal="Cover rota for breaks.",
        evidence="Ward survey.",
    )
    db.session.add(idea)
    db.session.commit()
    sign_in(client, "lead@example.org")
    page = f"/ideas/{idea.id}"
    for stage, reason in (
        (IdeaStage.UNDER_REVIEW, "Looking into it"),
        (IdeaStage.BEING_TRIALLED, "Worth a pilot"),
    ):
        moved = submit_form(
            client, page, {"stage": stage.value, "reason": reason}, action=f"{page}/stage"
        )
        assert moved.status_code == 302
    submit_form(client, page, {"learning": "Breaks were taken."}, action=f"{page}/learning")
    reviewed, trialled, learnt = events()
    assert (trialled.action, trialled.target_type, trialled.target_id, trialled.actor_id) == (
        "idea.stage_changed",
        "idea",
        str(idea.id),
        lead.id,
    )
    assert reviewed.detail == {"from_stage": "proposed", "to_stage": "under_review"}
    assert trialled.detail == {"from_stage": "under_review", "to_stage": "being_trialled"}
    assert trialled.reason == "Worth a pilot"
    assert (learnt.action, learnt.target_id, learnt.actor_id) == (
        "idea.learning_added",
        str(idea.id),
        lead.id,
    )


def test_the_staff_verification_links_a_person_asked_for_are_listed(client, admin, sam):
    accounts.start_staff_verification(sam, "sam@nhs.net", ("nhs.net",), timedelta(hours=24))
    db.session.commit()
    assert db.session.scalar(select(StaffVerification.email)) == "sam@nhs.net"
    page = text_of(html_of(client.get(person_url(sam))))
    assert "A verification link sent to sam@nhs.net is waiting to be used" in page
