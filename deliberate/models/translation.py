"""The languages of a consultation's content, and the team's translations of it.

A consultation has a main language (``Consultation.language``) and optional other languages
(``Consultation.other_languages``); every statement is kept in the language it was written in
(``Statement.language``). The mission team may add a translation of a statement, or of the title and
description, into another language of the consultation: shown to those reading in that language,
marked as a translation, with the original a click away. Votes always belong to the statement.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from deliberate.extensions import db
from deliberate.models._types import utcnow

LANGUAGE_CODE_MAX = 8

# The languages a consultation's content may be in, each named in its own language (the codes of
# BCP 47, as ``lang`` attributes take them). The interface languages are the same two
# (deliberate/i18n.py).
CONTENT_LANGUAGES = {"en": "English", "cy": "Cymraeg"}


class StatementTranslation(db.Model):
    """A statement's words in another language, written by someone on the mission team."""

    __tablename__ = "statement_translations"
    __table_args__ = (UniqueConstraint("statement_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(
        ForeignKey("statements.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(String(LANGUAGE_CODE_MAX))
    text: Mapped[str] = mapped_column(Text)
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConsultationTranslation(db.Model):
    """A consultation's title and description in one of its other languages."""

    __tablename__ = "consultation_translations"
    __table_args__ = (UniqueConstraint("consultation_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    consultation_id: Mapped[int] = mapped_column(
        ForeignKey("consultations.id", ondelete="CASCADE"), index=True
    )
    language: Mapped[str] = mapped_column(String(LANGUAGE_CODE_MAX))
    title: Mapped[str] = mapped_column(String(200))
    context: Mapped[str] = mapped_column(Text, default="")
    by_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
