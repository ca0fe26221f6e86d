"""The vote path stays light and correct under pressure: what one answer costs in SQL statements
(whatever the size of the consultation), the counts kept per process, the blank comment form
rendered once, no queue round trip while a queued analysis waits, and two answers at the same
instant through real concurrent HTTP requests on PostgreSQL."""

from __future__ import annotations

import re
import threading

import pytest
import requests
from sqlalchemy import insert, select

from deliberate import jobs
from deliberate.consultations.participant_cookie import DEFAULT_COOKIE_NAME
from deliberate.extensions import db
from deliberate.models import (
    Consultation,
    ModerationMode,
    Participant,
    Statement,
    StatementOrigin,
    Vote,
    VoteChoice,
    VoteEvent,
)
from deliberate.services import analysis_runs, vote_counts
from deliberate.services.statements import write_statement
from tests.conftest import make_test_app
from tests.helpers import (
    count,
    csrf_token_from,
    html_of,
    served,
    sign_in,
    sql_statements,
)

# What one answer may cost, in SQL statements, once the browser has taken part before. The vote:
# the consultation, the statement, the participant, the answer (an upsert), its history. The page
# after it: the consultation (with its mission), the participant, the statements on offer with what
# this person answered, the next statement, whether a summary is published. Signed in: the account
# on each request, and the team memberships the page's navigation reads.
VOTE_STATEMENTS = 5
PAGE_STATEMENTS = 5
SIGNED_IN_EXTRA = {"vote": 1, "page": 2}
VOTE_FORM = re.compile(r'<form[^>]*id="vote".*?name="statement_id" value="(\d+)"', re.S)
RACE_ROUNDS = 4


def make_consultation(missions, statements: int, title: str = "Buses") -> Consultation:
    consultation = Consultation(
        mission=missions["nhs"],
        title=title,
        context="Tell us what matters.",
        moderation_mode=ModerationMode.POST,
        allow_anonymous=True,
    )
    consultation.open()
    db.session.add(consultation)
    db.session.flush()
    for n in range(statements):
        write_statement(consultation, f"{title} statement number {n}.", origin=StatementOrigin.SEED)
    db.session.commit()
    return consultation


def add_earlier_votes(consultation: Consultation, people: int) -> None:
    """Votes of people who took part earlier, every one of them on every statement."""
    statement_ids = db.session.scalars(
        select(Statement.id).where(Statement.consultation_id == consultation.id)
    ).all()
    for n in range(people):
        person = Participant(consultation_id=consultation.id, source_id=n)
        db.session.add(person)
        db.session.flush()
        rows = [
            {
                "consultation_id": consultation.id,
                "participant_id": person.id,
                "statement_id": sid,
                "choice": (n + sid) % 3 - 1,
                "cast_at_ms": n,
            }
            for sid in statement_ids
        ]
        db.session.execute(insert(Vote), rows)
        db.session.execute(insert(VoteEvent), rows)
    db.session.commit()


def answer_shown(client, consultation: Consultation, choice: str = "agree"):
    """Answer the statement the page shows, and open the page the answer redirects to; returns
    the SQL statements of each of the two requests."""
    url = f"/consultations/{consultation.id}"
    page = html_of(client.get(url))
    statement_id = VOTE_FORM.search(page).group(1)
    data = {"csrf_token": csrf_token_from(page), "statement_id": statement_id, "choice": choice}
    with sql_statements(client.application) as vote_sql:
        posted = client.post(f"{url}/votes", data=data)
    assert posted.status_code == 302, html_of(posted)
    with sql_statements(client.application) as page_sql:
        shown = client.get(posted.headers["Location"])
    assert shown.status_code == 200 and "Your answer was saved" in html_of(shown)
    return vote_sql, page_sql


