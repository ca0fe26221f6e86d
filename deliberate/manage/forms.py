"""Forms of the mission team's pages. They check the shape of what was typed; the rules that
depend on the consultation or on today (dates in order, what may change) live in the service."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovDateInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    Field,
    HiddenField,
    RadioField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, InputRequired, Length, Optional, ValidationError

from deliberate.forms_support import normalise_newlines, strip_text
from deliberate.models import (
    Consultation,
    ModerationMode,
    ParticipantFlag,
    RemovalReason,
    ResponseStatus,
)
from deliberate.models.consultation import TITLE_MAX
from deliberate.models.participation import STATEMENT_MAX
from deliberate.models.response import RESPONSE_TEXT_MAX, RESPONSE_TITLE_MAX
from deliberate.services.audit import REASON_MAX
from deliberate.services.consultations import (
    CONTEXT_MAX,
    SERVICE_AREA_MAX,
    SERVICE_AREAS_MAX_COUNT,
    closing_day,
    opening_day,
)

DATE_HINT = _l("For example, 27 3 2027")

# The parts of a date a person left out, in the words of the message that asks for them.
_MISSING_PARTS = {
    ("day",): _l("day"),
    ("month",): _l("month"),
    ("year",): _l("year"),
    ("day", "month"): _l("day and a month"),
    ("day", "year"): _l("day and a year"),
    ("month", "year"): _l("month and a year"),
}


class OptionalDateField(Field):
    """A GOV.UK date input (day, month and year boxes, all named alike) that may be left empty.

    Messages follow the GOV.UK pattern: say which part is missing, or that the date is not real."""

    widget = GovDateInput()

    def __init__(
        self,
        label: str,
        noun: str,
        *,
        missing: str | None = None,
        not_real: str | None = None,
        **kwargs,
    ):
        """``noun`` names the date in the messages ("Opening date must be a real date"). A form
        may give whole sentences instead, worded as each language needs: ``missing`` (with
        ``%(parts)s``, what the date lacks) and ``not_real``."""
        super().__init__(label, **kwargs)
        self.noun = noun
        self.missing = missing
        self.not_real = not_real

    def _missing_message(self, missing: list[str]) -> str:
        parts = _MISSING_PARTS[tuple(missing)]
        if self.missing is not None:
            return str(self.missing) % {"parts": parts}
        return _("%(noun)s must include a %(parts)s", noun=self.noun, parts=parts)

    def _not_real_message(self) -> str:
        if self.not_real is not None:
            return str(self.not_real)
        return _("%(noun)s must be a real date", noun=self.noun)

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
            raise ValueError(self._missing_message(missing))
        day, month, year = parts
        if not all(p.isdigit() for p in parts) or len(year) != 4:
            raise ValueError(self._not_real_message())
        try:
            self.data = date(int(year), int(month), int(day))
        except ValueError as error:
            raise ValueError(self._not_real_message()) from error

    def _value(self) -> str:
        return self.data.strftime("%d %m %Y") if self.data else ""


class ConsultationForm(FlaskForm):
    """Every setting of a consultation; a draft may change them all."""

    title = StringField(
        _l("Question"),
        widget=GovTextInput(),
        validators=[
            DataRequired(message=_l("Enter the question")),
            Length(
                max=TITLE_MAX,
                message=_l("Question must be %(max)s characters or fewer", max=TITLE_MAX),
            ),
        ],
        description=_l(
            "The one question people answer, for example “What would most improve "
            "getting care when you need it?”"
        ),
    )
    context = TextAreaField(
        _l("Context (optional)"),
        widget=GovCharacterCount(),
        filters=[normalise_newlines],
        validators=[
            Length(
                max=CONTEXT_MAX,
                message=_l("Context must be %(max)s characters or fewer", max=CONTEXT_MAX),
            )
        ],
        description=_l(
            "Why you are asking, and what you will do with the answers. Leave a blank line "
            "between paragraphs; lines starting with - make a list, *words* in stars are "
            "emphasised and [words](https://...) make a link."
        ),
    )
    moderation_mode = RadioField(
        _l("How should comments be moderated?"),
        widget=GovRadioInput(),
        choices=[
            SelectChoice(
                ModerationMode.PRE.value,
                _l("Pre-moderation: comments are checked before anyone sees them"),
            ),
            SelectChoice(
                ModerationMode.POST.value,
                _l("Post-moderation: comments go live at once and can be taken down afterwards"),
            ),
        ],
        validators=[InputRequired(message=_l("Select how comments should be moderated"))],
        description=_l("You can change this until the consultation opens."),
    )
    allow_anonymous = RadioField(
        _l("Can people take part without signing in?"),
        widget=GovRadioInput(),
        choices=[
            SelectChoice("yes", _l("Yes, anyone can take part anonymously")),
            SelectChoice("no", _l("No, people must sign in to take part")),
        ],
        validators=[InputRequired(message=_l("Select whether people can take part anonymously"))],
        description=_l("Anonymous participants are known only by a random token in a cookie."),
    )
    service_areas = TextAreaField(
        _l("Service areas (optional)"),
        widget=GovTextArea(),
        description=_l(
            "Parts of the public service people may say they work in or use, one per line, for "
            "example “A&E” or “GP surgery”. Up to %(count)s, each %(max)s characters or fewer.",
            count=SERVICE_AREAS_MAX_COUNT,
            max=SERVICE_AREA_MAX,
        ),
    )
    opens_on = OptionalDateField(
        _l("Opening date (optional)"),
        _l("Opening date"),
        missing=_l("Opening date must include a %(parts)s"),
        not_real=_l("Opening date must be a real date"),
        description=DATE_HINT,
    )
    closes_on = OptionalDateField(
        _l("Closing date (optional)"),
        _l("Closing date"),
        missing=_l("Closing date must include a %(parts)s"),
        not_real=_l("Closing date must be a real date"),
        description=DATE_HINT,
    )
    submit = SubmitField(_l("Save draft"), widget=GovSubmitInput())

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
    submit = SubmitField(_l("Save changes"), widget=GovSubmitInput())

    @classmethod
    def for_consultation(cls, consultation: Consultation) -> OpenConsultationForm:
        return cls(data={"context": consultation.context, "closes_on": closing_day(consultation)})

    def changes(self) -> dict:
        return {"context": self.context.data or "", "closes_on": self.closes_on.data}


class SeedStatementForm(FlaskForm):
    text = TextAreaField(
        _l("Add a seed statement"),
        widget=GovCharacterCount(),
        filters=[normalise_newlines],
        validators=[
            DataRequired(message=_l("Enter the statement")),
            Length(
                max=STATEMENT_MAX,
                message=_l("Statement must be %(max)s characters or fewer", max=STATEMENT_MAX),
            ),
        ],
        description=_l("A short, clear statement people can agree or disagree with."),
    )
    # Which of the consultation's languages it is written in (offered when it has several; the
    # service keeps the main language for anything else).
    language = StringField(validators=[Optional()])
    submit = SubmitField(_l("Add statement"), widget=GovSubmitInput())


REASON_CHOICES = [SelectChoice(r.value, r.label) for r in RemovalReason]


class ModerationForm(FlaskForm):
    """Accept or reject one comment. Rejecting needs a reason from the policy (the service says
    so next to the reasons when none is chosen); the note goes to the author with it."""

    decision = StringField(
        validators=[
            InputRequired(message=_l("Choose accept or reject")),
            AnyOf(["accept", "reject"], message=_l("Choose accept or reject")),
        ]
    )
    return_to = StringField()
    removal_reason = RadioField(
        _l("Why does it break the moderation policy?"),
        widget=GovRadioInput(),
        choices=REASON_CHOICES,
        validators=[Optional()],
        description=_l(
            "Needed to reject or take down the comment. Shown to its author, and counted "
            "in the published summary without your name."
        ),
    )
    note = TextAreaField(
        _l("Note to the author (optional)"),
        widget=GovCharacterCount(),
        filters=[strip_text],
        validators=[
            Length(
                max=REASON_MAX,
                message=_l("Note must be %(max)s characters or fewer", max=REASON_MAX),
            )
        ],
        description=_l(
            "When you reject the comment, this is shown to its author with the reason and "
            "kept in the moderation log. Do not include anyone's personal details."
        ),
    )

    @property
    def chosen_reason(self) -> RemovalReason | None:
        return RemovalReason(self.removal_reason.data) if self.removal_reason.data else None


class RedactForm(FlaskForm):
    """New words for a statement, to take out what breaks the policy (a name, say)."""

    text = TextAreaField(
        _l("The statement's words"),
        widget=GovCharacterCount(),
        validators=[
            DataRequired(message=_l("Enter the statement's words")),
            Length(
                max=STATEMENT_MAX,
                message=_l("Statement must be %(max)s characters or fewer", max=STATEMENT_MAX),
            ),
        ],
        description=_l(
            "Take out only what breaks the policy and keep the rest as it was written. "
            "The words you take out are not kept anywhere."
        ),
    )
    removal_reason = RadioField(
        _l("Why must the words change?"),
        widget=GovRadioInput(),
        choices=REASON_CHOICES,
        validators=[InputRequired(message=_l("Select why the words must change"))],
        description=_l("Kept in the moderation log with the edit, without the words taken out."),
    )
    submit = SubmitField(_l("Save the edited statement"), widget=GovSubmitInput())

    @property
    def chosen_reason(self) -> RemovalReason:
        return RemovalReason(self.removal_reason.data)


class StatementIdsField(Field):
    """The ticked checkboxes named ``statement_ids``, as a list of statement ids."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = []
        for value in valuelist:
            if not (value.isdigit() and len(value) <= 9):
                raise ValueError(_("Select statements from the list"))
            self.data.append(int(value))

    def _value(self) -> str:
        return ""


