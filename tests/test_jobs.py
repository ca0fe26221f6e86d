"""Background jobs that do not go well: retried up to a limit on both runners, a failure the team
sees only after the last try, one log line per run, one analysis per consultation at a time (a
job finding it taken runs later), and the team's page of a consultation's jobs.

RQ tests use Redis database 11 and a worker in this process (``Worker.work(burst=True)``); the
worker-killing and Redis-stopping tests are in test_job_faults.py."""

from __future__ import annotations

import logging
import threading
import time
import uuid

import pytest
from redis import Redis
from rq.job import JobStatus
from sqlalchemy import select

from deliberate import jobs
from deliberate.config import ConfigurationError, settings_from_environment
from deliberate.extensions import db
from deliberate.jobs import tasks
from deliberate.models import AnalysisRun, Consultation, RunStatus, StatementOrigin
from deliberate.services import analysis_runs
from deliberate.services.statements import write_statement
from deliberate.worker import Worker
from tests.conftest import make_test_app
from tests.helpers import html_of, sign_in, text_of

REDIS_URL = "redis://127.0.0.1:6379/11"  # in settings only: nothing is sent to it
# Held while a test uses that database, by any test run on this machine (see ``clean_redis``).
# These tests and test_job_faults.py empty Redis database 11: under xdist, one worker runs them all
# (with --dist loadgroup).

# What the test jobs below were given, try by try (the in-process worker and a burst RQ worker
# both run them in this process).
TRIES: list[int] = []


@jobs.job("flaky", about_consultation=True)
def flaky(consultation_id: int, failures: int) -> None:
    """Fails its first ``failures`` tries."""
    TRIES.append(jobs.current_job().attempt)
    if len(TRIES) <= failures:
        raise RuntimeError("someone.private@example.org broke it")  # a message logs must not hold


@jobs.job("email")
def pretend_email(to: str) -> None:
    TRIES.append(1)


@pytest.fixture(autouse=True)
def _no_tries_yet():
    TRIES.clear()


def finished_lines(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "deliberate.jobs" and r.msg == "job finished"]


def consultation_of(missions, title: str = "Waiting times") -> Consultation:
    consultation = Consultation(mission=missions["nhs"], title=title)
    db.session.add(consultation)
    db.session.flush()
    write_statement(consultation, "Evening appointments help.", origin=StatementOrigin.SEED)
    db.session.commit()
    return consultation


# -- the in-process runner ----------------------------------------------------------------------


def test_a_failing_job_is_tried_again_up_to_the_limit_and_each_try_leaves_one_log_line(
    app, missions, caplog
):
    caplog.set_level(logging.INFO, logger="deliberate.jobs")
    runner = app.extensions["deliberate_jobs"]
    consultation = consultation_of(missions)
    with app.app_context():
        assert runner.enqueue(flaky, consultation.id, 2)  # fails twice, then works
    assert runner.wait_until_idle(timeout=60)
    assert TRIES == [1, 2, 3] and runner.failures == []
    lines = finished_lines(caplog)
    tries = [(r.outcome, r.attempt) for r in lines]
    assert tries == [("retrying", 1), ("retrying", 2), ("done", 3)]
    assert {(r.kind, r.consultation_id) for r in lines} == {("flaky", consultation.id)}
    assert all(isinstance(r.duration_ms, int) and r.duration_ms >= 0 for r in lines)
    assert "someone.private" not in " ".join(str(r.__dict__) for r in lines)

    TRIES.clear()
    with app.app_context():
        assert runner.enqueue(flaky, consultation.id, 99)  # never works
    assert runner.wait_until_idle(timeout=60)
    assert TRIES == [1, 2, 3]  # JOB_RETRIES is 2: three tries in all
    assert [name.rsplit(".", 1)[-1] for name, _ in runner.failures] == ["flaky"]
    assert [r.outcome for r in finished_lines(caplog)[3:]] == ["retrying", "retrying", "failed"]


def test_an_email_job_logs_no_address(app, caplog):
    caplog.set_level(logging.INFO, logger="deliberate.jobs")
    runner = app.extensions["deliberate_jobs"]
    with app.app_context():
        runner.enqueue(pretend_email, "someone.private@example.org")
    assert runner.wait_until_idle(timeout=60)
    [line] = finished_lines(caplog)
    assert (line.kind, line.outcome, line.consultation_id) == ("email", "done", None)
    assert "@" not in str(line.__dict__)


def test_the_team_sees_a_consultations_waiting_and_failed_jobs(app, client, missions, create_user):
    team = create_user(team=(missions["nhs"],))
    consultation = consultation_of(missions)
    other = consultation_of(missions, "Another consultation")
    runner = app.extensions["deliberate_jobs"]
    with app.app_context():
        runner.enqueue(flaky, consultation.id, 99)
    assert runner.wait_until_idle(timeout=60)
    with app.app_context():
        runner.enqueue(flaky, consultation.id, 0, delay=3600)  # waits an hour
        runner.enqueue(flaky, other.id, 99, delay=3600)
    sign_in(client, team.email)
    page = client.get(f"/manage/consultations/{consultation.id}")
    assert f"/manage/consultations/{consultation.id}/jobs" in html_of(page)

    text = text_of(html_of(client.get(f"/manage/consultations/{consultation.id}/jobs")))
    assert "Flaky Failed after 3 tries" in text
    assert "RuntimeError (the service's log has the details)" in text
    assert "Flaky Scheduled" in text
    assert text.count("Flaky") == 2  # not the other consultation's job
    assert "someone.private" not in text


