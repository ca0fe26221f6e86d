"""Moderators accept or reject many statements at once: from the queue, and from a statement's near
neighbours in meaning (read from stored vectors, so no model is needed here)."""

from __future__ import annotations

import re
import uuid

import numpy as np
import pytest
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import (
    AuditEvent,
    Consultation,
    ModerationMode,
    ModerationStatus,
    Participant,
    ParticipantRole,
    Statement,
    StatementOrigin,
)
from deliberate.services import embeddings
from deliberate.services.statements import write_statement
from tests.helpers import count, error_summary, html_of, sign_in, submit_form, text_of

MODEL = "test-model sha256:0123"


def make_consultation(mission, mode=ModerationMode.PRE, title="A question") -> Consultation:
    consultation = Consultation(
        mission=mission, title=title, moderation_mode=mode, allow_anonymous=True
    )
    consultation.open()
    db.session.add(consultation)
    db.session.commit()
    return consultation


def comment(consultation: Consultation, text: str) -> Statement:
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


@pytest.fixture
def moderator(client, create_user):
    user = create_user(email="mod@example.org", moderator=True)
    sign_in(client, "mod@example.org")
    return user


def queue_url(consultation: Consultation) -> str:
    return f"/manage/consultations/{consultation.id}/moderation"


def bulk(
    client,
    consultation: Consultation,
    ids,
    decision: str,
    page: str | None = None,
    follow_redirects: bool = False,
    **data,
):
    """Tick the boxes of the page and press one of the two buttons."""
    return submit_form(
        client,
        page or queue_url(consultation),
        {"statement_ids": [str(i) for i in ids], "decision": decision, **data},
        action=f"{queue_url(consultation)}/bulk",
        follow_redirects=follow_redirects,
    )


def states(*statements: Statement) -> list[ModerationStatus]:
    db.session.expire_all()
    return [db.session.get(Statement, s.id).moderation for s in statements]


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


# -- from the queue -------------------------------------------------------------------------------


def test_selected_comments_are_accepted_or_rejected_together_and_each_change_is_logged(
    client, missions, moderator
):
    consultation = make_consultation(missions["nhs"])
    a, b, c = (comment(consultation, f"Comment {n}.") for n in "abc")
    queue = html_of(client.get(queue_url(consultation)))
    for s in (a, b, c):
        assert (
            f'name="statement_ids" type="checkbox" value="{s.id}" form="bulk-moderation"' in queue
        )
    assert "Accept selected" in queue and "Reject selected" in queue

    response = bulk(client, consultation, [a.id, b.id], "accept")
    assert response.status_code == 303
    assert states(a, b, c) == [
        ModerationStatus.ACCEPTED,
        ModerationStatus.ACCEPTED,
        ModerationStatus.PENDING,
    ]
    page = html_of(client.get(response.headers["Location"]))
    assert "2 statements accepted." in page

    response = bulk(client, consultation, [b.id, c.id], "reject", reason="spam", note="A wave.")
    assert response.status_code == 303
    assert states(a, b, c) == [
        ModerationStatus.ACCEPTED,
        ModerationStatus.REJECTED,
        ModerationStatus.REJECTED,
    ]
    moderated = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "statement.moderated").order_by(AuditEvent.id)
    ).all()
    assert [(e.target_id, e.detail["decision"]) for e in moderated] == [
        (str(a.id), "accept"),
        (str(b.id), "accept"),
        (str(b.id), "reject"),
        (str(c.id), "reject"),
    ]
    assert {e.actor_id for e in moderated} == {moderator.id}
    assert [(e.reason, e.detail["removal_reason"]) for e in moderated[2:]] == [
        ("A wave.", "spam")
    ] * 2
    summaries = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "statement.bulk_moderated")
    ).all()
    assert [(e.detail["decision"], e.detail["statements"]) for e in summaries] == [
        ("accept", [a.id, b.id]),
        ("reject", [b.id, c.id]),
    ]
    assert summaries[1].detail["removal_reason"] == "spam"

    # Asking again changes nothing and says so.
    response = bulk(client, consultation, [a.id], "accept", follow_redirects=True)
    assert "Nothing changed: the selected statement was already accepted." in html_of(response)


