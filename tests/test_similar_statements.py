"""Similar statements: a comment close in meaning to a statement already made is shown to its
author with that statement, to vote on it instead or post anyway; the model never loads on the
request path (the comparison is a background job and the author waits on a page that refreshes).

Seeds are real comments from the london.youth.policing Polis conversation (CC BY 4.0, The
Computational Democracy Project, compdemocracy.org/case-studies/2022-london-youth-policing)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import select

from deliberate import jobs
from deliberate.extensions import db
from deliberate.models import (
    Consultation,
    ModerationMode,
    SimilarityCheck,
    Statement,
    StatementEmbedding,
    StatementOrigin,
    Vote,
)
from deliberate.services import embeddings
from deliberate.services.statements import write_statement
from tests.helpers import (
    REPO_ROOT,
    count,
    csrf_token_from,
    html_of,
    run_background_jobs,
    sign_in,
    submit_form,
)

SEEDS = [
    "Have community police officers in schools create a rapport with the young people to build "
    "up trust and provide accountability, in all areas.",
    "educate young people on the history of policing so that they can identify "
    "negative/detrimental patterns in police behaviour.",
    "Eliminate bias - wider background check to see the type of people they are hiring",
    "Diversity in policing",
    "Global transparency is a must",
    "To offer the young people incentives",
]
PARAPHRASE = "Put community police officers in schools so young people can build trust with them"
NEW_POINT = "Police body cameras should be switched on at all times"


@pytest.fixture
def policing(missions) -> Consultation:
    consultation = Consultation(
        mission=missions["safer-streets"],
        title="How can young people scrutinise policing?",
        moderation_mode=ModerationMode.POST,
        allow_anonymous=True,
    )
    consultation.open()
    db.session.add(consultation)
    db.session.flush()
    for text in SEEDS:
        write_statement(consultation, text, origin=StatementOrigin.SEED)
    db.session.commit()
    return consultation


def seed_id(consultation: Consultation, text: str) -> int:
    return db.session.scalar(
        select(Statement.id).where(
            Statement.consultation_id == consultation.id, Statement.text == text
        )
    )


def comment(client, consultation: Consultation, text: str):
    url = f"/consultations/{consultation.id}"
    return submit_form(client, url, {"text": text}, action=f"{url}/comments")


def stop_background_jobs(app) -> None:
    """As when no worker is running: jobs are not taken, so no model loads in the test process."""
    app.extensions["deliberate_jobs"].shutdown()
    jobs.runner().shutdown()


def store_fixed_vector(statement_id: int, fingerprint: str = "fixed-test-vectors") -> None:
    embeddings.store_vectors(fingerprint, [statement_id], np.eye(4, dtype=np.float32)[:1])
    db.session.commit()


# -- with the real model --------------------------------------------------------------------------


@pytest.mark.model
def test_a_paraphrase_is_flagged_with_links_and_its_author_may_still_post_it(app, client, policing):
    embeddings.request_embedding(policing.id)  # what writing the seeds queued
    run_background_jobs(app)
    assert count(StatementEmbedding) == len(SEEDS)

    response = comment(client, policing, PARAPHRASE)
    assert response.status_code == 303
    held_url = response.headers["Location"]
    assert re.search(rf"/consultations/{policing.id}/comments/held/[\w-]{{40,}}$", held_url)
    run_background_jobs(app)

    page = client.get(held_url)
    assert page.status_code == 200 and "Refresh" not in page.headers
    html = html_of(page)
    assert "Similar statements already exist" in html
    original = seed_id(policing, SEEDS[0])
    assert f'href="/consultations/{policing.id}/statements/{original}"' in html
    assert "Vote on this statement instead" in html
    assert count(Statement, Statement.text == PARAPHRASE) == 0  # not posted without the author

    response = client.post(held_url, data={"csrf_token": csrf_token_from(html)})
    assert response.status_code == 302
    landing = html_of(client.get(response.headers["Location"]))
    assert "Thank you: your statement has been added for other people to vote on." in landing
    posted = db.session.scalar(select(Statement).where(Statement.text == PARAPHRASE))
    assert posted is not None and posted.is_votable
    assert count(Vote, Vote.statement_id == posted.id, Vote.choice == 1) == 1  # its author agrees
    # The vector computed for the check is the statement's embedding: it is not embedded again.
    assert count(StatementEmbedding, StatementEmbedding.statement_id == posted.id) == 1
    assert count(SimilarityCheck) == 0


@pytest.mark.model
def test_a_new_point_is_posted_once_the_check_finds_nothing_close(app, client, policing):
    embeddings.request_embedding(policing.id)
    run_background_jobs(app)

    response = comment(client, policing, NEW_POINT)
    assert response.status_code == 303
    run_background_jobs(app)
    response = client.get(response.headers["Location"])
    assert response.status_code == 302  # nothing similar: posted, with the usual confirmation
    landing = html_of(client.get(response.headers["Location"]))
    assert "Thank you: your statement has been added for other people to vote on." in landing
    posted = db.session.scalar(select(Statement).where(Statement.text == NEW_POINT))
    assert posted is not None
    stored = db.session.scalar(
        select(StatementEmbedding).where(StatementEmbedding.statement_id == posted.id)
    )
    vector = embeddings.vector_from_bytes(stored.vector)
    assert stored.dimension == 384 and vector.shape == (384,)
    assert abs(float(np.linalg.norm(vector)) - 1) < 1e-4


# -- without the model (fixed vectors) ------------------------------------------------------------


def test_comments_go_straight_through_while_nothing_is_embedded(app, client, policing):
    response = comment(client, policing, NEW_POINT)
    assert response.status_code == 302 and response.headers["Location"].endswith(
        f"/consultations/{policing.id}"
    )
    assert count(Statement, Statement.text == NEW_POINT) == 1
    assert count(SimilarityCheck) == 0
    with app.app_context():  # the site queued the embedding of the new statement
        assert not embeddings.request_embedding(policing.id)


def test_exact_and_normalised_duplicates_are_still_refused_at_once(app, client, policing):
    store_fixed_vector(seed_id(policing, SEEDS[3]))
    stop_background_jobs(app)
    response = comment(client, policing, "  diversity IN policing!! ")
    assert response.status_code == 400
    assert "This statement has already been made: vote on it instead" in html_of(response)
    assert count(SimilarityCheck) == 0


def test_with_no_worker_the_author_waits_then_posts_without_the_check(app, client, policing):
    store_fixed_vector(seed_id(policing, SEEDS[0]))
    stop_background_jobs(app)

    response = comment(client, policing, NEW_POINT)
    assert response.status_code == 303
    held_url = response.headers["Location"]
    page = client.get(held_url)
    assert page.status_code == 200 and page.headers["Refresh"] == "2"
    html = html_of(page)
    assert "Checking for similar statements" in html
    assert "Your statement has not been posted yet" in html and NEW_POINT in html
    assert count(Statement, Statement.text == NEW_POINT) == 0

    # Nobody else sees a held comment, nor can post it.
    stranger = app.test_client()
    assert stranger.get(held_url).status_code == 404
    stranger_page = html_of(stranger.get(f"/consultations/{policing.id}"))
    assert NEW_POINT not in html_of(stranger.get(held_url))
    response = stranger.post(held_url, data={"csrf_token": csrf_token_from(stranger_page)})
    assert response.status_code == 404

    held = db.session.scalar(select(SimilarityCheck))
    held.created_at -= timedelta(minutes=1)
    db.session.commit()
    page = client.get(held_url)
    assert "Refresh" not in page.headers  # stop waiting for a worker that is not there
    assert "This is taking longer than usual" in html_of(page)

    assert client.post(held_url, data={}).status_code == 400  # CSRF token required
    response = client.post(held_url, data={"csrf_token": csrf_token_from(html_of(page))})
    assert response.status_code == 302
    landing = html_of(client.get(response.headers["Location"]))
    assert "Thank you: your statement has been added for other people to vote on." in landing
    assert count(Statement, Statement.text == NEW_POINT) == 1
    assert count(SimilarityCheck) == 0
    assert client.get(held_url).status_code == 302  # posted once; the page now leads back


def test_a_held_comment_refused_when_posted_is_given_back_to_its_author(app, client, policing):
    store_fixed_vector(seed_id(policing, SEEDS[0]))
    stop_background_jobs(app)
    response = comment(client, policing, NEW_POINT)
    held_url = response.headers["Location"]
    page = html_of(client.get(held_url))
    # Someone else makes the same point while this one waits.
    write_statement(policing, NEW_POINT.upper(), origin=StatementOrigin.SEED)
    db.session.commit()
    response = client.post(held_url, data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 400
    html = html_of(response)
    assert "This statement has already been made: vote on it instead" in html
    assert NEW_POINT in html  # the text is back in the form, nothing typed is lost
    assert count(SimilarityCheck) == 0


def test_a_replayed_cookie_cannot_take_over_someone_elses_held_comment(app, policing):
    """Person A's stale cookies (session and participant) once posted person B's text as A's
    statement, because SQLite gave B's held comment the id A's deleted one had."""
    store_fixed_vector(seed_id(policing, SEEDS[0]))
    stop_background_jobs(app)
    person_a, person_b = app.test_client(), app.test_client()
    held_a = comment(person_a, policing, "Stop and search needs a written record every time")
    held_a_url = held_a.headers["Location"]
    domain = app.config["SERVER_NAME"]
    stale_cookies = {
        name: person_a.get_cookie(name, domain=domain).value
        for name in ("session", "deliberate_participant")
        if person_a.get_cookie(name, domain=domain) is not None
    }
    assert "session" in stale_cookies
    page = html_of(person_a.get(held_a_url))
    person_a.post(held_a_url, data={"csrf_token": csrf_token_from(page)})  # posted: row deleted

    held_b = comment(person_b, policing, NEW_POINT)
    held_b_url = held_b.headers["Location"]
    assert held_b_url != held_a_url  # never the same address twice

    replay = app.test_client()
    for key, value in stale_cookies.items():
        replay.set_cookie(key, value, domain=domain)
    assert replay.get(held_a_url).status_code == 302  # A's own, posted already: back to the page
    assert replay.get(held_b_url).status_code == 404
    token = csrf_token_from(html_of(replay.get(f"/consultations/{policing.id}")))
    assert replay.post(held_b_url, data={"csrf_token": token}).status_code == 404
    assert count(Statement, Statement.text == NEW_POINT) == 0
    assert html_of(person_b.get(held_b_url)).count(NEW_POINT) >= 1  # still B's to post


def test_a_signed_in_authors_held_comment_is_theirs_alone(app, client, create_user, policing):
    store_fixed_vector(seed_id(policing, SEEDS[0]))
    stop_background_jobs(app)
    create_user("author@example.org")
    create_user("other@example.org")
    sign_in(client, "author@example.org")
    held_url = comment(client, policing, NEW_POINT).headers["Location"]
    assert client.get(held_url).status_code == 200
    other = app.test_client()
    sign_in(other, "other@example.org")
    assert other.get(held_url).status_code == 404
    anonymous = app.test_client()
    assert anonymous.get(held_url).status_code == 404
    held = db.session.scalar(select(SimilarityCheck))
    assert held.author_user_id is not None and held.author_token_hash is None


# -- the request path stays light -----------------------------------------------------------------

LIGHT_PATH_SCRIPT = r"""
import json, os, sys
os.environ.update(SECRET_KEY="light-path-test", DATABASE_URL=sys.argv[1], DELIBERATE_RATELIMIT="0")
import numpy as np
import wsgi
from flask_migrate import upgrade
from deliberate.extensions import db
from deliberate.missions.catalogue import ensure_missions
from deliberate.models import Consultation, StatementOrigin
from deliberate.services.embeddings import store_vectors
from deliberate.services.statements import write_statement

