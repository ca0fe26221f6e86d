"""Job entry points: plain values in, an app context around the work, a unit of work inside.

``analyse`` is the analysis itself, shared by the background job and ``deliberate analyse``: one
worker at a time per consultation, and a failure stored as a failed run rather than a log line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from flask import Flask, current_app, has_app_context, render_template

from deliberate.unit_of_work import unit_of_work

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


@contextmanager
def _one_at_a_time(name: str) -> Iterator[bool]:
    """With Redis, a lock so that two workers never analyse one consultation at once; the
    in-process runner has a single thread, so it needs none."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        yield True
        return
    from redis import Redis

    lock = Redis.from_url(url).lock(f"deliberate:lock:{name}", timeout=1800, blocking=False)
    acquired = lock.acquire()
    try:
        yield acquired
    finally:
        if acquired:
            lock.release()


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

    A failure undoes the analysis (no half-written run is ever stored), is recorded as a failed
    run in a transaction of its own, and is raised again."""
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
            return run.id
        except Exception as error:
            _record_failure(consultation_id, started_at, error)
            raise


def analyse_consultation(consultation_id: int) -> None:
    """The background re-analysis: runs when votes or statements arrived since the newest run."""
    from deliberate.services import analysis_runs

    with _app_context():
        try:
            analyse(consultation_id)
        except AnotherWorkerIsOnIt:  # look again once it is likely done
            analysis_runs.request_analysis(consultation_id)


def _record_failure(
    consultation_id: int, started_at: datetime, error: Exception, step: str = ""
) -> None:
    """In a transaction of its own: the failed one may have left the session unusable."""
    from deliberate.extensions import db
    from deliberate.services import analysis

    db.session.rollback()
    with unit_of_work():
        analysis.record_failure(consultation_id, started_at, error, step)


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


def embed_consultation(consultation_id: int) -> None:
    """Embed the consultation's new statements (or all of them, after a model change). A failure
    is recorded as a failed run: the next analysis would need these vectors."""
    from deliberate.models import utcnow
    from deliberate.services import embeddings

    with _app_context(), _one_at_a_time(f"embed-{consultation_id}") as mine:
        if not mine:
            embeddings.request_embedding(consultation_id)
            return
        started_at = utcnow()
        try:
            _embed_all_missing(consultation_id)
        except Exception as error:
            _record_failure(consultation_id, started_at, error, "Embedding the statements")
            raise


def check_similar_statements(check_id: int) -> None:
    """Compare a held comment's meaning with the consultation's statements."""
    from deliberate.services import similar_statements

    with _app_context(), unit_of_work():
        similar_statements.compare_held_comment(check_id)


def purge_expired_data() -> None:
    """The daily purge (deliberate.services.retention): deletes only when no purge is recorded
    in the last day, and with Redis one worker at a time."""
    from deliberate.services import retention

    with _app_context(), _one_at_a_time("retention-purge") as mine:
        if not mine:
            return
        with unit_of_work():
            retention.purge_if_due()


def send_email(to: str, subject: str, template: str, context: dict[str, Any]) -> None:
    """Render ``template`` (under templates/email/) with plain values and send it."""
    from deliberate.mail import deliver

    with _app_context():
        deliver(to, subject, render_template(template, **context))