def test_rejecting_needs_one_reason_and_a_selection(client, missions, moderator):
    consultation = make_consultation(missions["nhs"])
    a = comment(consultation, "Comment a.")
    response = bulk(client, consultation, [a.id], "reject")
    assert response.status_code == 400
    assert "Choose the reason for rejecting the selected statements" in error_summary(
        html_of(response)
    )
    assert f'value="{a.id}" form="bulk-moderation" checked' in html_of(response)  # kept ticked
    response = bulk(client, consultation, [], "accept")
    assert response.status_code == 400
    assert "Select at least one statement" in error_summary(html_of(response))
    response = bulk(client, consultation, [a.id], "reject", reason="boredom")
    assert "Choose a reason from the list" in error_summary(html_of(response))
    assert bulk(client, consultation, ["1x"], "accept").status_code == 400
    assert states(a) == [ModerationStatus.PENDING]
    assert count(AuditEvent) == 0


def test_statements_of_another_consultation_are_refused_and_nothing_changes(
    client, missions, moderator
):
    here = make_consultation(missions["nhs"])
    there = make_consultation(missions["nhs"], title="Another question")
    mine = [comment(here, "Here one."), comment(here, "Here two.")]
    theirs = comment(there, "There one.")
    response = bulk(client, here, [mine[0].id, theirs.id, mine[1].id], "reject", reason="spam")
    assert response.status_code == 400
    assert (
        f"Statement {theirs.id} is not part of this consultation: nothing was changed"
        in error_summary(html_of(response))
    )
    response = bulk(client, here, [mine[0].id, 987654], "accept")
    assert "Statement 987654 is not part of this consultation" in error_summary(html_of(response))
    seed = write_statement(here, "A seed from the team.", origin=StatementOrigin.SEED)
    db.session.commit()
    response = bulk(client, here, [mine[0].id, seed.id], "reject", reason="spam")
    assert response.status_code == 400
    assert "seed statements are not moderated" in error_summary(html_of(response))
    assert states(*mine, theirs) == [ModerationStatus.PENDING] * 3
    assert count(AuditEvent) == 0


def test_only_moderators_of_the_consultation_may_act_in_bulk(app, client, missions, create_user):
    consultation = make_consultation(missions["nhs"])
    a = comment(consultation, "Comment a.")
    create_user(email="growth@example.org", team=(missions["growth"],))
    sign_in(client, "growth@example.org")
    token = re.search(r'name="csrf_token" value="([^"]+)"', html_of(client.get("/account")))
    response = client.post(
        f"{queue_url(consultation)}/bulk",
        data={"csrf_token": token.group(1), "statement_ids": [str(a.id)], "decision": "reject"},
    )
    assert response.status_code == 403
    assert states(a) == [ModerationStatus.PENDING]


def test_bulk_accept_lifts_a_hide_and_closes_reports(app, client, missions, moderator):
    from tests.test_statement_reports import hide_by_reports

    consultation = make_consultation(missions["nhs"], mode=ModerationMode.POST)
    reported = comment(consultation, "Reported three times.")
    hide_by_reports(app, reported)
    assert db.session.get(Statement, reported.id).is_hidden_by_reports
    response = bulk(client, consultation, [reported.id], "accept", follow_redirects=True)
    assert "1 statement accepted." in html_of(response)
    db.session.expire_all()
    assert db.session.get(Statement, reported.id).is_votable
    assert "statement.reports_reviewed" in audit_actions()


# -- by similarity --------------------------------------------------------------------------------


def store(statement: Statement, vector, fingerprint: str = MODEL) -> None:
    embeddings.store_vectors(fingerprint, [statement.id], [np.asarray(vector, dtype=np.float32)])
    db.session.commit()


def unit(*values: float) -> list[float]:
    v = np.asarray(values, dtype=np.float64)
    return list(v / np.linalg.norm(v))


def similar_url(statement: Statement) -> str:
    return f"/manage/statements/{statement.id}/similar"


