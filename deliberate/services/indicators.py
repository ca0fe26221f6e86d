"""The indicator that measures a mission's goal: setting it, recording its actual values, the
chart the mission page draws of it, and its values as CSV.

Only the mission's team (admins included) writes; everyone reads. Every rule a form cannot know
(dates in order, a target that moves the right way, one value per day) is checked here and refused
with a message next to the field it concerns.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import (
    IndicatorDirection,
    IndicatorValue,
    Mission,
    MissionIndicator,
    User,
    utcnow,
)
from deliberate.models.indicator import (
    INDICATOR_NAME_MAX,
    INDICATOR_SOURCE_MAX,
    INDICATOR_UNIT_MAX,
    INDICATOR_URL_MAX,
    VALUE_NOTE_MAX,
)
from deliberate.polis_format.cells import safe_cell
from deliberate.reporting import indicator_chart as chart
from deliberate.services import audit
from deliberate.services.consultations import NotPermitted, may_run
from deliberate.services.errors import Refused, one_line
from deliberate.services.mission_timeline import (
    IDEA_KINDS,
    ROUND_CLOSED,
    ROUND_OPENED,
    SUMMARY_PUBLISHED,
    TimelineEvent,
)

# What the demo's figures say about themselves, in their source and on every value.
ILLUSTRATIVE = "Illustrative demo figures, not official statistics"


@dataclass(frozen=True)
class IndicatorSettings:
    name: str
    unit: str
    source: str
    source_url: str | None
    baseline_value: float | None
    baseline_on: date | None
    target_value: float | None
    target_on: date | None
    direction: IndicatorDirection

    @classmethod
    def of(cls, indicator: MissionIndicator) -> IndicatorSettings:
        return cls(
            indicator.name,
            indicator.unit,
            indicator.source,
            indicator.source_url,
            indicator.baseline_value,
            indicator.baseline_on,
            indicator.target_value,
            indicator.target_on,
            indicator.direction,
        )


@dataclass(frozen=True)
class ValueInput:
    measured_on: date | None
    value: float | None
    source: str
    note: str = ""


def indicator_of(mission: Mission) -> MissionIndicator | None:
    return db.session.scalar(
        select(MissionIndicator).where(MissionIndicator.mission_id == mission.id)
    )


def _check_team(user: User, mission_id: int) -> None:
    if not may_run(user, mission_id):
        raise NotPermitted(_("Only the mission team can record this mission's indicator"))


def _number(value: float | None, field: str, missing: str, not_a_number: str) -> float:
    if value is None:
        raise Refused(missing, field)
    if not math.isfinite(value):
        raise Refused(not_a_number, field)
    return float(value)


def _day(value: date | None, field: str, missing: str) -> date:
    if value is None:
        raise Refused(missing, field)
    return value


def _source_url(value: str | None) -> str | None:
    text = (value or "").strip()
    if not text:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(c.isspace() for c in text):
        raise Refused(
            _("Enter the source's web address starting with https://, or leave it empty"),
            "source_url",
        )
    if len(text) > INDICATOR_URL_MAX:
        raise Refused(
            _("Source web address must be %(max)s characters or fewer", max=INDICATOR_URL_MAX),
            "source_url",
        )
    return text


def _clean_settings(settings: IndicatorSettings) -> IndicatorSettings:
    name = one_line(
        settings.name, "name", "Name", INDICATOR_NAME_MAX, _("Enter what the indicator measures")
    )
    unit = one_line(settings.unit, "unit", "Unit", INDICATOR_UNIT_MAX, _("Enter the unit"))
    source = one_line(
        settings.source,
        "source",
        "Source",
        INDICATOR_SOURCE_MAX,
        _("Enter the source of the figures"),
    )
    url = _source_url(settings.source_url)
    baseline = _number(
        settings.baseline_value,
        "baseline_value",
        _("Enter the baseline value"),
        _("The baseline value must be a number, like 1250 or 3.5"),
    )
    baseline_on = _day(settings.baseline_on, "baseline_on", _("Enter the date of the baseline"))
    target = _number(
        settings.target_value,
        "target_value",
        _("Enter the target value"),
        _("The target value must be a number, like 1250 or 3.5"),
    )
    target_on = _day(settings.target_on, "target_on", _("Enter the target date"))
    if target_on <= baseline_on:
        raise Refused(_("The target date must be after the date of the baseline"), "target_on")
    lower = settings.direction is IndicatorDirection.LOWER
    if target == baseline:
        raise Refused(_("The target must differ from the baseline"), "target_value")
    if lower and target > baseline:
        raise Refused(
            _("Lower is better, so the target must be lower than the baseline"), "target_value"
        )
    if not lower and target < baseline:
        raise Refused(
            _("Higher is better, so the target must be higher than the baseline"), "target_value"
        )
    return IndicatorSettings(
        name, unit, source, url, baseline, baseline_on, target, target_on, settings.direction
    )


def set_indicator(user: User, mission: Mission, settings: IndicatorSettings) -> MissionIndicator:
    """Create the mission's indicator, or change it (its values are kept)."""
    _check_team(user, mission.id)
    clean = _clean_settings(settings)
    indicator = indicator_of(mission)
    created = indicator is None
    if indicator is None:
        indicator = MissionIndicator(mission_id=mission.id)
        db.session.add(indicator)
    indicator.name, indicator.unit, indicator.source = clean.name, clean.unit, clean.source
    indicator.source_url = clean.source_url
    indicator.baseline_value, indicator.baseline_on = clean.baseline_value, clean.baseline_on
    indicator.target_value, indicator.target_on = clean.target_value, clean.target_on
    indicator.direction = clean.direction
    indicator.updated_at = utcnow()
    db.session.flush()
    audit.record(
        "indicator.created" if created else "indicator.changed",
        indicator,
        actor_id=user.id,
        mission=mission.slug,
    )
    return indicator


