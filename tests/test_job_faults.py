"""Faults, on loopback, each wait bounded: a worker killed (SIGKILL) during an analysis, and Redis
stopped while people vote.

The workers are real ``rq worker --worker-class deliberate.worker.Worker`` processes on Redis
database 11 and the test's own database (the SQLite file, or the PostgreSQL database of
``TEST_DATABASE_URL``). The analysis is real (a real Polis conversation, the real model); to kill
it at the worst moment, its run written but not committed, the first worker runs with
``DELIBERATE_TEST_ANALYSIS_PAUSE_SECONDS`` (a test setting, refused in production). The Redis
test starts its own ``redis-server`` on a free port, stops it and starts it again."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from redis.exceptions import RedisError
from rq.job import Job, JobStatus
from sqlalchemy import func, select

from deliberate.extensions import db, limiter
from deliberate.jobs import tasks
from deliberate.models import (
    AnalysisRun,
    Consultation,
    PendingJob,
    RunStatus,
    StatementOrigin,
    Vote,
)
from deliberate.services import analysis_runs
from deliberate.services.polis_exchange import import_polis_folder
from deliberate.services.statements import write_statement
from tests.conftest import make_test_app
from tests.helpers import POLIS_DATA, REPO_ROOT, html_of, sign_in, text_of
from tests.test_analysis_runs import vote_through_the_site
from tests.test_jobs import make_rq_app

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


@pytest.fixture
def redis_connection(redis_url) -> Redis:
    return Redis.from_url(redis_url)


# The workers' settings: an abandoned job is noticed within seconds, the lock expires 6 s after
# its holder stops renewing it, and retries wait 1 s.
WORKER_SETTINGS = {
    "DELIBERATE_JOB_ABANDONED_SECONDS": "3",
    "DELIBERATE_JOB_LOCK_SECONDS": "6",
    "DELIBERATE_JOB_LOCK_WAIT_SECONDS": "1",
    "DELIBERATE_BRIDGING_RESAMPLES": "20",
    "DELIBERATE_RETENTION_SCHEDULE": "0",
}


def wait_for(what: str, check: Callable[[], Any], timeout: float, every: float = 0.2) -> Any:
    """Poll ``check`` until it returns something true; fail saying ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"waited {timeout:.0f} s for {what}")
        time.sleep(every)


