"""Background jobs. Entry points take ids, never ORM objects; one interface, two runners.

A job is named by its function (``jobs.enqueue(analyse_consultation, consultation_id)``). Asked
for inside a unit of work (a request, a job, a command), it is queued once that unit commits, and
never if it rolls back.

Embedded default: one worker thread inside the web process, so a newcomer needs nothing running.
At scale (``REDIS_URL`` set): RQ on Redis; run ``rq worker --with-scheduler deliberate`` on as many
machines as needed, with the same settings as the site.

Both runners key jobs: a job whose key is already waiting is not queued again, which is how bursts
(every vote marks a consultation stale) collapse into one re-analysis.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from functools import partial
from typing import Any, Protocol

from flask import Flask, current_app

from deliberate import unit_of_work

QUEUE_NAME = "deliberate"

JobFunction = Callable[..., Any]


def name_of(function: JobFunction) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def loggable(args: tuple) -> str:
    """A job's arguments as a log may show them: ids as they are, anything else (an email's
    address, name or secret link) only as its type, so logs hold no personal data."""
    return ", ".join(
        repr(a) if isinstance(a, int) and not isinstance(a, bool) else f"<{type(a).__name__}>"
        for a in args
    )


class JobRunner(Protocol):
    def enqueue(
        self, function: JobFunction, *args: Any, key: str | None = None, delay: float = 0
    ) -> bool:
        """Queue ``function(*args)``; False when a job with the same key is already waiting."""

    def shutdown(self, timeout: float = 30) -> None:
        """Stop taking and running jobs in this process."""

    def counts(self) -> dict[str, int]:
        """How many jobs wait (due now or later) and how many failed, for /readyz."""


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    function: JobFunction = field(compare=False)
    args: tuple = field(compare=False)
    key: str | None = field(compare=False)


class InProcessRunner:
    """A single daemon thread running jobs in the app's context, one at a time, in due order."""

    def __init__(self, app: Flask):
        self.app = app
        self._heap: list[_Job] = []
        self._waiting_keys: set[str] = set()
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._busy = False
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.failures: list[tuple[str, BaseException]] = []

    def enqueue(
        self, function: JobFunction, *args: Any, key: str | None = None, delay: float = 0
    ) -> bool:
        with self._cond:
            if self._stopped or (key is not None and key in self._waiting_keys):
                return False
            if key is not None:
                self._waiting_keys.add(key)
            heapq.heappush(
                self._heap, _Job(time.monotonic() + delay, next(self._seq), function, args, key)
            )
            self._ensure_thread()
            self._cond.notify_all()
        return True

    def _ensure_thread(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._work, name="deliberate-jobs", daemon=True)
            self._thread.start()

    def _next_job(self) -> _Job | None:
        with self._cond:
            while True:
                if self._stopped:
                    return None
                if self._heap:
                    wait = self._heap[0].due - time.monotonic()
                    if wait <= 0:
                        job = heapq.heappop(self._heap)
                        if job.key is not None:
                            self._waiting_keys.discard(job.key)
                        self._busy = True
                        return job
                    self._cond.wait(wait)
                else:
                    self._cond.wait()

    def _work(self) -> None:
        while (job := self._next_job()) is not None:
            try:
                with self.app.app_context():
                    job.function(*job.args)
            except Exception as error:  # a failed job must not stop the worker
                self.failures.append((name_of(job.function), error))
                self.app.logger.exception(
                    "Background job %s(%s) failed", name_of(job.function), loggable(job.args)
                )
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def shutdown(self, timeout: float = 30) -> None:
        """Drop waiting jobs and stop the worker once its current job ends."""
        with self._cond:
            self._stopped = True
            self._heap.clear()
            self._waiting_keys.clear()
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def counts(self) -> dict[str, int]:
        """Jobs waiting in this process (due now or later) and jobs that failed in it."""
        with self._cond:
            return {"queued": len(self._heap), "failed": len(self.failures)}

    def wait_until_idle(self, timeout: float = 60) -> bool:
        """Run delayed jobs now and block until none is left; for tests and the CLI."""
        deadline = time.monotonic() + timeout
        with self._cond:
            now = time.monotonic()
            for job in self._heap:
                job.due = min(job.due, now)
            heapq.heapify(self._heap)
            self._cond.notify_all()
            while self._busy or self._heap:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True


class RQRunner:
    """Jobs on Redis through RQ; a job id equal to its key keeps one waiting copy per key."""

    def __init__(self, redis_url: str, queue_name: str = QUEUE_NAME):
        from redis import Redis
        from rq import Queue

        self.connection = Redis.from_url(redis_url)
        self.queue = Queue(queue_name, connection=self.connection)

    def enqueue(
        self, function: JobFunction, *args: Any, key: str | None = None, delay: float = 0
    ) -> bool:
        from rq.exceptions import NoSuchJobError
        from rq.job import Job, JobStatus

        if key is not None:
            try:
                existing = Job.fetch(key, connection=self.connection)
            except NoSuchJobError:
                existing = None
            waiting = {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}
            if existing is not None and existing.get_status(refresh=True) in waiting:
                return False
        options: dict[str, Any] = {
            "job_id": key,
            "result_ttl": 3600,
            "failure_ttl": 7 * 86400,
            # What RQ logs for the job: by default its arguments, which may be an email address.
            "description": f"{name_of(function)}({loggable(args)})",
        }
        if delay > 0:
            self.queue.enqueue_in(timedelta(seconds=delay), function, *args, **options)
        else:
            self.queue.enqueue(function, *args, **options)
        return True

    def shutdown(self, timeout: float = 30) -> None:
        """Jobs wait in Redis for the workers; nothing runs in this process to stop."""

    def counts(self) -> dict[str, int]:
        """Jobs waiting in the queue or scheduled for later, and jobs in RQ's failed registry
        (read only: no registry clean-up from here)."""
        from rq.registry import FailedJobRegistry, ScheduledJobRegistry

        scheduled = ScheduledJobRegistry(queue=self.queue).get_job_count(cleanup=False)
        failed = FailedJobRegistry(queue=self.queue).get_job_count(cleanup=False)
        return {"queued": self.queue.count + scheduled, "failed": failed}


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    app.extensions["deliberate_jobs"] = RQRunner(url) if url else InProcessRunner(app)


def runner() -> JobRunner:
    return current_app.extensions["deliberate_jobs"]


def enqueue(function: JobFunction, *args: Any, key: str | None = None, delay: float = 0) -> bool:
    """Queue ``function(*args)`` now, or once the open unit of work commits (then True: asked
    for). False when a job with the same key is already waiting."""
    queue = partial(runner().enqueue, function, *args, key=key, delay=delay)
    work = unit_of_work.current()
    if work is None:
        return queue()
    work.after_commit(queue)
    return True
