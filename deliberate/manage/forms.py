"""Forms of the mission team's pages. They check the shape of what was typed; the rules that
depend on the consultation or on today (dates in order, what may change) live in the service."""

from __future__ import annotations

from datetime import date

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovDateInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import Field, RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length

from deliberate.forms_support import normalise_newlines
from deliberate.models import Consultation, ModerationMode
from deliberate.models.consultation import TITLE_MAX
from deliberate.models.participation import STATEMENT_MAX
from deliberate.services.consultations import (
    CONTEXT_MAX,
    SERVICE_AREA_MAX,
    SERVICE_AREAS_MAX_COUNT,
    closing_day,
    opening_day,
)

DATE_HINT = "For example, 27 3 2027"


class OptionalDateField(Field):
    """A GOV.UK date input (day, month and year boxes, all named alike) that may be left empty.

    Messages follow the GOV.UK pattern: say which part is missing, or that the date is not real."""

    widget = GovDateInput()

    def __init__(self, label: str, noun: str, **kwargs):
        super().__init__(label, **kwargs)
        self.noun = noun

    def process_formdata(self, valuelist: list[str]) -> None:
        parts = [v.strip() for v in valuelist[:3]]
        parts += [""] * (3 - len(parts))
        self.raw_data = parts
        self.data = None
        if not any(parts):
            return
        names = ("day", "month", "year")
        missing = [name for name, part in zip(names, parts, strict=True) if not part]
        if missing:
            raise ValueError(f"{self.noun} must include a {' and a '.join(missing)}")
        day, month, year = parts
        if not all(p.isdigit() for p in parts) or len(year) != 4:
            raise ValueError(f"{self.noun} must be a real date")
        try:
            self.data = date(int(year), int(month), int(day))
        except ValueError as error:
            raise ValueError(f"{self.noun} must be a real date") from error

    def _value(self) -> str:
        return self.data.strftime("%d %m %Y") if self.data else ""


class ConsultationForm(FlaskForm):
    """Every setting of a consultation; a draft may change them all."""

    title = StringField(
        "Question",
        widget=GovTextInput(),
        validators=[
            DataRequired(message="Enter the question"),
            Length(max=TITLE_MAX, message=f"Question must be {TITLE_MAX} characters or fewer"),
        ],
        description="The one question people answer, for example “What would most improve "
        "getting care when you need it?”",
    )
    context = TextAreaField(
        "Context (optional)",
        widget=GovCharacterCount(),
        filters=[normalise_newlines],
        validators=[
            Length(max=CONTEXT_MAX, message=f"Context must be {CONTEXT_MAX} characters or fewer")
        ],
        description="Why you are asking, and what you will do with the answers.",
    )
    moderation_mode = RadioField(
        "How should comments be moderated?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice(
                ModerationMode.PRE.value,
                "Pre-moderation: comments are checked before anyone sees them",
            ),
            SelectChoice(
                ModerationMode.POST.value,
                "Post-moderation: comments go live at once and can be taken down afterwards",
            ),
        ],
        validators=[InputRequired(message="Select how comments should be moderated")],
        description="You can change this until the consultation opens.",
    )
    allow_anonymous = RadioField(
        "Can people take part without signing in?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice("yes", "Yes, anyone can take part anonymously"),
            SelectChoice("no", "No, people must sign in to take part"),
        ],
        validators=[InputRequired(message="Select whether people can take part anonymously")],
        description="Anonymous participants are known only by a random token in a cookie.",
    )
    service_areas = TextAreaField(
        "Service areas (optional)",
        widget=GovTextArea(),
        description=f"Parts of the public service people may say they work in or use, one per "
        f"line, for example “A&E” or “GP surgery”. Up to {SERVICE_AREAS_MAX_COUNT}, each "
        f"{SERVICE_AREA_MAX} characters or fewer.",
    )
    opens_on = OptionalDateField("Opening date (optional)", "Opening date", description=DATE_HINT)
    closes_on = OptionalDateField("Closing date (optional)", "Closing date", description=DATE_HINT)
    submit = SubmitField("Save draft", widget=GovSubmitInput())

    @classmethod
    def for_consultation(cls, consultation: Consultation) -> ConsultationForm:
        return cls(
            data={
                "title": consultation.title,
                "context": consultation.context,
                "moderation_mode": consultation.moderation_mode.value,
                "allow_anonymous": "yes" if consultation.allow_anonymous else "no",
                "service_areas": consultation.service_areas,
                "opens_on": opening_day(consultation),
                "closes_on": closing_day(consultation),
            }
        )

    def changes(self) -> dict:
        """The settings as typed, by their ``ConsultationSettings`` names."""
        return {
            "title": self.title.data or "",
            "context": self.context.data or "",
            "moderation_mode": ModerationMode(self.moderation_mode.data),
            "allow_anonymous": self.allow_anonymous.data == "yes",
            "service_areas": self.service_areas.data or "",
            "opens_on": self.opens_on.data,
            "closes_on": self.closes_on.data,
        }


class OpenConsultationForm(FlaskForm):
    """What may still change while a consultation is open: its context and its closing date."""

    context = ConsultationForm.context
    closes_on = ConsultationForm.closes_on
    submit = SubmitField("Save changes", widget=GovSubmitInput())

    @classmethod
    def for_consultation(cls, consultation: Consultation) -> OpenConsultationForm:
        return cls(data={"context": consultation.context, "closes_on": closing_day(consultation)})

    def changes(self) -> dict:
        return {"context": self.context.data or "", "closes_on": self.closes_on.data}


class SeedStatementForm(FlaskForm):
    text = TextAreaField(
        "Add a seed statement",
        widget=GovCharacterCount(),
        filters=[normalise_newlines],
        validators=[
            DataRequired(message="Enter the statement"),
            Length(
                max=STATEMENT_MAX, message=f"Statement must be {STATEMENT_MAX} characters or fewer"
            ),
        ],
        description="A short, clear statement people can agree or disagree with.",
    )
    submit = SubmitField("Add statement", widget=GovSubmitInput())


class ModerationForm(FlaskForm):
    decision = StringField(
        validators=[
            InputRequired(message="Choose accept or reject"),
            AnyOf(["accept", "reject"], message="Choose accept or reject"),
        ]
    )
    return_to = StringField()
