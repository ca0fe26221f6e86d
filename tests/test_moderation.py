"""Moderation a public body can defend: a published policy, rejections with a reason the author
sees, edits that take out personal details and keep the votes, labels on every statement, the
team's moderation log and the report's count of removals (stored with the run)."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile

import numpy as np
import pytest
from sqlalchemy import select

from deliberate import jobs
from deliberate.extensions import db
from deliberate.findings import read_findings
from deliberate.models import (
    AuditEvent,
    Consultation,
    ModerationMode,
    ModerationStatus,
    Participant,
    ParticipantRole,
    RemovalReason,
    SiteText,
    Statement,
    StatementEmbedding,
    StatementOrigin,
    Vote,
)
from deliberate.services import analysis_runs, reports, topics
from deliberate.services import consultations as service
from deliberate.services.embeddings import vector_bytes
from deliberate.services.moderation_policy import default_policy
from deliberate.services.statements import redact_statement, write_statement
from tests.helpers import (
    count,
    error_summary,
    html_of,
    sign_in,
    submit_form,
    text_of,
)
from tests.test_reports import AGREE, DISAGREE, PASS, add_votes, analyse

SEEDS = [
    "Clinics should open on Saturdays.",
    "Waiting times should be published every week.",
    "Nurses need protected breaks.",
]
NAMED = "Mrs Smith on ward 4 ignored my mother for hours."
UNNAMED = "A nurse on the ward ignored my mother for hours."


@pytest.fixture(autouse=True)
def _no_background_jobs(app):
    """Comments ask for embeddings and analyses in the background: here nothing runs behind the
    test's back (no model loads), and the tests analyse when they mean to."""
    app.extensions["deliberate_jobs"].shutdown()
    jobs.runner().shutdown()


@pytest.fixture
def consultation(missions) -> Consultation:
    consultation = Consultation(
        mission=missions["nhs"],
        title="What would most improve getting care?",
        moderation_mode=ModerationMode.POST,
        allow_anonymous=True,
    )
    db.session.add(consultation)
    db.session.flush()
    for text in SEEDS:
        write_statement(consultation, text, origin=StatementOrigin.SEED)
    consultation.open()
    db.session.commit()
    return consultation


@pytest.fixture
def team(create_user, missions):
    return create_user(email="lead@example.org", name="Lee Lead", team=(missions["nhs"],))


@pytest.fixture
def moderator(create_user):
    return create_user(email="mod@example.org", name="Mo Moderator", moderator=True)


def signed_in(app, user):
    browser = app.test_client()
    sign_in(browser, user.email)
    return browser


def post_comment(browser, consultation: Consultation, text: str) -> Statement:
    """A participant adds a statement on the consultation page, as a person would."""
    url = f"/consultations/{consultation.id}"
    response = submit_form(browser, url, {"text": text}, action=f"{url}/comments")
    assert response.status_code == 302, html_of(response)
    return db.session.scalar(select(Statement).where(Statement.text == text))


def reject(browser, statement: Statement, reason: str = "", note: str = ""):
    page = f"/manage/statements/{statement.id}"
    return submit_form(
        browser,
        page,
        {"decision": "reject", "return_to": "statement", "removal_reason": reason, "note": note},
        action=f"{page}/moderate",
    )


def redact(browser, statement: Statement, text: str, reason: str = "personal_information"):
    page = f"/manage/statements/{statement.id}/redact"
    return submit_form(browser, page, {"text": text, "removal_reason": reason})


def with_votes(consultation: Consultation, extra: list[Statement] = ()) -> list[Statement]:
    """Twenty people's votes on the seeds (and on ``extra``), enough for an analysis."""
    statements = [
        *db.session.scalars(
            select(Statement)
            .where(
                Statement.consultation_id == consultation.id,
                Statement.origin == StatementOrigin.SEED,
            )
            .order_by(Statement.id)
        ),
        *extra,
    ]
    choices = (AGREE, DISAGREE, PASS)
    add_votes(
        consultation,
        statements,
        [
            (ParticipantRole.CITIZEN, {i: choices[(i + n) % 3] for i in range(len(statements))})
            for n in range(20)
        ],
    )
    db.session.commit()
    return statements


