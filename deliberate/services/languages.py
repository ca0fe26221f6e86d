"""The languages of a consultation's content: which ones it takes part in, and the mission team's
translations of its title, description and statements (models/translation.py).

A statement is always kept in the language it was written in; a translation is an extra text,
shown to people reading in that language and marked as such, the original a click away. Votes
belong to the statement whatever language it was read in, so nothing here touches them.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import (
    Consultation,
    ConsultationState,
    ConsultationTranslation,
    ModerationStatus,
    Statement,
    StatementTranslation,
    User,
    utcnow,
)
from deliberate.models.consultation import TITLE_MAX
from deliberate.models.translation import CONTENT_LANGUAGES
from deliberate.services import audit
from deliberate.services.errors import Refused
from deliberate.services.statements import clean_statement_text


def _require_team(user: User, consultation: Consultation) -> None:
    if not (user.is_authenticated and user.is_on_team(consultation.mission_id)):
        raise Refused("Only the mission team can change the languages of this consultation")


def language_of_new_statement(consultation: Consultation, interface_language: str | None) -> str:
    """The language of a statement written now: the interface language it was written in, when
    that is one of the consultation's languages; else the consultation's main language."""
    if consultation.is_multilingual and interface_language in consultation.languages:
        return interface_language
    return consultation.language


def set_languages(
    user: User, consultation: Consultation, main: str, others: list[str]
) -> Consultation:
    """Choose the main language and the other languages. The main language is fixed once the
    consultation has opened (its seed statements and title are written in it)."""
    _require_team(user, consultation)
    if main not in CONTENT_LANGUAGES:
        raise Refused("Choose the main language", "language")
    unknown = [code for code in others if code not in CONTENT_LANGUAGES]
    if unknown:
        raise Refused("Choose other languages from the list", "other_languages")
    if main != consultation.language and consultation.state is not ConsultationState.DRAFT:
        raise Refused(
            "The main language cannot change once the consultation has opened", "language"
        )
    consultation.language = main
    consultation.other_languages = ",".join(sorted({c for c in others if c != main}))
    db.session.flush()
    audit.record(
        "consultation.languages",
        consultation,
        actor_id=user.id,
        language=main,
        other_languages=consultation.other_languages,
    )
    return consultation


def _check_target(consultation: Consultation, language: str, original_language: str) -> None:
    if language not in consultation.languages:
        raise Refused("Choose one of the consultation's languages", "language")
    if language == original_language:
        raise Refused("Choose a language other than the one it is written in", "language")


def translate_statement(user: User, statement: Statement, language: str, text: str | None):
    """Add or replace the team's translation of a statement into one of the consultation's
    languages. The statement, its language and its votes are untouched."""
    consultation = statement.consultation
    _require_team(user, consultation)
    _check_target(consultation, language, statement.language)
    text = clean_statement_text(text)
    translation = next((t for t in statement.translations if t.language == language), None)
    if translation is None:
        translation = StatementTranslation(statement_id=statement.id, language=language, text=text)
        statement.translations.append(translation)
    translation.text = text
    translation.by_user_id = user.id
    translation.created_at = utcnow()
    db.session.flush()
    audit.record("statement.translated", statement, actor_id=user.id, language=language)
    return translation


def translate_consultation(
    user: User, consultation: Consultation, language: str, title: str | None, context: str | None
) -> ConsultationTranslation:
    """Add or replace the title and description of the consultation in another language."""
    _require_team(user, consultation)
    _check_target(consultation, language, consultation.language)
    title = (title or "").strip()
    if not title:
        raise Refused("Enter the title", "title")
    if len(title) > TITLE_MAX:
        raise Refused(f"Title must be {TITLE_MAX} characters or fewer", "title")
    translation = next((t for t in consultation.translations if t.language == language), None)
    if translation is None:
        translation = ConsultationTranslation(consultation_id=consultation.id, language=language)
        consultation.translations.append(translation)
    translation.title = title
    translation.context = (context or "").replace("\r\n", "\n").strip()
    translation.by_user_id = user.id
    translation.created_at = utcnow()
    db.session.flush()
    audit.record("consultation.translated", consultation, actor_id=user.id, language=language)
    return translation


@dataclass(frozen=True)
class Shown:
    """A text as a reader in ``reader_language`` sees it: the team's translation into that
    language when there is one, else the original; ``original`` and ``original_language`` are
    always the words as written."""

    text: str
    language: str
    original: str
    original_language: str

    @property
    def is_translation(self) -> bool:
        return self.language != self.original_language


def shown_statement(statement: Statement, reader_language: str) -> Shown:
    if reader_language == statement.language:  # read as written: no translation to look up
        return Shown(statement.text, statement.language, statement.text, statement.language)
    for translation in statement.translations:
        if translation.language == reader_language and reader_language != statement.language:
            return Shown(translation.text, reader_language, statement.text, statement.language)
    return Shown(statement.text, statement.language, statement.text, statement.language)


@dataclass(frozen=True)
class ShownConsultation:
    title: Shown
    context: Shown


def shown_consultation(consultation: Consultation, reader_language: str) -> ShownConsultation:
    main = consultation.language
    if reader_language == main:  # read as written: no translation to look up
        return ShownConsultation(
            Shown(consultation.title, main, consultation.title, main),
            Shown(consultation.context, main, consultation.context, main),
        )
    for translation in consultation.translations:
        if translation.language == reader_language and reader_language != main:
            return ShownConsultation(
                Shown(translation.title, reader_language, consultation.title, main),
                Shown(
                    translation.context or consultation.context,
                    reader_language if translation.context else main,
                    consultation.context,
                    main,
                ),
            )
    return ShownConsultation(
        Shown(consultation.title, main, consultation.title, main),
        Shown(consultation.context, main, consultation.context, main),
    )


def translations_of(consultation: Consultation) -> dict[int, dict[str, str]]:
    """Every statement's translations, by statement id then language: for exports and the API."""
    rows = db.session.execute(
        select(
            StatementTranslation.statement_id,
            StatementTranslation.language,
            StatementTranslation.text,
        )
        .join(Statement, Statement.id == StatementTranslation.statement_id)
        .where(Statement.consultation_id == consultation.id)
        .order_by(StatementTranslation.statement_id, StatementTranslation.language)
    )
    found: dict[int, dict[str, str]] = {}
    for statement_id, language, text in rows:
        found.setdefault(statement_id, {})[language] = text
    return found


def statements_to_translate(consultation: Consultation) -> list[Statement]:
    """The statements people can see (seeds and accepted comments), oldest first."""
    return list(
        db.session.scalars(
            select(Statement)
            .where(
                Statement.consultation_id == consultation.id,
                Statement.moderation == ModerationStatus.ACCEPTED,
            )
            .order_by(Statement.created_at, Statement.id)
        )
    )


def target_languages(consultation: Consultation, original_language: str) -> list[str]:
    """The languages a text written in ``original_language`` can be translated into here."""
    return [code for code in consultation.languages if code != original_language]
