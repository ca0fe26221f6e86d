"""Taking part in a consultation: answering statements, changing answers, adding comments, as a
citizen (anonymous or signed in) or as verified staff, and every kind of bad input on the way."""

from __future__ import annotations

import hashlib
import html as html_lib
import re
import threading
from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event, select

from deliberate.consultations.participant_cookie import DEFAULT_COOKIE_NAME
from deliberate.extensions import db
from deliberate.models import (
    Consultation,
    ConsultationState,
    ModerationMode,
    ModerationStatus,
    Participant,
    ParticipantRole,
    Statement,
    StatementOrigin,
    Vote,
    VoteChoice,
    VoteEvent,
    utcnow,
)
from deliberate.services import participation
from deliberate.services.statements import moderate_statement, write_statement
from tests.conftest import make_test_app
from tests.helpers import (
    count,
    csrf_token_from,
    error_summary,
    html_of,
    sign_in,
    sql_statements,
    submit_form,
    text_of,
)

COOKIE = DEFAULT_COOKIE_NAME
SEEDS = [
    "Buses should run later at night.",
    "Cycle lanes should be separated from traffic.",
    "Fares should be capped across the whole region.",
    "Rural routes matter as much as city routes.",
]


# -- helpers --------------------------------------------------------------------------------------


def shown_statement_id(page: str) -> int | None:
    """The statement the page asks the person to answer now, from its vote form."""
    form = re.search(r'<form[^>]*id="vote".*?</form>', page, re.S)
    if form is None:
        return None
    return int(re.search(r'name="statement_id" value="(\d+)"', form.group(0)).group(1))


def page_url(consultation: Consultation) -> str:
    return f"/consultations/{consultation.id}"


def vote(client, consultation, statement_id, choice, *, from_page=None, **extra):
    data = {"statement_id": statement_id, "choice": choice, **extra}
    return submit_form(
        client,
        from_page or page_url(consultation),
        data,
        action=f"{page_url(consultation)}/votes",
    )


def post(client, url: str, data: dict):
    """Post as a browser that opened the form earlier: the session's CSRF token, any page."""
    for token_page in ("/sign-in", "/account"):
        response = client.get(token_page)
        if response.status_code == 200:
            return client.post(url, data={"csrf_token": csrf_token_from(html_of(response)), **data})
    raise AssertionError("no page with a form to take a CSRF token from")


def answer_shown(client, consultation, choice="agree") -> int:
    """Answer whatever statement the page shows now; return its id."""
    statement_id = shown_statement_id(html_of(client.get(page_url(consultation))))
    assert statement_id is not None, "the page shows no statement to answer"
    response = vote(client, consultation, statement_id, choice)
    assert response.status_code == 302, html_of(response)
    return statement_id


def comment(client, consultation, text, **kwargs):
    return submit_form(
        client,
        page_url(consultation),
        {"text": text},
        action=f"{page_url(consultation)}/comments",
        **kwargs,
    )


def domain_of(client) -> str:
    return client.application.config["SERVER_NAME"]


def get_cookie(client, name: str):
    return client.get_cookie(name, domain=domain_of(client))


def set_cookie(client, name: str, value: str) -> None:
    client.set_cookie(name, value, domain=domain_of(client))


def cookie_token(client, consultation) -> str:
    raw = get_cookie(client, COOKIE).value
    tokens = URLSafeTimedSerializer(
        client.application.config["SECRET_KEY"], salt="deliberate.participant-cookie"
    ).loads(raw)
    return tokens[str(consultation.id)]


def sign_cookie(secret: str, tokens: dict[str, str]) -> str:
    return URLSafeTimedSerializer(secret, salt="deliberate.participant-cookie").dumps(tokens)


def votes_of(participant: Participant) -> dict[int, int]:
    rows = db.session.execute(
        select(Vote.statement_id, Vote.choice).where(Vote.participant_id == participant.id)
    )
    return dict(rows.all())


def events_of(participant: Participant, statement_id: int) -> list[int]:
    return list(
        db.session.scalars(
            select(VoteEvent.choice)
            .where(
                VoteEvent.participant_id == participant.id, VoteEvent.statement_id == statement_id
            )
            .order_by(VoteEvent.id)
        )
    )


def only_participant() -> Participant:
    participants = db.session.scalars(select(Participant)).all()
    assert len(participants) == 1, participants
    return participants[0]


@pytest.fixture
def make_consultation(missions):
    def make(
        seeds=SEEDS,
        *,
        mission="nhs",
        state=ConsultationState.OPEN,
        moderation=ModerationMode.POST,
        allow_anonymous=True,
        service_areas="",
        title="How should local transport change?",
    ) -> Consultation:
        consultation = Consultation(
            mission=missions[mission],
            title=title,
            context="We want to hear from everyone who travels here.\n\nTell us what matters.",
            moderation_mode=moderation,
            allow_anonymous=allow_anonymous,
            service_areas=service_areas,
        )
        if state is not ConsultationState.DRAFT:
            consultation.open()
        if state is ConsultationState.CLOSED:
            consultation.close()
        db.session.add(consultation)
        db.session.flush()
        for text in seeds:
            write_statement(consultation, text, origin=StatementOrigin.SEED)
        db.session.commit()
        return consultation

    return make