class BulkModerationForm(FlaskForm):
    """Accept or reject the ticked statements together; rejecting needs one reason for all."""

    statement_ids = StatementIdsField(default=list)
    decision = StringField(
        validators=[
            InputRequired(message=_l("Choose accept or reject")),
            AnyOf(["accept", "reject"], message=_l("Choose accept or reject")),
        ]
    )
    reason = RadioField(
        _l("Reason, if you reject them"),
        widget=GovRadioInput(),
        choices=[SelectChoice(reason.value, reason.label) for reason in RemovalReason],
        validate_choice=False,  # the service checks it, and asks for it only to reject
    )
    note = TextAreaField(
        _l("Note to the authors, if you reject them (optional)"),
        widget=GovCharacterCount(),
        filters=[strip_text],
        validators=[
            Length(
                max=REASON_MAX,
                message=_l("Note must be %(max)s characters or fewer", max=REASON_MAX),
            )
        ],
    )
    return_to = StringField(validators=[AnyOf(["queue", "similar"])], default="queue")
    around = StringField()  # the statement whose neighbours were shown, with "similar"

    @property
    def accept(self) -> bool:
        return self.decision.data == "accept"

    @property
    def selected(self) -> set[int]:
        return set(self.statement_ids.data or [])


class ConfirmForm(FlaskForm):
    """The form of a confirmation page: its button sends ``confirm=yes``, so a request that did
    not come through the page (an old form, a crafted post) is refused and nothing happens."""

    confirm = HiddenField(
        validators=[
            AnyOf(["yes"], message=_l("Confirm on this page first: nothing has been changed yet"))
        ]
    )


