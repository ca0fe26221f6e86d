"""Job entry points: plain values in, an app context around the work, a unit of work inside.

``analyse`` is the analysis itself, shared by the background job and ``deliberate analyse``: one
worker at a time per consultation, and a failure stored as a failed run rather than a log line
(by a job, on its last try only: earlier tries are retried, see ``deliberate.jobs``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from flask import Flask, current_app, has_app_context, render_template
from flask_babel import force_locale

from deliberate import jobs
from deliberate.i18n import DEFAULT_LANGUAGE
from deliberate.unit_of_work import unit_of_work

LOG = logging.getLogger("deliberate.jobs")

# Called with (statements embedded so far, statements to embed) while embedding.
EmbeddingProgress = Callable[[int, int], None]


@contextmanager
def _app_context() -> Iterator[Flask]:
    """The app context the runner provides: the in-process runner, a command, a test, or an RQ
    worker started with ``--worker-class deliberate.worker.Worker``."""
    from deliberate.extensions import db

    if not has_app_context():
        raise RuntimeError(
            "Jobs run inside the app: start RQ workers with --worker-class deliberate.worker.Worker"
        )
    try:
        yield current_app
    finally:
        db.session.remove()


LOCK_KEY = "deliberate:lock:{name}"


@contextmanager
def _one_at_a_time(name: str) -> Iterator[bool]:
    """With Redis, a lock so that two workers never analyse one consultation at once; the
    in-process runner has a single thread, so it needs none.

    The lock expires ``JOB_LOCK_SECONDS`` after its holder last renewed it, and a thread renews
    it three times in that period while the holder works: a long analysis keeps it, and one whose
    worker died frees it soon after."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        yield True
        return
    from redis import Redis
    from redis.exceptions import LockError

    seconds = int(current_app.config.get("JOB_LOCK_SECONDS", 60))
    lock = Redis.from_url(url).lock(
        LOCK_KEY.format(name=name), timeout=seconds, blocking=False, thread_local=False
    )
    if not lock.acquire():
        yield False
        return
    keeper = _LockKeeper(lock, every=seconds / 3)
    keeper.start()
    try:
        yield True
    finally:
        keeper.stop()
        try:
            lock.release()
        except LockError:  # it expired: the keeper could not renew it in time
            LOG.warning("A job's lock expired before the job ended", extra={"lock": name})


class _LockKeeper(threading.Thread):
    """Renews a lock every ``every`` seconds until stopped."""

    def __init__(self, lock: Any, every: float) -> None:
        super().__init__(name="deliberate-lock-keeper", daemon=True)
        self.lock = lock
        self.every = every
        self._stop_asked = threading.Event()

    def run(self) -> None:
        from redis.exceptions import LockNotOwnedError, RedisError

        while not self._stop_asked.wait(self.every):
            try:
                self.lock.reacquire()
            except LockNotOwnedError:
                return
            except RedisError as error:  # Redis gone a moment: try again at the next turn
                LOG.warning("Could not renew a job's lock", extra={"error": type(error).__name__})

    def stop(self) -> None:
        self._stop_asked.set()
        self.join(timeout=5)


class AnotherWorkerIsOnIt(Exception):
    """Another worker holds the consultation's lock."""


def analyse(
    consultation_id: int,
    *,
    only_when_stale: bool = True,
    refit_topics: bool = False,
    progress: EmbeddingProgress | None = None,
) -> int | None:
    """Embed what has no vector yet, analyse the votes and topics, and store the run; returns its
    id, or None when the newest run has seen everything (and ``only_when_stale``).

    A failure undoes the analysis (no half-written run is ever stored) and is raised again; on
    a job's last try (or in a command) it is also recorded as a failed run, in a transaction of
    its own."""
    from deliberate.models import utcnow
    from deliberate.services import analysis, analysis_runs

    with _one_at_a_time(f"analyse-{consultation_id}") as mine:
        if not mine:
            raise AnotherWorkerIsOnIt(consultation_id)
        if only_when_stale and not analysis_runs.is_stale(consultation_id):
            return None
        started_at = utcnow()
        try:
            # Committed batch by batch first, so a long fit holds no write lock.
            _embed_all_missing(consultation_id, progress)
            with unit_of_work():
                run = analysis.run_analysis(consultation_id, refit_topics=refit_topics)
                _pause_for_the_fault_tests()
            return run.id
        except Exception as error:
            _record_failure(consultation_id, started_at, error)
            raise


def _pause_for_the_fault_tests() -> None:
    """With ``DELIBERATE_TEST_ANALYSIS_PAUSE_SECONDS`` (refused in production), wait with the run
    written but not committed, so a test can kill the worker at that moment."""
    pause = float(current_app.config.get("TEST_ANALYSIS_PAUSE_SECONDS") or 0)
    if pause > 0:
        LOG.warning("Pausing before storing the run (a test setting)", extra={"seconds": pause})
        time.sleep(pause)