# -- what one answer costs ------------------------------------------------------------------------


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_one_answer_takes_a_handful_of_statements_whatever_the_number_of_votes(
    app, client, missions, create_user, signed_in
):
    app.config["VOTE_COUNTS_SECONDS"] = 3600  # counted once below, then kept: nothing timed
    small = make_consultation(missions, 5, title="Small")
    large = make_consultation(missions, 60, title="Large")
    add_earlier_votes(large, 40)  # 2,400 votes
    if signed_in:
        create_user(email="asha@example.org")
        sign_in(client, "asha@example.org")
    extra = SIGNED_IN_EXTRA if signed_in else {"vote": 0, "page": 0}
    costs = {}
    for consultation in (small, large):
        answer_shown(client, consultation)  # the participant starts; the counts are counted
        vote_sql, page_sql = answer_shown(client, consultation)
        assert len(vote_sql) <= VOTE_STATEMENTS + extra["vote"], vote_sql
        assert len(page_sql) <= PAGE_STATEMENTS + extra["page"], page_sql
        costs[consultation.title] = (len(vote_sql), len(page_sql))
    assert costs["Small"] == costs["Large"]


def test_no_statement_of_an_answer_reads_every_vote(app, client, missions):
    """Which statement comes next weighs every statement by its votes: those counts are kept, not
    read again for each answer (the scan of all votes grew with the consultation)."""
    app.config["VOTE_COUNTS_SECONDS"] = 3600
    consultation = make_consultation(missions, 10)
    add_earlier_votes(consultation, 5)
    answer_shown(client, consultation)
    for _ in range(3):
        vote_sql, page_sql = answer_shown(client, consultation)
        grouped = [s for s in vote_sql + page_sql if "GROUP BY" in s.upper()]
        assert grouped == []


# -- the counts kept per process ------------------------------------------------------------------


def people_taking_part(client, consultation: Consultation) -> str:
    page = html_of(client.get(f"/consultations/{consultation.id}"))
    return re.search(r'id="participant-count">([^<]*)<', page).group(1).strip()


def test_the_page_counts_people_from_counts_kept_a_few_seconds(app, client, missions):
    app.config["VOTE_COUNTS_SECONDS"] = 3600
    consultation = make_consultation(missions, 3)
    assert people_taking_part(client, consultation) == "0 people have taken part so far."
    answer_shown(client, consultation)  # started in this process: counted at once
    assert people_taking_part(client, consultation) == "1 person has taken part so far."

    add_earlier_votes(consultation, 2)  # as another web process would store them
    assert people_taking_part(client, consultation) == "1 person has taken part so far."
    with app.app_context():
        vote_counts.forget()  # as if the counts had grown older than VOTE_COUNTS_SECONDS
    assert people_taking_part(client, consultation) == "3 people have taken part so far."


def test_counts_are_read_again_once_older_than_they_are_good_for(app, missions):
    app.config["VOTE_COUNTS_SECONDS"] = 5
    consultation = make_consultation(missions, 2)
    with app.test_request_context():
        first = vote_counts.vote_counts(consultation.id)
        assert first.participants == 0 and first.by_statement == {}
        assert first.good_for >= 5  # or longer, when counting took long
        add_earlier_votes(consultation, 1)
        assert vote_counts.vote_counts(consultation.id) is first  # kept
        first.counted_at -= first.good_for  # as if that much time had gone by
        again = vote_counts.vote_counts(consultation.id)
        assert again.participants == 1 and sum(map(sum, again.by_statement.values())) == 2


def test_the_next_statement_is_drawn_as_the_polis_rule_says_from_the_kept_counts(app, missions):
    """The kept priorities give the very draw ``choose_next_statement`` makes from the tallies."""
    from deliberate.analysis.priority import choose_next_statement
    from deliberate.services import participation

    consultation = make_consultation(missions, 12)
    add_earlier_votes(consultation, 7)
    with app.test_request_context():
        tallies = participation.statement_tallies(consultation)
        for n in range(40):
            visitor = participation.Visitor(fresh_token=f"visitor-{n}")
            seed = (consultation.id, participation._seed_key(None, visitor), 0)
            expected = choose_next_statement(tallies, (), seed)
            assert participation.overview(consultation, visitor).next_statement.id == expected


# -- the blank comment form -----------------------------------------------------------------------