# -- RQ ------------------------------------------------------------------------------------------


@pytest.fixture
def redis_connection(redis_url) -> Redis:
    """This test process's own Redis database (conftest's ``redis_url``: claimed for the process,
    empty before and after the test), as a connection."""
    return Redis.from_url(redis_url)


def make_rq_app(database_url, tmp_path, redis_url, **settings):
    return make_test_app(
        database_url,
        tmp_path,
        REDIS_URL=redis_url,
        ANALYSIS_DEBOUNCE_SECONDS=0,
        JOB_LOCK_SECONDS=3,
        JOB_LOCK_WAIT_SECONDS=1,
        **settings,
    )


@pytest.fixture
def rq_app(redis_url, database_url, _migrated, tmp_path, app):
    return make_rq_app(database_url, tmp_path, redis_url, JOB_RETRY_SECONDS=(60,))


def work(rq_app) -> None:
    """A production worker, in this process, until the queue is empty."""
    runner = rq_app.extensions["deliberate_jobs"]
    name = f"test-{uuid.uuid4().hex[:8]}"
    worker = Worker([runner.queue], connection=runner.connection, name=name, app=rq_app)
    worker.work(burst=True)


def retry_now(rq_app) -> None:
    """What the scheduler does once a retry's wait has passed."""
    queue = rq_app.extensions["deliberate_jobs"].queue
    for job_id in queue.scheduled_job_registry.get_job_ids():
        queue.scheduled_job_registry.requeue(job_id)


def jobs_page(client, consultation_id: int) -> str:
    return text_of(html_of(client.get(f"/manage/consultations/{consultation_id}/jobs")))


def test_rq_jobs_carry_the_retry_limit_and_are_retried_after_its_wait(
    rq_app, missions, create_user, caplog
):
    caplog.set_level(logging.INFO, logger="deliberate.jobs")
    team = create_user(team=(missions["nhs"],))
    consultation = consultation_of(missions)
    runner = rq_app.extensions["deliberate_jobs"]
    with rq_app.app_context():
        assert runner.enqueue(flaky, consultation.id, 99, key=f"flaky-{consultation.id}")
        assert not runner.enqueue(flaky, consultation.id, 99, key=f"flaky-{consultation.id}")
    [job] = runner.queue.get_jobs()
    assert job.retries_left == 2 and job.retry_intervals == [60, 60]
    assert job.meta == {"kind": "flaky", "consultation_id": consultation.id, "tries": 3}
    assert job.timeout == 3600

    browser = rq_app.test_client()
    sign_in(browser, team.email)
    assert "Flaky Queued" in jobs_page(browser, consultation.id)
    work(rq_app)
    assert job.get_status(refresh=True) == JobStatus.SCHEDULED  # its retry waits 60 s
    assert "Flaky Retrying" in jobs_page(browser, consultation.id)
    with rq_app.app_context():  # the retry waiting stands for its key
        assert not runner.enqueue(flaky, consultation.id, 99, key=f"flaky-{consultation.id}")
    for _ in range(2):
        retry_now(rq_app)
        work(rq_app)
    assert TRIES == [1, 2, 3]
    assert job.get_status(refresh=True) == JobStatus.FAILED
    assert [r.outcome for r in finished_lines(caplog)] == ["retrying", "retrying", "failed"]
    text = jobs_page(browser, consultation.id)
    assert "Flaky Failed after 3 tries" in text and "RuntimeError" in text
    assert "someone.private" not in text


@pytest.mark.slow
def test_a_failing_analysis_records_its_failed_run_only_after_its_last_try(
    rq_app, missions, create_user, tmp_path
):
    """The failure is real: the settings name an embedding model folder that is not there."""
    rq_app.config["DELIBERATE_EMBEDDING_MODEL"] = str(tmp_path / "no-such-model")
    team = create_user(team=(missions["nhs"],))
    consultation = consultation_of(missions)
    browser = rq_app.test_client()
    sign_in(browser, team.email)
    with rq_app.app_context():
        assert analysis_runs.request_analysis(consultation.id)

    def failed_runs() -> list[AnalysisRun]:
        db.session.commit()
        return list(db.session.scalars(select(AnalysisRun).where(AnalysisRun.status == "failed")))

    for _ in range(2):  # two tries fail: retried, nothing for the dashboard yet
        work(rq_app)
        assert failed_runs() == []
        assert "Analysis Retrying" in jobs_page(browser, consultation.id)
        retry_now(rq_app)
    work(rq_app)
    [failed] = failed_runs()
    assert failed.error.startswith("FileNotFoundError")
    text = jobs_page(browser, consultation.id)
    assert "Analysis Failed after 3 tries" in text and failed.error in text
    dashboard = browser.get(f"/manage/consultations/{consultation.id}/analysis")
    analysis_page = text_of(html_of(dashboard))
    assert f"Failed at {failed.finished_at:%H:%M} UTC" in analysis_page


