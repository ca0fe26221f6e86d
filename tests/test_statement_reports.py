"""Participants report a statement; enough distinct reporters hide it until a moderator decides."""

from __future__ import annotations

import re
import uuid

import pytest
from sqlalchemy import select

from deliberate.config import ConfigurationError, settings_from_environment
from deliberate.extensions import db
from deliberate.models import (
    AuditEvent,
    Consultation,
    ModerationMode,
    ModerationStatus,
    Participant,
    ParticipantRole,
    ReportReason,
    Statement,
    StatementOrigin,
    StatementReport,
    Vote,
)
from deliberate.services import participation
from deliberate.services.analysis import load_vote_matrix
from deliberate.services.statements import write_statement
from tests.conftest import make_test_app
from tests.helpers import (
    count,
    csrf_token_from,
    error_summary,
    html_of,
    sign_in,
    submit_form,
    text_of,
)

SEED = "Clinics should open on Saturdays."
COMMENT = "Night shifts on ward 4 are always short of nurses."


@pytest.fixture
def consultation(missions) -> Consultation:
    consultation = Consultation(
        mission=missions["nhs"],
        title="What would most improve getting care?",
        moderation_mode=ModerationMode.POST,
        allow_anonymous=True,
    )
    consultation.open()
    db.session.add(consultation)
    db.session.flush()
    write_statement(consultation, SEED, origin=StatementOrigin.SEED)
    db.session.commit()
    return consultation


def participant_comment(consultation: Consultation, text: str = COMMENT) -> Statement:
    author = Participant(
        consultation_id=consultation.id,
        role=ParticipantRole.CITIZEN,
        anonymous_token_hash=uuid.uuid4().hex,
    )
    db.session.add(author)
    db.session.flush()
    statement = write_statement(
        consultation, text, origin=StatementOrigin.PARTICIPANT, author=author
    )
    db.session.commit()
    return statement


def report_url(statement: Statement) -> str:
    return f"/consultations/{statement.consultation_id}/statements/{statement.id}/report"


def report(client, statement: Statement, reason: str = "abusive", note: str = "", **kwargs):
    """Open the report form and send it, as a person would."""
    return submit_form(client, report_url(statement), {"reason": reason, "note": note}, **kwargs)


def statement_page(client, statement: Statement) -> str:
    response = client.get(f"/consultations/{statement.consultation_id}/statements/{statement.id}")
    assert response.status_code == 200
    return html_of(response)


def offered_ids(consultation: Consultation) -> set[int]:
    return {t.statement_id for t in participation.statement_tallies(consultation)}


def fresh(statement: Statement) -> Statement:
    db.session.expire_all()
    return db.session.get(Statement, statement.id)


def events(action: str) -> list[AuditEvent]:
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


# -- reporting ------------------------------------------------------------------------------------


def test_three_distinct_reporters_hide_a_statement_until_a_moderator_decides(app, consultation):
    statement = participant_comment(consultation)
    for reason in ("abusive", "personal_information"):
        response = report(app.test_client(), statement, reason)
        assert response.status_code == 303
        assert response.headers["Location"].endswith(f"/consultations/{consultation.id}")

    # Two reports: still shown and offered for voting.
    assert fresh(statement).is_votable and statement.id in offered_ids(consultation)
    browser = app.test_client()
    assert 'name="choice"' in statement_page(browser, statement)
    assert count(StatementReport) == 2 and not events("statement.hidden_by_reports")

    # The third distinct person hides it.
    response = report(browser, statement, "personal_information", "Names a nurse on ward 4.")
    assert response.status_code == 303
    hidden = fresh(statement)
    assert hidden.is_hidden_by_reports and not hidden.is_votable
    assert hidden.moderation is ModerationStatus.ACCEPTED  # not removed: waiting for a moderator
    assert statement.id not in offered_ids(consultation)
    page = statement_page(app.test_client(), statement)
    assert "waiting for a moderator to check it" in text_of(page)
    assert COMMENT not in page and 'name="choice"' not in page
    show = html_of(app.test_client().get(f"/consultations/{consultation.id}"))
    assert COMMENT not in show and "You have answered 0 of 1 statement" in text_of(show)
    refused = submit_form(
        app.test_client(),
        f"/consultations/{consultation.id}",
        {"statement_id": statement.id, "choice": "agree"},
        action=f"/consultations/{consultation.id}/votes",
    )
    assert refused.status_code == 400
    assert "waiting for a moderator" in error_summary(html_of(refused))

    # The audit log: three reports by participant id only, and one hide.
    reported = events("statement.reported")
    assert len(reported) == 3 and all(e.actor_id is None for e in reported)
    assert [e.reason for e in reported] == [
        "abusive",
        "personal_information",
        "personal_information",
    ]
    reporters = set(db.session.scalars(select(StatementReport.participant_id)))
    assert {e.detail["participant"] for e in reported} == reporters
    assert all(set(e.detail) == {"participant", "consultation"} for e in reported)
    (hide,) = events("statement.hidden_by_reports")
    assert hide.target_id == str(statement.id) and hide.actor_id is None
    assert hide.detail["reporters"] == 3 and hide.detail["threshold"] == 3