class ReopenForm(ConfirmForm):
    reason = TextAreaField(
        _l("Why are you reopening the consultation?"),
        widget=GovCharacterCount(),
        filters=[strip_text],
        validators=[
            DataRequired(message=_l("Enter why you are reopening the consultation")),
            Length(
                max=REASON_MAX,
                message=_l("Reason must be %(max)s characters or fewer", max=REASON_MAX),
            ),
        ],
        description=_l(
            "Recorded in the audit log with your account, where administrators can read "
            "it. It is not shown to the public."
        ),
    )


class SeedEditForm(FlaskForm):
    text = TextAreaField(
        _l("Seed statement"),
        widget=GovCharacterCount(),
        validators=SeedStatementForm.text.kwargs["validators"],
        description=_l("A short, clear statement people can agree or disagree with."),
    )
    submit = SubmitField(_l("Save statement"), widget=GovSubmitInput())


class ParticipantReviewForm(FlaskForm):
    """Leave flagged participants out of the analysis, or include them again: one form per group
    of flagged participants on the review page (``group`` says which, to show errors there)."""

    group = StringField(validators=[InputRequired()])
    kind = StringField(
        validators=[InputRequired(), AnyOf([flag.value for flag in ParticipantFlag])]
    )
    # "exclude" / "include" the participants ticked, or everyone in the group ("..._all": a large
    # group lists only some of its participants).
    decision = StringField(
        validators=[
            InputRequired(),
            AnyOf(["exclude", "include", "exclude_all", "include_all"]),
        ]
    )
    # The ids offered are the group's; the service checks each belongs to the consultation.
    participants = SelectMultipleField(coerce=int, validate_choice=False)
    reason = TextAreaField(
        _l("Reason"),
        filters=[strip_text],
        validators=[
            DataRequired(message=_l("Enter the reason for your decision")),
            Length(
                max=REASON_MAX,
                message=_l("Reason must be %(max)s characters or fewer", max=REASON_MAX),
            ),
        ],
    )

    @property
    def flag(self) -> ParticipantFlag:
        return ParticipantFlag(self.kind.data)

    @property
    def whole_group(self) -> bool:
        return (self.decision.data or "").endswith("_all")

    @property
    def excluding(self) -> bool:
        return (self.decision.data or "").startswith("exclude")

    def validate_participants(self, field: SelectMultipleField) -> None:
        if not self.whole_group and not field.data:
            raise ValidationError(_("Select at least one participant"))


