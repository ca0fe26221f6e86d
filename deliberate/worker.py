"""The RQ worker of the production shape: ``rq worker --worker-class deliberate.worker.Worker``.

It builds the app once per worker process, from the same environment as the site, and runs every
job inside its app context; the embedding model, once loaded, stays for the worker's life
(``SimpleWorker`` runs jobs in this process rather than a fork per job). Job functions therefore
never import the app factory, so services can name them without importing every blueprint.

A worker that dies mid-job (killed, out of memory, its machine gone) leaves the job in RQ's
StartedJobRegistry; RQ retries such an "abandoned" job, or fails it on its last try, once the
registry entry expires and a worker cleans the registries. A ``SimpleWorker`` has no parent
process to keep that entry fresh, so RQ would let it live as long as the job's time limit (an
hour, for an analysis) plus a minute. This worker keeps it fresh from a thread instead, every
third of ``JOB_ABANDONED_SECONDS``, with entries that live ``JOB_ABANDONED_SECONDS``; and it
cleans the registries (and queues the jobs kept in the database while Redis did not answer) that
often too, listening for jobs no longer than that between two cleanings. So a job whose worker
died is retried about twice ``JOB_ABANDONED_SECONDS`` + the retry's wait later, at worst, while any
worker of the queue is idle.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from flask import Flask
from rq import SimpleWorker
from rq.exceptions import AbandonedJobError
from rq.worker import WorkerStatus

LOG = logging.getLogger("deliberate.jobs")


class Worker(SimpleWorker):
    def __init__(self, *args: Any, app: Flask | None = None, **kwargs: Any) -> None:
        self._app = app
        self._abandoned_after: int | None = None  # read from the app's settings at start
        super().__init__(*args, **kwargs)
        self.push_exc_handler(self._on_abandoned)

    @property
    def app(self) -> Flask:
        if self._app is None:
            from deliberate import create_app

            self._app = create_app()
        return self._app

    def bootstrap(self, *args: Any, **kwargs: Any) -> None:
        self._abandoned_after = int(self.app.config.get("JOB_ABANDONED_SECONDS", 30))
        self.maintenance_interval = self._abandoned_after
        super().bootstrap(*args, **kwargs)

    @property
    def dequeue_timeout(self) -> int:
        """Wait for a job no longer than a cleaning interval, so an idle worker cleans on time."""
        timeout = super().dequeue_timeout
        return min(timeout, self._abandoned_after) if self._abandoned_after else timeout

    def get_heartbeat_ttl(self, job: Any, working_time: float = 0.0) -> int:
        """How long a running job's registry entry lives without a heartbeat."""
        if self._abandoned_after:
            return self._abandoned_after
        return super().get_heartbeat_ttl(job, working_time)

    def execute_job(self, job: Any, queue: Any) -> None:
        """``SimpleWorker.execute_job``, with a heartbeat beside the job while it runs."""
        execution = self.prepare_execution(job)
        every = (self._abandoned_after or 30) / 3
        with _Heartbeats(self, job, execution, every):
            self.perform_job(job, queue, execution)
        self.set_state(WorkerStatus.IDLE)

    def perform_job(self, *args: Any, **kwargs: Any) -> bool:
        with self.app.app_context():
            return bool(super().perform_job(*args, **kwargs))

    def run_maintenance_tasks(self) -> None:
        """RQ's cleaning (which retries abandoned jobs and calls ``_on_abandoned``), then the
        jobs kept in the database while Redis did not answer."""
        from deliberate import jobs

        with self.app.app_context():
            super().run_maintenance_tasks()
            runner = jobs.runner()
            if isinstance(runner, jobs.RQRunner):
                runner.catch_up_quietly()

    def _on_abandoned(self, job: Any, exc_type: Any, exc_value: Any, traceback: Any) -> None:
        """RQ's exception handler, also called by its cleaning for each abandoned job."""
        if exc_type is None or not issubclass(exc_type, AbandonedJobError):
            return None  # RQ's own handling, then the next handler
        from deliberate import jobs

        with self.app.app_context():
            try:
                jobs.job_abandoned(job)
            except Exception:  # the retry itself must still happen
                LOG.exception("Could not record an abandoned job")
        return None


class _Heartbeats(threading.Thread):
    """Tells Redis every ``every`` seconds that the worker and its job are alive (what RQ's
    forking worker does from its parent process)."""

    def __init__(self, worker: Worker, job: Any, execution: Any, every: float) -> None:
        super().__init__(name="deliberate-heartbeats", daemon=True)
        self.worker, self.job, self.execution, self.every = worker, job, execution, every
        self._stop_asked = threading.Event()

    def run(self) -> None:
        while not self._stop_asked.wait(self.every):
            try:
                self.worker.maintain_heartbeats(self.job, self.execution)
            except Exception as error:  # Redis gone a moment: try again at the next beat
                LOG.warning("Could not send a heartbeat", extra={"error": type(error).__name__})

    def __enter__(self) -> _Heartbeats:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop_asked.set()
        self.join(timeout=10)
