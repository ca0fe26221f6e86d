"""A statement's near neighbours in meaning, for moderators acting on many alike at once (a
re-posted comment, a wave of spam, one point written ten ways).

Read from the stored embeddings only: no model is loaded on the request path. The statement's own
newest vector decides the model (its fingerprint): the consultation's vectors under that model are
compared with it by cosine similarity in numpy. A statement the embedding job has not reached yet
has no neighbours to show, and the page says so. Every statement of the consultation is a
candidate, whatever its moderation, so a moderator can also see what was already removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import Statement, StatementEmbedding
from deliberate.services import embeddings

NEIGHBOURS_SHOWN = 20


@dataclass(frozen=True)
class Neighbour:
    statement: Statement
    similarity: float  # cosine similarity of the two vectors, -1 to 1


@dataclass(frozen=True)
class Neighbourhood:
    processed: bool  # the statement has a stored vector to compare with
    neighbours: list[Neighbour] = field(default_factory=list)  # most similar first


def _own_vector(statement: Statement) -> tuple[str, np.ndarray] | None:
    row = db.session.execute(
        select(StatementEmbedding.model_fingerprint, StatementEmbedding.vector)
        .where(StatementEmbedding.statement_id == statement.id)
        .order_by(StatementEmbedding.created_at.desc(), StatementEmbedding.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return row[0], embeddings.vector_from_bytes(row[1])


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def near_neighbours(statement: Statement, limit: int = NEIGHBOURS_SHOWN) -> Neighbourhood:
    """The statements of the same consultation closest in meaning, most similar first (ties by
    age, oldest first)."""
    own = _own_vector(statement)
    if own is None:
        return Neighbourhood(processed=False)
    fingerprint, vector = own
    stored = embeddings.load_vectors(statement.consultation_id, fingerprint)
    others = sorted(
        sid for sid, v in stored.items() if sid != statement.id and v.shape == vector.shape
    )
    if not others:
        return Neighbourhood(processed=True)
    matrix = _unit(np.vstack([stored[sid] for sid in others]).astype(np.float64))
    similarity = matrix @ _unit(vector.astype(np.float64))
    order = np.argsort(-similarity, kind="stable")[:limit]
    chosen = [others[i] for i in order]
    found = {s.id: s for s in db.session.scalars(select(Statement).where(Statement.id.in_(chosen)))}
    return Neighbourhood(
        processed=True,
        neighbours=[
            Neighbour(found[others[i]], round(float(similarity[i]), 4))
            for i in order
            if others[i] in found
        ],
    )