# -- the published policy -------------------------------------------------------------------------


def test_the_policy_is_published_names_every_reason_and_is_linked_where_people_write(
    app, client, consultation
):
    page = client.get("/moderation-policy")
    assert page.status_code == 200
    text = text_of(html_of(page))
    for reason in RemovalReason:
        assert f"{reason.label}: {reason.explanation}." in text
    assert "This is the site's standard policy." in text

    for url in ("/", f"/consultations/{consultation.id}"):  # the footer of every page
        assert 'href="/moderation-policy">Moderation policy</a>' in html_of(client.get(url))
    show = html_of(client.get(f"/consultations/{consultation.id}"))
    assert 'id="policy-link"' in show and "Read the moderation policy" in show
    seed = db.session.scalar(select(Statement).where(Statement.text == SEEDS[0]))
    statement_page = html_of(client.get(f"/consultations/{consultation.id}/statements/{seed.id}"))
    assert 'id="policy-link"' in statement_page and 'href="/moderation-policy"' in statement_page

    # A comment held back to be compared with the statements already made points there too.
    vector = np.ones(4, dtype=np.float32) / 2
    db.session.add(
        StatementEmbedding(
            statement_id=seed.id, model_fingerprint="test", dimension=4, vector=vector_bytes(vector)
        )
    )
    db.session.commit()
    url = f"/consultations/{consultation.id}"
    held = submit_form(
        client, url, {"text": "Pharmacies should open later."}, action=f"{url}/comments"
    )
    assert "/comments/held/" in held.headers["Location"]
    held_page = html_of(client.get(held.headers["Location"]))
    assert 'id="policy-link"' in held_page and 'href="/moderation-policy"' in held_page


def test_an_admin_publishes_a_new_policy_shown_as_plain_text_with_its_history(
    app, client, create_user
):
    create_user(email="admin@example.org", admin=True)
    sign_in(client, "admin@example.org")
    assert 'href="/admin/moderation-policy"' in html_of(client.get("/admin"))
    form = html_of(client.get("/admin/moderation-policy"))
    assert default_policy().split("\n")[0] in form  # the current text, ready to change

    refused = submit_form(
        client, "/admin/moderation-policy", {"text": "  ", "reason": "Clearer words"}
    )
    assert refused.status_code == 400
    assert "Enter the moderation policy" in error_summary(html_of(refused))
    no_reason = submit_form(client, "/admin/moderation-policy", {"text": "Be kind.", "reason": ""})
    assert no_reason.status_code == 400
    assert "Enter the reason for this change" in error_summary(html_of(no_reason))

    policy = "Be kind.\r\n\r\nNo <script>alert(1)</script> here.\r\nA second line."
    done = submit_form(
        client, "/admin/moderation-policy", {"text": policy, "reason": "Shorter for the pilot"}
    )
    assert done.status_code == 302
    public = html_of(client.get("/moderation-policy"))
    assert "<script>alert(1)</script>" not in public
    assert "No &lt;script&gt;alert(1)&lt;/script&gt; here.<br>A second line." in public
    assert '<p class="govuk-body" dir="auto">Be kind.</p>' in public
    assert "Last updated on" in text_of(public)

    again = submit_form(
        client, "/admin/moderation-policy", {"text": policy, "reason": "Same again"}
    )
    assert again.status_code == 302
    assert "nothing was published" in html_of(client.get(again.headers["Location"]))
    submit_form(client, "/admin/moderation-policy", {"text": "Be kinder.", "reason": "Tone"})

    versions = db.session.scalars(select(SiteText).order_by(SiteText.id)).all()
    assert [v.text for v in versions] == [policy.replace("\r\n", "\n"), "Be kinder."]
    edits = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "policy.edited").order_by(AuditEvent.id)
    ).all()
    assert [(e.reason, e.target_id) for e in edits] == [
        ("Shorter for the pilot", str(versions[0].id)),
        ("Tone", str(versions[1].id)),
    ]
    assert "Be kinder." in text_of(html_of(client.get("/moderation-policy")))


