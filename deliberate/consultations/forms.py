"""Forms for taking part. They parse what the browser sent; the rules live in the service."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovCharacterCount, GovRadioInput, GovSubmitInput
from wtforms import HiddenField, RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, InputRequired, Optional, Regexp

from deliberate.forms_support import normalise_newlines
from deliberate.models import ReportReason, VoteChoice
from deliberate.models.participation import STATEMENT_MAX
from deliberate.models.statement_report import REPORT_HINTS, REPORT_NOTE_MAX

CHOICES = {choice.name.lower(): choice for choice in VoteChoice}
NOT_SAID = "not-said"
RETURN_PAGES = ("consultation", "answers")
REPORT_RETURN_PAGES = ("consultation", "statement")


class VoteForm(FlaskForm):
    """Three submit buttons named ``choice`` and the statement they answer."""

    statement_id = HiddenField(
        validators=[
            InputRequired(message=_l("Choose a statement to answer")),
            Regexp(r"^[0-9]{1,9}$", message=_l("Choose a statement to answer")),
        ]
    )
    choice = StringField(
        validators=[
            InputRequired(message=_l("Choose agree, disagree or pass")),
            AnyOf(list(CHOICES), message=_l("Choose agree, disagree or pass")),
        ]
    )
    return_to = HiddenField(
        validators=[
            Optional(),
            AnyOf(RETURN_PAGES, message=_l("Go back to the page and try again")),
        ]
    )

    @property
    def chosen_statement_id(self) -> int:
        return int(self.statement_id.data)

    @property
    def vote_choice(self) -> VoteChoice:
        return CHOICES[self.choice.data]


class CommentForm(FlaskForm):
    # Emptiness, length and duplicates are checked by the statements service, in one place.
    text = TextAreaField(
        _l("Your statement"),
        widget=GovCharacterCount(),
        filters=[normalise_newlines],
        description=_l(
            "Write one point in a sentence or two, for other people to agree or disagree with. "
            "Do not include your name or anyone else's personal details."
        ),
    )
    submit = SubmitField(_l("Add statement"), widget=GovSubmitInput())

    max_length = STATEMENT_MAX


class HeldCommentForm(FlaskForm):
    """Post a comment held for the similarity check: only its CSRF token is sent."""


class AboutYouForm(FlaskForm):
    service_area = RadioField(
        _l("Which part of the public service do you work in or use most?"),
        widget=GovRadioInput(),
        validators=[InputRequired(message=_l("Choose an option, or 'Prefer not to say'"))],
        validate_choice=False,  # the service checks the answer against the consultation's list
    )
    submit = SubmitField(_l("Save"), widget=GovSubmitInput())

    def offer(self, areas: list[str]) -> None:
        self.service_area.choices = [
            *(SelectChoice(area, area) for area in areas),
            SelectChoice(NOT_SAID, _("Prefer not to say")),
        ]

    @property
    def chosen_area(self) -> str | None:
        return None if self.service_area.data == NOT_SAID else self.service_area.data


class ReportForm(FlaskForm):
    """Report a statement: the reason from the moderation policy, and an optional note."""

    reason = RadioField(
        _l("Why are you reporting this statement?"),
        widget=GovRadioInput(),
        validators=[InputRequired(message=_l("Choose why you are reporting this statement"))],
        validate_choice=False,  # the service checks the reason against the policy's list
    )
    # Its length is checked by the reports service, with the other rules.
    note = TextAreaField(
        _l("Anything the moderators should know (optional)"),
        widget=GovCharacterCount(),
        filters=[normalise_newlines],
        description=_l("Do not include your name or anyone else's personal details."),
    )
    return_to = HiddenField(
        validators=[
            Optional(),
            AnyOf(REPORT_RETURN_PAGES, message=_l("Go back to the page and try again")),
        ]
    )
    submit = SubmitField(_l("Send report"), widget=GovSubmitInput())

    max_length = REPORT_NOTE_MAX

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # In the language of this request: the reasons' names are translated when asked for.
        self.reason.choices = [SelectChoice(reason.value, reason.label) for reason in ReportReason]

    @property
    def reason_hints(self) -> list[str]:
        return [str(REPORT_HINTS[reason]) for reason in ReportReason]
