"""Showing content in the reader's language: the team's translation of a statement, title or
description when there is one for the interface language, marked as a translation with the
original a click away (deliberate.services.languages picks the text; this names the languages in
the interface's words and gives templates ``shown_statement`` / ``shown_consultation``)."""

from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext as _l

from deliberate.i18n import current_language
from deliberate.models import Consultation, Statement
from deliberate.services import languages

# "Translated from ..." and "Written in ..." per language of the original (whole sentences, as
# Welsh mutates the language's name after "o'r").
TRANSLATED_FROM = {"en": _l("Translated from English"), "cy": _l("Translated from Welsh")}
WRITTEN_IN = {"en": _l("Written in English"), "cy": _l("Written in Welsh")}


def shown_statement(statement: Statement) -> languages.Shown:
    return languages.shown_statement(statement, current_language())


def shown_consultation(consultation: Consultation) -> languages.ShownConsultation:
    return languages.shown_consultation(consultation, current_language())


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(
        shown_statement=shown_statement,
        shown_consultation=shown_consultation,
        TRANSLATED_FROM=TRANSLATED_FROM,
        WRITTEN_IN=WRITTEN_IN,
    )