def test_the_same_reporter_counts_once(app, client, consultation):
    statement = participant_comment(consultation)
    assert report(client, statement, "spam").status_code == 303
    page = html_of(client.get(report_url(statement)))
    assert "You have already reported this statement" in text_of(page)
    assert 'name="reason"' not in page
    token = csrf_token_from(html_of(client.get(f"/consultations/{consultation.id}")))
    again = client.post(report_url(statement), data={"csrf_token": token, "reason": "abusive"})
    assert again.status_code == 303
    followed = html_of(client.get(again.headers["Location"]))
    assert "You have already reported this statement." in followed
    report(app.test_client(), statement, "spam")
    assert count(StatementReport) == 2 and len(events("statement.reported")) == 2
    assert fresh(statement).is_votable  # 2 distinct people: below the threshold of 3


def test_a_signed_in_reporter_is_logged_as_a_participant_never_as_the_account(
    app, client, consultation, create_user
):
    user = create_user(email="citizen@example.org")
    sign_in(client, "citizen@example.org")
    statement = participant_comment(consultation)
    assert report(client, statement, "other", "It names my neighbour.").status_code == 303
    participant = db.session.scalars(
        select(Participant).where(Participant.user_id == user.id)
    ).one()
    (event,) = events("statement.reported")
    assert event.actor_id is None and event.detail["participant"] == participant.id
    stored = db.session.scalars(select(StatementReport)).one()
    assert stored.reason is ReportReason.OTHER and stored.note == "It names my neighbour."


def test_the_threshold_is_a_setting(app, consultation):
    app.config["REPORT_THRESHOLD"] = 1
    statement = participant_comment(consultation)
    report(app.test_client(), statement)
    assert fresh(statement).is_hidden_by_reports


def test_the_report_threshold_setting_is_read_and_checked(tmp_path):
    assert settings_from_environment(tmp_path, env={})["REPORT_THRESHOLD"] == 3
    env = {"DELIBERATE_REPORT_THRESHOLD": "5"}
    assert settings_from_environment(tmp_path, env=env)["REPORT_THRESHOLD"] == 5
    for bad in ("0", "-2", "three"):
        with pytest.raises(ConfigurationError, match="DELIBERATE_REPORT_THRESHOLD"):
            settings_from_environment(tmp_path, env={"DELIBERATE_REPORT_THRESHOLD": bad})


def test_the_statement_pages_link_to_the_report_form_for_participants_comments_only(
    app, client, consultation
):
    statement = participant_comment(consultation)
    seed = db.session.scalars(select(Statement).where(Statement.text == SEED)).one()
    page = statement_page(client, statement)
    assert f'href="{report_url(statement)}?from=statement"' in page
    assert "Report this statement" in text_of(page)
    assert "Report this statement" not in text_of(statement_page(client, seed))
    form = html_of(client.get(report_url(seed)))
    assert "written by the mission team, so it cannot be reported" in text_of(form)
    assert 'name="reason"' not in form
    # The consultation page links the statement it offers, when it is a participant's.
    submit_form(
        client,
        f"/consultations/{consultation.id}",
        {"statement_id": seed.id, "choice": "agree"},
        action=f"/consultations/{consultation.id}/votes",
    )
    shown = html_of(client.get(f"/consultations/{consultation.id}"))
    assert f'name="statement_id" value="{statement.id}"' in shown
    assert f'href="{report_url(statement)}"' in shown
    # Back to the statement's own page after reporting from there.
    form_page = html_of(client.get(f"{report_url(statement)}?from=statement"))
    assert re.search(r'name="return_to" type="hidden" value="statement"', form_page)
    response = submit_form(
        client,
        f"{report_url(statement)}?from=statement",
        {"reason": "spam", "return_to": "statement"},  # the form's hidden field
        action=report_url(statement),
    )
    assert response.headers["Location"].endswith(
        f"/consultations/{consultation.id}/statements/{statement.id}"
    )


