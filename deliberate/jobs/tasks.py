"""Job entry points: plain ids in, an app context around the work, the commit at the end."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

from flask import Flask, current_app, has_app_context


@cache
def _worker_app() -> Flask:
    """The app of an RQ worker process, built once from the same environment as the site."""
    from deliberate import create_app

    return create_app()


@contextmanager
def _app_context() -> Iterator[Flask]:
    if has_app_context():  # the in-process runner (or a test) already provides one
        yield current_app
        return
    with _worker_app().app_context():
        yield current_app


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


def analyse_consultation(consultation_id: int) -> None:
    from deliberate.extensions import db
    from deliberate.services import analysis, analysis_runs

    with _app_context(), _one_at_a_time(f"analyse-{consultation_id}") as mine:
        if not mine:  # another worker is on it: look again once it is likely done
            analysis_runs.request_analysis(consultation_id)
            return
        if not analysis_runs.is_stale(consultation_id):
            return
        try:
            _embed_all_missing(consultation_id)  # committed first: a long fit keeps no lock
            analysis.run_analysis(consultation_id)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        finally:
            db.session.remove()


EMBED_BATCH = 512


def _embed_all_missing(consultation_id: int) -> None:
    """Embed what has no vector under the current model, committing batch by batch."""
    from deliberate.extensions import db
    from deliberate.services import embeddings

    embedder = embeddings.current_embedder()
    while embeddings.embed_missing(consultation_id, embedder, limit=EMBED_BATCH):
        db.session.commit()


def embed_consultation(consultation_id: int) -> None:
    """Embed the consultation's new statements (or all of them, after a model change)."""
    from deliberate.extensions import db
    from deliberate.services import embeddings

    with _app_context(), _one_at_a_time(f"embed-{consultation_id}") as mine:
        if not mine:
            embeddings.request_embedding(consultation_id)
            return
        try:
            _embed_all_missing(consultation_id)
        except Exception:
            db.session.rollback()
            raise
        finally:
            db.session.remove()


def check_similar_statements(check_id: int) -> None:
    """Compare a held comment's meaning with the consultation's statements."""
    from deliberate.extensions import db
    from deliberate.services import similar_statements

    with _app_context():
        try:
            similar_statements.compare_held_comment(check_id)
            db.session.commit()
        except Exception:
            db.session.rollback()
            raise
        finally:
            db.session.remove()
