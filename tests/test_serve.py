"""``make serve`` (``python -m deliberate.serve``): gunicorn and an RQ worker on PostgreSQL and
Redis, a vote through it, and Ctrl-C stopping every process it started; and the refusals when the
production shape's settings are missing."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time

import psutil
import pytest
from redis import Redis
from rq import Worker

from deliberate.gunicorn_config import bind_from, default_workers, workers_from
from deliberate.models import Vote
from tests.helpers import REPO_ROOT, count
from tests.live_site import (
    Browser,
    acknowledged,
    free_port,
    need_postgres,
    open_consultation,
    vote_form,
)

SERVE = [sys.executable, "-m", "deliberate.serve"]
# What the machine's own environment might set that these tests decide for themselves.
DECIDED_HERE = ("DELIBERATE_ENV", "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "PORT", "BIND")


def environment(**settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DECIDED_HERE}
    env.update(settings)
    return env


def refused(env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        SERVE, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2, result
    assert "refusing to start" in result.stderr
    return result


def test_production_refuses_to_start_and_names_what_is_missing():
    env = environment(
        DELIBERATE_ENV="production", DELIBERATE_CONTACT_EMAIL="privacy@missions.gov.uk"
    )
    result = refused(env)
    assert "missing: DATABASE_URL, REDIS_URL, SECRET_KEY." in result.stderr
    result = refused({**env, "SECRET_KEY": "s" * 50, "DATABASE_URL": "postgresql://db/x"})
    assert "missing: REDIS_URL." in result.stderr


def test_development_without_postgresql_and_redis_is_sent_to_make_run():
    result = refused(environment(DATABASE_URL="postgresql://db/x"))
    assert "REDIS_URL not set" in result.stderr
    assert "use `make run`" in result.stderr
    result = refused(environment())
    assert "DATABASE_URL and REDIS_URL not set" in result.stderr


def test_gunicorn_is_sized_from_the_cores_and_binds_loopback_unless_told():
    assert default_workers(2) == 5 and default_workers(8) == 17
    assert workers_from({}) == default_workers()
    assert workers_from({"WEB_CONCURRENCY": "3"}) == 3
    assert bind_from({}) == "127.0.0.1:8000"
    assert bind_from({"PORT": "9001"}) == "127.0.0.1:9001"
    assert bind_from({"PORT": "9001", "BIND": "0.0.0.0:80"}) == "0.0.0.0:80"


class Output:
    """What the supervisor prints, read from its pipe in a thread (a full pipe would block it)."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(process,), daemon=True)
        self._thread.start()

    def _read(self, process: subprocess.Popen) -> None:
        for line in process.stdout:
            self.lines.append(line.rstrip("\n"))

    def text(self) -> str:
        return "\n".join(self.lines)

    def json_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.lines if line.startswith("{")]


def wait_for(condition, seconds: float, what: str, output: Output) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}:\n{output.text()}"
        time.sleep(0.2)


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_make_serve_runs_gunicorn_and_a_worker_takes_a_vote_and_stops_on_ctrl_c(
    app, database_url, redis_url, is_postgres, missions
):
    need_postgres(is_postgres)
    redis = Redis.from_url(redis_url)
    consultation = open_consultation(missions, statements=3, title="Served")
    port = free_port()
    env = environment(
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        SECRET_KEY="serve-test-secret-key",
        PORT=str(port),
        WEB_CONCURRENCY="2",
        DELIBERATE_RQ_WORKERS="1",
        DELIBERATE_LOG_FORMAT="json",
        DELIBERATE_ANALYSIS_DEBOUNCE_SECONDS="3600",  # no analysis job while the test runs
        DELIBERATE_RETENTION_SCHEDULE="0",
        DELIBERATE_STOP_SECONDS="20",
    )
    process = subprocess.Popen(
        SERVE,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # a stray signal to the test's group does not reach it
    )
    output = Output(process)
    started: list[psutil.Process] = []
    try:
        wait_for(
            lambda: "Deliberate is serving on" in output.text() or process.poll() is not None,
            120,
            "the site to listen",
            output,
        )
        assert process.poll() is None, output.text()
        assert f"Deliberate is serving on http://127.0.0.1:{port}" in output.text()
        wait_for(lambda: len(Worker.all(connection=redis)) == 1, 60, "the RQ worker", output)

        browser = Browser(f"http://127.0.0.1:{port}")
        health = browser.get("/healthz")
        assert (health.status, health.body) == (200, "ok")
        ready = browser.get("/readyz")
        assert ready.status == 200, ready.body
        assert json.loads(ready.body) == {
            "status": "ready",
            "database": "ok",
            "redis": "ok",
            "jobs": {"queued": 0, "failed": 0},
        }
        page = browser.get(f"/consultations/{consultation.id}")
        assert page.status == 200
        token, statement_id = vote_form(page.body)
        form = {"csrf_token": token, "statement_id": statement_id, "choice": "agree"}
        answer = browser.post(f"/consultations/{consultation.id}/votes", form)
        assert acknowledged(answer), (answer.status, answer.headers)
        assert count(Vote, Vote.statement_id == statement_id) == 1

        # The vote's request line, as a log shipper reads it.
        wait_for(
            lambda: any(line.get("status") == 302 for line in output.json_lines()),
            10,
            "the vote's log line",
            output,
        )
        (vote_line,) = [line for line in output.json_lines() if line.get("status") == 302]
        assert vote_line["route"] == "/consultations/<int:consultation_id>/votes"
        assert vote_line["method"] == "POST" and vote_line["request_id"]

        started = psutil.Process(process.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in started)
        assert names.count("gunicorn") >= 3, names  # the master and two workers
        assert "rq.cli worker" in names, names

        process.send_signal(signal.SIGINT)  # Ctrl-C
        assert process.wait(timeout=60) == 0, output.text()
        _, alive = psutil.wait_procs(started, timeout=10)
        assert alive == [], f"left running: {alive}"
        assert "make serve: stopped" in output.text()
    finally:
        if process.poll() is None:  # the test failed with the site still up: leave nothing
            started += psutil.Process(process.pid).children(recursive=True)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        for child in started:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        redis.flushdb()