app = wsgi.app
app.config.update(WTF_CSRF_ENABLED=False)
# A held comment's job would load the model in this process; the web request path must not.
app.extensions["deliberate_jobs"].shutdown()
with app.app_context():
    upgrade()
    consultation = Consultation(mission=ensure_missions()[0], title="Light", allow_anonymous=True)
    consultation.open()
    db.session.add(consultation)
    db.session.flush()
    seed = write_statement(consultation, "Buses should run later.", origin=StatementOrigin.SEED)
    store_vectors("fixed", [seed.id], np.ones((1, 4), dtype=np.float32) / 2)
    db.session.commit()
    cid, sid = consultation.id, seed.id
client = app.test_client()
statuses = [client.get(url).status_code for url in ("/", f"/consultations/{cid}",
            f"/consultations/{cid}/statements/{sid}")]
held = client.post(f"/consultations/{cid}/comments", data={"text": "Trams should run later."})
statuses.append(held.status_code)
statuses.append(client.get(held.headers["Location"]).status_code)
statuses.append(client.post(held.headers["Location"]).status_code)
statuses.append(client.post(f"/consultations/{cid}/comments", data={"text": "Fares."}).status_code)
heavy = ("torch", "sentence_transformers", "transformers", "bertopic", "umap", "hdbscan", "numba")
print(json.dumps({"statuses": statuses, "loaded": [m for m in heavy if m in sys.modules]}))
"""


@pytest.mark.slow
def test_pages_and_comments_never_load_the_model_or_topic_libraries(tmp_path):
    database = f"sqlite:///{tmp_path / 'light.sqlite3'}"
    result = subprocess.run(
        [sys.executable, "-c", LIGHT_PATH_SCRIPT, database],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["statuses"] == [200, 200, 200, 303, 200, 302, 303]
    assert report["loaded"] == []
