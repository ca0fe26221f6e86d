"""A mission's indicator over time, as server-side SVG: the actual values against the straight path
from the baseline to the target, with the mission's events marked under the time axis.

Pure: plain dates and numbers in, markup and sentences out. The page pairs the chart with a table
of the values and the timeline of events, so the SVG (``role="img"``, a title and a description)
is never the only way to read them. The one judgement made here is the honest one: is the latest
value ahead of or behind the straight path on its date, and by how much.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

from deliberate.reporting.charts import _built, _num, chart_svg, marker_path

WIDTH, HEIGHT = 640, 400
LEFT, RIGHT, TOP = 92, 28, 24
PLOT_BOTTOM = HEIGHT - 104  # the time axis; its labels and the events strip sit under it
EVENTS_Y = PLOT_BOTTOM + 64
ACTUAL_COLOUR, PATH_COLOUR, GRID_COLOUR, TEXT_COLOUR = "#1d70b8", "#505a5f", "#d9dadb", "#0b0c0c"

# The kinds of mark under the time axis: shape, colour and what the key calls them.
MARK_STYLES = {
    "round": ("circle", "#4c2c92", "Consultation opened or closed (circle)"),
    "summary": ("square", "#00703c", "Summary published (square)"),
    "decision": ("diamond", "#b04200", "Decision or response (diamond)"),
    "idea": ("triangle", "#0b0c0c", "Staff idea trialled or decided (triangle)"),
}


@dataclass(frozen=True)
class Point:
    on: date
    value: float


@dataclass(frozen=True)
class Mark:
    """An event under the time axis; ``kind`` is a key of ``MARK_STYLES``."""

    on: date
    kind: str


@dataclass(frozen=True)
class IndicatorSeries:
    name: str
    unit: str
    lower_is_better: bool
    baseline: Point
    target: Point
    actual: tuple[Point, ...]  # oldest first
    marks: tuple[Mark, ...] = ()

    def path_at(self, day: date) -> float:
        """The straight path from the baseline to the target on ``day`` (held at either end)."""
        span = (self.target.on - self.baseline.on).days
        done = min(max((day - self.baseline.on).days / span, 0.0), 1.0)
        return self.baseline.value + (self.target.value - self.baseline.value) * done

    @property
    def decimals(self) -> int:
        """As many decimals as the recorded figures use (at most two): a path worked out between
        whole numbers of offences is shown as a whole number too."""
        figures = [self.baseline.value, self.target.value, *(p.value for p in self.actual)]
        return max(_decimals(v) for v in figures)

    def amount(self, value: float) -> str:
        """A value with its unit, to the figures' precision: "41,200 offences", "2.5%"."""
        return with_unit(round(value, self.decimals), self.unit)


def _decimals(value: float) -> int:
    text = f"{value:.2f}".rstrip("0")
    return len(text) - text.index(".") - 1


def number(value: float) -> str:
    """Thousands separators, up to two decimals, no trailing zeros: 41,200; 2.5; -0.75."""
    value = round(float(value), 2)
    if value.is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def with_unit(value: float, unit: str) -> str:
    unit = unit.strip()
    if not unit:
        return number(value)
    return f"{number(value)}{unit}" if unit.startswith("%") else f"{number(value)} {unit}"


def long_day(day: date) -> str:
    return f"{day.day} {day.strftime('%B %Y')}"


# -- the one judgement: ahead of or behind the straight path --------------------------------------


@dataclass(frozen=True)
class Progress:
    latest: Point
    path: float  # the straight path on the latest value's date (the target once it has passed)
    target_passed: bool
    better: bool | None  # better than the path (or than the target); None: exactly on it

    def sentence(self, series: IndicatorSeries) -> str:
        value, on = series.amount(self.latest.value), long_day(self.latest.on)
        latest = f"The latest value, {value} on {on}"
        if self.target_passed:
            reached = "has reached" if self.better is not False else "has not reached"
            return (
                f"The target date, {long_day(series.target.on)}, has passed. {latest}, {reached} "
                f"the target of {series.amount(series.target.value)}."
            )
        if self.better is None:
            return (
                f"{latest}, is on the straight path from the baseline to the target for that date."
            )
        where = "ahead of" if self.better else "behind"
        gap = series.amount(abs(self.latest.value - self.path))
        return (
            f"{latest}, is {where} the straight path from the baseline to the target, which is at "
            f"{series.amount(self.path)} on that date: a difference of {gap}."
        )


