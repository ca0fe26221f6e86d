"""Background jobs. Entry points take ids, never ORM objects; one interface, two runners.

A job is named by its function (``jobs.enqueue(analyse_consultation, consultation_id)``). Asked
for inside a unit of work (a request, a job, a command), it is queued once that unit commits, and
never if it rolls back.

Embedded default: one worker thread inside the web process, so a newcomer needs nothing running.
At scale (``REDIS_URL`` set): RQ on Redis; run ``rq worker --with-scheduler --worker-class
deliberate.worker.Worker deliberate`` on as many machines as needed, with the same settings as the
site.

Both runners key jobs: a job whose key is already waiting is not queued again, which is how bursts
(every vote marks a consultation stale) collapse into one re-analysis. A job running does not
count as waiting: votes that arrive during an analysis get one more after it.

What happens when a job does not go well, the same on both runners:

- It raises: it is tried again after ``JOB_RETRY_SECONDS``, ``JOB_RETRIES`` times. The job asks
  ``last_try()`` before recording a failure for the team to see (the analysis stores a failed run
  only when its last try fails; the dashboard then says "failed").
- Its worker dies (RQ only: the in-process runner dies with its web process, and its queue with
  it): RQ finds the job "abandoned" once the worker has been silent for ``JOB_ABANDONED_SECONDS``
  and tries it again the same way (``deliberate.worker``).
- It finds another worker on the same consultation: it returns ``Later(seconds)`` and is run again
  then, without that counting as a try.

Each run of a job made with ``@job(kind)`` logs one line, "job finished", on the
``deliberate.jobs`` logger, with the fields ``kind``, ``consultation_id``, ``duration_ms``,
``outcome`` (done, skipped, retrying, failed) and ``attempt``; never a job's arguments beyond ids
(an email job's line has no address).

Redis unreachable: a job asked for meanwhile is stored in the database (``PendingJob``, see
``deliberate.jobs.pending``), so the vote or statement that asked for it is kept and answered as
usual; the jobs are queued once Redis answers again (at the next job asked for, on a request at
most every ``PENDING_JOB_CHECK_SECONDS``, and by every worker's maintenance). The log has one
warning when a process finds Redis gone and one line when it has caught up, with counts.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from contextlib import suppress
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial, wraps
from typing import Any, Protocol
from uuid import uuid4

from flask import Flask, current_app

from deliberate import unit_of_work
from deliberate.models._types import utcnow

QUEUE_NAME = "deliberate"
LOG = logging.getLogger("deliberate.jobs")

JobFunction = Callable[..., Any]

# How many times a job may find its consultation taken by another worker before it gives up
# (about two hours at the default wait of 30 s; the running analysis covers what it would do).
LATER_TRIES = 240
# While Redis is known to be down, a process asks it again at most this often (seconds); in
# between, jobs go straight to the database.
REDIS_RETRY_SECONDS = 5.0
WAITING_KEY = "deliberate:job-key:{key}"  # the id of the job now waiting for a key
CATCH_UP_LOCK = "deliberate:lock:catch-up"


def name_of(function: JobFunction) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def loggable(args: tuple) -> str:
    """A job's arguments as a log may show them: ids as they are, anything else (an email's
    address, name or secret link) only as its type, so logs hold no personal data."""
    return ", ".join(
        repr(a) if isinstance(a, int) and not isinstance(a, bool) else f"<{type(a).__name__}>"
        for a in args
    )


def kind_of(function: JobFunction) -> str:
    return getattr(function, "job_kind", function.__name__)


def kind_named(function_name: str) -> str:
    """The kind of the job function named ``module.function``."""
    from importlib import import_module

    module, _, name = function_name.rpartition(".")
    try:
        return kind_of(getattr(import_module(module), name))
    except (ImportError, AttributeError, ValueError):
        return name


def consultation_of(function: JobFunction, args: tuple, given: int | None = None) -> int | None:
    """The consultation a job is about: given, or its first argument for ``about_consultation``."""
    if given is not None:
        return given
    if getattr(function, "about_consultation", False) and args:
        return int(args[0])
    return None


def retry_waits(retries: int, waits: Iterable[int]) -> list[int]:
    """One wait before each retry: the settings' waits in order, the last one repeated."""
    waits = list(waits) or [0]
    return [waits[min(i, len(waits) - 1)] for i in range(retries)]


# -- what a job returns, and what it may ask about itself -----------------------------------------