# -- rejecting with a reason ----------------------------------------------------------------------


def test_a_rejection_needs_a_reason_and_its_author_sees_it_on_their_answers_page(
    app, client, consultation, moderator
):
    statement = post_comment(client, consultation, "Buy cheap watches at example.com")
    mod = signed_in(app, moderator)

    queue = html_of(mod.get(f"/manage/consultations/{consultation.id}/moderation"))
    # From the queue, taking a comment down leads to its page, which asks why.
    assert f'href="/manage/statements/{statement.id}#moderate"' in queue
    page = html_of(mod.get(f"/manage/statements/{statement.id}"))
    for reason in RemovalReason:
        assert f'value="{reason.value}"' in page and reason.label in page

    refused = reject(mod, statement)
    assert refused.status_code == 400
    assert "Select why this comment breaks the moderation policy" in error_summary(html_of(refused))
    db.session.expire_all()
    assert db.session.get(Statement, statement.id).is_votable

    assert reject(mod, statement, "spam", "Advertising is not allowed.").status_code == 302
    db.session.expire_all()
    removed = db.session.get(Statement, statement.id)
    assert removed.moderation is ModerationStatus.REJECTED
    assert removed.removal_reason is RemovalReason.SPAM
    assert removed.removal_note == "Advertising is not allowed."
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "statement.moderated"))
    assert event.actor_id == moderator.id and event.reason == "Advertising is not allowed."
    assert event.detail["removal_reason"] == "spam" and event.detail["role"] == "moderator"

    answers = text_of(html_of(client.get(f"/consultations/{consultation.id}/answers")))
    assert "Removed by moderators: Spam — Advertising is not allowed." in answers
    assert "moderation policy" in answers
    # Nobody else reads the reason: the statement is gone from the consultation.
    stranger = app.test_client()
    assert "Buy cheap watches" not in html_of(stranger.get(f"/consultations/{consultation.id}"))

    # Reinstated: the reason no longer applies.
    page = f"/manage/statements/{statement.id}"
    submit_form(
        mod, page, {"decision": "accept", "return_to": "statement"}, action=f"{page}/moderate"
    )
    db.session.expire_all()
    back = db.session.get(Statement, statement.id)
    assert back.is_votable and back.removal_reason is None and back.removal_note is None


def test_rejecting_a_statement_the_last_run_included_makes_the_analysis_stale(
    app, client, consultation, team
):
    comment = post_comment(client, consultation, "Evening appointments at every surgery.")
    with_votes(consultation, [comment])
    first = analyse(consultation.id)
    assert not analysis_runs.is_stale(consultation.id)
    included = first.results["votes"]["statements"]
    position = included["statement_ids"].index(comment.id)
    assert included["moderated_out"][position] is False

    assert reject(signed_in(app, team), comment, "duplicate").status_code == 302
    assert analysis_runs.is_stale(consultation.id)  # no new vote or statement: the decision

    second = analyse(consultation.id)
    assert not analysis_runs.is_stale(consultation.id)
    assert second.moderation_changes == first.moderation_changes + 1
    assert second.results["votes"]["statements"]["moderated_out"][position] is True
    assert second.results["votes"]["n_active_statements"] == len(SEEDS)


# -- editing out personal details -----------------------------------------------------------------