def _clean_value(indicator: MissionIndicator, entry: ValueInput, keep: IndicatorValue | None):
    measured_on = _day(entry.measured_on, "measured_on", _("Enter the date the value describes"))
    if measured_on > utcnow().date():
        raise Refused(_("The date of a value cannot be in the future"), "measured_on")
    value = _number(
        entry.value,
        "value",
        _("Enter the value"),
        _("The value must be a number, like 1250 or 3.5"),
    )
    source = one_line(
        entry.source, "source", "Source", INDICATOR_SOURCE_MAX, _("Enter the source of this value")
    )
    note = (entry.note or "").replace("\r\n", "\n").strip()
    if len(note) > VALUE_NOTE_MAX:
        raise Refused(_("Note must be %(max)s characters or fewer", max=VALUE_NOTE_MAX), "note")
    twin = db.session.scalar(
        select(IndicatorValue).where(
            IndicatorValue.indicator_id == indicator.id, IndicatorValue.measured_on == measured_on
        )
    )
    if twin is not None and twin is not keep:
        raise Refused(
            _(
                "There is already a value for %(day)s: change that one instead",
                day=chart.long_day(measured_on),
            ),
            "measured_on",
        )
    return measured_on, value, source, note


def add_value(user: User, indicator: MissionIndicator, entry: ValueInput) -> IndicatorValue:
    _check_team(user, indicator.mission_id)
    measured_on, value, source, note = _clean_value(indicator, entry, None)
    row = IndicatorValue(
        indicator=indicator, measured_on=measured_on, value=value, source=source, note=note
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        "indicator.value_added", row, actor_id=user.id, indicator=indicator.id, on=str(measured_on)
    )
    return row


def change_value(user: User, row: IndicatorValue, entry: ValueInput) -> IndicatorValue:
    _check_team(user, row.indicator.mission_id)
    row.measured_on, row.value, row.source, row.note = _clean_value(row.indicator, entry, row)
    db.session.flush()
    audit.record(
        "indicator.value_changed",
        row,
        actor_id=user.id,
        indicator=row.indicator_id,
        on=str(row.measured_on),
    )
    return row


