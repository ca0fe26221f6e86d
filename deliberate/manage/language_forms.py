"""Forms of the team's language pages: the consultation's languages, and translations of its
title, description and statements (deliberate.services.languages checks the rules)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovCheckboxesInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import RadioField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length

from deliberate.forms_support import normalise_newlines, strip_text
from deliberate.models.consultation import TITLE_MAX
from deliberate.models.participation import STATEMENT_MAX
from deliberate.models.translation import CONTENT_LANGUAGES

LANGUAGE_CHOICES = [SelectChoice(code, name) for code, name in CONTENT_LANGUAGES.items()]


class LanguagesForm(FlaskForm):
    language = RadioField(
        _l("Main language"),
        widget=GovRadioInput(),
        choices=LANGUAGE_CHOICES,
        validators=[InputRequired(message=_l("Select the main language"))],
        description=_l("The language the title, description and seed statements are written in."),
    )
    other_languages = SelectMultipleField(
        _l("Other languages (optional)"),
        widget=GovCheckboxesInput(),
        choices=LANGUAGE_CHOICES,
        description=_l(
            "People may also take part in these languages. Their statements are kept in the "
            "language they wrote them in, and the team can add translations."
        ),
    )
    submit = SubmitField(_l("Save languages"), widget=GovSubmitInput())


def _language_field() -> RadioField:
    return RadioField(
        _l("Language of the translation"),
        widget=GovRadioInput(),
        choices=LANGUAGE_CHOICES,
        validators=[InputRequired(message=_l("Select the language of the translation"))],
    )


class StatementTranslationForm(FlaskForm):
    language = _language_field()
    text = TextAreaField(
        _l("Translation"),
        widget=GovCharacterCount(),
        filters=[normalise_newlines],
        validators=[
            DataRequired(message=_l("Enter the translation")),
            Length(max=STATEMENT_MAX, message=_l("Translation is too long")),
        ],
        description=_l("Shown to people reading in this language, marked as a translation."),
    )
    submit = SubmitField(_l("Save translation"), widget=GovSubmitInput())


class ConsultationTranslationForm(FlaskForm):
    language = _language_field()
    title = StringField(
        _l("Title"),
        widget=GovTextInput(),
        filters=[strip_text],
        validators=[
            DataRequired(message=_l("Enter the title")),
            Length(max=TITLE_MAX, message=_l("Title is too long")),
        ],
    )
    context = TextAreaField(
        _l("Description (optional)"),
        widget=GovTextArea(),
        filters=[normalise_newlines],
    )
    submit = SubmitField(_l("Save translation"), widget=GovSubmitInput())