def progress_of(series: IndicatorSeries) -> Progress | None:
    """Where the latest value stands against the straight path on its date; None when there is
    no value after the baseline date to compare."""
    if not series.actual:
        return None
    latest = series.actual[-1]
    if latest.on <= series.baseline.on:
        return None
    passed = latest.on >= series.target.on
    path = series.target.value if passed else series.path_at(latest.on)
    tolerance = 1e-9 * max(1.0, abs(path))
    if abs(latest.value - path) <= tolerance:
        better = None if not passed else True
    else:
        better = latest.value < path if series.lower_is_better else latest.value > path
    return Progress(latest, path, passed, better)


# -- the chart ------------------------------------------------------------------------------------


def _nice_step(span: float, parts: int = 4) -> float:
    raw = span / parts
    power = 10 ** math.floor(math.log10(raw))
    for step in (1, 2, 2.5, 5, 10):
        if raw <= step * power:
            return step * power
    return 10 * power


def _value_ticks(values: Sequence[float]) -> list[float]:
    low, high = min(values), max(values)
    span = high - low or max(abs(high), 1.0)
    step = _nice_step(span)
    start = math.floor((low - span * 0.05) / step) * step
    end = math.ceil((high + span * 0.05) / step) * step
    count = round((end - start) / step)
    return [start + i * step for i in range(count + 1)]


def _year_ticks(first: date, last: date) -> list[date]:
    years = list(range(first.year + (first > date(first.year, 1, 1)), last.year + 1))
    step = max(1, math.ceil(len(years) / 6))
    return [date(year, 1, 1) for year in years[::step]]


def indicator_svg(chart_id: str, series: IndicatorSeries, title: str, description: str) -> Markup:
    """The chart: grid and value axis, the dashed straight path with the baseline and target
    marked, the actual values as a solid line with dots, and the events under the time axis."""
    days = [series.baseline.on, series.target.on, *(p.on for p in series.actual)]
    days += [m.on for m in series.marks]
    first, last = min(days).toordinal(), max(days).toordinal()
    pad = max((last - first) * 0.03, 15)
    x0, x1 = first - pad, last + pad
    ticks = _value_ticks(
        [series.baseline.value, series.target.value, *(p.value for p in series.actual)]
    )
    y0, y1 = ticks[0], ticks[-1]

    def x(day: date) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (day.toordinal() - x0) / (x1 - x0)

    def y(value: float) -> float:
        return PLOT_BOTTOM - (PLOT_BOTTOM - TOP) * (value - y0) / ((y1 - y0) or 1.0)

    parts = []
    for tick in ticks:
        parts.append(
            f'<line x1="{LEFT}" y1="{_num(y(tick))}" x2="{WIDTH - RIGHT}" y2="{_num(y(tick))}" '
            f'stroke="{GRID_COLOUR}"/>'
            f'<text x="{LEFT - 8}" y="{_num(y(tick) + 6)}" font-size="20" text-anchor="end" '
            f'fill="{TEXT_COLOUR}">{escape(number(round(tick, 6)))}</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" y1="{PLOT_BOTTOM}" x2="{WIDTH - RIGHT}" y2="{PLOT_BOTTOM}" '
        f'stroke="{TEXT_COLOUR}" stroke-width="1.5"/>'
    )
    for tick in _year_ticks(date.fromordinal(first), date.fromordinal(last)):
        parts.append(
            f'<line x1="{_num(x(tick))}" y1="{PLOT_BOTTOM}" x2="{_num(x(tick))}" '
            f'y2="{PLOT_BOTTOM + 6}" stroke="{TEXT_COLOUR}"/>'
            f'<text x="{_num(x(tick))}" y="{PLOT_BOTTOM + 26}" font-size="20" '
            f'text-anchor="middle" fill="{TEXT_COLOUR}">{tick.year}</text>'
        )
    # The events: a faint line up through the plot and a shape in the strip under the axis.
    if series.marks:
        parts.append(
            f'<text x="{LEFT - 8}" y="{EVENTS_Y + 6}" font-size="18" text-anchor="end" '
            f'fill="{TEXT_COLOUR}">Events</text>'
        )
    placed: list[tuple[float, float]] = []
    for mark in sorted(series.marks, key=lambda m: m.on):
        shape, colour, _ = MARK_STYLES.get(mark.kind, MARK_STYLES["decision"])
        mx = x(mark.on)
        my = float(EVENTS_Y)
        while any(abs(px - mx) < 9 and abs(py - my) < 9 for px, py in placed):
            my -= 13  # events close together stack upwards
        placed.append((mx, my))
        parts.append(
            f'<line x1="{_num(mx)}" y1="{TOP}" x2="{_num(mx)}" y2="{PLOT_BOTTOM}" '
            f'stroke="{colour}" stroke-opacity="0.35" stroke-dasharray="2 4"/>'
            f'<path d="{marker_path(shape, mx, my, 5.5)}" fill="{colour}" stroke="#ffffff" '
            f'stroke-width="0.8"/>'
        )
    # The straight path, its two ends named.
    bx, by = x(series.baseline.on), y(series.baseline.value)
    tx, ty = x(series.target.on), y(series.target.value)
    parts.append(
        f'<line x1="{_num(bx)}" y1="{_num(by)}" x2="{_num(tx)}" y2="{_num(ty)}" '
        f'stroke="{PATH_COLOUR}" stroke-width="2.5" stroke-dasharray="9 6"/>'
    )
    for px, py, label, anchor in (
        (bx, by, "Baseline", "start"),
        (tx, ty, "Target", "end"),
    ):
        parts.append(
            f'<circle cx="{_num(px)}" cy="{_num(py)}" r="6" fill="#ffffff" '
            f'stroke="{PATH_COLOUR}" stroke-width="2.5"/>'
            f'<text x="{_num(px + (10 if anchor == "start" else -10))}" '
            f'y="{_num(py + (-12 if py > TOP + 30 else 24))}" font-size="20" '
            f'text-anchor="{anchor}" fill="{TEXT_COLOUR}" stroke="#ffffff" stroke-width="4" '
            f'paint-order="stroke">{label}</text>'
        )
    # The actual values.
    if series.actual:
        line = " ".join(f"{_num(x(p.on))},{_num(y(p.value))}" for p in series.actual)
        parts.append(
            f'<polyline points="{line}" fill="none" stroke="{ACTUAL_COLOUR}" stroke-width="3"/>'
        )
        dots = "".join(marker_path("circle", x(p.on), y(p.value), 5.5) for p in series.actual)
        parts.append(f'<path d="{dots}" fill="{ACTUAL_COLOUR}" stroke="#ffffff" stroke-width="1"/>')
    return chart_svg(chart_id, "app-chart--indicator", (WIDTH, HEIGHT), title, description, parts)


