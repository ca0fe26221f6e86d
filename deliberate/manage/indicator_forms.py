"""Forms of the mission indicator's team pages. They check the shape of what was typed (a
number, a real date); the rules between fields (target after baseline, one value a day) are the
service's."""

from __future__ import annotations

import math
import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import (
    GovCharacterCount,
    GovRadioInput,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import Field, RadioField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, StopValidation

from deliberate.forms_support import normalise_newlines, strip_text
from deliberate.manage.forms import DATE_HINT, OptionalDateField
from deliberate.models import IndicatorDirection, IndicatorValue, MissionIndicator
from deliberate.models.indicator import (
    INDICATOR_NAME_MAX,
    INDICATOR_SOURCE_MAX,
    INDICATOR_UNIT_MAX,
    INDICATOR_URL_MAX,
    VALUE_NOTE_MAX,
)
from deliberate.reporting.indicator_chart import number
from deliberate.services.indicators import IndicatorSettings, ValueInput

_NUMBER = re.compile(r"-?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?")


class NumberField(Field):
    """A number as people type it: "41,200", "3.5", "-2". What was typed is shown again when it
    is not a number, so nothing is lost."""

    widget = GovTextInput()

    def __init__(self, label: str, noun: str, **kwargs):
        kwargs.setdefault("render_kw", {"inputmode": "decimal", "spellcheck": "false"})
        super().__init__(label, **kwargs)
        self.noun = noun

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        text = (valuelist[0] if valuelist else "").strip().replace(",", "").replace(" ", "")
        if not text:
            return
        if not _NUMBER.fullmatch(text) or not math.isfinite(float(text)):
            raise ValueError(_("%(noun)s must be a number, like 1250 or 3.5", noun=self.noun))
        self.data = float(text)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return number(self.data).replace(",", "") if self.data is not None else ""


def _at_most(limit: int, label: str) -> Length:
    return Length(
        max=limit,
        message=_l("%(label)s must be %(max)s characters or fewer", label=label, max=limit),
    )


def required(message: str):
    """The field must have a value, unless it already said what is wrong with what was typed."""

    def check(form, field) -> None:
        if field.data is None and not field.process_errors:
            raise StopValidation(message)

    return check


# IndicatorDirection.label, in the interface language.
_DIRECTIONS = {
    IndicatorDirection.LOWER: _l("Lower is better"),
    IndicatorDirection.HIGHER: _l("Higher is better"),
}


class IndicatorForm(FlaskForm):
    name = StringField(
        _l("What the indicator measures"),
        widget=GovTextInput(),
        filters=[strip_text],
        validators=[
            DataRequired(message=_l("Enter what the indicator measures")),
            _at_most(INDICATOR_NAME_MAX, _l("Name")),
        ],
        description=_l("For example, “Serious violent crime recorded by the police”."),
    )
    unit = StringField(
        _l("Unit"),
        widget=GovTextInput(),
        filters=[strip_text],
        validators=[
            DataRequired(message=_l("Enter the unit")),
            _at_most(INDICATOR_UNIT_MAX, _l("Unit")),
        ],
        description=_l("For example, “offences a year” or “%”."),
    )
    source = StringField(
        _l("Source of the figures"),
        widget=GovTextInput(),
        filters=[strip_text],
        validators=[
            DataRequired(message=_l("Enter the source of the figures")),
            _at_most(INDICATOR_SOURCE_MAX, _l("Source")),
        ],
        description=_l("Who publishes them, for example “Office for National Statistics”."),
    )
    source_url = StringField(
        _l("Web address of the source (optional)"),
        widget=GovTextInput(),
        filters=[strip_text],
        validators=[_at_most(INDICATOR_URL_MAX, _l("Source web address"))],
        render_kw={"spellcheck": "false", "autocomplete": "url"},
    )
    direction = RadioField(
        _l("Which way is better?"),
        widget=GovRadioInput(),
        choices=[SelectChoice(d.value, _DIRECTIONS[d]) for d in IndicatorDirection],
        validators=[InputRequired(message=_l("Select whether lower or higher is better"))],
    )
    baseline_value = NumberField(
        _l("Baseline value"),
        _l("Baseline value"),
        validators=[required(_l("Enter the baseline value"))],
        description=_l("Where the indicator stood when the mission began, in the unit above."),
    )
    baseline_on = OptionalDateField(
        _l("Date of the baseline"),
        _l("Date of the baseline"),
        validators=[required(_l("Enter the date of the baseline"))],
        description=DATE_HINT,
    )
    target_value = NumberField(
        _l("Target value"),
        _l("Target value"),
        validators=[required(_l("Enter the target value"))],
        description=_l("Where the mission's goal puts the indicator, in the unit above."),
    )
    target_on = OptionalDateField(
        _l("Target date"),
        _l("Target date"),
        validators=[required(_l("Enter the target date"))],
        description=DATE_HINT,
    )
    submit = SubmitField(_l("Save the indicator"), widget=GovSubmitInput())

    @classmethod
    def for_indicator(cls, indicator: MissionIndicator | None) -> IndicatorForm:
        if indicator is None:
            return cls()
        return cls(
            data={
                "name": indicator.name,
                "unit": indicator.unit,
                "source": indicator.source,
                "source_url": indicator.source_url or "",
                "direction": indicator.direction.value,
                "baseline_value": indicator.baseline_value,
                "baseline_on": indicator.baseline_on,
                "target_value": indicator.target_value,
                "target_on": indicator.target_on,
            }
        )

    def settings(self) -> IndicatorSettings:
        return IndicatorSettings(
            name=self.name.data or "",
            unit=self.unit.data or "",
            source=self.source.data or "",
            source_url=self.source_url.data or None,
            baseline_value=self.baseline_value.data,
            baseline_on=self.baseline_on.data,
            target_value=self.target_value.data,
            target_on=self.target_on.data,
            direction=IndicatorDirection(self.direction.data),
        )


class IndicatorValueForm(FlaskForm):
    measured_on = OptionalDateField(
        _l("Date the value describes"),
        _l("Date the value describes"),
        validators=[required(_l("Enter the date the value describes"))],
        description=_l("The end of the period it covers, for example 31 3 2025."),
    )
    value = NumberField(_l("Value"), _l("Value"), validators=[required(_l("Enter the value"))])
    source = StringField(
        _l("Source of this value"),
        widget=GovTextInput(),
        filters=[strip_text],
        validators=[
            DataRequired(message=_l("Enter the source of this value")),
            _at_most(INDICATOR_SOURCE_MAX, _l("Source")),
        ],
        description=_l(
            "The publication it comes from, for example “Crime in England and Wales, "
            "year ending March 2025”."
        ),
    )
    note = TextAreaField(
        _l("Note (optional)"),
        widget=GovCharacterCount(),
        filters=[normalise_newlines, strip_text],
        validators=[_at_most(VALUE_NOTE_MAX, _l("Note"))],
        description=_l("Anything a reader should know: a provisional figure, a change of method."),
    )
    submit = SubmitField(_l("Save the value"), widget=GovSubmitInput())

    @classmethod
    def for_value(cls, row: IndicatorValue) -> IndicatorValueForm:
        return cls(
            data={
                "measured_on": row.measured_on,
                "value": row.value,
                "source": row.source,
                "note": row.note,
            }
        )

    def entry(self) -> ValueInput:
        return ValueInput(
            measured_on=self.measured_on.data,
            value=self.value.data,
            source=self.source.data or "",
            note=self.note.data or "",
        )