@pytest.fixture
def transport(make_consultation) -> Consultation:
    return make_consultation()


def statement_ids(consultation: Consultation) -> dict[str, int]:
    rows = db.session.execute(
        select(Statement.text, Statement.id).where(Statement.consultation_id == consultation.id)
    )
    return dict(rows.all())


# -- journeys -------------------------------------------------------------------------------------


def test_consultation_page_shows_the_question_its_context_and_one_statement(client, transport):
    response = client.get(page_url(transport))
    page = html_of(response)
    assert response.status_code == 200
    assert re.search(r"<h1[^>]*>How should local transport change\?</h1>", page)
    assert page.count("<h1") == 1
    assert "We want to hear from everyone who travels here." in page
    assert "0 people have taken part so far." in page
    assert "You have answered 0 of 4 statements." in page
    assert shown_statement_id(page) in statement_ids(transport).values()
    for value in ("agree", "disagree", "pass"):
        assert f'name="choice" value="{value}"' in page
    assert "Pass / unsure" in page
    assert "Review and change your answers" not in page


def test_looking_at_a_consultation_creates_no_participant(client, transport):
    client.get(page_url(transport))
    client.get(f"{page_url(transport)}/answers")
    assert count(Participant) == 0
    assert get_cookie(client, COOKIE) is None


def test_anonymous_citizen_answers_three_statements_and_sees_progress(client, transport):
    answered = [answer_shown(client, transport, choice) for choice in ("agree", "disagree", "pass")]
    assert len(set(answered)) == 3

    page = html_of(client.get(page_url(transport)))
    assert "You have answered 3 of 4 statements." in page
    assert "1 person has taken part so far." in page
    assert shown_statement_id(page) not in answered
    assert "Review and change your answers" in page

    participant = only_participant()
    assert participant.user_id is None and participant.role is ParticipantRole.CITIZEN
    token = cookie_token(client, transport)
    assert participant.anonymous_token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert votes_of(participant) == dict(zip(answered, (1, -1, 0), strict=True))
    assert count(VoteEvent) == 3


def test_participant_cookie_is_signed_http_only_lax_and_kept_a_year(client, transport):
    statement_id = shown_statement_id(html_of(client.get(page_url(transport))))
    response = vote(client, transport, statement_id, "agree")
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE))
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Path=/" in header
    assert f"Max-Age={365 * 24 * 3600}" in header
    token = cookie_token(client, transport)
    # The database holds only the hash of the token, never the token itself.
    stored = db.session.scalar(select(Participant.anonymous_token_hash))
    assert stored != token and token not in stored


def test_the_cookie_name_can_be_configured(database_url, _migrated, tmp_path, missions):
    app = make_test_app(database_url, tmp_path, PARTICIPANT_COOKIE_NAME="dlb_p")
    consultation = Consultation(mission=missions["nhs"], title="Named cookie")
    consultation.open()
    db.session.add(consultation)
    db.session.flush()
    statement = write_statement(consultation, "A statement.", origin=StatementOrigin.SEED)
    db.session.commit()
    client = app.test_client()
    assert vote(client, consultation, statement.id, "agree").status_code == 302
    assert get_cookie(client, "dlb_p") is not None and get_cookie(client, COOKIE) is None
    assert votes_of(only_participant()) == {statement.id: VoteChoice.AGREE}


