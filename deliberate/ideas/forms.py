"""The forms for proposing, supporting and deciding on ideas. The service re-checks every rule."""

from __future__ import annotations

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


def _text_validators(missing: str, name: str, limit: int) -> list:
    return [
        DataRequired(message=missing),
        Length(max=limit, message=f"{name} must be {limit} characters or fewer"),
    ]


def _one_line(value: str | None) -> str | None:
    return " ".join(value.split()) if isinstance(value, str) else value


class ProposeIdeaForm(FlaskForm):
    # A character count, as for statements, so the limit shows while typing (a text area: the
    # GOV.UK character count has no one-line form; line breaks become spaces).
    title = TextAreaField(
        "Title of your idea",
        widget=GovCharacterCount(),
        filters=[_one_line],
        validators=_text_validators("Enter a title for your idea", "Title", IDEA_TITLE_MAX),
        description="A short summary, like a headline.",
    )
    title_max = IDEA_TITLE_MAX
    problem = TextAreaField(
        "The problem you see on the front line",
        widget=GovCharacterCount(),
        filters=[_strip],
        validators=_text_validators("Enter the problem you see", "Problem", IDEA_TEXT_MAX),
        description="What gets in the way of your work or of the people you serve?",
    )
    proposal = TextAreaField(
        "Your idea",
        widget=GovCharacterCount(),
        filters=[_strip],
        validators=_text_validators("Enter your idea", "Your idea", IDEA_TEXT_MAX),
        description="What would you change, and how would it help?",
    )
    evidence = TextAreaField(
        "The evidence or experience behind it",
        widget=GovCharacterCount(),
        filters=[_strip],
        validators=_text_validators(
            "Enter the evidence or experience behind your idea", "Evidence", IDEA_TEXT_MAX
        ),
        description=(
            "What you have seen, tried or measured. Do not include anyone's personal details."
        ),
    )
    # Not shown unless the person says so; a form posted without the question keeps the default.
    show_name = RadioField(
        "Show your name with this idea?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice("no", "No, do not show my name"),
            SelectChoice("yes", "Yes, show my name"),
        ],
        default="no",
        validate_choice=False,
        validators=[AnyOf(["no", "yes"], message="Choose whether to show your name")],
    )
    submit = SubmitField("Propose idea", widget=GovSubmitInput())

    @property
    def shows_name(self) -> bool:
        return self.show_name.data == "yes"


class SupportForm(FlaskForm):
    submit = SubmitField("Support this idea", widget=GovSubmitInput())


class MoveIdeaForm(FlaskForm):
    # Choices are the idea's legal next stages, set by the view; the model refuses any other.
    stage = RadioField(
        "Move this idea to",
        widget=GovRadioInput(),
        validate_choice=False,
        validators=[InputRequired(message="Choose the stage to move this idea to")],
    )
    reason = TextAreaField(
        "Public reason for this move",
        widget=GovCharacterCount(),
        filters=[_strip],
        validators=_text_validators(
            "Enter the public reason for this move", "Reason", IDEA_TEXT_MAX
        ),
        description="Shown to everyone in the idea's history. Explain the decision in plain words.",
    )
    submit = SubmitField("Move idea", widget=GovSubmitInput())

    def offer(self, stages: tuple[IdeaStage, ...]) -> None:
        self.stage.choices = [SelectChoice(stage.value, stage.label) for stage in stages]


class TrialLearningForm(FlaskForm):
    learning = TextAreaField(
        "What the trial learnt",
        widget=GovCharacterCount(),
        filters=[_strip],
        validators=_text_validators(
            "Enter what the trial learnt", "What the trial learnt", IDEA_TEXT_MAX
        ),
        description="Shown to everyone on the idea's page. Saving again replaces the earlier text.",
    )
    submit = SubmitField("Save what the trial learnt", widget=GovSubmitInput())
