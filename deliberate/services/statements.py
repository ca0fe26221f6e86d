"""Writing statements: seeds from the mission team and comments from participants alike."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select

from deliberate.extensions import db
from deliberate.models import (
    Consultation,
    ModerationMode,
    ModerationStatus,
    Participant,
    RemovalReason,
    Statement,
    StatementEmbedding,
    StatementOrigin,
    StatementTranslation,
    normalise_statement,
    utcnow,
)
from deliberate.models.participation import STATEMENT_MAX
from deliberate.services.errors import Refused


class DuplicateStatement(Refused):
    """The statement already exists; ``original`` is the one people should vote on instead."""

    def __init__(self, original: Statement):
        super().__init__(_("This statement has already been made: vote on it instead"), "text")
        self.original = original


def clean_statement_text(text: str | None) -> str:
    """Trim and check a statement's text; refuse it with a message a person can act on."""
    # NUL has no meaning in text and PostgreSQL refuses to store it.
    text = (text or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if not text:
        raise Refused(_("Enter your statement"), "text")
    if len(text) > STATEMENT_MAX:
        raise Refused(_("Statement must be %(max)s characters or fewer", max=STATEMENT_MAX), "text")
    if not normalise_statement(text):
        raise Refused(_("Statement must contain words, not only punctuation or symbols"), "text")
    return text


def find_duplicate(consultation: Consultation, text: str) -> Statement | None:
    """An existing statement of the consultation with the same normalised text, if any.

    Rejected statements count too: re-posting a rejected comment word for word is not a new one.
    """
    return db.session.scalar(
        select(Statement)
        .where(
            Statement.consultation_id == consultation.id,
            Statement.normalised_text == normalise_statement(text),
        )
        .order_by(Statement.id)
        .limit(1)
    )


def write_statement(
    consultation: Consultation,
    text: str | None,
    *,
    origin: StatementOrigin,
    author: Participant | None = None,
    language: str | None = None,
) -> Statement:
    """Add a statement: seeds go live at once, comments as the consultation's moderation says."""
    text = clean_statement_text(text)
    original = find_duplicate(consultation, text)
    if original is not None:
        raise DuplicateStatement(original)
    live = origin is StatementOrigin.SEED or consultation.moderation_mode is ModerationMode.POST
    statement = Statement(
        consultation_id=consultation.id,
        text=text,
        normalised_text=normalise_statement(text),
        origin=origin,
        moderation=ModerationStatus.ACCEPTED if live else ModerationStatus.PENDING,
        author_id=author.id if author else None,
        author_role=author.role if author else None,
        moderated_at=utcnow() if live else None,
        language=language or consultation.language,
    )
    db.session.add(statement)
    db.session.flush()
    return statement


def find_other_duplicate(statement: Statement, text: str) -> Statement | None:
    """Another statement of the consultation that says ``text`` (the statement itself aside)."""
    return db.session.scalar(
        select(Statement)
        .where(
            Statement.consultation_id == statement.consultation_id,
            Statement.normalised_text == normalise_statement(text),
            Statement.id != statement.id,
        )
        .order_by(Statement.id)
        .limit(1)
    )


def _count_change(consultation: Consultation) -> None:
    """One more change to a written statement that analyses read: runs made before it are stale.
    Counted in the database (not read, added and written back), so two moderators at once both
    count."""
    consultation.moderation_changes = Consultation.moderation_changes + 1


def moderate_statement(
    statement: Statement,
    accept: bool,
    removal_reason: RemovalReason | None = None,
    note: str | None = None,
) -> Statement:
    """Accept or remove a statement; a removal keeps its reason and the note for its author."""
    statement.moderation = ModerationStatus.ACCEPTED if accept else ModerationStatus.REJECTED
    statement.moderated_at = utcnow()
    statement.removal_reason = None if accept else removal_reason
    statement.removal_note = None if accept else note
    _count_change(statement.consultation)
    db.session.flush()
    return statement


def redact_statement(statement: Statement, text: str) -> Statement:
    """Put the moderators' words in place of the statement's: the old words are kept nowhere.

    Its vectors (computed from the old words) go too, so similarity checks and topics read the new
    words once the statement is embedded again; so do its translations, which may hold the words
    taken out (the team translates the new words again). Its votes stay."""
    statement.text = text
    statement.normalised_text = normalise_statement(text)
    statement.redacted_at = utcnow()
    db.session.execute(
        delete(StatementEmbedding).where(StatementEmbedding.statement_id == statement.id)
    )
    db.session.execute(
        delete(StatementTranslation).where(StatementTranslation.statement_id == statement.id)
    )
    _count_change(statement.consultation)
    db.session.flush()
    return statement