def test_citizen_reviews_and_changes_an_earlier_answer(client, transport):
    first = answer_shown(client, transport, "agree")
    answer_shown(client, transport, "disagree")
    answer_shown(client, transport, "pass")
    participant = only_participant()
    cast_before = db.session.scalar(select(Vote.cast_at_ms).where(Vote.statement_id == first))

    answers_url = f"{page_url(transport)}/answers"
    page = html_of(client.get(answers_url))
    assert page.count('class="govuk-summary-card"') == 3
    assert "Your answer: <strong>Agree</strong>" in page

    response = vote(
        client, transport, first, "disagree", from_page=answers_url, return_to="answers"
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/answers#statement-{first}")
    page = html_of(client.get(answers_url))
    assert "Your answer is now: Disagree." in page

    db.session.expire_all()
    assert votes_of(participant)[first] == VoteChoice.DISAGREE
    assert count(Vote) == 3
    assert events_of(participant, first) == [1, -1]  # history kept: latest vote wins
    cast_after = db.session.scalar(select(Vote.cast_at_ms).where(Vote.statement_id == first))
    assert cast_after >= cast_before
    now_ms = int(utcnow().timestamp() * 1000)  # naive UTC, as stored
    assert abs(cast_after - now_ms) < 60_000 or abs(cast_after - participation.epoch_ms()) < 60_000
    assert "You have answered 3 of 4 statements." in html_of(client.get(page_url(transport)))


def test_double_submit_of_the_same_vote_keeps_one_vote_and_one_event(client, transport):
    statement_id = shown_statement_id(html_of(client.get(page_url(transport))))
    for _ in range(3):
        assert vote(client, transport, statement_id, "agree").status_code == 302
    assert count(Participant) == 1 and count(Vote) == 1 and count(VoteEvent) == 1


def test_double_click_before_the_cookie_arrives_reaches_one_participant(client, transport):
    """Both requests of a double click leave the browser before the first answer comes back:
    neither carries the participant cookie, both carry the session of the page they came from."""
    page = html_of(client.get(page_url(transport)))
    statement_id = shown_statement_id(page)
    token = csrf_token_from(page)
    session_before = get_cookie(client, "session").value
    data = {"csrf_token": token, "statement_id": statement_id, "choice": "agree"}
    assert client.post(f"{page_url(transport)}/votes", data=data).status_code == 302
    client.delete_cookie(COOKIE, domain=domain_of(client))
    set_cookie(client, "session", session_before)
    assert client.post(f"{page_url(transport)}/votes", data=data).status_code == 302
    assert count(Participant) == 1 and count(Vote) == 1 and count(VoteEvent) == 1


@pytest.mark.parametrize("table", ["participants", "votes"])
def test_two_identical_answers_racing_each_other_store_one(app, client, transport, table):
    """A true race: the second request runs to completion just before the first one inserts its
    row, so the first meets the unique constraint and must find what the second stored."""
    page = html_of(client.get(page_url(transport)))
    statement_id = shown_statement_id(page)
    data = {"csrf_token": csrf_token_from(page), "statement_id": statement_id, "choice": "agree"}
    if table == "votes":  # the participant exists already; only the vote races
        answer_shown(client, transport, "pass")
        page = html_of(client.get(page_url(transport)))
        statement_id = shown_statement_id(page)
        data = {**data, "statement_id": statement_id}
    twin = app.test_client()
    for name in ("session", COOKIE):
        if get_cookie(client, name) is not None:
            set_cookie(twin, name, get_cookie(client, name).value)

    with app.app_context():
        engine = db.engine
    votes_url = f"{page_url(transport)}/votes"  # read here: the thread has no database session
    started, raced = [], []

    def run_the_twin_first(conn, cursor, statement, parameters, context, executemany):
        if not started and statement.lstrip().upper().startswith(f"INSERT INTO {table.upper()}"):
            started.append(True)
            # In a thread of its own, as a real second request: its own app context and session.
            worker = threading.Thread(target=lambda: raced.append(twin.post(votes_url, data=data)))
            worker.start()
            worker.join(timeout=30)

    event.listen(engine, "before_cursor_execute", run_the_twin_first)
    try:
        response = client.post(f"{page_url(transport)}/votes", data=data)
    finally:
        event.remove(engine, "before_cursor_execute", run_the_twin_first)
    assert response.status_code == 302 and raced[0].status_code == 302
    participant = only_participant()
    assert votes_of(participant)[statement_id] == VoteChoice.AGREE
    assert events_of(participant, statement_id) == [1]


def test_signed_in_staff_member_is_recorded_as_staff(client, transport, create_user):
    create_user(email="nurse@example.org", staff_email="nurse@nhs.net")
    sign_in(client, "nurse@example.org")
    answer_shown(client, transport)
    response = comment(client, transport, "Night shifts need night buses.")
    assert response.status_code == 302

    participant = only_participant()
    assert participant.role is ParticipantRole.STAFF
    assert participant.user.email == "nurse@example.org"
    assert participant.anonymous_token_hash is None
    statement = db.session.scalar(select(Statement).where(Statement.author_id == participant.id))
    assert statement.author_role is ParticipantRole.STAFF
    assert statement.origin is StatementOrigin.PARTICIPANT
    assert get_cookie(client, COOKIE) is None  # signed in: the account is the key


def test_signed_in_citizen_keeps_one_participant_across_devices(app, transport, create_user):
    create_user(email="asha@example.org")
    phone, laptop = app.test_client(), app.test_client()
    for device in (phone, laptop):
        sign_in(device, "asha@example.org")
    first = answer_shown(phone, transport)
    page = html_of(laptop.get(page_url(transport)))
    assert "You have answered 1 of 4 statements." in page
    assert shown_statement_id(page) != first
    assert only_participant().role is ParticipantRole.CITIZEN


def test_citizen_who_becomes_staff_takes_part_as_staff_from_their_next_answer(
    client, transport, create_user
):
    user = create_user(email="pc@example.org")
    sign_in(client, "pc@example.org")
    answer_shown(client, transport)
    assert only_participant().role is ParticipantRole.CITIZEN
    user.staff_email, user.staff_verified_at = "pc@police.uk", utcnow()
    db.session.commit()
    answer_shown(client, transport)
    db.session.expire_all()
    assert only_participant().role is ParticipantRole.STAFF


def test_post_moderated_comment_goes_live_and_its_author_agrees_with_it(app, client, transport):
    answer_shown(client, transport)
    response = comment(
        client, transport, "Buses should take contactless payment.", follow_redirects=True
    )
    page = html_of(response)
    assert "Thank you: your statement has been added for other people to vote on." in page
    # Counting it as Agree is said, where the statement is written and once it is added.
    said = "Your own statement counts as Agree; you can change your answer on Your answers."
    assert text_of(page).count(said) == 2
    assert "You have answered 2 of 5 statements." in page

    participant = only_participant()
    statement = db.session.scalar(select(Statement).where(Statement.author_id == participant.id))
    assert statement.moderation is ModerationStatus.ACCEPTED
    assert statement.author_role is ParticipantRole.CITIZEN
    assert votes_of(participant)[statement.id] == VoteChoice.AGREE
    assert events_of(participant, statement.id) == [1]

    # The author is never asked to vote on it; someone else is offered it.
    for _ in range(3):
        answer_shown(client, transport)
    assert shown_statement_id(html_of(client.get(page_url(transport)))) is None
    other = app.test_client()
    assert "You have answered 0 of 5 statements." in html_of(other.get(page_url(transport)))


def test_pre_moderated_comment_waits_for_a_moderator(app, client, make_consultation):
    consultation = make_consultation(moderation=ModerationMode.PRE)
    response = comment(
        client, consultation, "Stations need step-free access.", follow_redirects=True
    )
    page = html_of(response)
    assert "Thank you: your statement will appear once a moderator has checked it" in page
    assert "A moderator checks every statement before other people see it." in page
    assert "You have answered 0 of 4 statements." in page
    statement = db.session.scalar(
        select(Statement).where(Statement.origin == StatementOrigin.PARTICIPANT)
    )
    assert statement.moderation is ModerationStatus.PENDING
    answers_page = html_of(client.get(f"{page_url(consultation)}/answers"))
    assert "Stations need step-free access." in answers_page
    assert "Waiting for a moderator" in answers_page

    other = app.test_client()
    assert "You have answered 0 of 4 statements." in html_of(other.get(page_url(consultation)))
    moderate_statement(statement, accept=True)
    db.session.commit()
    assert "You have answered 0 of 5 statements." in html_of(other.get(page_url(consultation)))
    # The author's agreement was cast at submission, so it counts once the comment is live.
    assert "You have answered 1 of 5 statements." in html_of(client.get(page_url(consultation)))


def test_duplicate_comment_is_refused_with_a_link_to_the_original(client, transport):
    original = statement_ids(transport)["Buses should run later at night."]
    response = comment(client, transport, "  buses SHOULD run later, at night!! ")
    page = html_of(response)
    assert response.status_code == 400
    assert page.startswith("<!DOCTYPE html>") or "<title>Error:" in page
    assert "This statement has already been made: vote on it instead" in error_summary(page)
    link = f'/consultations/{transport.id}/statements/{original}"'
    assert link in page and "Vote on the statement already made" in page
    assert count(Statement) == 4 and count(Participant) == 0

    statement_page = html_of(client.get(link.rstrip('"')))
    assert "Buses should run later at night." in statement_page
    assert shown_statement_id(statement_page) == original
    response = vote(client, transport, original, "agree", from_page=link.rstrip('"'))
    assert response.status_code == 302
    assert votes_of(only_participant()) == {original: 1}


def test_duplicates_of_statements_nobody_can_vote_on_are_explained(client, make_consultation):
    consultation = make_consultation(["Trams please."], moderation=ModerationMode.PRE)
    other = make_consultation(["Rejected words here."], title="Another")
    pending = write_statement(
        consultation, "More trams please.", origin=StatementOrigin.PARTICIPANT
    )
    rejected = write_statement(other, "Rude words.", origin=StatementOrigin.PARTICIPANT)
    moderate_statement(rejected, accept=False)
    db.session.commit()
    page = html_of(comment(client, consultation, "more trams, please"))
    assert "it will appear once a moderator has checked it" in error_summary(page)
    assert f"/statements/{pending.id}" not in page
    page = html_of(comment(client, other, "Rude words"))
    assert "the moderators removed it" in error_summary(page)
    assert count(Participant) == 0


def test_when_no_statements_are_left_the_page_says_so_and_invites_a_comment(client, transport):
    for _ in range(4):
        answer_shown(client, transport)
    page = html_of(client.get(page_url(transport)))
    assert "You have answered 4 of 4 statements." in page
    assert "You have answered every statement" in page
    assert "Add your own statement" in page and 'name="text"' in page
    assert shown_statement_id(page) is None


def test_a_consultation_with_no_statements_invites_the_first(client, make_consultation):
    consultation = make_consultation([])
    page = html_of(client.get(page_url(consultation)))
    assert "There are no statements to answer yet." in page
    assert "Be the first to add a statement" in page


def test_next_statement_is_the_same_on_every_reload(app, client, transport):
    shown = {shown_statement_id(html_of(client.get(page_url(transport)))) for _ in range(4)}
    assert len(shown) == 1
    answer_shown(client, transport)
    shown = {shown_statement_id(html_of(client.get(page_url(transport)))) for _ in range(4)}
    assert len(shown) == 1


def test_only_accepted_unanswered_statements_are_ever_shown(client, make_consultation):
    consultation = make_consultation(["First seed.", "Second seed."])
    pending = write_statement(consultation, "Pending words.", origin=StatementOrigin.PARTICIPANT)
    pending.moderation = ModerationStatus.PENDING
    rejected = write_statement(consultation, "Rejected words.", origin=StatementOrigin.PARTICIPANT)
    moderate_statement(rejected, accept=False)
    db.session.commit()
    shown = [answer_shown(client, consultation) for _ in range(2)]
    assert set(shown) == {statement_ids(consultation)[t] for t in ("First seed.", "Second seed.")}
    page = html_of(client.get(page_url(consultation)))
    assert shown_statement_id(page) is None and "You have answered 2 of 2 statements." in page


def test_next_statement_favours_statements_few_people_have_answered(app, make_consultation):
    """Many new visitors: the statement with no votes is shown far more often than one that
    40 people have answered, as the Polis rule says."""
    consultation = make_consultation(["Worn statement.", "Fresh statement."])
    worn = statement_ids(consultation)["Worn statement."]
    for n in range(40):
        participant = Participant(consultation_id=consultation.id, source_id=n)
        db.session.add(participant)
        db.session.flush()
        db.session.add(
            Vote(
                consultation_id=consultation.id,
                participant_id=participant.id,
                statement_id=worn,
                choice=(1 if n % 2 else -1),
                cast_at_ms=0,
            )
        )
    db.session.commit()
    visitors = [participation.Visitor(fresh_token=f"visitor-{n}") for n in range(300)]
    shown = [participation.overview(consultation, v).next_statement.id for v in visitors]
    assert shown.count(worn) / len(shown) < 0.1


def test_consultation_page_takes_a_handful_of_queries_whatever_its_size(
    app, client, make_consultation
):
    small = make_consultation([f"Small statement {n}." for n in range(3)], title="Small")
    large = make_consultation([f"Large statement {n}." for n in range(80)], title="Large")
    for consultation in (small, large):  # each with one participant and a few votes
        answer_shown(client, consultation)
        answer_shown(client, consultation)

    def queries_for(consultation) -> int:
        with sql_statements(app) as sent:
            assert client.get(page_url(consultation)).status_code == 200
        return len(sent)

    small_count, large_count = queries_for(small), queries_for(large)
    assert small_count == large_count <= 10


# -- who may take part ----------------------------------------------------------------------------


def test_consultation_not_allowing_anonymous_asks_people_to_sign_in(
    client, make_consultation, create_user
):
    consultation = make_consultation(allow_anonymous=False)
    page = html_of(client.get(page_url(consultation)))
    assert "You need to sign in to take part in this consultation." in page
    assert f'/sign-in?next=/consultations/{consultation.id}"' in page
    assert 'name="choice"' not in page and 'name="text"' not in page

    statement_id = next(iter(statement_ids(consultation).values()))
    response = post(
        client, f"{page_url(consultation)}/votes", {"statement_id": statement_id, "choice": "agree"}
    )
    assert response.status_code == 302
    assert f"/sign-in?next=/consultations/{consultation.id}" in response.headers["Location"]
    response = post(client, f"{page_url(consultation)}/comments", {"text": "Let me in."})
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    assert count(Participant) == 0 and count(Vote) == 0 and count(Statement) == 4

    create_user(email="asha@example.org")
    response = submit_form(
        client,
        f"/sign-in?next=/consultations/{consultation.id}",
        {"email": "asha@example.org", "password": "correct horse battery"},
    )
    assert response.headers["Location"] == f"/consultations/{consultation.id}"
    answer_shown(client, consultation)
    assert only_participant().user_id is not None


def test_draft_is_hidden_from_the_public_and_shown_to_its_team(
    app, client, make_consultation, create_user, missions
):
    draft = make_consultation(state=ConsultationState.DRAFT)
    statement_id = next(iter(statement_ids(draft).values()))
    for path in ("", "/answers", f"/statements/{statement_id}"):
        assert client.get(page_url(draft) + path).status_code == 404
    response = post(
        client, f"{page_url(draft)}/votes", {"statement_id": statement_id, "choice": "agree"}
    )
    assert response.status_code == 404

    create_user(email="team@example.org", team=(missions["nhs"],))
    sign_in(client, "team@example.org")
    page = html_of(client.get(page_url(draft)))
    assert "This is a draft: only the mission team can see it." in page
    assert 'name="choice"' not in page
    response = post(
        client, f"{page_url(draft)}/votes", {"statement_id": statement_id, "choice": "agree"}
    )
    assert response.status_code == 400
    assert "not open for answers yet" in error_summary(html_of(response))
    assert count(Participant) == 0 and count(Vote) == 0


def test_closed_consultation_shows_answers_but_takes_no_more(client, make_consultation):
    consultation = make_consultation()
    first = answer_shown(client, consultation)
    consultation.close()
    db.session.commit()

    page = html_of(client.get(page_url(consultation)))
    closed = consultation.closed_at
    assert f"This consultation closed on {closed.day} {closed:%B %Y}." in text_of(page)
    assert "so far" not in page and "You answered 1 statement." in text_of(page)
    assert 'name="choice"' not in page and 'name="text"' not in page
    assert "Review your answers" in page
    answers = html_of(client.get(f"{page_url(consultation)}/answers"))
    assert "Your answer: <strong>Agree</strong>" in answers and 'name="choice"' not in answers

    response = post(
        client, f"{page_url(consultation)}/votes", {"statement_id": first, "choice": "disagree"}
    )
    assert response.status_code == 400
    assert "This consultation is closed" in error_summary(html_of(response))
    response = post(client, f"{page_url(consultation)}/comments", {"text": "Too late?"})
    assert response.status_code == 400
    assert count(Vote) == 1 and count(VoteEvent) == 1 and count(Statement) == 4
    assert votes_of(only_participant()) == {first: 1}


def test_consultation_past_its_closing_date_takes_no_answers(client, make_consultation):
    consultation = make_consultation()
    consultation.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    statement_id = next(iter(statement_ids(consultation).values()))
    page = html_of(client.get(page_url(consultation)))
    closes = consultation.closes_at
    assert f"This consultation closed on {closes.day} {closes:%B %Y}." in text_of(page)
    assert "You have answered 0" not in page and 'name="choice"' not in page
    response = post(
        client, f"{page_url(consultation)}/votes", {"statement_id": statement_id, "choice": "agree"}
    )
    assert response.status_code == 400 and count(Vote) == 0
    assert "This consultation is closed" in error_summary(html_of(response))


def test_consultation_not_yet_open_says_when_it_opens(client, make_consultation):
    consultation = make_consultation()
    consultation.opens_at = utcnow().replace(microsecond=0) + timedelta(days=3)
    db.session.commit()
    page = html_of(client.get(page_url(consultation)))
    opens = consultation.opens_at
    assert f"This consultation opens on {opens.day} {opens:%B %Y} at {opens:%H:%M} (UTC)" in page
    assert 'name="choice"' not in page and 'name="text"' not in page


def test_mission_page_links_each_consultation_title(client, transport):
    page = html_of(client.get("/missions/nhs"))
    link = f'href="/consultations/{transport.id}" dir="auto">How should local transport change?</a>'
    assert link in page


# -- about you ------------------------------------------------------------------------------------


def test_participant_may_say_which_part_of_the_service_they_use(client, make_consultation):
    consultation = make_consultation(service_areas="Buses\nTrains\nSchool transport")
    page = html_of(client.get(page_url(consultation)))
    about_url = f"{page_url(consultation)}/about-you"
    assert about_url in page
    form_page = html_of(client.get(about_url))
    for label in ("Buses", "Trains", "School transport", "Prefer not to say"):
        assert (
            f">\n    {label}\n" in form_page
            or f"{label}</label>" in form_page
            or label in form_page
        )
    assert 'type="radio"' in form_page and "<legend" in form_page
    assert count(Participant) == 0

    response = submit_form(client, about_url, {"service_area": "Trains"})
    assert response.status_code == 302
    assert only_participant().service_area == "Trains"
    assert 'value="Trains" checked' in html_of(client.get(about_url))

    submit_form(client, about_url, {"service_area": "not-said"})
    db.session.expire_all()
    assert only_participant().service_area is None


def test_about_you_refuses_answers_not_on_the_list(client, make_consultation):
    consultation = make_consultation(service_areas="Buses\nTrains")
    about_url = f"{page_url(consultation)}/about-you"
    for value in ("Date of birth", ""):
        response = submit_form(client, about_url, {"service_area": value})
        assert response.status_code == 400
        assert "Choose" in error_summary(html_of(response))
    assert count(Participant) == 0


def test_about_you_is_not_offered_without_a_list(client, transport):
    assert "about-you" not in html_of(client.get(page_url(transport)))
    assert client.get(f"{page_url(transport)}/about-you").status_code == 404


# -- bad input: comments --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "Enter your statement"),
        ("   \n\t  ", "Enter your statement"),
        ("x" * 1001, "Statement must be 1000 characters or fewer"),
        ("?!… —", "Statement must contain words"),
    ],
)
def test_bad_comments_are_refused_next_to_the_field(client, transport, text, message):
    response = comment(client, transport, text)
    page = html_of(response)
    assert response.status_code == 400
    assert "<title>Error:" in page
    assert message in error_summary(page)
    assert 'href="#text"' in page and 'id="text-error"' in page
    assert f">{html_lib.escape(text, quote=False)}</textarea>" in page  # nothing typed is lost
    assert count(Statement) == 4 and count(Participant) == 0 and count(Vote) == 0


