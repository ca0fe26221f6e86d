"""The forms for proposing, supporting and deciding on ideas. The service re-checks every rule."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovRadioInput,
    GovSubmitInput,
)
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length

from deliberate.models import IdeaStage
from deliberate.models.idea import IDEA_TEXT_MAX, IDEA_TITLE_MAX


def _strip(value: str | None) -> str | None:
    return value.replace("\r\n", "\n").strip() if isinstance(value, str) else value


def _text_validators(missing: LazyString, too_long: LazyString) -> list:
    return [DataRequired(message=missing), Length(max=IDEA_TEXT_MAX, message=too_long)]


def _one_line(value: str | None) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) else value


class ProposeIdeaForm(FlaskForm):
    # A character count, as for statements, so the limit shows while typing (a text area: the
    # GOV.UK character count has no one-line form; line breaks become spaces).
    title = TextAreaField(
        _l("Title of your idea"),
        widget=GovCharacterCount(),
        filters=[_one_line],
        validators=[
            DataRequired(message=_l("Enter a title for your idea")),
            Length(
                max=IDEA_TITLE_MAX,
                message=_l("Title must be %(max)s characters or fewer", max=IDEA_TITLE_MAX),
            ),
        ],
        description=_l("A short summary, like a headline."),
    )
    title_max = IDEA_TITLE_MAX
    problem = TextAreaField(
        _l("The problem you see on the front line"),
        widget=GovCharacterCount(),
        filters=[_strip],
        validators=_text_validators(
            _l("Enter the problem you see"),
            _l("Problem must be %(max)s characters or fewer", max=IDEA_TEXT_MAX),
        ),
        description=_l("What gets in the way of your work or of the people you serve?"),
    )
    proposal = TextAreaField(
        _l("Your idea"),
        widget=GovCharacterCount(),
        filters=[_strip],
        validators=_text_validators(
            _l("Enter your idea"),
            _l("Your idea must be %(max)s characters or fewer", max=IDEA_TEXT_MAX),
        ),
        description=_l("What would you change, and how would it help?"),
    )
    evidence = TextAreaField(
        _l("The evidence or experience behind it"),
        widget=GovCharacterCount(),
        filters=[_strip],
        validators=_text_validators(
            _l("Enter the evidence or experience behind your idea"),
            _l("Evidence must be %(max)s characters or fewer", max=IDEA_TEXT_MAX),
        ),
        description=_l(
            "What you have seen, tried or measured. Do not include anyone's personal details."
        ),
    )
    # Not shown unless the person says so; a form posted without the question keeps the default.
    show_name = RadioField(
        _l("Show your name with this idea?"),
        widget=GovRadioInput(),
        choices=[
            SelectChoice("no", _l("No, do not show my name")),
            SelectChoice("yes", _l("Yes, show my name")),
        ],
        default="no",
        validate_choice=False,
        validators=[AnyOf(["no", "yes"], message=_l("Choose whether to show your name"))],
    )
    submit = SubmitField(_l("Propose idea"), widget=GovSubmitInput())

    @property
    def shows_name(self) -> bool:
        return self.show_name.data == "yes"


class SupportForm(FlaskForm):
    submit = SubmitField(_l("Support this idea"), widget=GovSubmitInput())


class MoveIdeaForm(FlaskForm):
    # Choices are the idea's legal next stages, set by the view; the model refuses any other.
    stage = RadioField(
        _l("Move this idea to"),
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InputRequired(message=_l("Choose the stage to move this idea to"))],
    )
    reason = TextAreaField(
        _l("Public reason for this move"),
        widget=GovCharacterCount(),
        filters=[_strip],
        validators=_text_validators(
            _l("Enter the public reason for this move"),
            _l("Reason must be %(max)s characters or fewer", max=IDEA_TEXT_MAX),
        ),
        description=_l(
            "Shown to everyone in the idea's history. Explain the decision in plain words."
        ),
    )
    submit = SubmitField(_l("Move idea"), widget=GovSubmitInput())

    def offer(self, stages: tuple[IdeaStage, ...]) -> None:
        self.stage.choices = [SelectChoice(stage.value, stage.label) for stage in stages]


class TrialLearningForm(FlaskForm):
    learning = TextAreaField(
        _l("What the trial learnt"),
        widget=GovCharacterCount(),
        filters=[_strip],
        validators=_text_validators(
            _l("Enter what the trial learnt"),
            _l("What the trial learnt must be %(max)s characters or fewer", max=IDEA_TEXT_MAX),
        ),
        description=_l(
            "Shown to everyone on the idea's page. Saving again replaces the earlier text."
        ),
    )
    submit = SubmitField(_l("Save what the trial learnt"), widget=GovSubmitInput())