def analysed(consultation: Consultation) -> None:
    """A run that has seen everything, so the next analysis finds nothing to do."""
    mark = analysis_runs.watermark(consultation.id)
    db.session.add(
        AnalysisRun(
            consultation_id=consultation.id,
            status=RunStatus.DONE,
            last_vote_event_id=mark.last_vote_event_id,
            last_statement_id=mark.last_statement_id,
            results={},
        )
    )
    db.session.commit()
    assert not analysis_runs.is_stale(consultation.id)


def test_an_analysis_finding_another_worker_on_its_consultation_runs_later_and_does_not_fail(
    rq_app, redis_connection, missions, caplog
):
    caplog.set_level(logging.INFO, logger="deliberate.jobs")
    consultation = consultation_of(missions)
    analysed(consultation)
    lock = redis_connection.lock(tasks.LOCK_KEY.format(name=f"analyse-{consultation.id}"), 60)
    assert lock.acquire(blocking=False)  # another worker is analysing it
    with rq_app.app_context():
        assert analysis_runs.request_analysis(consultation.id)
    [job] = rq_app.extensions["deliberate_jobs"].queue.get_jobs()
    work(rq_app)
    assert job.get_status(refresh=True) == JobStatus.SCHEDULED  # again in a second
    assert job.retries_left == 2  # not a try: the retries for failures are all left
    queue = rq_app.extensions["deliberate_jobs"].queue
    assert queue.failed_job_registry.get_job_ids() == []
    [line] = finished_lines(caplog)
    assert (line.outcome, line.reason) == ("skipped", "another worker is analysing it")

    lock.release()
    retry_now(rq_app)
    work(rq_app)
    assert job.get_status(refresh=True) == JobStatus.FINISHED
    assert [(r.outcome, r.reason) for r in finished_lines(caplog)][1] == (
        "skipped",
        "the analysis is up to date",
    )


def test_two_at_once_on_one_consultation_one_waits_while_the_other_renews_its_lock(rq_app):
    """Two concurrent holders of the lock the jobs take, as two workers would: the first holds
    it past twice its expiry (3 s), renewing it; the second, asking meanwhile, is refused; once
    the first is done, it gets it. (A holder that dies: test_job_faults.py.)"""
    first_has_it, second_asked = threading.Event(), threading.Event()
    answers: list[bool] = []

    def first() -> None:
        with rq_app.app_context(), tasks._one_at_a_time("analyse-77") as mine:
            answers.append(mine)
            first_has_it.set()
            second_asked.wait(timeout=60)

    holder = threading.Thread(target=first)
    holder.start()
    assert first_has_it.wait(timeout=30)
    time.sleep(2 * rq_app.config["JOB_LOCK_SECONDS"])  # past its expiry: only renewal keeps it
    with rq_app.app_context(), tasks._one_at_a_time("analyse-77") as mine:
        answers.append(mine)
    second_asked.set()
    holder.join(timeout=30)
    with rq_app.app_context(), tasks._one_at_a_time("analyse-77") as mine:
        answers.append(mine)
    assert answers == [True, False, True]
    connection = rq_app.extensions["deliberate_jobs"].connection
    assert connection.exists(tasks.LOCK_KEY.format(name="analyse-77")) == 0  # released


def test_job_settings_are_read_and_checked(tmp_path):
    env = {"DELIBERATE_JOB_RETRIES": "3", "DELIBERATE_JOB_RETRY_SECONDS": "10,60"}
    settings = settings_from_environment(tmp_path, env)
    assert (settings["JOB_RETRIES"], settings["JOB_RETRY_SECONDS"]) == (3, (10, 60))
    assert jobs.retry_waits(3, settings["JOB_RETRY_SECONDS"]) == [10, 60, 60]
    assert "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED" not in settings  # memory:// has no fallback
    with_redis = settings_from_environment(tmp_path, {"REDIS_URL": REDIS_URL})
    assert with_redis["RATELIMIT_STORAGE_URI"] == REDIS_URL
    assert with_redis["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True
    with pytest.raises(ConfigurationError, match="DELIBERATE_JOB_RETRY_SECONDS"):
        settings_from_environment(tmp_path, {"DELIBERATE_JOB_RETRY_SECONDS": "soon"})
    production = {
        "DELIBERATE_ENV": "production",
        "SECRET_KEY": "a-real-secret",
        "DELIBERATE_CONTACT_EMAIL": "privacy@council.gov.uk",
        "DATABASE_URL": "postgresql://deliberate@db.internal/deliberate",
        "REDIS_URL": REDIS_URL,
        "DELIBERATE_TEST_ANALYSIS_PAUSE_SECONDS": "60",
    }
    with pytest.raises(ConfigurationError, match="fault tests only"):
        settings_from_environment(tmp_path, production)