def test_a_comment_of_exactly_1000_characters_with_line_breaks_is_kept(client, transport):
    text = ("a" * 499) + "\r\n" + ("b" * 500)  # the browser sends CRLF: it counts as one
    assert comment(client, transport, text).status_code == 302
    stored = db.session.scalar(
        select(Statement.text).where(Statement.origin == StatementOrigin.PARTICIPANT)
    )
    assert stored == ("a" * 499) + "\n" + ("b" * 500)


@pytest.mark.parametrize(
    "text",
    [
        '<script>alert("x")</script> Buses & <b>trains</b> should be "free"',
        "Dylai'r ŵyl fod ar ddydd Sadwrn â bws am ddim i'r dŷ ŷd",
        "النقل العام يجب أن يكون مجانيا للطلاب",
        "מחיר הכרטיס יקר מדי",
        "More buses please 🚌🚌 and trains 🚆 ❤️",
        "Mixed: the fare is 5 \u202eRTL override\u202c and ÀÉÎÕÜ ß",
    ],
)
def test_any_text_is_stored_exactly_and_shown_as_text(app, client, transport, text):
    response = comment(client, transport, text)
    assert response.status_code == 302, error_summary(html_of(response))
    stored = db.session.scalar(
        select(Statement.text).where(Statement.origin == StatementOrigin.PARTICIPANT)
    )
    assert stored == text
    other = app.test_client()  # another visitor, who will be shown it eventually
    seen = set()
    for _ in range(5):
        page = html_of(other.get(page_url(transport)))
        assert "<script>alert" not in page and "<b>trains</b>" not in page
        statement_id = shown_statement_id(page)
        if statement_id is None:
            break
        seen.add(statement_id)
        if statement_id == db.session.scalar(
            select(Statement.id).where(Statement.origin == StatementOrigin.PARTICIPANT)
        ):
            assert (
                str(html_lib.escape(text, quote=False))
                in page.replace("&#34;", '"').replace("&#39;", "'")
                or html_lib.escape(text) in page
            )
            break
        vote(other, transport, statement_id, "pass")
    else:
        pytest.fail("the comment was never shown")