def comment_form_of(page: str) -> str:
    form = re.search(r'<form[^>]*action="[^"]*/comments".*?</form>', page, re.S).group(0)
    return re.sub(r'value="[^"]+" name="csrf_token"|name="csrf_token"[^>]*', "csrf", form)


def test_the_blank_comment_form_kept_is_the_one_rendered_afresh(app, client, missions):
    consultation = make_consultation(missions, 2)
    url = f"/consultations/{consultation.id}"
    app.jinja_env.auto_reload = True  # development: rendered afresh every time
    afresh = comment_form_of(html_of(client.get(url)))
    app.jinja_env.auto_reload = False
    kept = [comment_form_of(html_of(client.get(url))) for _ in range(2)]
    assert kept == [afresh, afresh]
    assert 'maxlength="1000"' in afresh and "govuk-character-count" in afresh


# -- asking for the analysis ----------------------------------------------------------------------


@pytest.fixture
def redis_app(database_url, _migrated, tmp_path, app, redis_url):
    return make_test_app(database_url, tmp_path, REDIS_URL=redis_url)


def test_a_process_that_queued_the_analysis_asks_redis_no_more_while_it_waits(redis_app, missions):
    consultation = make_consultation(missions, 1)
    key = f"analyse-{consultation.id}"
    runner = redis_app.extensions["deliberate_jobs"]
    waiting = jobs.WAITING_KEY.format(key=key)  # the id of the job waiting under the key
    with redis_app.app_context():
        assert analysis_runs.request_analysis(consultation.id)  # queued, due in 30 s
        [job_id] = runner.queue.scheduled_job_registry.get_job_ids()
        assert runner.connection.get(waiting).decode() == job_id and job_id.startswith(key)
        runner.connection.delete(waiting, f"rq:job:{job_id}")  # Redis would now say nothing waits
        assert not analysis_runs.request_analysis(consultation.id)  # ... it is not asked
        assert runner.connection.exists(waiting) == 0

        # Once the job is close to due, every vote asks again (it may run before they commit).
        redis_app.extensions[analysis_runs._QUEUED_HERE][consultation.id] = 0.0
        assert analysis_runs.request_analysis(consultation.id)
        assert runner.connection.exists(waiting) == 1


def test_the_in_process_runner_is_always_asked(app, missions):
    """It answers from memory, and may run a waiting job early: nothing is skipped."""
    consultation = make_consultation(missions, 1)
    with app.app_context():
        runner = jobs.runner()
        assert isinstance(runner, jobs.InProcessRunner)
        assert analysis_runs.request_analysis(consultation.id)
        assert not analysis_runs.request_analysis(consultation.id)  # waiting, and it says so
        assert runner.wait_until_idle(timeout=120)
        assert analysis_runs.request_analysis(consultation.id)  # ran: asked for again


# -- answers at the same instant, through real HTTP requests (PostgreSQL) ---------------------


@pytest.fixture
def live_site(app, is_postgres):
    if not is_postgres:
        pytest.skip(
            "needs PostgreSQL, where requests really run at once: set TEST_DATABASE_URL to a "
            "postgresql:// URL (make test runs it in its PostgreSQL pass)"
        )
    with served(app) as url:
        yield url


class Browser:
    """One browser: its cookies, sent by hand so that two threads can send the very same ones."""

    def __init__(self, base: str, consultation: Consultation):
        self.base = base
        self.url = f"{base}/consultations/{consultation.id}"
        self.cookies: dict[str, str] = {}

    def _keep(self, response: requests.Response) -> None:
        self.cookies.update(response.cookies.get_dict())

    def _header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}

    def open_page(self) -> tuple[str, int]:
        response = requests.get(self.url, headers=self._header(), timeout=30)
        assert response.status_code == 200
        self._keep(response)
        page = response.text
        return csrf_token_from(page), int(VOTE_FORM.search(page).group(1))

    def post_vote(self, token: str, statement_id: int, choice: str, cookies: dict[str, str]):
        return requests.post(
            f"{self.url}/votes",
            data={"csrf_token": token, "statement_id": statement_id, "choice": choice},
            headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())},
            allow_redirects=False,
            timeout=30,
        )

    def answer_now(self, choice: str = "agree") -> None:
        token, statement_id = self.open_page()
        response = self.post_vote(token, statement_id, choice, self.cookies)
        assert response.status_code == 302
        self._keep(response)


