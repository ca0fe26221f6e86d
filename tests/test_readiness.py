"""``/readyz`` for load balancers, and the 503 page a visitor gets when the database does not
answer. The failures are real: a database file that cannot be opened, a Redis port nobody
listens on. (The PostgreSQL outage with votes arriving is tests/test_database_outage.py.)"""

from __future__ import annotations

import pytest
from redis import Redis

from deliberate import jobs
from tests.conftest import make_test_app
from tests.helpers import html_of

NOBODY_LISTENS = "redis://127.0.0.1:9/0"  # the discard port: connection refused at once


@pytest.fixture
def redis_db(redis_url):
    """This test process's own Redis database (conftest's ``redis_url``), as a connection."""
    return Redis.from_url(redis_url)


@pytest.fixture
def unreachable_database_app(tmp_path):
    """The app on a database that cannot be opened (its folder does not exist)."""
    missing = tmp_path / "no-such-folder" / "deliberate.sqlite3"
    return make_test_app(f"sqlite:///{missing}", tmp_path)


def test_ready_when_the_database_answers_without_redis(app, client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ready",
        "database": "ok",
        "redis": "not used",
        "jobs": {"queued": 0, "failed": 0},
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_the_in_process_runner_counts_waiting_and_failed_jobs(app, client):
    runner = app.extensions["deliberate_jobs"]
    with app.app_context():
        jobs.enqueue(print, 1, delay=3600)
        jobs.enqueue(print, 2, delay=3600)
    runner.failures.append(("some.job", RuntimeError("it broke")))
    assert client.get("/readyz").get_json()["jobs"] == {"queued": 2, "failed": 1}


def test_not_ready_when_the_database_does_not_answer(unreachable_database_app):
    response = unreachable_database_app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "not ready",
        "database": "unavailable",
        "redis": "not used",
        "jobs": {"queued": 0, "failed": 0},
    }
    assert response.headers["Cache-Control"] == "no-store"


def test_a_page_that_needs_the_database_gets_a_styled_503_when_it_does_not_answer(
    unreachable_database_app, caplog
):
    response = unreachable_database_app.test_client().get("/missions/nhs")
    assert response.status_code == 503
    page = html_of(response)
    assert "Sorry, the service is unavailable" in page and "Nothing you sent has been saved" in page
    assert "govuk-header" in page or "govuk-template" in page  # the site's own page
    assert response.headers["Retry-After"] == "5"
    assert response.headers["Cache-Control"] == "no-store"
    (line,) = [r for r in caplog.records if r.getMessage() == "database unavailable"]
    assert (line.error, line.cause) == ("OperationalError", "OperationalError")
    # The healthz check still answers: the process is up, only its database is not.
    assert unreachable_database_app.test_client().get("/healthz").status_code == 200


def test_a_broken_constraint_is_still_a_500_not_a_503(app):
    """Only a database that does not answer is a 503; a query it refuses is a bug."""
    from sqlalchemy import text

    from deliberate.extensions import db

    @app.get("/test-only/breaks-a-constraint")
    def breaks_a_constraint():
        db.session.execute(text("INSERT INTO consultations (id) VALUES (NULL)"))  # NOT NULLs
        return "no"

    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get("/test-only/breaks-a-constraint")
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in html_of(response)


def test_ready_with_redis_counts_the_rq_queue_and_its_failed_jobs(
    tmp_path, database_url, _migrated, redis_db, redis_url
):
    from rq import Queue
    from rq.registry import FailedJobRegistry

    app = make_test_app(database_url, tmp_path, REDIS_URL=redis_url)
    queue = Queue(jobs.QUEUE_NAME, connection=redis_db)
    queue.enqueue("builtins.print", 1)
    queue.enqueue("builtins.print", 2)
    failed = queue.enqueue("builtins.print", 3)
    queue.remove(failed)
    FailedJobRegistry(queue=queue).add(failed, ttl=60, exc_string="it broke")
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "ready",
        "database": "ok",
        "redis": "ok",
        "jobs": {"queued": 2, "failed": 1},
    }


def test_ready_but_degraded_when_redis_does_not_answer(tmp_path, database_url, _migrated):
    """Votes are still taken without Redis, so the machine stays in the load balancer."""
    app = make_test_app(database_url, tmp_path, REDIS_URL=NOBODY_LISTENS)
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "status": "degraded",
        "database": "ok",
        "redis": "unavailable",
        "jobs": {"queued": None, "failed": None},
    }