RESPONSE_STATUS_CHOICES = [SelectChoice(s.value, s.label) for s in ResponseStatus]


class ResponseForm(FlaskForm):
    """A response to the consultation: what was decided or done, and what it answers (checked
    against what the service offers: the published run's findings, statements and ideas)."""

    title = StringField(
        _l("What was decided or done"),
        widget=GovTextInput(),
        filters=[strip_text],
        validators=[
            DataRequired(message=_l("Enter what was decided or done")),
            Length(
                max=RESPONSE_TITLE_MAX,
                message=_l(
                    "What was decided must be %(max)s characters or fewer", max=RESPONSE_TITLE_MAX
                ),
            ),
        ],
        description=_l(
            "One sentence, for example “We will trial weekend discharge coordinators in "
            "3 trusts from April”."
        ),
    )
    explanation = TextAreaField(
        _l("Explanation (optional)"),
        widget=GovCharacterCount(),
        filters=[normalise_newlines, strip_text],
        validators=[
            Length(
                max=RESPONSE_TEXT_MAX,
                message=_l(
                    "Explanation must be %(max)s characters or fewer", max=RESPONSE_TEXT_MAX
                ),
            )
        ],
        description=_l("Why, how and when. Shown to the public."),
    )
    status = RadioField(
        _l("Status"),
        widget=GovRadioInput(),
        choices=RESPONSE_STATUS_CHOICES,
        validators=[InputRequired(message=_l("Select the response's status"))],
    )
    reason = TextAreaField(
        _l("If you are not doing it: why not"),
        widget=GovCharacterCount(),
        filters=[normalise_newlines, strip_text],
        validators=[
            Length(
                max=RESPONSE_TEXT_MAX,
                message=_l("Reason must be %(max)s characters or fewer", max=RESPONSE_TEXT_MAX),
            )
        ],
        description=_l("Needed when the status is “Not doing”. Shown to the public."),
    )
    answers = SelectMultipleField(validate_choice=False)  # the service checks each one
    submit = SubmitField(_l("Publish the response"), widget=GovSubmitInput())


class ResponseUpdateForm(FlaskForm):
    """A dated public update on a response, which may change its status."""

    note = TextAreaField(
        _l("What has happened"),
        widget=GovCharacterCount(),
        filters=[normalise_newlines, strip_text],
        validators=[
            DataRequired(message=_l("Enter what has happened")),
            Length(
                max=RESPONSE_TEXT_MAX,
                message=_l("Update must be %(max)s characters or fewer", max=RESPONSE_TEXT_MAX),
            ),
        ],
        description=_l("Shown to the public with today's date."),
    )
    status = RadioField(
        _l("New status (optional)"),
        widget=GovRadioInput(),
        choices=[SelectChoice("", _l("No change")), *RESPONSE_STATUS_CHOICES],
        default="",
        validate_choice=False,  # the service checks the move
    )
    reason = ResponseForm.reason
    submit = SubmitField(_l("Publish the update"), widget=GovSubmitInput())