def both_at_once(browser: Browser, token: str, statement_id: int, choices, cookies):
    """Two requests released together by a barrier; returns their responses."""
    barrier = threading.Barrier(2, timeout=30)
    responses: list = [None, None]

    def send(slot: int) -> None:
        barrier.wait()
        try:
            responses[slot] = browser.post_vote(token, statement_id, choices[slot], cookies)
        except Exception as error:  # kept, so the test says what went wrong
            responses[slot] = error

    threads = [threading.Thread(target=send, args=(slot,)) for slot in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for response in responses:
        assert isinstance(response, requests.Response), response
        # A success, or a clean refusal; never a server error.
        assert response.status_code < 500, response.text[:2000]
    assert any(r.status_code == 302 for r in responses), [r.status_code for r in responses]
    return responses


def stored(participant_id: int, statement_id: int) -> tuple[list[int], list[int]]:
    db.session.expire_all()
    votes = db.session.scalars(
        select(Vote.choice).where(
            Vote.participant_id == participant_id, Vote.statement_id == statement_id
        )
    ).all()
    events = db.session.scalars(
        select(VoteEvent.choice)
        .where(VoteEvent.participant_id == participant_id, VoteEvent.statement_id == statement_id)
        .order_by(VoteEvent.id)
    ).all()
    return list(votes), list(events)


def test_the_same_answer_twice_at_the_same_instant_is_stored_once(live_site, missions):
    consultation = make_consultation(missions, RACE_ROUNDS + 1)
    browser = Browser(live_site, consultation)
    browser.answer_now()  # the participant and its cookie exist
    participant_id = db.session.scalar(select(Participant.id))
    for _ in range(RACE_ROUNDS):
        token, statement_id = browser.open_page()
        both_at_once(browser, token, statement_id, ("agree", "agree"), dict(browser.cookies))
        votes, events = stored(participant_id, statement_id)
        assert votes == [VoteChoice.AGREE] and events == [VoteChoice.AGREE]
        browser.cookies.pop("session", None)  # a fresh page, as after the redirect
    assert count(Participant) == 1


def test_two_different_answers_at_the_same_instant_leave_one_of_them(live_site, missions):
    consultation = make_consultation(missions, RACE_ROUNDS + 1)
    browser = Browser(live_site, consultation)
    browser.answer_now()
    participant_id = db.session.scalar(select(Participant.id))
    for _ in range(RACE_ROUNDS):
        token, statement_id = browser.open_page()
        both_at_once(browser, token, statement_id, ("agree", "disagree"), dict(browser.cookies))
        votes, events = stored(participant_id, statement_id)
        assert len(votes) == 1 and votes[0] in (VoteChoice.AGREE, VoteChoice.DISAGREE)
        # Both answers are in the history, and the vote is the one that came last.
        assert sorted(events) == [VoteChoice.DISAGREE, VoteChoice.AGREE]
        assert events[-1] == votes[0]
    assert count(Participant) == 1


def test_a_double_click_before_the_cookie_arrives_starts_one_participant(live_site, missions):
    """Neither request carries the participant cookie; both carry the session of the page,
    which holds the token kept ready for the first answer."""
    consultation = make_consultation(missions, RACE_ROUNDS)
    for round_ in range(RACE_ROUNDS):
        browser = Browser(live_site, consultation)
        token, statement_id = browser.open_page()
        assert DEFAULT_COOKIE_NAME not in browser.cookies
        both_at_once(browser, token, statement_id, ("agree", "agree"), dict(browser.cookies))
        assert count(Participant) == round_ + 1
        participant_id = db.session.scalar(
            select(Participant.id).order_by(Participant.id.desc()).limit(1)
        )
        assert stored(participant_id, statement_id) == ([VoteChoice.AGREE], [VoteChoice.AGREE])
