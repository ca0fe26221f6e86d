"""The mission team's tools: confirmation before what cannot be undone quietly, reopening a closed
consultation, changing a draft's seed statements, deleting a draft, the ideas queue on the
dashboard, and downloads offered as links (never as commands to type)."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import (
    AnalysisRun,
    AuditEvent,
    Consultation,
    ConsultationState,
    Idea,
    IdeaStage,
    IllegalTransition,
    ModerationMode,
    ParticipantRole,
    RemovalReason,
    RunStatus,
    Statement,
    StatementEmbedding,
    StatementOrigin,
    utcnow,
)
from deliberate.services import consultations as service
from deliberate.services import ideas as ideas_service
from deliberate.services.statements import write_statement
from tests.helpers import (
    count,
    csrf_token_from,
    error_summary,
    html_of,
    sign_in,
    submit_form,
    text_of,
)
from tests.test_manage import comment, confirm, make_consultation, page_of, post_on_page
from tests.test_reports import add_votes, analyse


@pytest.fixture
def team_member(client, missions, create_user):
    user = create_user(email="team@example.org", team=(missions["nhs"],))
    sign_in(client, "team@example.org")
    return user


def reload(consultation: Consultation) -> Consultation:
    db.session.expire_all()
    return db.session.get(Consultation, consultation.id)


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        )
    )


def seed(consultation: Consultation, text: str) -> Statement:
    statement = write_statement(consultation, text, origin=StatementOrigin.SEED)
    db.session.commit()
    return statement


def csrf_of(client, url: str) -> str:
    return csrf_token_from(html_of(client.get(url)))


def flashed(response) -> str:
    """The page a redirect leads to, as read: where the notification banner says why."""
    return text_of(html_of(response))


# -- confirmation before opening, closing and publishing ------------------------------------------


def test_opening_is_confirmed_on_a_page_that_says_what_happens_and_who_sees_it(
    client, missions, team_member
):
    draft = make_consultation(missions["nhs"], title="What would help most?")
    page = html_of(client.get(page_of(draft)))
    assert f'href="{page_of(draft)}/open"' in page  # the button leads to the confirmation page

    confirmation = client.get(f"{page_of(draft)}/open")
    assert confirmation.status_code == 200
    words = text_of(html_of(confirmation))
    assert "Open the consultation" in words and "What will happen" in words
    assert "Who will see it" in words and "Everyone" in words
    assert "no seed statements" in words  # a warning: people would find nothing to vote on
    assert 'name="confirm" value="yes"' in html_of(confirmation)

    refused = submit_form(client, f"{page_of(draft)}/open", {})
    assert refused.status_code == 400
    assert "Confirm on this page first: nothing has been changed yet" in error_summary(
        html_of(refused)
    )
    assert reload(draft).state is ConsultationState.DRAFT

    response = confirm(client, draft, "open", follow_redirects=True)
    assert "Consultation opened" in html_of(response)
    assert reload(draft).state is ConsultationState.OPEN
    assert [e.target_id for e in events("consultation.opened")] == [str(draft.id)]


def test_closing_is_confirmed_first(client, missions, team_member):
    consultation = make_consultation(missions["nhs"], ConsultationState.OPEN)
    comment(consultation, "Evening appointments would help.")
    words = text_of(html_of(client.get(f"{page_of(consultation)}/close")))
    assert "Close the consultation" in words and "1 participant and" in words
    assert "reopen" in words

    refused = client.post(
        f"{page_of(consultation)}/close",
        data={"csrf_token": csrf_of(client, f"{page_of(consultation)}/close")},
    )
    assert refused.status_code == 400
    assert reload(consultation).state is ConsultationState.OPEN
    assert confirm(client, consultation, "close").status_code == 302
    assert reload(consultation).state is ConsultationState.CLOSED
    assert len(events("consultation.closed")) == 1


def test_a_confirmation_page_for_a_move_that_cannot_be_made_sends_back_saying_why(
    client, missions, team_member
):
    opened = make_consultation(missions["nhs"], ConsultationState.OPEN)
    for action, why in [
        ("open", "Only a draft consultation can be opened; this one is open."),
        ("reopen", "Only a closed consultation can be reopened; this one is open."),
        ("delete", "Only a draft consultation can be deleted; this one is open."),
    ]:
        response = client.get(f"{page_of(opened)}/{action}")
        assert response.status_code == 302, action
        assert response.headers["Location"].endswith(page_of(opened))
        assert why in flashed(client.get(response.headers["Location"])), action
    # A confirmed POST is refused the same way, and changes nothing.
    response = post_on_page(client, opened, "reopen", {"confirm": "yes", "reason": "Why not"})
    assert response.status_code == 409
    assert "Only a closed consultation can be reopened" in error_summary(html_of(response))
    assert reload(opened).state is ConsultationState.OPEN and count(Consultation) == 1


def _run_of(consultation: Consultation) -> AnalysisRun:
    statements = [
        seed(consultation, text) for text in ("Open on Saturdays.", "Publish waiting times.")
    ]
    add_votes(
        consultation,
        statements,
        [
            (ParticipantRole.CITIZEN, {0: 1, 1: -1}),
            (ParticipantRole.STAFF, {0: -1, 1: 1}),
            (ParticipantRole.CITIZEN, {0: 1}),
        ],
    )
    db.session.commit()
    return analyse(consultation.id)


def test_publishing_a_run_is_confirmed_first(client, missions, team_member):
    consultation = make_consultation(missions["nhs"], ConsultationState.OPEN)
    run = _run_of(consultation)
    url = f"{page_of(consultation)}/runs/{run.id}/publish"
    analysis = html_of(client.get(f"{page_of(consultation)}/analysis"))
    assert f'href="{url}"' in analysis

    words = text_of(html_of(client.get(url)))
    assert f"Publish run {run.id}" in words and "3 participants" in words
    assert "Nothing has been published for this consultation yet" in words
    assert "Everyone" in words

    refused = client.post(url, data={"csrf_token": csrf_of(client, url)})
    assert refused.status_code == 400
    db.session.expire_all()
    assert db.session.get(AnalysisRun, run.id).published_at is None

    response = submit_form(client, url, {"confirm": "yes"}, follow_redirects=True)
    assert "Published: the public summary now shows this analysis." in html_of(response)
    db.session.expire_all()
    assert db.session.get(AnalysisRun, run.id).published_at is not None

    again = client.get(url)  # the run shown already: nothing to confirm
    assert again.status_code == 302
    assert "is already the public summary" in flashed(client.get(again.headers["Location"]))


# -- reopening ------------------------------------------------------------------------------------


def test_a_closed_consultation_is_reopened_with_a_reason_kept_in_the_audit_log(
    client, app, missions, team_member
):
    closed = make_consultation(missions["nhs"], ConsultationState.CLOSED, title="Closed early?")
    page = html_of(client.get(page_of(closed)))
    assert f'href="{page_of(closed)}/reopen"' in page
    words = text_of(html_of(client.get(f"{page_of(closed)}/reopen")))
    assert "Reopen the consultation" in words and "audit log" in words

    refused = confirm(client, closed, "reopen", {"reason": "   "})
    assert refused.status_code == 400
    assert "Enter why you are reopening the consultation" in error_summary(html_of(refused))
    too_long = confirm(client, closed, "reopen", {"reason": "x" * 1001})
    assert too_long.status_code == 400
    assert "Reason must be 1000 characters or fewer" in error_summary(html_of(too_long))
    assert reload(closed).state is ConsultationState.CLOSED and not events("consultation.reopened")

    response = confirm(
        client,
        closed,
        "reopen",
        {"reason": "Closed a week early by mistake"},
        follow_redirects=True,
    )
    assert "Consultation reopened: people can take part again." in html_of(response)
    reopened = reload(closed)
    assert reopened.state is ConsultationState.OPEN and reopened.is_accepting_input()
    assert reopened.closed_at is None and reopened.opened_at is not None
    (event,) = events("consultation.reopened")
    assert event.reason == "Closed a week early by mistake"
    assert event.actor_id == team_member.id and event.target_id == str(closed.id)
    assert "Closed early?" in html_of(app.test_client().get("/missions/nhs"))


def test_reopening_clears_a_closing_date_that_has_passed(client, missions, team_member):
    closed = make_consultation(missions["nhs"], ConsultationState.CLOSED)
    closed.closes_at = utcnow() - timedelta(days=2)
    db.session.commit()
    words = text_of(html_of(client.get(f"{page_of(closed)}/reopen")))
    assert "has passed: it is cleared" in words
    response = confirm(client, closed, "reopen", {"reason": "More time"}, follow_redirects=True)
    assert "stays open until you close it" in html_of(response)
    reopened = reload(closed)
    assert reopened.closes_at is None and reopened.is_accepting_input()
    assert events("consultation.reopened")[0].detail["closing_date_cleared"] is True


def test_reopen_refuses_illegal_moves(client, missions, team_member):
    draft = make_consultation(missions["nhs"])
    with pytest.raises(IllegalTransition, match="Only a closed consultation can be reopened"):
        draft.reopen()
    opened = make_consultation(missions["nhs"], ConsultationState.OPEN)
    with pytest.raises(IllegalTransition, match="this one is open"):
        opened.reopen()
    db.session.rollback()

    closed = make_consultation(missions["nhs"], ConsultationState.CLOSED)
    assert post_on_page(client, closed, "next-round").status_code == 302
    assert "Reopen consultation" not in html_of(client.get(page_of(closed)))
    response = post_on_page(client, closed, "reopen", {"confirm": "yes", "reason": "Oops"})
    assert response.status_code == 409
    assert "Round 2 of this consultation has been started" in error_summary(html_of(response))
    assert reload(closed).state is ConsultationState.CLOSED


# -- a draft's seed statements --------------------------------------------------------------------


def test_a_drafts_seed_statements_can_be_changed_and_removed(client, missions, team_member):
    draft = make_consultation(missions["nhs"])
    first = seed(draft, "Clinics should open on Saturdays.")
    second = seed(draft, "Waiting times should be published.")
    db.session.add(
        StatementEmbedding(
            statement_id=first.id, model_fingerprint="test", dimension=1, vector=b"\0\0\0\0"
        )
    )
    db.session.commit()
    page = html_of(client.get(page_of(draft)))
    second_id = second.id
    edit, remove = f"/manage/statements/{first.id}/edit", f"/manage/statements/{second_id}/remove"
    assert f'href="{edit}"' in page and f'href="{remove}"' in page

    form = html_of(client.get(edit))
    assert "Clinics should open on Saturdays.</textarea>" in form
    response = submit_form(client, edit, {"text": "Clinics should open on Saturdays and Sundays."})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{page_of(draft)}#seeds")
    db.session.expire_all()
    changed = db.session.get(Statement, first.id)
    assert changed.text == "Clinics should open on Saturdays and Sundays."
    assert changed.normalised_text == "clinics should open on saturdays and sundays"
    assert count(StatementEmbedding) == 0  # the old vector no longer matches the text
    (edited,) = events("seed.edited")
    assert edited.target_id == str(first.id) and edited.detail["consultation"] == draft.id

    words = text_of(html_of(client.get(remove)))
    assert "Remove this seed statement" in words and "Waiting times should be published." in words
    refused = client.post(remove, data={"csrf_token": csrf_of(client, remove)})
    assert refused.status_code == 400 and db.session.get(Statement, second.id) is not None
    response = submit_form(client, remove, {"confirm": "yes"}, follow_redirects=True)
    assert "Seed statement removed." in html_of(response)
    db.session.expire_all()
    assert db.session.get(Statement, second_id) is None
    assert [e.target_id for e in events("seed.removed")] == [str(second_id)]


def test_bad_or_duplicate_seed_text_is_explained_in_the_teams_words(client, missions, team_member):
    draft = make_consultation(missions["nhs"])
    first = seed(draft, "Clinics should open on Saturdays.")
    other = seed(draft, "Waiting times should be published.")
    edit = f"/manage/statements/{first.id}/edit"
    empty = submit_form(client, edit, {"text": "  "})
    assert empty.status_code == 400 and "Enter the statement" in error_summary(html_of(empty))

    twin = submit_form(client, edit, {"text": "waiting times SHOULD be published!"})
    assert twin.status_code == 400
    html = html_of(twin)
    assert "This consultation already has that statement" in error_summary(html)
    assert "vote on it instead" not in html
    assert f'href="/manage/statements/{other.id}"' in html
    # Adding a seed the draft already has is refused in the same words.
    added = post_on_page(client, draft, "seeds", {"text": "Clinics should open on saturdays"})
    assert added.status_code == 400
    assert "This consultation already has that statement" in error_summary(html_of(added))
    # Changing only the case or punctuation of the same statement is fine.
    same = submit_form(client, edit, {"text": "Clinics should open on Saturdays!"})
    assert same.status_code == 302
    db.session.expire_all()
    assert db.session.get(Statement, first.id).text == "Clinics should open on Saturdays!"
    assert count(Statement) == 2


def test_seed_statements_are_fixed_once_the_consultation_is_open(client, missions, team_member):
    opened = make_consultation(missions["nhs"], ConsultationState.OPEN)
    fixed = seed(opened, "Clinics should open on Saturdays.")
    written = comment(opened, "Nights are short-staffed.")
    page = html_of(client.get(page_of(opened)))
    assert f"/manage/statements/{fixed.id}/edit" not in page
    assert f"/manage/statements/{fixed.id}/remove" not in page
    assert "fixed now that the consultation is open" in text_of(page)

    for url in [f"/manage/statements/{fixed.id}/edit", f"/manage/statements/{fixed.id}/remove"]:
        response = client.get(url)
        assert response.status_code == 302
        assert "Seed statements are fixed once the consultation has opened" in flashed(
            client.get(response.headers["Location"])
        )
    token = csrf_of(client, page_of(opened))
    for url, data in [
        (f"/manage/statements/{fixed.id}/edit", {"text": "Something else."}),
        (f"/manage/statements/{fixed.id}/remove", {"confirm": "yes"}),
    ]:
        response = client.post(url, data={"csrf_token": token, **data})
        assert response.status_code == 409
        assert "Seed statements are fixed" in error_summary(html_of(response))
    response = client.post(
        f"/manage/statements/{written.id}/remove", data={"csrf_token": token, "confirm": "yes"}
    )
    assert response.status_code == 409
    assert "Only seed statements can be changed by the team" in html_of(response)
    db.session.expire_all()
    assert db.session.get(Statement, fixed.id).text == "Clinics should open on Saturdays."
    assert count(Statement) == 2 and not events("seed.edited") and not events("seed.removed")


# -- deleting a draft -----------------------------------------------------------------------------


def test_a_draft_is_deleted_after_confirmation_with_its_seeds_and_runs(
    client, missions, team_member
):
    draft = make_consultation(missions["nhs"], title="A draft nobody needs")
    seed(draft, "Clinics should open on Saturdays.")
    seed(draft, "Waiting times should be published.")
    db.session.add(
        AnalysisRun(consultation_id=draft.id, status=RunStatus.DONE, finished_at=utcnow())
    )
    db.session.commit()
    draft_id = draft.id
    assert f'href="{page_of(draft)}/delete"' in html_of(client.get(page_of(draft)))
    words = text_of(html_of(client.get(f"{page_of(draft)}/delete")))
    assert "Delete this draft" in words and "2 seed statements" in words
    assert "This cannot be undone." in words and "drafts are never public" in words

    refused = client.post(
        f"{page_of(draft)}/delete", data={"csrf_token": csrf_of(client, page_of(draft))}
    )
    assert refused.status_code == 400 and count(Consultation) == 1

    response = confirm(client, draft, "delete")
    assert response.status_code == 302 and response.headers["Location"].endswith("/manage")
    assert "Draft deleted: “A draft nobody needs”." in html_of(client.get("/manage"))
    db.session.expire_all()
    assert count(Consultation) == 0 and count(Statement) == 0 and count(AnalysisRun) == 0
    (deleted,) = events("consultation.deleted")
    assert deleted.target_id == str(draft_id) and deleted.actor_id == team_member.id
    assert deleted.detail == {"mission": "nhs", "round": 1, "seeds": 2}
    assert client.get(f"/manage/consultations/{draft_id}").status_code == 404


def test_only_a_draft_can_be_deleted(client, missions, team_member):
    for state in (ConsultationState.OPEN, ConsultationState.CLOSED):
        consultation = make_consultation(missions["nhs"], state)
        assert "Delete draft" not in html_of(client.get(page_of(consultation)))
        response = post_on_page(client, consultation, "delete", {"confirm": "yes"})
        assert response.status_code == 409
        assert "Only a draft consultation can be deleted" in error_summary(html_of(response))
        with pytest.raises(service.IllegalMove):
            service.delete_draft(team_member, consultation)
        db.session.rollback()
    assert count(Consultation) == 2 and not events("consultation.deleted")


def test_deleting_a_next_rounds_draft_lets_the_team_start_it_again(client, missions, team_member):
    closed = make_consultation(missions["nhs"], ConsultationState.CLOSED)
    seed(closed, "Clinics should open on Saturdays.")
    assert post_on_page(client, closed, "next-round").status_code == 302
    round_two = db.session.scalars(select(Consultation).where(Consultation.round_number == 2)).one()
    assert "you can start a next round from it again" in text_of(
        html_of(client.get(f"{page_of(round_two)}/delete"))
    )
    assert confirm(client, round_two, "delete").status_code == 302
    assert post_on_page(client, closed, "next-round").status_code == 302
    assert count(Consultation) == 2


# -- the ideas queue ------------------------------------------------------------------------------


def _idea(mission, title: str, created_at, stage=IdeaStage.PROPOSED, reviewed_at=None) -> Idea:
    idea = Idea(
        mission_id=mission.id,
        title=title,
        problem="A problem.",
        proposal="A proposal.",
        created_at=created_at,
    )
    db.session.add(idea)
    if stage is not IdeaStage.PROPOSED:
        idea.move_to(IdeaStage.UNDER_REVIEW, "We are looking at it.", None, now=reviewed_at)
    if stage not in (IdeaStage.PROPOSED, IdeaStage.UNDER_REVIEW):
        idea.move_to(stage, "Decided.", None, now=reviewed_at)
    db.session.commit()
    return idea


def test_the_dashboard_lists_ideas_waiting_on_the_team_oldest_first(
    app, client, missions, create_user, team_member
):
    nhs, growth = missions["nhs"], missions["growth"]
    now = utcnow()
    days = [now - timedelta(days=n) for n in range(10)]
    newer = _idea(nhs, "Newer proposal", days[1])
    older = _idea(nhs, "Older proposal", days[5])
    # Waiting for a decision since it was moved under review, not since it was proposed.
    reviewed_late = _idea(nhs, "Reviewed lately", days[9], IdeaStage.UNDER_REVIEW, days[2])
    reviewed_early = _idea(nhs, "Reviewed early", days[6], IdeaStage.UNDER_REVIEW, days[4])
    _idea(nhs, "Already adopted", days[8], IdeaStage.ADOPTED, days[3])
    _idea(growth, "Another mission's idea", days[7])

    html = html_of(client.get("/manage"))
    words = text_of(html)
    assert "New ideas to review (2)" in words and "Ideas waiting for a decision (2)" in words
    titles = ["Older proposal", "Newer proposal", "Reviewed early", "Reviewed lately"]
    positions = [html.index(title) for title in titles]
    assert positions == sorted(positions)
    for idea in (newer, older, reviewed_late, reviewed_early):
        assert f'href="/ideas/{idea.id}"' in html
    assert "Already adopted" not in html and "Another mission's idea" not in html
    assert "0 supporters" in words

    queue = ideas_service.review_queues([nhs.id], shown=1)[nhs.id]
    assert [q.idea.title for q in queue.to_review] == ["Older proposal"]
    assert queue.to_review_total == 2 and queue.awaiting_decision_total == 2
    assert queue.awaiting_decision[0].waiting_since == days[4]

    create_user(email="moderator@example.org", moderator=True)
    moderator = app.test_client()
    sign_in(moderator, "moderator@example.org")
    assert "Older proposal" not in html_of(moderator.get("/manage"))  # runs no mission


def test_a_long_ideas_queue_links_to_all_of_them(client, missions, team_member):
    now = utcnow()
    for n in range(ideas_service.REVIEW_QUEUE_SHOWN + 2):
        _idea(missions["nhs"], f"Idea number {n}", now - timedelta(hours=n))
    html = html_of(client.get("/manage"))
    assert f"New ideas to review ({ideas_service.REVIEW_QUEUE_SHOWN + 2})" in text_of(html)
    assert len(re.findall(r'href="/ideas/\d+"', html)) == ideas_service.REVIEW_QUEUE_SHOWN
    assert 'href="/missions/nhs/ideas?stage=proposed"' in html


# -- no developer text on team pages --------------------------------------------------------------


def test_no_team_page_shows_a_command_to_type_and_the_data_is_a_download(
    client, missions, team_member
):
    draft = make_consultation(missions["nhs"], moderation_mode=ModerationMode.PRE)
    seed(draft, "A seed of the draft.")
    opened = make_consultation(missions["nhs"], ConsultationState.OPEN)
    kept = comment(opened, "Evening appointments would help.")
    removed = comment(opened, "Mrs Smith on ward 4 is rude.")
    service.moderate(
        team_member, removed, accept=False, removal_reason=RemovalReason.PERSONAL_INFORMATION
    )
    db.session.commit()
    closed = make_consultation(missions["nhs"], ConsultationState.CLOSED)
    analysed = make_consultation(missions["nhs"], ConsultationState.OPEN)
    run = _run_of(analysed)

    pages = ["/manage"]
    for consultation in (draft, opened, closed, analysed):
        base = page_of(consultation)
        pages += [base, f"{base}/analysis", f"{base}/compare", f"{base}/moderation"]
    pages += [
        f"{page_of(draft)}/edit",
        f"{page_of(draft)}/open",
        f"{page_of(draft)}/delete",
        f"{page_of(opened)}/close",
        f"{page_of(closed)}/reopen",
        f"{page_of(analysed)}/runs/{run.id}/publish",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        html = html_of(response)
        assert "flask --app" not in html and "export-polis" not in html, url

    download = f"{page_of(opened)}/data/polis-export.zip"
    assert f'href="{download}"' in html_of(client.get(f"{page_of(opened)}/analysis"))
    analysed_page = html_of(client.get(f"{page_of(analysed)}/analysis"))
    assert f"/report/runs/{run.id}/polis-export.zip" in analysed_page  # the run's own download

    response = client.get(download)
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(response.get_data())) as archive:
        comments = archive.read("comments.csv").decode()
    assert kept.text in comments
    assert "Mrs Smith" not in comments  # a rejected comment's text is never downloaded