def test_a_comment_with_a_null_character_is_stored_without_it(client, transport):
    response = comment(client, transport, "Night buses\x00 please")
    assert response.status_code == 302
    assert (
        db.session.scalar(
            select(Statement.text).where(Statement.origin == StatementOrigin.PARTICIPANT)
        )
        == "Night buses please"
    )


# -- bad input: votes -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"choice": "maybe"}, "Choose agree, disagree or pass"),
        ({"choice": ""}, "Choose agree, disagree or pass"),
        ({"choice": None}, "Choose agree, disagree or pass"),
        ({"choice": "AGREE"}, "Choose agree, disagree or pass"),
        ({"statement_id": "abc"}, "Choose a statement"),
        ({"statement_id": ""}, "Choose a statement"),
        ({"statement_id": "99999999"}, "That statement is not part of this consultation"),
        ({"statement_id": "-3"}, "Choose a statement"),
        ({"statement_id": "1" * 30}, "Choose a statement"),
        ({"statement_id": "4\x01"}, "Choose a statement"),
        ({"return_to": "https://evil.example"}, "Go back to the page and try again"),
    ],
)
def test_bad_votes_are_refused_with_a_message(client, transport, data, message):
    statement_id = next(iter(statement_ids(transport).values()))
    payload = {"statement_id": statement_id, "choice": "agree", **data}
    payload = {k: v for k, v in payload.items() if v is not None}
    response = submit_form(
        client, page_url(transport), payload, action=f"{page_url(transport)}/votes"
    )
    assert response.status_code == 400
    assert message in error_summary(html_of(response))
    assert count(Participant) == 0 and count(Vote) == 0 and count(VoteEvent) == 0


