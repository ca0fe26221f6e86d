"""What statements mean, as vectors: stored once per statement and model, and comments held back
while the site checks whether someone has already made the same point."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from deliberate.extensions import db
from deliberate.models._types import enum_column, utcnow

FINGERPRINT_MAX = 200


def new_held_token() -> str:
    """A held comment's address: 32 random bytes, so it is never guessed nor handed out twice."""
    return secrets.token_urlsafe(32)


class StatementEmbedding(db.Model):
    """One statement's vector under one model. Embedding costs ~4 ms a statement, so it is done
    once, in a background job, and every later analysis reads it back. The model's fingerprint
    is part of the key: after a model change the old vectors are simply not used."""

    __tablename__ = "statement_embeddings"
    __table_args__ = (UniqueConstraint("statement_id", "model_fingerprint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unique key's index (statement_id first) also serves the foreign key.
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    model_fingerprint: Mapped[str] = mapped_column(String(FINGERPRINT_MAX))
    dimension: Mapped[int]
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float32, little-endian, L2-normalised
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CheckStatus(enum.StrEnum):
    CHECKING = "checking"  # waiting for the background job to compare meanings
    SIMILAR = "similar"  # similar statements exist: the author chooses what to do
    CLEAR = "clear"  # nothing close: the comment is posted when its author's page next loads


class SimilarityCheck(db.Model):
    """A comment held back for a moment while a job compares its meaning with the consultation's
    statements: the model never loads on the request path, so the comparison happens in a job and
    the author's browser waits on a page that refreshes itself. Deleted once the comment is
    posted; the vector computed here becomes the statement's stored embedding.

    Its page is found by ``token``, random and never reused (SQLite hands a deleted row's id to
    the next row, so an id in a URL or a session could reach someone else's comment), and only
    its author may see or post it: the account (``author_user_id``) or the anonymous browser
    (``author_token_hash``, the hash of the participant token it writes with)."""

    __tablename__ = "similarity_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, default=new_held_token)
    author_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    author_token_hash: Mapped[str | None] = mapped_column(String(64))
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[CheckStatus] = mapped_column(
        enum_column(CheckStatus), default=CheckStatus.CHECKING
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_at: Mapped[datetime | None]
    # [{"statement_id": 12, "similarity": 0.91}, ...], most similar first
    similar: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    model_fingerprint: Mapped[str | None] = mapped_column(String(FINGERPRINT_MAX))
    vector: Mapped[bytes | None] = mapped_column(LargeBinary)