def test_a_moderator_edits_out_a_name_keeping_the_votes_and_nothing_of_the_words(
    app, client, consultation, moderator
):
    statement = post_comment(client, consultation, NAMED)
    with_votes(consultation, [statement])
    analyse(consultation.id)
    votes_before = count(Vote, Vote.statement_id == statement.id)
    db.session.add(
        StatementEmbedding(
            statement_id=statement.id,
            model_fingerprint="test",
            dimension=4,
            vector=vector_bytes(np.ones(4, dtype=np.float32) / 2),
        )
    )
    db.session.commit()
    mod = signed_in(app, moderator)
    edit_url = f"/manage/statements/{statement.id}/redact"
    assert NAMED in html_of(mod.get(edit_url))  # the words to edit, as written

    for words, reason, problem in [
        (UNNAMED, "", "Select why the words must change"),
        (NAMED, "personal_information", "Change the words to take out what breaks the policy"),
        ("", "personal_information", "Enter the statement's words"),
        (SEEDS[0], "personal_information", "reject this one as a duplicate instead"),
    ]:
        refused = redact(mod, statement, words, reason)
        assert refused.status_code == 400
        assert problem in error_summary(html_of(refused))

    response = redact(mod, statement, UNNAMED)
    assert response.status_code == 302
    db.session.expire_all()
    edited = db.session.get(Statement, statement.id)
    assert edited.text == UNNAMED and edited.redacted_at is not None
    assert edited.is_votable and count(Vote, Vote.statement_id == statement.id) == votes_before
    assert count(StatementEmbedding, StatementEmbedding.statement_id == statement.id) == 0
    assert analysis_runs.is_stale(consultation.id)

    # The removed words live on nowhere: not in the statement, the audit log or the log CSV.
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "statement.redacted"))
    assert event.reason is None
    assert event.detail == {
        "removal_reason": "personal_information",
        "role": "moderator",
        "consultation": consultation.id,
    }
    for row in db.session.scalars(select(AuditEvent)):
        assert "Smith" not in json.dumps(row.detail) and "Smith" not in (row.reason or "")
    assert count(Statement, Statement.text.contains("Smith")) == 0
    log = mod.get(f"/manage/consultations/{consultation.id}/moderation-log.csv").data.decode()
    assert "Smith" not in log and UNNAMED in log

    # The public sees the new words, labelled; the author too.
    statement_page = html_of(
        client.get(f"/consultations/{consultation.id}/statements/{statement.id}")
    )
    assert UNNAMED in statement_page and "Smith" not in statement_page
    assert "Written by a participant · Edited by moderators" in text_of(statement_page)
    answers = text_of(html_of(client.get(f"/consultations/{consultation.id}/answers")))
    assert "Edited by moderators" in answers and "Smith" not in answers


# -- labels ---------------------------------------------------------------------------------------


def test_every_statement_shown_says_who_wrote_it_and_never_reveals_staff(
    app, client, consultation, create_user, team
):
    staff = create_user(email="nurse@example.org", staff_email="nurse@nhs.net")
    nurse = signed_in(app, staff)
    comment = post_comment(nurse, consultation, "Handover notes should be digital.")
    assert comment.author_role is ParticipantRole.STAFF
    seed = db.session.scalar(select(Statement).where(Statement.text == SEEDS[0]))

    def labels(html: str) -> dict[int, str]:
        return {
            int(sid): " ".join(label.split())
            for sid, label in re.findall(r'data-statement-labels="(\d+)">([^<]*)<', html)
        }

    base = f"/consultations/{consultation.id}"
    assert labels(html_of(client.get(f"{base}/statements/{seed.id}"))) == {
        seed.id: "From the mission team"
    }
    assert labels(html_of(client.get(f"{base}/statements/{comment.id}"))) == {
        comment.id: "Written by a participant"
    }
    shown = labels(html_of(nurse.get(base)))  # the next statement to answer
    assert len(shown) == 1
    assert set(shown.values()) <= {"From the mission team", "Written by a participant"}
    answered = labels(html_of(nurse.get(f"{base}/answers")))
    assert answered == {comment.id: "Written by a participant"}  # their own, agreed at once

    with_votes(consultation, [comment])
    run = analyse(consultation.id)
    reports.publish_run(team, consultation, run)
    db.session.commit()
    table = html_of(client.get(f"{base}/report/runs/{run.id}/statements"))
    assert f"{SEEDS[0]} From the mission team" in text_of(table)
    assert "Handover notes should be digital. Written by a participant" in text_of(table)
    in_table = re.findall(r'class="govuk-body-s app-statement-labels">([^<]*)<', table)
    assert sorted(in_table) == ["From the mission team"] * len(SEEDS) + ["Written by a participant"]