@dataclass(frozen=True)
class Later:
    """Returned by a job that cannot run now (another worker holds its consultation): run it
    again after ``seconds``; this is not a failure and does not count as a try."""

    seconds: float
    reason: str = ""


@dataclass(frozen=True)
class Skipped:
    """Returned by a job that found nothing to do (the analysis is up to date)."""

    reason: str = ""


@dataclass
class JobContext:
    """The job this thread is running: which try this is, and what it is about."""

    kind: str
    consultation_id: int | None
    attempt: int
    last: bool
    via: str  # "rq" or "in-process"
    _remember: Callable[[dict[str, Any]], None] = field(repr=False, default=lambda _: None)

    def remember(self, **meta: Any) -> None:
        """Keep plain values with the job, for the team's jobs page (a failed run's id)."""
        self._remember(meta)


_in_process_job: ContextVar[JobContext | None] = ContextVar("deliberate_job", default=None)


def _rq_context(job: Any) -> JobContext:
    tries = int(job.meta.get("tries", 1))
    left = job.retries_left or 0

    def remember(meta: dict[str, Any]) -> None:
        job.meta.update(meta)
        job.save_meta()

    return JobContext(
        kind=job.meta.get("kind", job.func_name.rsplit(".", 1)[-1]),
        consultation_id=job.meta.get("consultation_id"),
        attempt=max(tries - left, 1),
        last=left == 0,
        via="rq",
        _remember=remember,
    )


def current_job() -> JobContext | None:
    """The job being run here, or None (a command or a test calling the function itself)."""
    context = _in_process_job.get()
    if context is not None:
        return context
    from rq import get_current_job

    job = get_current_job()
    return _rq_context(job) if job is not None else None


def last_try() -> bool:
    """True unless this is a job that will be tried again if it fails now."""
    context = current_job()
    return context is None or context.last


def remember(**meta: Any) -> None:
    context = current_job()
    if context is not None:
        context.remember(**meta)


def log_finished(
    kind: str,
    consultation_id: int | None,
    duration_ms: int | None,
    outcome: str,
    attempt: int,
    reason: str = "",
) -> None:
    """The one line each run of a job leaves: no arguments but the consultation's id."""
    LOG.info(
        "job finished",
        extra={
            "kind": kind,
            "consultation_id": consultation_id,
            "duration_ms": duration_ms,
            "outcome": outcome,
            "attempt": attempt,
            "reason": reason,
        },
    )


def job(
    kind: str,
    *,
    about_consultation: bool = False,
    when_abandoned: Callable[[int | None, datetime | None], int | None] | None = None,
) -> Callable[[JobFunction], JobFunction]:
    """Make ``function`` a job of ``kind`` ("analyse", "email"...): one log line per run, and
    ``Later`` handed to the runner. ``about_consultation``: its first argument is the id of the
    consultation it works on. ``when_abandoned(consultation_id, started_at)`` is called when its
    worker died during its last try (it records the failure; returns a failed run's id)."""

    def decorate(function: JobFunction) -> JobFunction:
        @wraps(function)
        def run(*args: Any) -> Any:
            context = current_job()
            attempt, last = (context.attempt, context.last) if context else (1, True)
            consultation_id = context.consultation_id if context else consultation_of(run, args)
            clock = time.perf_counter()

            def finished(outcome: str, reason: str = "") -> None:
                duration = round((time.perf_counter() - clock) * 1000)
                log_finished(kind, consultation_id, duration, outcome, attempt, reason)

            try:
                result = function(*args)
            except Exception as error:
                finished("failed" if last else "retrying", type(error).__name__)
                if context is not None and last:
                    context.remember(error=type(error).__name__)
                raise
            if isinstance(result, Later):
                finished("skipped", result.reason)
                if context is not None and context.via == "rq":
                    from rq import Retry

                    return Retry(max=LATER_TRIES, interval=max(int(result.seconds), 1))
                return result
            if isinstance(result, Skipped):
                finished("skipped", result.reason)
                return None
            finished("done")
            return result

        run.job_kind = kind  # type: ignore[attr-defined]
        run.about_consultation = about_consultation  # type: ignore[attr-defined]
        run.when_abandoned = when_abandoned  # type: ignore[attr-defined]
        return run

    return decorate


# -- what the team's jobs page shows ---------------------------------------------------------------