class WorkerStopped(Exception):
    """The worker running a job stopped before the job ended (it was killed or restarted)."""


def _worker_stopped(step: str) -> Callable[[int | None, datetime | None], int | None]:
    """What an analysis or embedding job whose worker died on its last try leaves for the
    team: a failed run saying so (``jobs.job_abandoned`` calls it)."""

    def record(consultation_id: int | None, started_at: datetime | None) -> int | None:
        from deliberate.models import utcnow
        from deliberate.services import analysis

        if consultation_id is None:
            return None
        error = WorkerStopped("the worker running it stopped before it ended")
        started_at = started_at or utcnow()
        with _app_context(), unit_of_work():
            run_id = analysis.record_failure(consultation_id, started_at, error, step).id
        return run_id

    return record


@jobs.job("analyse", about_consultation=True, when_abandoned=_worker_stopped("Analysing the votes"))
def analyse_consultation(consultation_id: int) -> jobs.Later | jobs.Skipped | None:
    """The background re-analysis: runs when votes or statements arrived since the newest run.
    Another worker on the same consultation: run again later (not a failure)."""
    with _app_context():
        try:
            run_id = analyse(consultation_id)
        except AnotherWorkerIsOnIt:
            wait = current_app.config.get("JOB_LOCK_WAIT_SECONDS", 30)
            return jobs.Later(wait, "another worker is analysing it")
    return None if run_id is not None else jobs.Skipped("the analysis is up to date")


def _record_failure(
    consultation_id: int, started_at: datetime, error: Exception, step: str = ""
) -> None:
    """On the last try only: a failed run the team sees. In a transaction of its own: the failed
    one may have left the session unusable."""
    from deliberate.extensions import db
    from deliberate.services import analysis

    db.session.rollback()
    if not jobs.last_try():
        return
    with unit_of_work():
        run_id = analysis.record_failure(consultation_id, started_at, error, step).id
    jobs.remember(failed_run_id=run_id)


EMBED_BATCH = 512


def _embed_all_missing(consultation_id: int, progress: EmbeddingProgress | None = None) -> None:
    """Embed what has no vector under the current model, one unit of work per batch."""
    from deliberate.services import embeddings

    embedder = embeddings.current_embedder()
    total = embeddings.count_missing(consultation_id, embedder.fingerprint) if progress else 0
    done = 0
    while True:
        with unit_of_work():
            batch = embeddings.embed_missing(
                consultation_id,
                embedder,
                limit=EMBED_BATCH,
                progress=_offset(progress, done, total),
            )
        if not batch:
            return
        done += batch


def _offset(
    progress: EmbeddingProgress | None, before: int, total: int
) -> Callable[[int], None] | None:
    """A batch's progress (done within it) as progress over the whole embedding."""
    if progress is None:
        return None
    return lambda done: progress(before + done, max(total, before + done))


@jobs.job(
    "embed", about_consultation=True, when_abandoned=_worker_stopped("Embedding the statements")
)
def embed_consultation(consultation_id: int) -> jobs.Later | None:
    """Embed the consultation's new statements (or all of them, after a model change). A failure
    of the last try is recorded as a failed run: the next analysis would need these vectors."""
    from deliberate.models import utcnow

    with _app_context(), _one_at_a_time(f"embed-{consultation_id}") as mine:
        if not mine:
            wait = current_app.config.get("JOB_LOCK_WAIT_SECONDS", 30)
            return jobs.Later(wait, "another worker is embedding its statements")
        started_at = utcnow()
        try:
            _embed_all_missing(consultation_id)
        except Exception as error:
            _record_failure(consultation_id, started_at, error, "Embedding the statements")
            raise
    return None


@jobs.job("similar")
def check_similar_statements(check_id: int) -> None:
    """Compare a held comment's meaning with the consultation's statements."""
    from deliberate.services import similar_statements

    with _app_context(), unit_of_work():
        similar_statements.compare_held_comment(check_id)


@jobs.job("purge")
def purge_expired_data() -> jobs.Skipped | None:
    """The daily purge (deliberate.services.retention): deletes only when no purge is recorded
    in the last day, and with Redis one worker at a time."""
    from deliberate.services import retention

    with _app_context(), _one_at_a_time("retention-purge") as mine:
        if not mine:
            return jobs.Skipped("another worker is purging")
        with unit_of_work():
            purged = retention.purge_if_due()
    return None if purged is not None else jobs.Skipped("purged less than a day ago")


@jobs.job("email")
def send_email(
    to: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    headers: dict[str, str] | None = None,
    language: str = DEFAULT_LANGUAGE,
) -> None:
    """Render ``template`` (under templates/email/) with plain values, in ``language`` (a code of
    ``deliberate.i18n.LANGUAGES``), and send it, with the extra headers
    ``deliberate.mail.queue_email`` allows."""
    from deliberate.mail import deliver

    with _app_context(), force_locale(language):
        deliver(to, subject, render_template(template, **context), headers)