def test_vote_on_a_statement_of_another_consultation_is_refused(client, make_consultation):
    here = make_consultation(["Here."], title="Here")
    elsewhere = make_consultation(["Elsewhere."], title="Elsewhere")
    response = vote(client, here, statement_ids(elsewhere)["Elsewhere."], "agree")
    assert response.status_code == 400
    assert "That statement is not part of this consultation" in error_summary(html_of(response))
    assert count(Participant) == 0 and count(Vote) == 0


def test_votes_on_rejected_or_pending_statements_are_refused(client, transport):
    rejected = write_statement(transport, "Removed words.", origin=StatementOrigin.PARTICIPANT)
    moderate_statement(rejected, accept=False)
    pending = write_statement(transport, "Waiting words.", origin=StatementOrigin.PARTICIPANT)
    pending.moderation = ModerationStatus.PENDING
    db.session.commit()
    for statement, message in [
        (rejected, "That statement has been removed by the moderators"),
        (pending, "That statement is waiting for a moderator to check it"),
    ]:
        response = vote(client, transport, statement.id, "agree")
        assert response.status_code == 400
        assert message in error_summary(html_of(response))
        assert client.get(f"{page_url(transport)}/statements/{statement.id}").status_code == 404
    assert count(Participant) == 0 and count(Vote) == 0