class WorkerProcess:
    """One ``rq worker`` in a process group of its own (its scheduler is a child process)."""

    def __init__(
        self, database_url: str, redis_url: str, log: Path, scheduler: bool, **settings: str
    ) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": os.environ.get("SECRET_KEY", "test-secret-key-not-for-production"),
            "PYTHONPATH": str(REPO_ROOT),
            **WORKER_SETTINGS,
            **settings,
        }
        args = [sys.executable, "-m", "rq.cli", "worker", "--url", redis_url]
        args += ["--worker-class", "deliberate.worker.Worker", "--name", log.stem]
        args += ["--with-scheduler"] if scheduler else []
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [*args, "deliberate"],
                cwd=REPO_ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def workers(database_url, redis_url, tmp_path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(name: str, scheduler: bool = False, **settings: str) -> WorkerProcess:
        worker = WorkerProcess(
            database_url, redis_url, tmp_path / f"{name}.log", scheduler, **settings
        )
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.kill(signal.SIGTERM)


def runs_of(consultation_id: int) -> list[AnalysisRun]:
    db.session.commit()  # a fresh look at what the workers committed
    return list(
        db.session.scalars(
            select(AnalysisRun)
            .where(AnalysisRun.consultation_id == consultation_id)
            .order_by(AnalysisRun.id)
        )
    )


def the_job(rq_app) -> Job:
    [job] = rq_app.extensions["deliberate_jobs"].queue.get_jobs()
    return job


def started(rq_app, job: Job) -> bool:
    """Taken by a worker and begun (RQ registers it, then marks it started)."""
    registry = rq_app.extensions["deliberate_jobs"].queue.started_job_registry
    in_registry = job.id in registry.get_job_ids(cleanup=False)
    return in_registry and job.get_status(refresh=True) == JobStatus.STARTED


@pytest.mark.model
def test_a_worker_killed_mid_analysis_leaves_no_run_and_the_retry_stores_one(
    app, redis_connection, redis_url, missions, create_user, database_url, tmp_path, workers
):
    team = create_user(team=(missions["growth"],))
    result = import_polis_folder(POLIS_DATA / "brexit-consensus", missions["growth"])
    db.session.commit()
    cid = result.consultation_id
    rq_app = make_rq_app(database_url, tmp_path, redis_url, JOB_RETRY_SECONDS=(1,))
    with rq_app.app_context():
        assert analysis_runs.request_analysis(cid)
    job = the_job(rq_app)
    assert job.retries_left == 2

    first = workers("first", DELIBERATE_TEST_ANALYSIS_PAUSE_SECONDS="600")
    wait_for(
        "the first worker to reach the end of the analysis",
        lambda: "Pausing before storing the run" in first.output(),
        timeout=400,
    )
    assert started(rq_app, job)
    browser = rq_app.test_client()
    sign_in(browser, team.email)
    page = text_of(html_of(browser.get(f"/manage/consultations/{cid}/jobs")))
    assert "Analysis Running" in page
    lock_key = tasks.LOCK_KEY.format(name=f"analyse-{cid}")
    assert 0 < redis_connection.pttl(lock_key) <= 6000  # held, and renewed: it expires soon
    second = workers("second", scheduler=True)  # idle: the first holds the only job

    dead_holders_token = redis_connection.get(lock_key)
    first.kill()  # SIGKILL: no clean-up of any kind
    killed_at = time.monotonic()
    assert runs_of(cid) == []  # the run written but not committed is gone with the worker

    seen: dict[str, float] = {}  # seconds after the kill

    def lock_expired_and_job_retried() -> bool:
        after = time.monotonic() - killed_at
        if "lock" not in seen and redis_connection.get(lock_key) != dead_holders_token:
            seen["lock"] = after
        if "retry" not in seen and not started(rq_app, job):
            seen["retry"] = after
        return len(seen) == 2

    # The dead worker's lock expires (then the retry takes it), and its job is taken from it.
    wait_for("the lock to expire and the job to be retried", lock_expired_and_job_retried, 120)
    [run] = wait_for("the retry's run", lambda: runs_of(cid), timeout=400, every=1)
    stored = time.monotonic() - killed_at
    assert run.status is RunStatus.DONE and run.n_participants == 204 and run.results
    wait_for("the job to finish", lambda: job.get_status(refresh=True) == JobStatus.FINISHED, 60)
    job.refresh()
    assert job.retries_left == 1  # one retry spent on the killed try
    assert [r.id for r in runs_of(cid)] == [run.id]  # exactly one run, and no failed one
    assert second.process.poll() is None
    print(
        f"\nworker killed: lock free after {seen['lock']:.1f} s, job taken from the dead "
        f"worker after {seen['retry']:.1f} s, run stored after {stored:.1f} s"
    )


def test_a_worker_killed_during_the_last_try_leaves_a_failed_run_the_team_sees(
    app, redis_connection, redis_url, missions, create_user, database_url, tmp_path, workers
):
    team = create_user(team=(missions["nhs"],))
    consultation = Consultation(mission=missions["nhs"], title="Killed on its last try")
    db.session.add(consultation)
    db.session.flush()
    write_statement(consultation, "Evening appointments help.", origin=StatementOrigin.SEED)
    db.session.commit()
    rq_app = make_rq_app(database_url, tmp_path, redis_url, JOB_RETRIES=0)
    with rq_app.app_context():
        assert analysis_runs.request_analysis(consultation.id)
    job = the_job(rq_app)
    assert job.retries_left is None  # no retry at all

    first = workers("first", DELIBERATE_TEST_ANALYSIS_PAUSE_SECONDS="600")
    wait_for("the first worker to start the job", lambda: started(rq_app, job), timeout=120)
    first.kill()
    workers("second")
    queue = rq_app.extensions["deliberate_jobs"].queue
    wait_for(
        "the abandoned job to fail",
        lambda: job.id in queue.failed_job_registry.get_job_ids(cleanup=False),
        timeout=120,
    )
    [failed] = wait_for("its failed run", lambda: runs_of(consultation.id), timeout=30)
    assert failed.status is RunStatus.FAILED and failed.results is None
    assert failed.error == (
        "Analysing the votes: WorkerStopped: the worker running it stopped before it ended"
    )
    browser = rq_app.test_client()
    sign_in(browser, team.email)
    page = text_of(html_of(browser.get(f"/manage/consultations/{consultation.id}/jobs")))
    assert "Analysis Failed after 1 try" in page
    assert failed.error in page
    dashboard = html_of(browser.get(f"/manage/consultations/{consultation.id}/analysis"))
    assert f"Failed at {failed.finished_at:%H:%M} UTC" in dashboard


# -- Redis stopped --------------------------------------------------------------------------------


class RedisServer:
    """A ``redis-server`` of the test's own on a loopback port, nothing saved to disk."""

    def __init__(self, directory: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self.directory)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = Redis.from_url(self.url, socket_connect_timeout=1)
        wait_for("redis-server to answer", lambda: self._answers(client), timeout=20, every=0.1)

    @staticmethod
    def _answers(client: Redis) -> bool:
        try:
            return bool(client.ping())
        except RedisError:
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
        self.process = None


@pytest.fixture
def redis_server(tmp_path) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


def test_with_redis_stopped_votes_are_taken_and_their_jobs_caught_up_when_it_returns(
    app, missions, redis_server, database_url, tmp_path, monkeypatch, caplog
):
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(limiter, "_storage_dead", False)  # the shared limiter, restored after
    # The settings as production derives them from REDIS_URL (rate limits on Redis, with their
    # in-memory fallback), and a site that looks for kept jobs every second.
    monkeypatch.setenv("REDIS_URL", redis_server.url)
    monkeypatch.setenv("DELIBERATE_PENDING_JOB_CHECK_SECONDS", "1")
    site = make_test_app(
        database_url, tmp_path, RATELIMIT_ENABLED=True, ANALYSIS_DEBOUNCE_SECONDS=0
    )
    assert site.config["RATELIMIT_STORAGE_URI"] == redis_server.url
    assert site.config["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] is True
    consultation = Consultation(mission=missions["nhs"], title="Bus routes")
    db.session.add(consultation)
    db.session.flush()
    for text in (
        "More buses at night.",
        "Cheaper fares.",
        "Routes to the hospital.",
        "Fewer stops.",
    ):
        write_statement(consultation, text, origin=StatementOrigin.SEED)
    consultation.open()
    db.session.commit()
    cid = consultation.id
    queue = site.extensions["deliberate_jobs"].queue
    browser = site.test_client()

    def votes() -> int:
        db.session.commit()
        return db.session.scalar(select(func.count(Vote.id)))

    def kept() -> list[PendingJob]:
        db.session.commit()
        return list(db.session.scalars(select(PendingJob)))

    def job_lines(level: int, start: str) -> list[logging.LogRecord]:
        return [
            r
            for r in caplog.records
            if r.name == "deliberate.jobs" and r.levelno == level and r.msg.startswith(start)
        ]

    vote_through_the_site(browser, cid, 1)
    assert votes() == 1 and queue.count == 1

    redis_server.stop()
    vote_through_the_site(browser, cid, 2)  # each vote asks for the analysis again
    assert votes() == 3
    [job] = kept()
    assert job.function == "deliberate.jobs.tasks.analyse_consultation"
    assert (job.args, job.key, job.consultation_id) == ([cid], f"analyse-{cid}", cid)
    assert len(job_lines(logging.WARNING, "Redis is unreachable")) == 1
    assert any(
        r.name == "flask-limiter" and "falling back to in-memory" in r.getMessage()
        for r in caplog.records
    )

    redis_server.start()  # the same port, empty: the job queued before the stop is gone
    assert queue.count == 0
    wait_for(
        "a request to catch up the kept job",
        lambda: browser.get(f"/consultations/{cid}").status_code == 200 and not kept(),
        timeout=30,
    )
    [caught_up] = job_lines(logging.INFO, "Redis answers")
    assert (caught_up.queued, caught_up.already_waiting) == (1, 0)
    [queued] = queue.get_jobs()
    assert queued.func_name == "deliberate.jobs.tasks.analyse_consultation"
    assert queued.args == (cid,) and queued.meta["consultation_id"] == cid

    vote_through_the_site(browser, cid, 1)
    assert votes() == 4
    assert queue.count == 1  # still the one job for the key
    assert len(job_lines(logging.WARNING, "Redis is unreachable")) == 1