def listed(page: str) -> list[tuple[int, str]]:
    """(statement id, similarity) of the neighbours table's rows, in order."""
    rows = re.findall(
        r'<tr class="govuk-table__row" id="similar-(\d+)">.*?'
        r'govuk-table__cell--numeric">([^<]*)</td>',
        page,
        re.S,
    )
    return [(int(sid), similarity.strip()) for sid, similarity in rows]


def test_near_neighbours_are_listed_most_similar_first_from_stored_vectors(
    client, missions, moderator
):
    consultation = make_consultation(missions["nhs"], mode=ModerationMode.POST)
    other = make_consultation(missions["nhs"], title="Another question")
    target = comment(consultation, "Buy cheap watches at example.com")
    near = comment(consultation, "Cheap watches for sale, example.com")
    middling = comment(consultation, "Watches are expensive these days")
    far = comment(consultation, "Clinics should open on Saturdays")
    old_model = comment(consultation, "Only embedded under an older model")
    elsewhere = comment(other, "Buy cheap watches at example.com!")
    unprocessed = comment(consultation, "Not processed yet")
    store(target, unit(1, 0, 0))
    store(near, unit(0.9, 0.1, 0))
    store(middling, unit(0.6, 0.8, 0))
    store(far, unit(0, 0, 1))
    store(old_model, unit(1, 0, 0), fingerprint="old-model")
    store(elsewhere, unit(1, 0, 0))
    seed = write_statement(consultation, "A seed about watches", origin=StatementOrigin.SEED)
    db.session.commit()
    store(seed, unit(0.7, 0.7, 0.1))

    page = html_of(client.get(similar_url(target)))
    rows = listed(page)
    assert rows[0] == (target.id, "\u2013")  # the statement itself, first
    assert rows[1:] == [
        (near.id, "0.99"),
        (seed.id, "0.70"),
        (middling.id, "0.60"),
        (far.id, "0.00"),
    ]
    shown = {sid for sid, _ in rows}
    assert not shown & {old_model.id, elsewhere.id, unprocessed.id}
    assert f'id="select-similar-{near.id}"' in page
    assert f'id="select-similar-{seed.id}"' not in page  # seeds are not moderated
    assert "Seed (not moderated)" in text_of(page)

    # Reject the statement and its closest neighbour together, as duplicates of each other.
    response = bulk(
        client,
        consultation,
        [target.id, near.id],
        "reject",
        page=similar_url(target),
        reason="spam",
        return_to="similar",
        around=str(target.id),
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(similar_url(target))
    assert states(target, near, middling) == [
        ModerationStatus.REJECTED,
        ModerationStatus.REJECTED,
        ModerationStatus.ACCEPTED,
    ]
    again = html_of(client.get(response.headers["Location"]))
    assert "2 statements rejected." in again and "Rejected" in again

    # A refusal comes back to the neighbours page, with the error.
    response = bulk(
        client,
        consultation,
        [middling.id],
        "reject",
        page=similar_url(target),
        return_to="similar",
        around=str(target.id),
    )
    assert response.status_code == 400
    assert "Statements similar to statement" in html_of(response)
    assert "Choose the reason" in error_summary(html_of(response))
    # The statement named as the page's subject must belong to the consultation.
    response = bulk(
        client,
        consultation,
        [middling.id],
        "accept",
        page=similar_url(target),
        return_to="similar",
        around=str(elsewhere.id),
    )
    assert response.status_code == 400
    assert states(middling) == [ModerationStatus.ACCEPTED]


def test_a_statement_without_a_stored_vector_says_it_must_be_processed_first(
    client, missions, moderator
):
    consultation = make_consultation(missions["nhs"], mode=ModerationMode.POST)
    statement = comment(consultation, "Written a moment ago")
    page = text_of(html_of(client.get(similar_url(statement))))
    assert "Similar statements can be shown once this statement has been processed" in page
    store(statement, unit(1, 0))
    page = text_of(html_of(client.get(similar_url(statement))))
    assert "No other statement of this consultation has been processed yet" in page


def test_the_statement_page_links_to_its_similar_statements(client, missions, moderator):
    consultation = make_consultation(missions["nhs"])
    statement = comment(consultation, "Link me")
    page = html_of(client.get(f"/manage/statements/{statement.id}"))
    assert f'href="{similar_url(statement)}"' in page and "Show similar statements" in page