def test_a_refused_change_from_the_answers_page_is_shown_there(client, transport):
    """The person opens their answers; a moderator removes a statement; they then change it."""
    first = answer_shown(client, transport)
    answer_shown(client, transport)
    answers_url = f"{page_url(transport)}/answers"
    assert f'id="vote-{first}"' in html_of(client.get(answers_url))
    moderate_statement(db.session.get(Statement, first), accept=False)
    db.session.commit()
    response = post(
        client,
        f"{page_url(transport)}/votes",
        {"statement_id": first, "choice": "pass", "return_to": "answers"},
    )
    page = html_of(response)
    assert response.status_code == 400 and "Your answers" in page
    assert "removed by the moderators" in error_summary(page)
    assert page.count('class="govuk-summary-card"') == 1  # the removed one is no longer listed
    assert votes_of(only_participant())[first] == 1 and count(VoteEvent) == 2


def test_missing_csrf_token_is_a_400_and_saves_nothing(client, transport):
    statement_id = next(iter(statement_ids(transport).values()))
    client.get(page_url(transport))
    for path, data in [
        ("/votes", {"statement_id": statement_id, "choice": "agree"}),
        ("/comments", {"text": "No token here."}),
        ("/votes", {"statement_id": statement_id, "choice": "agree", "csrf_token": "forged"}),
    ]:
        response = client.post(page_url(transport) + path, data=data)
        assert response.status_code == 400
        assert "Your form expired" in html_of(response)
    assert count(Participant) == 0 and count(Vote) == 0 and count(Statement) == 4