@dataclass(frozen=True)
class JobView:
    """One job of a consultation as the team's jobs page lists it."""

    kind: str
    state: str  # queued, scheduled, running, retrying, failed
    at: datetime | None  # UTC: asked for, due, started or failed, by state
    tries: int = 1  # for a failed job: how many tries it had
    error: str | None = None  # for a failed job: what went wrong, without personal data
    failed_run_id: int | None = None


def _naive_utc(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


class JobRunner(Protocol):
    def enqueue(
        self,
        function: JobFunction,
        *args: Any,
        key: str | None = None,
        delay: float = 0,
        consultation_id: int | None = None,
    ) -> bool:
        """Queue ``function(*args)``; False when a job with the same key is already waiting."""

    def jobs_of(self, consultation_id: int) -> list[JobView]:
        """The consultation's jobs waiting, running and failed, newest first."""

    def shutdown(self, timeout: float = 30) -> None:
        """Stop taking and running jobs in this process."""

    def counts(self) -> dict[str, int]:
        """How many jobs wait (due now or later) and how many failed, for /readyz."""


# -- the embedded runner ---------------------------------------------------------------------------


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    function: JobFunction = field(compare=False)
    args: tuple = field(compare=False)
    key: str | None = field(compare=False)
    consultation_id: int | None = field(compare=False, default=None)
    attempt: int = field(compare=False, default=1)
    later: int = field(compare=False, default=0)  # times it found its consultation taken
    meta: dict = field(compare=False, default_factory=dict)


class InProcessRunner:
    """A single daemon thread running jobs in the app's context, one at a time, in due order.

    Retries as on RQ: a failed job is run again after the settings' waits, up to the limit.
    ``failures`` lists the jobs that failed for good (their last try included)."""

    KEEP_FAILED = 100  # failed jobs the jobs page can list, per process

    def __init__(self, app: Flask):
        self.app = app
        self._heap: list[_Job] = []
        self._waiting_keys: set[str] = set()
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._busy = False
        self._running: tuple[_Job, datetime] | None = None
        self._hurry = 0
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.failures: list[tuple[str, BaseException]] = []
        self._failed: deque[tuple[_Job, datetime]] = deque(maxlen=self.KEEP_FAILED)

    def enqueue(
        self,
        function: JobFunction,
        *args: Any,
        key: str | None = None,
        delay: float = 0,
        consultation_id: int | None = None,
    ) -> bool:
        job = _Job(
            time.monotonic() + delay,
            next(self._seq),
            function,
            args,
            key,
            consultation_of(function, args, consultation_id),
        )
        return self._push(job)

    def _push(self, job: _Job) -> bool:
        with self._cond:
            if self._stopped or (job.key is not None and job.key in self._waiting_keys):
                return False
            if job.key is not None:
                self._waiting_keys.add(job.key)
            heapq.heappush(self._heap, job)
            self._ensure_thread()
            self._cond.notify_all()
        return True

    def _again(self, job: _Job, delay: float, *, attempt: int, later: int) -> None:
        """Run ``job`` again; a newer copy already waiting under its key does it instead."""
        again = _Job(
            time.monotonic() + delay,
            next(self._seq),
            job.function,
            job.args,
            job.key,
            job.consultation_id,
            attempt,
            later,
            job.meta,
        )
        self._push(again)

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
                    wait = 0 if self._hurry else self._heap[0].due - time.monotonic()
                    if wait <= 0:
                        job = heapq.heappop(self._heap)
                        if job.key is not None:
                            self._waiting_keys.discard(job.key)
                        self._busy = True
                        self._running = (job, utcnow())
                        return job
                    self._cond.wait(wait)
                else:
                    self._cond.wait()

    def _work(self) -> None:
        while (job := self._next_job()) is not None:
            retries = int(self.app.config.get("JOB_RETRIES", 0))
            context = JobContext(
                kind=kind_of(job.function),
                consultation_id=job.consultation_id,
                attempt=job.attempt,
                last=job.attempt > retries,
                via="in-process",
                _remember=job.meta.update,
            )
            token = _in_process_job.set(context)
            try:
                with self.app.app_context():
                    result = job.function(*job.args)
                if isinstance(result, Later) and job.later < LATER_TRIES:
                    self._again(job, result.seconds, attempt=job.attempt, later=job.later + 1)
            except Exception as error:  # a failed job must not stop the worker
                self._failed_try(job, error, retries)
            finally:
                _in_process_job.reset(token)
                with self._cond:
                    self._busy = False
                    self._running = None
                    self._cond.notify_all()

    def _failed_try(self, job: _Job, error: Exception, retries: int) -> None:
        name = name_of(job.function)
        if job.attempt <= retries:
            waits = retry_waits(retries, self.app.config.get("JOB_RETRY_SECONDS", (30,)))
            self.app.logger.warning(
                "Background job %s(%s) failed (try %d), will try again: %s",
                name,
                loggable(job.args),
                job.attempt,
                type(error).__name__,
            )
            self._again(job, waits[job.attempt - 1], attempt=job.attempt + 1, later=job.later)
            return
        self.failures.append((name, error))
        job.meta.setdefault("error", type(error).__name__)
        self._failed.appendleft((job, utcnow()))
        self.app.logger.exception(
            "Background job %s(%s) failed after %d tries", name, loggable(job.args), job.attempt
        )

    def jobs_of(self, consultation_id: int) -> list[JobView]:
        now, clock = utcnow(), time.monotonic()
        with self._cond:
            waiting = [j for j in self._heap if j.consultation_id == consultation_id]
            running = self._running
            failed = [(j, at) for j, at in self._failed if j.consultation_id == consultation_id]
        views = []
        if running is not None and running[0].consultation_id == consultation_id:
            views.append(JobView(kind_of(running[0].function), "running", running[1]))
        for j in sorted(waiting):
            due = now + timedelta(seconds=max(j.due - clock, 0))
            if j.attempt > 1 or j.later:
                state = "retrying"
            else:
                state = "scheduled" if j.due > clock else "queued"
            views.append(JobView(kind_of(j.function), state, due))
        for j, at in failed:
            views.append(
                JobView(
                    kind_of(j.function),
                    "failed",
                    at,
                    tries=j.attempt,
                    error=j.meta.get("error"),
                    failed_run_id=j.meta.get("failed_run_id"),
                )
            )
        return views

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
        """Run waiting jobs now (delayed ones and retries too, without their waits) and block
        until none is left; for tests and the CLI."""
        deadline = time.monotonic() + timeout
        with self._cond:
            self._hurry += 1
            self._cond.notify_all()
            try:
                while self._busy or self._heap:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._cond.wait(remaining)
            finally:
                self._hurry -= 1
        return True


# -- RQ on Redis -----------------------------------------------------------------------------------


class RQRunner:
    """Jobs on Redis through RQ, each with the settings' retries and time limit, and its kind
    and consultation in ``job.meta``. A key names the job waiting for it
    (``deliberate:job-key:<key>``), so one copy per key waits while another may be running."""

    def __init__(self, redis_url: str, queue_name: str = QUEUE_NAME):
        from redis import Redis
        from rq import Queue

        from deliberate.config import redis_client_options

        self.connection = Redis.from_url(redis_url, **redis_client_options())
        self.queue = Queue(queue_name, connection=self.connection)
        self._state = threading.Lock()
        self._down_since: float | None = None  # monotonic time Redis was found unreachable
        self._last_failure = 0.0
        self._next_check = 0.0

    # asking for a job

    def enqueue(
        self,
        function: JobFunction,
        *args: Any,
        key: str | None = None,
        delay: float = 0,
        consultation_id: int | None = None,
    ) -> bool:
        from redis.exceptions import RedisError

        from deliberate.jobs import pending

        consultation_id = consultation_of(function, args, consultation_id)
        if self._down_since is not None and (
            time.monotonic() - self._last_failure < REDIS_RETRY_SECONDS
        ):
            return pending.record(function, args, key, delay, consultation_id)
        try:
            queued = self._enqueue(function, args, key, delay, consultation_id)
        except RedisError as error:
            self._went_down(error)
            return pending.record(function, args, key, delay, consultation_id)
        if self._down_since is not None or time.monotonic() >= self._next_check:
            self.catch_up_quietly()
        return queued

    def _enqueue(
        self,
        function: JobFunction | str,
        args: tuple,
        key: str | None,
        delay: float,
        consultation_id: int | None,
    ) -> bool:
        from rq import Retry

        if isinstance(function, str):
            from rq.utils import import_attribute

            function = import_attribute(function)
        if key is not None and self._waiting(key):
            return False
        config = current_app.config
        retries = int(config.get("JOB_RETRIES", 0))
        job_id = f"{key}-{uuid4().hex[:12]}" if key is not None else None
        options: dict[str, Any] = {
            "job_id": job_id,
            "result_ttl": 3600,
            "failure_ttl": 7 * 86400,
            "job_timeout": int(config.get("JOB_TIMEOUT_SECONDS", 3600)),
            "retry": (
                Retry(max=retries, interval=retry_waits(retries, config["JOB_RETRY_SECONDS"]))
                if retries
                else None
            ),
            "meta": {
                "kind": kind_of(function),
                "consultation_id": consultation_id,
                "tries": retries + 1,
            },
            # What RQ logs for the job: by default its arguments, which may be an email address.
            "description": f"{name_of(function)}({loggable(args)})",
        }
        if delay > 0:
            job = self.queue.enqueue_in(timedelta(seconds=delay), function, *args, **options)
        else:
            job = self.queue.enqueue(function, *args, **options)
        if key is not None:
            self.connection.set(WAITING_KEY.format(key=key), job.id, ex=int(delay) + 86400)
        return True

    def _waiting(self, key: str) -> bool:
        from rq.exceptions import NoSuchJobError
        from rq.job import Job, JobStatus

        job_id = self.connection.get(WAITING_KEY.format(key=key))
        if job_id is None:
            return False
        try:
            job = Job.fetch(job_id.decode(), connection=self.connection)
        except NoSuchJobError:
            return False
        status = job.get_status(refresh=False)
        return status in {JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED}

    # Redis gone and back

    def _went_down(self, error: Exception) -> None:
        with self._state:
            self._last_failure = time.monotonic()
            if self._down_since is not None:
                return
            self._down_since = self._last_failure
        LOG.warning(
            "Redis is unreachable: jobs asked for are kept in the database until it answers",
            extra={"error": type(error).__name__},
        )

    def _back_up(self) -> None:
        with self._state:
            self._down_since = None

    def catch_up_quietly(self) -> None:
        """Catch up if there is anything to catch up; a Redis still down is noted, not raised."""
        from redis.exceptions import RedisError

        try:
            self.catch_up()
        except RedisError as error:
            self._went_down(error)

    def catch_up(self) -> int:
        """Queue the jobs recorded while Redis did not answer (one process at a time); returns
        how many were queued. Raises RedisError while Redis is still unreachable."""
        from redis.exceptions import LockError

        from deliberate.jobs import pending

        interval = float(current_app.config.get("PENDING_JOB_CHECK_SECONDS", 30))
        self._next_check = time.monotonic() + interval
        rows = pending.waiting()
        if not rows and self._down_since is None:
            return 0
        lock = self.connection.lock(CATCH_UP_LOCK, timeout=60, blocking=False)
        if not lock.acquire():  # Redis answers, and another process is catching up
            self._back_up()
            return 0
        queued = already_waiting = lost = 0
        try:
            for row in rows:
                delay = max((row.due_at - utcnow()).total_seconds(), 0)
                args = tuple(row.args)
                try:
                    done = self._enqueue(row.function, args, row.key, delay, row.consultation_id)
                except (ImportError, AttributeError):  # a job this version no longer has
                    LOG.error("A recorded job names no function here", extra={"job": row.function})
                    lost += 1
                else:
                    queued += done
                    already_waiting += not done
                pending.forget(row.id)
        finally:
            with suppress(LockError):
                lock.release()
        self._back_up()
        LOG.info(
            "Redis answers: jobs asked for while it did not are queued",
            extra={"queued": queued, "already_waiting": already_waiting, "lost": lost},
        )
        return queued

    # what the team sees

    def jobs_of(self, consultation_id: int) -> list[JobView]:
        """From the queue and RQ's registries, newest entries first (up to ``LIMIT`` of each).
        Registries are read without RQ's clean-up, which is the workers' to run: it retries
        abandoned jobs, and the worker's handler records their failure."""
        from rq.job import Job

        limit = 200
        queue = self.queue
        scheduled = queue.scheduled_job_registry
        started = queue.started_job_registry
        failed = queue.failed_job_registry
        entries: list[tuple[str, str]] = [("queued", i) for i in queue.get_job_ids(0, limit)]
        entries += [
            ("scheduled", i) for i in scheduled.get_job_ids(0, limit - 1, desc=True, cleanup=False)
        ]
        expired = set(started.get_expired_job_ids())
        entries += [
            ("running", i) for i in started.get_job_ids(0, limit - 1, desc=True, cleanup=False)
        ]
        entries += [
            ("failed", i) for i in failed.get_job_ids(0, limit - 1, desc=True, cleanup=False)
        ]
        fetched = Job.fetch_many([i for _, i in entries], connection=self.connection)
        views = []
        for (state, job_id), job in zip(entries, fetched, strict=True):
            if job is None or job.meta.get("consultation_id") != consultation_id:
                continue
            tries = int(job.meta.get("tries", 1))
            left = job.retries_left or 0
            kind = job.meta.get("kind", "")
            if state == "queued":
                views.append(JobView(kind, "queued", _naive_utc(job.enqueued_at)))
            elif state == "scheduled":
                retried = left < tries - 1 or bool(job.number_of_retries)
                due = _naive_utc(scheduled.get_scheduled_time(job))
                views.append(JobView(kind, "retrying" if retried else "scheduled", due))
            elif state == "running" and job_id in expired:  # its worker died: RQ will see to it
                if left:
                    views.append(JobView(kind, "retrying", _naive_utc(job.started_at)))
                else:
                    views.append(
                        JobView(kind, "failed", _naive_utc(job.started_at), tries, "WorkerStopped")
                    )
            elif state == "running":
                views.append(JobView(kind, "running", _naive_utc(job.started_at)))
            else:
                views.append(
                    JobView(
                        kind,
                        "failed",
                        _naive_utc(job.ended_at),
                        tries=max(tries - left, 1),
                        error=job.meta.get("error"),
                        failed_run_id=job.meta.get("failed_run_id"),
                    )
                )
        return views

    def shutdown(self, timeout: float = 30) -> None:
        """Jobs wait in Redis for the workers; nothing runs in this process to stop."""

    def counts(self) -> dict[str, int]:
        """Jobs waiting in the queue or scheduled for later, and jobs in RQ's failed registry
        (read only: no registry clean-up from here)."""
        from rq.registry import FailedJobRegistry, ScheduledJobRegistry

        scheduled = ScheduledJobRegistry(queue=self.queue).get_job_count(cleanup=False)
        failed = FailedJobRegistry(queue=self.queue).get_job_count(cleanup=False)
        return {"queued": self.queue.count + scheduled, "failed": failed}


def job_abandoned(abandoned: Any) -> None:
    """An RQ job whose worker died while running it (RQ's clean-up found it): log its line and,
    when that was its last try, let its kind record the failure (``when_abandoned``). Runs in a
    worker's maintenance, inside the app."""
    context = _rq_context(abandoned)
    started_at = _naive_utc(abandoned.started_at)
    duration = round((utcnow() - started_at).total_seconds() * 1000) if started_at else None
    outcome = "failed" if context.last else "retrying"
    log_finished(
        context.kind, context.consultation_id, duration, outcome, context.attempt, "WorkerStopped"
    )
    if not context.last:
        return
    meta: dict[str, Any] = {"error": "WorkerStopped"}
    try:
        record = getattr(abandoned.func, "when_abandoned", None)
    except (ImportError, AttributeError):
        record = None
    if record is not None:
        meta["failed_run_id"] = record(context.consultation_id, started_at)
    context.remember(**meta)


def init_app(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    app.extensions["deliberate_jobs"] = RQRunner(url) if url else InProcessRunner(app)
    if url:
        app.before_request(_catch_up_now_and_then)


def _catch_up_now_and_then() -> None:
    """Before a request, at most every ``PENDING_JOB_CHECK_SECONDS`` in this process: queue the
    jobs another process (or this one) recorded while Redis did not answer. Never stands in the
    way of the request."""
    runner_ = runner()
    if not isinstance(runner_, RQRunner) or time.monotonic() < runner_._next_check:
        return
    try:
        runner_.catch_up_quietly()
    except Exception:
        LOG.exception("Could not catch up the jobs recorded while Redis did not answer")


def runner() -> JobRunner:
    return current_app.extensions["deliberate_jobs"]


def enqueue(
    function: JobFunction,
    *args: Any,
    key: str | None = None,
    delay: float = 0,
    consultation_id: int | None = None,
) -> bool:
    """Queue ``function(*args)`` now, or once the open unit of work commits (then True: asked
    for). False when a job with the same key is already waiting. ``consultation_id`` names the
    consultation the job is about, for its team's jobs page, when it is not the first argument
    of a job made with ``about_consultation``."""
    queue = partial(
        runner().enqueue, function, *args, key=key, delay=delay, consultation_id=consultation_id
    )
    work = unit_of_work.current()
    if work is None:
        return queue()
    work.after_commit(queue)
    return True