def test_a_reported_statement_is_not_offered_again_to_its_reporter(app, client, consultation):
    statement = participant_comment(consultation)
    seed = db.session.scalars(select(Statement).where(Statement.text == SEED)).one()
    report(client, statement, "spam")
    for _ in range(3):
        shown = html_of(client.get(f"/consultations/{consultation.id}"))
        assert f'name="statement_id" value="{statement.id}"' not in shown
        assert f'name="statement_id" value="{seed.id}"' in shown


def test_bad_reports_are_explained_and_nothing_is_stored(app, client, consultation):
    statement = participant_comment(consultation)
    cases = [
        ({}, "Choose why you are reporting this statement"),
        ({"reason": "boring"}, "Choose why you are reporting this statement"),
        ({"reason": "other"}, "Say what is wrong with this statement"),
        ({"reason": "abusive", "note": "x" * 501}, "Your note must be 500 characters or fewer"),
    ]
    for data, message in cases:
        response = submit_form(client, report_url(statement), data)
        assert response.status_code == 400, data
        assert message in error_summary(html_of(response))
    assert count(StatementReport) == 0 and count(AuditEvent) == 0
    assert count(Participant) == 1  # only the comment's author: a refusal creates nobody
    # Exactly 500 characters, with a line break counted once, is fine.
    note = "a" * 498 + "\r\nb"
    assert report(client, statement, "abusive", note).status_code == 303
    assert db.session.scalars(select(StatementReport.note)).one() == "a" * 498 + "\nb"


def test_reports_follow_the_rules_of_taking_part(app, client, consultation, missions):
    statement = participant_comment(consultation)
    consultation.allow_anonymous = False
    db.session.commit()
    page = html_of(client.get(report_url(statement)))
    assert "You need to sign in to take part" in text_of(page) and 'name="reason"' not in page
    token = csrf_token_from(html_of(client.get("/sign-in")))
    response = client.post(report_url(statement), data={"csrf_token": token, "reason": "spam"})
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    consultation.allow_anonymous = True
    consultation.close()
    db.session.commit()
    response = client.post(report_url(statement), data={"csrf_token": token, "reason": "spam"})
    assert response.status_code == 400
    assert "This consultation is closed" in error_summary(html_of(response))
    assert count(StatementReport) == 0
    no_csrf = client.post(report_url(statement), data={"reason": "spam"})
    assert no_csrf.status_code == 400 and count(StatementReport) == 0


def test_pending_rejected_and_unknown_statements_cannot_be_reported(app, client, consultation):
    consultation.moderation_mode = ModerationMode.PRE
    db.session.commit()
    pending = participant_comment(consultation, "Waiting for a moderator.")
    assert client.get(report_url(pending)).status_code == 404
    assert client.get(f"/consultations/{consultation.id}/statements/999/report").status_code == 404
    assert count(StatementReport) == 0


def test_reporting_is_rate_limited(database_url, _migrated, tmp_path, missions, consultation):
    statement = participant_comment(consultation)
    limited = make_test_app(database_url, tmp_path, RATELIMIT_ENABLED=True)
    client = limited.test_client()
    token = csrf_token_from(html_of(client.get(report_url(statement))))
    statuses = [
        client.post(report_url(statement), data={"csrf_token": token}).status_code
        for _ in range(11)
    ]
    assert statuses == [400] * 10 + [429]
    assert client.get(report_url(statement)).status_code == 200  # reading is not limited


# -- what moderators see and do -------------------------------------------------------------------


def hide_by_reports(app, statement: Statement, reasons=("spam", "spam", "abusive")) -> None:
    for reason in reasons:
        assert report(app.test_client(), statement, reason, f"note {reason}").status_code == 303


def test_the_queue_shows_reported_statements_oldest_first_with_counts_and_reasons(
    app, client, consultation, create_user
):
    later = participant_comment(consultation, "Reported later, three times.")
    earlier = participant_comment(consultation, "Reported earlier, once.")
    report(app.test_client(), earlier, "off_topic")
    hide_by_reports(app, later)
    create_user(email="mod@example.org", moderator=True)
    sign_in(client, "mod@example.org")
    page = html_of(client.get(f"/manage/consultations/{consultation.id}/moderation"))
    text = text_of(page)
    assert "Reported by people taking part (2)" in text
    assert text.index("Reported earlier, once.") < text.index("Reported later, three times.")
    assert "Reported by 3 people: Spam (2), Abusive (1)" in text
    assert "Reported by 1 person: Off-topic (1)" in text
    assert "Hidden after reports" in text and "note spam" in text
    assert page.count('form="bulk-moderation"') >= 2