def indicator_key(series: IndicatorSeries) -> Markup:
    """The chart's key, in HTML under it: the two lines and the kinds of event it marks."""
    items = [
        (
            f'<line x1="1" y1="7" x2="27" y2="7" stroke="{ACTUAL_COLOUR}" stroke-width="3"/>'
            f'<path d="{marker_path("circle", 14, 7, 4.5)}" fill="{ACTUAL_COLOUR}"/>',
            "Actual values (solid line with dots)",
        ),
        (
            f'<line x1="1" y1="7" x2="27" y2="7" stroke="{PATH_COLOUR}" stroke-width="2.5" '
            f'stroke-dasharray="7 4"/>',
            "Straight path from the baseline to the target (dashed line)",
        ),
    ]
    for kind in MARK_STYLES:
        if any(m.kind == kind for m in series.marks):
            shape, colour, label = MARK_STYLES[kind]
            items.append((f'<path d="{marker_path(shape, 14, 7, 5.5)}" fill="{colour}"/>', label))
    return _built(
        '<ul class="govuk-list app-key">'
        + "".join(
            '<li class="app-key__item"><svg width="28" height="14" aria-hidden="true" '
            f'focusable="false">{svg}</svg> {escape(label)}</li>'
            for svg, label in items
        )
        + "</ul>"
    )


def describe_indicator(series: IndicatorSeries) -> str:
    """The chart in words: what is drawn, and from when to when (``progress_of`` says where the
    latest value stands)."""
    parts = [
        f"{series.name}, in {series.unit}. The dashed line is the straight path from the baseline "
        f"of {series.amount(series.baseline.value)} on {long_day(series.baseline.on)} to the "
        f"target of {series.amount(series.target.value)} by {long_day(series.target.on)}."
    ]
    if series.actual:
        first, latest = series.actual[0], series.actual[-1]
        count = len(series.actual)
        parts.append(
            f"The solid line joins {count} actual value{'' if count == 1 else 's'}, from "
            f"{series.amount(first.value)} on {long_day(first.on)} to "
            f"{series.amount(latest.value)} on {long_day(latest.on)}."
        )
    else:
        parts.append("No actual values have been recorded yet.")
    if series.marks:
        n = len(series.marks)
        parts.append(
            f"{n} event{'' if n == 1 else 's'} of the mission {'is' if n == 1 else 'are'} marked "
            "under the time axis; the timeline on this page lists them."
        )
    return " ".join(parts)