# -- bad input: the participant cookie ------------------------------------------------------------


def test_forged_cookie_is_ignored_and_never_reaches_anyone_elses_answers(app, client, transport):
    victim = app.test_client()
    first = answer_shown(victim, transport, "agree")
    victim_participant = only_participant()
    victim_token = cookie_token(victim, transport)

    for forged in [
        "not-a-signed-value",
        sign_cookie("some-other-secret", {str(transport.id): victim_token}),
        get_cookie(victim, COOKIE).value[:-3] + "abc",
    ]:
        set_cookie(client, COOKIE, forged)
        page = html_of(client.get(page_url(transport)))
        assert "We could not find earlier answers from this device" in page
        assert "You have answered 0 of 4 statements." in page

    response = vote(client, transport, first, "disagree")
    assert response.status_code == 302
    page = html_of(client.get(page_url(transport)))
    assert "We could not recognise the answers saved on this device" in page
    assert "You have answered 1 of 4 statements." in page

    db.session.expire_all()
    assert count(Participant) == 2
    assert votes_of(victim_participant) == {first: 1}
    assert events_of(victim_participant, first) == [1]
    assert cookie_token(client, transport) != victim_token


def test_stale_cookie_starts_a_fresh_participant(app, client, make_consultation):
    here = make_consultation(["Here."], title="Here")
    there = make_consultation(["There."], title="There")
    answer_shown(client, there)
    there_participant = only_participant()
    there_token = cookie_token(client, there)

    # A validly signed cookie that carries the other consultation's token under this one's id,
    # then one whose token matches nobody at all.
    secret = app.config["SECRET_KEY"]
    for stale in (there_token, "a-token-that-matches-nobody"):
        set_cookie(
            client, COOKIE, sign_cookie(secret, {str(here.id): stale, str(there.id): there_token})
        )
        page = html_of(client.get(page_url(here)))
        assert "We could not find earlier answers from this device" in page

    response = vote(client, here, statement_ids(here)["Here."], "agree")
    assert response.status_code == 302
    assert "We could not recognise the answers saved" in html_of(client.get(page_url(there)))

    here_participant = db.session.scalar(
        select(Participant).where(Participant.consultation_id == here.id)
    )
    new_token = cookie_token(client, here)
    assert new_token not in (there_token, "a-token-that-matches-nobody")
    assert here_participant.anonymous_token_hash == hashlib.sha256(new_token.encode()).hexdigest()
    assert votes_of(there_participant) == {statement_ids(there)["There."]: 1}
    # The browser still reaches its answers in the other consultation.
    assert cookie_token(client, there) == there_token
    assert "You have answered 1 of 1 statement." in html_of(client.get(page_url(there)))


def test_each_consultation_gets_its_own_token(client, make_consultation):
    first = make_consultation(["One."], title="One")
    second = make_consultation(["Two."], title="Two")
    answer_shown(client, first)
    answer_shown(client, second)
    hashes = db.session.scalars(select(Participant.anonymous_token_hash)).all()
    assert len(set(hashes)) == 2
    assert cookie_token(client, first) != cookie_token(client, second)


# -- rate limits ----------------------------------------------------------------------------------


def test_too_many_comments_get_the_friendly_429_page(database_url, _migrated, tmp_path, missions):
    app = make_test_app(database_url, tmp_path, RATELIMIT_ENABLED=True)
    consultation = Consultation(mission=missions["nhs"], title="Rate limited")
    consultation.open()
    db.session.add(consultation)
    db.session.commit()
    client = app.test_client()
    statuses = [
        comment(client, consultation, f"Statement number {n}.").status_code for n in range(6)
    ]
    assert statuses == [302] * 5 + [429]
    response = comment(client, consultation, "One more.")
    assert response.status_code == 429
    assert "You have done that too many times" in html_of(response)
    assert count(Statement) == 5
    # Another participant has an allowance of their own.
    assert comment(app.test_client(), consultation, "Someone else.").status_code == 302
    assert count(Statement) == 6 and count(Participant) == 2