def remove_value(user: User, row: IndicatorValue) -> None:
    _check_team(user, row.indicator.mission_id)
    audit.record(
        "indicator.value_removed",
        row,
        actor_id=user.id,
        indicator=row.indicator_id,
        on=str(row.measured_on),
        value=row.value,
    )
    db.session.delete(row)
    db.session.flush()


# -- reading: the chart and the download ----------------------------------------------------------

MARK_OF_KIND = {
    ROUND_OPENED: "round",
    ROUND_CLOSED: "round",
    SUMMARY_PUBLISHED: "summary",
    **{kind: "idea" for kind in IDEA_KINDS.values()},
}


@dataclass(frozen=True)
class ValueRow:
    """One row of the values table: the value and the straight path on its date."""

    value: IndicatorValue
    path: float


@dataclass(frozen=True)
class IndicatorView:
    """Everything the mission page shows of the indicator."""

    indicator: MissionIndicator
    series: chart.IndicatorSeries
    rows: tuple[ValueRow, ...]
    chart: Markup
    key: Markup
    description: str
    progress: str  # "ahead of / behind the straight path", with the figures; "" when unknown

    def amount(self, value: float) -> str:
        return self.series.amount(value)

    @property
    def illustrative(self) -> bool:
        return ILLUSTRATIVE.lower() in self.indicator.source.lower()


def series_of(
    indicator: MissionIndicator, events: Sequence[TimelineEvent] = ()
) -> chart.IndicatorSeries:
    return chart.IndicatorSeries(
        name=indicator.name,
        unit=indicator.unit,
        lower_is_better=indicator.direction is IndicatorDirection.LOWER,
        baseline=chart.Point(indicator.baseline_on, indicator.baseline_value),
        target=chart.Point(indicator.target_on, indicator.target_value),
        actual=tuple(chart.Point(v.measured_on, v.value) for v in indicator.values),
        marks=tuple(chart.Mark(e.day, MARK_OF_KIND.get(e.kind, "decision")) for e in events),
    )


def indicator_view(mission: Mission, events: Sequence[TimelineEvent] = ()) -> IndicatorView | None:
    """The indicator of the mission with its chart (``events`` marked on the time axis)."""
    indicator = indicator_of(mission)
    if indicator is None:
        return None
    series = series_of(indicator, events)
    progress = chart.progress_of(series)
    sentence = progress.sentence(series) if progress else ""
    description = chart.describe_indicator(series)
    return IndicatorView(
        indicator=indicator,
        series=series,
        rows=tuple(ValueRow(v, series.path_at(v.measured_on)) for v in indicator.values),
        chart=chart.indicator_svg(
            f"indicator-{indicator.id}",
            series,
            f"{indicator.name} over time",
            f"{description} {sentence}".strip(),
        ),
        key=chart.indicator_key(series),
        description=description,
        progress=sentence,
    )


CSV_COLUMNS = ("row", "date", "value", "unit", "indicator", "source", "source_url", "note")


def values_csv(indicator: MissionIndicator) -> str:
    """The baseline, the target and every actual value, one a row, text cells made safe for
    spreadsheets. The note column says when figures are illustrative."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    marked = ILLUSTRATIVE if ILLUSTRATIVE.lower() in indicator.source.lower() else ""

    def row(kind: str, day: date, value: float, source: str, note: str) -> None:
        writer.writerow(
            [
                kind,
                day.isoformat(),
                repr(float(value)) if not float(value).is_integer() else int(value),
                safe_cell(indicator.unit),
                safe_cell(indicator.name),
                safe_cell(source),
                safe_cell(indicator.source_url or ""),
                safe_cell(note),
            ]
        )

    row("baseline", indicator.baseline_on, indicator.baseline_value, indicator.source, marked)
    row("target", indicator.target_on, indicator.target_value, indicator.source, marked)
    for v in indicator.values:
        note = v.note
        if marked and marked.lower() not in note.lower():
            note = f"{note} ({marked})" if note else marked
        row("actual", v.measured_on, v.value, v.source, note)
    return out.getvalue()
