"""Embedding each statement once and keeping its vector, under the model's fingerprint.

Vectors are written by background jobs and commands (``embed_missing``) and read back by every
later analysis and similarity check. The model is loaded by ``deliberate.analysis.embeddings``
inside a function, once per worker process; nothing here imports torch, so views may import
``request_embedding`` from this module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from flask import current_app
from sqlalchemy import exists, func, select

from deliberate.extensions import db
from deliberate.models import Statement, StatementEmbedding, utcnow

if TYPE_CHECKING:
    from deliberate.analysis.embeddings import Embedder

# New statements wait this long before their job, so a burst of comments is embedded at once.
EMBEDDING_DELAY_SECONDS = 10.0
VECTOR_DTYPE = np.dtype("<f4")


def current_embedder() -> Embedder:
    """The model the settings name (DELIBERATE_EMBEDDING_MODEL), loaded once per process."""
    from deliberate.analysis.embeddings import get_embedder

    return get_embedder(current_app.config.get("DELIBERATE_EMBEDDING_MODEL"))


def request_embedding(consultation_id: int) -> bool:
    """Ask for the consultation's new statements to be embedded soon, in one background job."""
    from deliberate import jobs
    from deliberate.jobs.tasks import embed_consultation

    return jobs.enqueue(
        embed_consultation,
        consultation_id,
        key=f"embed-{consultation_id}",
        delay=current_app.config.get("EMBEDDING_DELAY_SECONDS", EMBEDDING_DELAY_SECONDS),
    )


def vector_bytes(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype=VECTOR_DTYPE).tobytes()


def vector_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=VECTOR_DTYPE)


def _has_vector(fingerprint: str):
    return exists().where(
        StatementEmbedding.statement_id == Statement.id,
        StatementEmbedding.model_fingerprint == fingerprint,
    )


def count_missing(consultation_id: int, fingerprint: str) -> int:
    return db.session.scalar(
        select(func.count(Statement.id)).where(
            Statement.consultation_id == consultation_id, ~_has_vector(fingerprint)
        )
    )


def missing_statements(
    consultation_id: int, fingerprint: str, limit: int | None = None
) -> list[tuple[int, str]]:
    """Statements with no vector under this model, oldest first. Every statement is embedded,
    whatever its moderation: accepting a pending one later then needs no model."""
    query = (
        select(Statement.id, Statement.text)
        .where(Statement.consultation_id == consultation_id, ~_has_vector(fingerprint))
        .order_by(Statement.id)
    )
    if limit is not None:
        query = query.limit(limit)
    return [(sid, text) for sid, text in db.session.execute(query)]


def store_vectors(fingerprint: str, statement_ids: Sequence[int], vectors: np.ndarray) -> None:
    """Insert vectors; one already stored for a statement and model is kept as it is, so a job and
    a command embedding the same statements at once do not fail."""
    if not len(statement_ids):
        return
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    now = utcnow()
    rows = [
        {
            "statement_id": int(sid),
            "model_fingerprint": fingerprint,
            "dimension": int(vector.shape[0]),
            "vector": vector_bytes(vector),
            "created_at": now,
        }
        for sid, vector in zip(statement_ids, vectors, strict=True)
    ]
    statement = insert(StatementEmbedding).on_conflict_do_nothing(
        index_elements=["statement_id", "model_fingerprint"]
    )
    db.session.execute(statement, rows)
    db.session.flush()


def embed_missing(
    consultation_id: int,
    embedder: Embedder | None = None,
    *,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Embed statements that have no vector under the current model; returns how many.

    The model runs before anything is written, so the write transaction stays short (SQLite
    lets one writer at a time). Flushes; the caller commits."""
    embedder = embedder or current_embedder()
    todo = missing_statements(consultation_id, embedder.fingerprint, limit)
    if not todo:
        return 0
    vectors = embedder.embed([text for _, text in todo], progress=progress)
    store_vectors(embedder.fingerprint, [sid for sid, _ in todo], vectors)
    return len(todo)


def load_vectors(
    consultation_id: int, fingerprint: str, statement_ids: Iterable[int] | None = None
) -> dict[int, np.ndarray]:
    """Stored vectors of the consultation's statements under one model, by statement id."""
    rows = db.session.execute(
        select(StatementEmbedding.statement_id, StatementEmbedding.vector)
        .join(Statement, Statement.id == StatementEmbedding.statement_id)
        .where(
            Statement.consultation_id == consultation_id,
            StatementEmbedding.model_fingerprint == fingerprint,
        )
    )
    wanted = None if statement_ids is None else set(statement_ids)
    return {sid: vector_from_bytes(data) for sid, data in rows if wanted is None or sid in wanted}


def has_any_vectors(consultation_id: int) -> bool:
    """Whether anything of the consultation has been embedded yet, under any model."""
    return db.session.scalar(
        select(
            exists().where(
                StatementEmbedding.statement_id == Statement.id,
                Statement.consultation_id == consultation_id,
            )
        )
    )