# -- the moderation log and the report's count ----------------------------------------------------


def test_the_team_downloads_the_moderation_log_naming_roles_not_people(
    app, client, consultation, team, moderator, create_user
):
    consultation.moderation_mode = ModerationMode.PRE  # (changed behind the page, for the test)
    db.session.commit()
    spam = post_comment(client, consultation, "Cheap pills here")
    kept = post_comment(client, consultation, "More nurses at night.")
    named = post_comment(client, consultation, NAMED)
    lead, mod = signed_in(app, team), signed_in(app, moderator)
    page = f"/manage/statements/{kept.id}"
    submit_form(
        lead, page, {"decision": "accept", "return_to": "statement"}, action=f"{page}/moderate"
    )
    reject(mod, spam, "spam", '=HYPERLINK("http://evil.example", "Click")')
    redact(lead, named, UNNAMED)

    response = lead.get(f"/manage/consultations/{consultation.id}/moderation-log.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.data.decode())))
    assert [
        (int(r["statement_id"]), r["action"], r["reason"], r["moderator_role"]) for r in rows
    ] == [
        (kept.id, "accepted", "", "mission team"),
        (spam.id, "rejected", "Spam", "moderator"),
        (named.id, "redacted", "Personal information", "mission team"),
    ]
    assert rows[1]["statement_text"] == "Cheap pills here"  # removed, but the team sees it
    assert rows[1]["public_note"] == "'" + '=HYPERLINK("http://evil.example", "Click")'
    assert all(r["at_utc"] for r in rows)
    body = response.data.decode()
    for person in (team, moderator):
        assert person.email not in body and person.display_name not in body

    assert mod.get(f"/manage/consultations/{consultation.id}/moderation-log.csv").status_code == 200
    citizen = create_user(email="citizen@example.org")
    assert (
        signed_in(app, citizen)
        .get(f"/manage/consultations/{consultation.id}/moderation-log.csv")
        .status_code
        == 403
    )


def test_the_report_counts_removals_by_reason_as_stored_with_the_run(
    app, client, consultation, team, moderator
):
    texts = {
        "Cheap pills here": "duplicate",
        "Cheap pills over here": "duplicate",
        "Dr Jones is useless": "personal_information",
        "Everyone here is an idiot": "abusive",
    }
    comments = [post_comment(client, consultation, text) for text in texts]
    with_votes(consultation, comments)
    mod = signed_in(app, moderator)
    for statement, reason in zip(comments, texts.values(), strict=True):
        assert reject(mod, statement, reason).status_code == 302
    run = analyse(consultation.id)
    assert run.results["moderation"] == {
        "n_removed": 4,
        "by_reason": {"duplicate": 2, "personal_information": 1, "abusive": 1},
        "n_without_reason": 0,
        "n_edited": 0,
    }
    reports.publish_run(team, consultation, run)
    db.session.commit()

    html = html_of(client.get(f"/consultations/{consultation.id}/report"))
    summary = text_of(html.split('id="moderation-summary">')[1].split("</span>")[0])
    assert summary.startswith(
        "4 statements were removed by the moderators: 2 duplicates, 1 abusive and "
        "1 personal information. Read the moderation policy"
    )
    assert moderator.display_name not in html and "moderator@" not in html
    # The finding is the run's: a later removal changes the next run, not this report.
    later = post_comment(client, consultation, "Another advert for pills")
    reject(mod, later, "spam")
    assert summary in text_of(html_of(client.get(f"/consultations/{consultation.id}/report")))


def test_a_run_stored_before_removals_were_counted_reads_and_shows_without_them(
    app, client, consultation, team
):
    with_votes(consultation)
    run = analyse(consultation.id)
    older = {k: v for k, v in run.results.items() if k != "moderation"}
    older["schema_version"] = 2
    run.results = older
    run.published_at = run.finished_at
    db.session.commit()
    assert read_findings(older).moderation is None
    html = html_of(client.get(f"/consultations/{consultation.id}/report"))
    assert 'id="moderation-summary"' not in html and "Summary of findings" in html


# -- removed statements stay out of everything public ---------------------------------------------


def test_a_rejected_statements_words_appear_in_no_report_download_or_analysis(
    app, client, consultation, team, moderator
):
    words = "Zebra crossings outside the clinic are a scandal"
    removed = post_comment(client, consultation, words)
    with_votes(consultation, [removed])
    reject(signed_in(app, moderator), removed, "off_topic")
    run = analyse(consultation.id)
    reports.publish_run(team, consultation, run)
    db.session.commit()
    assert count(Vote, Vote.statement_id == removed.id) > 0  # its votes are kept

    base = f"/consultations/{consultation.id}"
    pages = [
        html_of(client.get(f"{base}/report")),
        html_of(client.get(f"{base}/report/runs/{run.id}")),
        html_of(client.get(f"{base}/report/runs/{run.id}/statements")),
        html_of(client.get(base)),
        client.get(f"{base}/report/runs/{run.id}/results.json").data.decode(),
    ]
    archive = zipfile.ZipFile(
        io.BytesIO(client.get(f"{base}/report/runs/{run.id}/polis-export.zip").data)
    )
    pages += [archive.read(name).decode() for name in archive.namelist()]
    for page in pages:
        assert "Zebra" not in page
    assert "[Removed by the moderators]" in archive.read("comments.csv").decode()
    assert "Zebra" not in json.dumps(run.results)
    position = run.results["votes"]["statements"]["statement_ids"].index(removed.id)
    assert run.results["votes"]["statements"]["moderated_out"][position] is True
    assert "1 statement was removed by the moderators: 1 off-topic." in text_of(pages[0])


def test_seeds_are_not_moderated_or_edited_and_others_may_not_moderate(
    app, consultation, create_user, missions
):
    seed = db.session.scalar(select(Statement).where(Statement.text == SEEDS[0]))
    lead = create_user(email="lead2@example.org", team=(missions["nhs"],))
    outsider = create_user(email="growth@example.org", team=(missions["growth"],))
    participant = Participant(consultation_id=consultation.id, role=ParticipantRole.CITIZEN)
    db.session.add(participant)
    db.session.flush()
    comment = write_statement(
        consultation, "Late buses.", origin=StatementOrigin.PARTICIPANT, author=participant
    )
    db.session.commit()
    with pytest.raises(service.Refused, match="Seed statements"):
        service.redact(lead, seed, "Clinics open on Saturdays.", RemovalReason.OTHER)
    with pytest.raises(service.NotPermitted):
        service.moderate(outsider, comment, False, removal_reason=RemovalReason.SPAM)
    with pytest.raises(service.NotPermitted):
        service.redact(outsider, comment, "Buses.", RemovalReason.OTHER)
    db.session.rollback()
    assert (
        signed_in(app, outsider).get(f"/manage/statements/{comment.id}/redact").status_code == 403
    )


def test_after_an_edit_the_next_analysis_fits_its_topics_again(app, missions):
    """Topic names are made of the statements' words: a fit made before an edit may carry the
    words taken out, so the next run does not reuse it."""
    from tests.test_topics_app import FIXED, seed, store_run, two_topic_model, unit

    waiting = Consultation(mission=missions["nhs"], title="Waiting lists")
    waiting.open()
    db.session.add(waiting)
    db.session.commit()
    fitted = [
        seed(waiting, "More nurses on night shifts.", unit(1, 0.1, 0)),
        seed(waiting, "Staff need protected breaks.", unit(1, 0, 0.1)),
        seed(waiting, "Fix the leaking hospital roofs.", unit(0, 1, 0.1)),
    ]
    ids = [s.id for s in fitted]
    store_run(waiting, two_topic_model(2, 1), ids)
    assert topics._reusable_fit(waiting.id, FIXED, ids) is not None

    redact_statement(fitted[2], "Fix the leaking roofs.")
    db.session.commit()
    assert topics._reusable_fit(waiting.id, FIXED, ids) is None
