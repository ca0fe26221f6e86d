"""Similar statements: a comment whose meaning is very close to a statement people can already vote
on is shown to its author with those statements, to vote on them instead or post it anyway.

The model never loads on the request path, so the comparison is a background job:

1. the comment is checked as usual (closed consultation, sign-in, empty, too long, exact or
   normalised duplicate: all refused at once, by ``participation.add_comment``); if it passes and
   the consultation has vectors to compare with, it is held as a ``SimilarityCheck`` and a job is
   queued;
2. the author's browser waits on a page that refreshes itself (no JavaScript needed), with a button
   to post without waiting;
3. the job embeds the comment and compares it with the stored vectors of the votable statements;
4. nothing close: the waiting page posts the comment (the author asked for that with their POST;
   the check only delayed it) and shows the usual confirmation. Something close: the page lists
   it, with links to vote on it and a button to post anyway.

The vector computed for the check becomes the posted statement's stored embedding.

Threshold: cosine >= 0.80 with all-MiniLM-L6-v2, measured on the six real Polis conversations
(713 comments). Hand-written paraphrases of 12 real comments scored 0.72-0.91 against the comment
they restate (8 of 12 at or above 0.80); 9 new points on the same subjects scored at most 0.62
(none flagged). Within the real conversations, the 86 pairs at or above 0.80 are mostly one point
written twice (re-posts, "I think X" / "X"); the false alarms are short demographic or opposite
statements ("I voted to Remain" / "I voted to Leave", 0.86), which their author simply posts
anyway. Lower thresholds flag different points on one subject (0.77: "Most New Zealanders believe
pest management is somebody else's problem" / "we must stop pest control").
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from flask import current_app
from sqlalchemy import delete, select

from deliberate.extensions import db, token_hash
from deliberate.models import (
    CheckStatus,
    Consultation,
    ModerationStatus,
    SimilarityCheck,
    Statement,
    utcnow,
)
from deliberate.services import embeddings, participation
from deliberate.services.errors import Refused
from deliberate.services.participation import CommentOutcome, Visitor
from deliberate.services.statements import clean_statement_text, find_duplicate

SIMILARITY_THRESHOLD = 0.80
MAX_SHOWN = 3
PATIENCE = timedelta(seconds=30)  # after this the waiting page stops refreshing
EMBED_INLINE_LIMIT = 256  # more unembedded statements than this go to their own job
HELD_FOR = timedelta(days=1)  # a held comment nobody came back for is forgotten


def hold_for_check(
    consultation: Consultation, visitor: Visitor, text: str | None
) -> SimilarityCheck | None:
    """Hold a comment back for a similarity check; None when it goes straight on to
    ``participation.add_comment``, which posts it or refuses it in the usual words (so every
    refusal stays immediate), or when there is nothing embedded yet to compare it with."""
    if participation.why_not_accepting(consultation):
        return None
    if visitor.user is None and not consultation.allow_anonymous:
        return None
    try:
        text = clean_statement_text(text)
    except Refused:
        return None
    if find_duplicate(consultation, text) is not None:
        return None
    if not embeddings.has_any_vectors(consultation.id):
        return None
    check = SimilarityCheck(consultation_id=consultation.id, text=text, similar=[])
    if visitor.user is not None:
        check.author_user_id = visitor.user.id
    else:
        writes_with = visitor.fresh_token
        if participation.find_participant(consultation, Visitor(token=visitor.token)) is not None:
            writes_with = visitor.token
        if not writes_with:
            raise ValueError("an anonymous visitor needs a token to hold a comment")
        check.author_token_hash = token_hash(writes_with)
    db.session.add(check)
    db.session.flush()
    return check


def request_check(check: SimilarityCheck) -> bool:
    """Queue the comparison, once the held comment is saved."""
    from deliberate import jobs
    from deliberate.jobs.tasks import check_similar_statements

    return jobs.enqueue(
        check_similar_statements,
        check.id,
        key=f"similar-{check.id}",
        consultation_id=check.consultation_id,
    )


def held_comment(consultation: Consultation, check_id: int) -> SimilarityCheck | None:
    check = db.session.get(SimilarityCheck, check_id)
    if check is None or check.consultation_id != consultation.id:
        return None
    return check


def held_comment_by_token(consultation: Consultation, token: str) -> SimilarityCheck | None:
    """The held comment at this address (its random token), whoever wrote it."""
    return db.session.scalar(
        select(SimilarityCheck).where(
            SimilarityCheck.token == token, SimilarityCheck.consultation_id == consultation.id
        )
    )


def is_author(check: SimilarityCheck, visitor: Visitor) -> bool:
    """Whether this visitor wrote the held comment: the same account, or (never signed in) a
    browser holding the participant token it was written with. Nobody else may see or post it,
    whatever session or cookie they replay."""
    if check.author_user_id is not None:
        return visitor.user is not None and visitor.user.id == check.author_user_id
    if visitor.user is not None or check.author_token_hash is None:
        return False
    held_by = {token_hash(t) for t in (visitor.token, visitor.fresh_token) if t}
    return check.author_token_hash in held_by


def is_overdue(check: SimilarityCheck) -> bool:
    """The job has not answered in reasonable time (workers down or busy): stop waiting."""
    return check.status is CheckStatus.CHECKING and utcnow() - check.created_at > PATIENCE


def similar_statements(check: SimilarityCheck) -> list[tuple[Statement, float]]:
    """The statements found close to the held comment that can still be voted on, closest first."""
    found = {item["statement_id"]: item["similarity"] for item in check.similar or []}
    if not found:
        return []
    statements = db.session.scalars(
        select(Statement).where(
            Statement.id.in_(found),
            Statement.moderation == ModerationStatus.ACCEPTED,
            Statement.hidden_by_reports_at.is_(None),
        )
    )
    return sorted(((s, found[s.id]) for s in statements), key=lambda pair: -pair[1])


def post_held_comment(
    consultation: Consultation, visitor: Visitor, check_id: int
) -> CommentOutcome | None:
    """Post a held comment as its author; None when it was already posted (a second tab, a
    double click). Refusals are those of ``participation.add_comment``."""
    check = held_comment(consultation, check_id)
    if check is None:
        return None
    text, fingerprint, vector = check.text, check.model_fingerprint, check.vector
    db.session.expunge(check)
    taken = db.session.execute(
        delete(SimilarityCheck).where(SimilarityCheck.id == check_id),
        execution_options={"synchronize_session": False},
    ).rowcount
    if taken != 1:
        return None
    outcome = participation.add_comment(consultation, visitor, text)
    if vector is not None and fingerprint:
        embeddings.store_vectors(
            fingerprint, [outcome.statement.id], [embeddings.vector_from_bytes(vector)]
        )
    return outcome


def drop_held_comment(check_id: int) -> None:
    db.session.execute(
        delete(SimilarityCheck).where(SimilarityCheck.id == check_id),
        execution_options={"synchronize_session": False},
    )


# -- the background job ----------------------------------------------------------------------------


def compare_held_comment(check_id: int) -> None:
    """Embed the held comment and find the votable statements closest in meaning. Flushes."""
    check = db.session.get(SimilarityCheck, check_id)
    if check is None or check.status is not CheckStatus.CHECKING:
        return
    consultation_id = check.consultation_id
    embedder = embeddings.current_embedder()
    # Statements written in the last few seconds, or all of them after a model change.
    embedded = embeddings.embed_missing(consultation_id, embedder, limit=EMBED_INLINE_LIMIT)
    if embedded == EMBED_INLINE_LIMIT:
        embeddings.request_embedding(consultation_id)
    votable = db.session.scalars(
        select(Statement.id).where(
            Statement.consultation_id == consultation_id,
            Statement.moderation == ModerationStatus.ACCEPTED,
            Statement.hidden_by_reports_at.is_(None),
        )
    ).all()
    stored = embeddings.load_vectors(consultation_id, embedder.fingerprint, votable)
    vector = embedder.embed([check.text])[0]
    similar: list[dict] = []
    if stored:
        ids = list(stored)
        similarity = np.vstack([stored[sid] for sid in ids]) @ vector
        threshold = current_app.config.get("SIMILAR_STATEMENT_THRESHOLD", SIMILARITY_THRESHOLD)
        for i in np.argsort(-similarity, kind="stable")[:MAX_SHOWN]:
            if similarity[i] >= threshold:
                similar.append(
                    {"statement_id": ids[i], "similarity": round(float(similarity[i]), 4)}
                )
    check.similar = similar
    check.status = CheckStatus.SIMILAR if similar else CheckStatus.CLEAR
    check.model_fingerprint = embedder.fingerprint
    check.vector = embeddings.vector_bytes(vector)
    check.checked_at = utcnow()
    db.session.execute(
        delete(SimilarityCheck).where(
            SimilarityCheck.consultation_id == consultation_id,
            SimilarityCheck.created_at < utcnow() - HELD_FOR,
        ),
        execution_options={"synchronize_session": False},
    )
    db.session.flush()