def test_keeping_a_hidden_statement_shows_it_again_and_closes_its_reports(
    app, client, consultation, create_user
):
    statement = participant_comment(consultation)
    hide_by_reports(app, statement)
    create_user(email="mod@example.org", moderator=True)
    sign_in(client, "mod@example.org")
    response = submit_form(
        client,
        f"/manage/consultations/{consultation.id}/moderation",
        {"decision": "accept"},
        action=f"/manage/statements/{statement.id}/moderate",
    )
    assert response.status_code == 302
    kept = fresh(statement)
    assert kept.is_votable and not kept.is_hidden_by_reports
    assert statement.id in offered_ids(consultation)
    assert all(r.reviewed_at is not None for r in db.session.scalars(select(StatementReport)))
    (review,) = events("statement.reports_reviewed")
    assert review.detail["decision"] == "accept" and review.detail["reports"] == 3
    assert review.detail["was_hidden"] is True and review.actor_id is not None
    queue = text_of(html_of(client.get(f"/manage/consultations/{consultation.id}/moderation")))
    assert "Reported by people taking part (0)" in queue
    # Someone new may report it again; the earlier reporters may not.
    assert report(app.test_client(), statement, "spam").status_code == 303
    assert fresh(statement).is_votable  # a fresh count: one report since the decision


def test_a_hidden_statement_keeps_its_votes_and_counts_in_the_analysis_until_rejected(
    app, client, consultation, create_user
):
    statement = participant_comment(consultation)
    voter = app.test_client()
    submit_form(
        voter,
        f"/consultations/{consultation.id}/statements/{statement.id}",
        {"statement_id": statement.id, "choice": "disagree"},
        action=f"/consultations/{consultation.id}/votes",
    )
    votes_before = count(Vote, Vote.statement_id == statement.id)
    assert votes_before == 1
    hide_by_reports(app, statement)

    def counted_in_analysis() -> bool:
        matrix = load_vote_matrix(consultation.id)
        return not matrix.moderated_out[matrix.statement_ids.index(statement.id)]

    assert fresh(statement).is_hidden_by_reports and counted_in_analysis()
    assert count(Vote, Vote.statement_id == statement.id) == votes_before
    create_user(email="mod@example.org", moderator=True)
    sign_in(client, "mod@example.org")
    submit_form(
        client,
        f"/manage/statements/{statement.id}",
        {"decision": "reject", "return_to": "statement", "removal_reason": "spam"},
        action=f"/manage/statements/{statement.id}/moderate",
    )
    removed = fresh(statement)
    assert removed.moderation is ModerationStatus.REJECTED and not removed.is_hidden_by_reports
    assert not counted_in_analysis()
    assert count(Vote, Vote.statement_id == statement.id) == votes_before
    assert (
        client.get(f"/consultations/{consultation.id}/statements/{statement.id}").status_code == 404
    )
    (review,) = events("statement.reports_reviewed")
    assert review.detail["decision"] == "reject"


def test_a_duplicate_of_a_hidden_statement_is_refused_in_plain_words(app, client, consultation):
    statement = participant_comment(consultation)
    hide_by_reports(app, statement)
    response = submit_form(
        client,
        f"/consultations/{consultation.id}",
        {"text": COMMENT},
        action=f"/consultations/{consultation.id}/comments",
    )
    assert response.status_code == 400
    assert "waiting for a moderator to check it" in error_summary(html_of(response))


def test_the_moderation_page_of_a_statement_shows_its_reports(
    app, client, consultation, create_user
):
    statement = participant_comment(consultation)
    hide_by_reports(app, statement)
    create_user(email="team@example.org", team=(consultation.mission,))
    sign_in(client, "team@example.org")
    page = text_of(html_of(client.get(f"/manage/statements/{statement.id}")))
    assert "Reported by 3 people: Spam (2), Abusive (1)" in page
    assert "Hidden from participants since" in page
    assert "Keep it and close the reports" in page and "Show similar statements" in page
