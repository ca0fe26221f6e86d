"""Charts as server-side SVG: no JavaScript, and each one paired with a text summary and a table.

Every function returns SVG markup (``markupsafe.Markup``) built only from numbers and from text
that is escaped here, so a template can include it as it is. An SVG has ``role="img"``, a title and
a description; the page puts the same facts in a data table beside it for screen readers and for
anyone who prefers numbers. Groups differ by marker shape as well as colour, and vote kinds by
fill pattern as well as shade, so colour is never the only cue.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from deliberate.reporting.figures import COLOURS, MARKERS, GroupFigure, OpinionMap
from deliberate.reporting.words import ENGLISH, Words
from deliberate.wording import number

MAP_WIDTH, MAP_HEIGHT, MAP_MARGIN = 640, 440, 28
MAP_MAX_POINTS = 4000  # beyond this the map shows an even sample of each group (said in its text)
MARKER_SIZE = 4.2
FONT = "system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif"
NO_GROUP_COLOUR = "#505a5f"
AGREE_COLOUR, DISAGREE_COLOUR, PASS_COLOUR = "#00703c", "#b04200", "#b1b4b6"


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def marker_path(shape: str, x: float, y: float, r: float = MARKER_SIZE) -> str:
    """One marker as path data, so a whole group is one <path> (2,000 points stay small)."""
    if shape == "square":
        s = r * 0.85
        return f"M{_num(x - s)} {_num(y - s)}h{_num(2 * s)}v{_num(2 * s)}h{_num(-2 * s)}z"
    if shape == "triangle":
        return f"M{_num(x)} {_num(y - r * 1.1)}l{_num(r * 1.05)} {_num(r * 1.8)}h{_num(-r * 2.1)}z"
    if shape == "diamond":
        return (
            f"M{_num(x)} {_num(y - r * 1.15)}l{_num(r)} {_num(r * 1.15)}l{_num(-r)} "
            f"{_num(r * 1.15)}l{_num(-r)} {_num(-r * 1.15)}z"
        )
    if shape == "cross":
        a, b = r * 1.1, r * 0.4
        return (
            f"M{_num(x - b)} {_num(y - a)}h{_num(2 * b)}v{_num(a - b)}h{_num(a - b)}v{_num(2 * b)}"
            f"h{_num(b - a)}v{_num(a - b)}h{_num(-2 * b)}v{_num(b - a)}h{_num(b - a)}"
            f"v{_num(-2 * b)}h{_num(a - b)}z"
        )
    if shape == "star":
        return (
            f"M{_num(x)} {_num(y - r * 1.2)}l{_num(r * 0.35)} {_num(r * 0.8)}h{_num(r * 0.85)}"
            f"l{_num(-r * 0.7)} {_num(r * 0.55)}l{_num(r * 0.3)} {_num(r * 0.9)}"
            f"l{_num(-r * 0.8)} {_num(-r * 0.55)}l{_num(-r * 0.8)} {_num(r * 0.55)}"
            f"l{_num(r * 0.3)} {_num(-r * 0.9)}l{_num(-r * 0.7)} {_num(-r * 0.55)}"
            f"h{_num(r * 0.85)}z"
        )
    return (
        f"M{_num(x - r)} {_num(y)}a{_num(r)} {_num(r)} 0 1 0 {_num(2 * r)} 0"
        f"a{_num(r)} {_num(r)} 0 1 0 {_num(-2 * r)} 0z"
    )


def marker_icon(group_id: int, size: int = 18) -> Markup:
    """A small legend swatch: the group's marker in its colour (decorative: the text names it)."""
    shape, colour = MARKERS[group_id % len(MARKERS)], COLOURS[group_id % len(COLOURS)]
    half = size / 2
    path = marker_path(shape, half, half, size / 3)
    return _built(
        f'<svg class="app-marker" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
        f'aria-hidden="true" focusable="false"><path d="{path}" fill="{colour}" '
        f'stroke="#0b0c0c" stroke-width="0.6"/></svg>'
    )


def _sample(indexes: list[int], limit: int) -> list[int]:
    if len(indexes) <= limit:
        return indexes
    step = len(indexes) / limit
    return [indexes[int(i * step)] for i in range(limit)]


def map_sample_size(opinion_map: OpinionMap) -> int:
    return min(opinion_map.n_people, MAP_MAX_POINTS)


def opinion_map_svg(
    opinion_map: OpinionMap, groups: Sequence[GroupFigure], title: str, description: str
) -> Markup:
    """Every participant as a point, the groups told apart by shape and colour, each group
    named at its centre. People with too few votes to count are drawn hollow."""
    points = opinion_map.points
    if not points:
        return Markup("")
    by_group: dict[tuple[int, bool], list[int]] = {}
    for i, p in enumerate(points):
        by_group.setdefault((p.group, p.clustered), []).append(i)
    share = min(1.0, MAP_MAX_POINTS / len(points))
    shown = {
        key: _sample(idx, max(1, round(len(idx) * share))) for key, idx in sorted(by_group.items())
    }
    xs = [p.x for p in points] + [g.center[0] for g in groups]
    ys = [p.y for p in points] + [g.center[1] for g in groups]
    x0, x1, y0, y1 = min(xs), max(xs), min(ys), max(ys)
    span = max(x1 - x0, y1 - y0, 1e-9)
    scale = min(
        (MAP_WIDTH - 2 * MAP_MARGIN) / max(x1 - x0, span * 0.2),
        (MAP_HEIGHT - 2 * MAP_MARGIN) / max(y1 - y0, span * 0.2),
    )
    cx = MAP_WIDTH / 2 - scale * (x0 + x1) / 2
    cy = MAP_HEIGHT / 2 + scale * (y0 + y1) / 2

    def at(x: float, y: float) -> tuple[float, float]:
        return cx + scale * x, cy - scale * y

    paths = []
    for (group, clustered), idx in shown.items():
        shape = MARKERS[group % len(MARKERS)] if group >= 0 else "circle"
        colour = COLOURS[group % len(COLOURS)] if group >= 0 else NO_GROUP_COLOUR
        data = "".join(marker_path(shape, *at(points[i].x, points[i].y)) for i in idx)
        if clustered:
            style = f'fill="{colour}" fill-opacity="0.8" stroke="#ffffff" stroke-width="0.6"'
        else:
            style = f'fill="#ffffff" stroke="{colour}" stroke-width="1.2"'
        paths.append(f'<path d="{data}" {style}/>')
    labels = []
    for g in groups:
        x, y = at(*g.center)
        x = min(max(x, MAP_MARGIN + 30), MAP_WIDTH - MAP_MARGIN - 30)
        y = min(max(y, MAP_MARGIN), MAP_HEIGHT - MAP_MARGIN)
        labels.append(
            f'<text x="{_num(x)}" y="{_num(y - 10)}" text-anchor="middle" font-size="16" '
            f'font-weight="bold" fill="#0b0c0c" stroke="#ffffff" stroke-width="4" '
            f'paint-order="stroke">{escape(g.name)}</text>'
        )
    return _built(
        f'<svg class="app-chart app-chart--map" viewBox="0 0 {MAP_WIDTH} {MAP_HEIGHT}" '
        f'role="img" aria-labelledby="map-title map-desc" focusable="false" '
        f'font-family="{FONT}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="map-title">{escape(title)}</title>'
        f'<desc id="map-desc">{escape(description)}</desc>'
        f'<rect x="0.5" y="0.5" width="{MAP_WIDTH - 1}" height="{MAP_HEIGHT - 1}" fill="#ffffff" '
        f'stroke="#b1b4b6"/>' + "".join(paths) + "".join(labels) + "</svg>"
    )


@dataclass(frozen=True)
class Bar:
    """One stacked bar: agree, disagree and pass counts of one group of people (or votes)."""

    label: str
    agree: int
    disagree: int
    passed: int

    @property
    def total(self) -> int:
        return self.agree + self.disagree + self.passed


_PATTERNS = (
    "<defs>"
    '<pattern id="{id}-hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="6" height="6" fill="{disagree}"/>'
    '<line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-width="2"/></pattern>'
    '<pattern id="{id}-dots" width="5" height="5" patternUnits="userSpaceOnUse">'
    '<rect width="5" height="5" fill="{passed}"/><circle cx="2.5" cy="2.5" r="1" fill="#505a5f"/>'
    "</pattern></defs>"
)


def vote_key(chart_id: str, words: Words = ENGLISH) -> Markup:
    """The key of a vote chart, in HTML under it: the three fills, named in words."""
    _ = words.gettext
    items = []
    for name, fill in (
        (_("Agree (solid)"), AGREE_COLOUR),
        (_("Disagree (striped)"), f"url(#{chart_id}-key-hatch)"),
        (_("Pass (dotted)"), f"url(#{chart_id}-key-dots)"),
    ):
        items.append(
            '<li class="app-key__item"><svg width="22" height="14" aria-hidden="true" '
            'focusable="false">'
            + _PATTERNS.format(id=f"{chart_id}-key", disagree=DISAGREE_COLOUR, passed=PASS_COLOUR)
            + f'<rect width="22" height="14" fill="{fill}" stroke="#0b0c0c" stroke-width="0.5"/>'
            f"</svg> {escape(name)}</li>"
        )
    return _built(f'<ul class="govuk-list app-key">{"".join(items)}</ul>')


def vote_bars_svg(
    chart_id: str,
    bars: Sequence[Bar],
    title: str,
    description: str,
    sections: Sequence[tuple[str, int]] = (),
) -> Markup:
    """Horizontal bars, one per row, split into agree (solid), disagree (striped) and pass
    (dotted), each as a share of the row's votes; ``sections`` ((heading, rows), ...) puts a
    heading above consecutive rows (a statement above its groups' bars)."""
    if not bars:
        return Markup("")
    label_w, bar_w, row_h, head_h = 215, 400, 26, 26
    rows_svg = []
    y = 8
    headings = dict()
    start = 0
    for heading, count in sections:
        headings[start] = heading
        start += count
    for i, bar in enumerate(bars):
        if i in headings:
            y += 4
            rows_svg.append(
                f'<text x="0" y="{y + 16}" font-size="15" font-weight="bold" fill="#0b0c0c">'
                f"{escape(_short(headings[i], 80))}</text>"
            )
            y += head_h
        rows_svg.append(
            f'<text x="{label_w - 8}" y="{y + 17}" font-size="14" text-anchor="end" '
            f'fill="#0b0c0c">{escape(_short(bar.label, 26))}</text>'
        )
        x = float(label_w)
        for count, fill in (
            (bar.agree, AGREE_COLOUR),
            (bar.disagree, f"url(#{chart_id}-hatch)"),
            (bar.passed, f"url(#{chart_id}-dots)"),
        ):
            if bar.total and count:
                w = bar_w * count / bar.total
                rows_svg.append(
                    f'<rect x="{_num(x)}" y="{y + 3}" width="{_num(w)}" height="{row_h - 6}" '
                    f'fill="{fill}" stroke="#ffffff" stroke-width="1"/>'
                )
                x += w
        agreed = round(100 * bar.agree / bar.total) if bar.total else 0
        rows_svg.append(
            f'<text x="{label_w + bar_w + 8}" y="{y + 17}" font-size="14" fill="#0b0c0c">'
            f"{agreed}% agree</text>"
        )
        y += row_h
    height = y + 8
    width = label_w + bar_w + 110
    return _built(
        f'<svg class="app-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false" '
        f'font-family="{FONT}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>'
        + _PATTERNS.format(id=chart_id, disagree=DISAGREE_COLOUR, passed=PASS_COLOUR)
        + "".join(rows_svg)
        + "</svg>"
    )


def column_svg(
    chart_id: str, columns: Sequence[tuple[str, int]], title: str, description: str
) -> Markup:
    """Vertical bars of counts (people taking part per round), each labelled with its value."""
    if not columns:
        return Markup("")
    col_w, gap, plot_h, top, bottom = 70, 30, 160, 24, 30
    peak = max((v for _, v in columns), default=0) or 1
    width = len(columns) * (col_w + gap) + gap
    parts = [
        f'<line x1="0" y1="{top + plot_h}" x2="{width}" y2="{top + plot_h}" stroke="#0b0c0c"/>'
    ]
    for i, (label, value) in enumerate(columns):
        x = gap + i * (col_w + gap)
        h = plot_h * value / peak
        parts.append(
            f'<rect x="{x}" y="{_num(top + plot_h - h)}" width="{col_w}" height="{_num(h)}" '
            f'fill="#0b5f9e"/>'
            f'<text x="{x + col_w / 2}" y="{_num(top + plot_h - h - 6)}" font-size="14" '
            f'text-anchor="middle" fill="#0b0c0c">{value:,}</text>'
            f'<text x="{x + col_w / 2}" y="{top + plot_h + 20}" font-size="14" '
            f'text-anchor="middle" fill="#0b0c0c">{escape(_short(label, 12))}</text>'
        )
    return chart_svg(
        chart_id, "app-chart--small", (width, top + plot_h + bottom), title, description, parts
    )


def chart_svg(
    chart_id: str,
    modifier: str,
    size: tuple[float, float],
    title: str,
    description: str,
    parts: Sequence[str],
) -> Markup:
    """A chart's ``<svg>``: scaled by its viewBox, an image named by its title and described by
    its description (both escaped here), around ``parts`` built from numbers and escaped text."""
    return _built(
        f'<svg class="app-chart {modifier}" viewBox="0 0 {size[0]} {size[1]}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" focusable="false" '
        f'font-family="{FONT}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{chart_id}-title">{escape(title)}</title>'
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>' + "".join(parts) + "</svg>"
    )


def _built(svg: str) -> Markup:
    """Markup built here from numbers, constants and text passed through ``escape``."""
    return Markup(svg)  # noqa: S704 - every piece of text in it was escaped where it was added


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# -- text summaries: what each chart shows, in words (its <desc> and the caption above it) --------


def _where(dx: float, dy: float, words: Words) -> str:
    """Rough position of a group centre, from its offset to the middle of the map (-1 to 1)."""
    _ = words.gettext
    horizontal = "left" if dx < -0.25 else "right" if dx > 0.25 else ""
    vertical = "bottom" if dy < -0.25 else "top" if dy > 0.25 else ""
    places = {
        ("top", "left"): _("towards the top left"),
        ("top", "right"): _("towards the top right"),
        ("bottom", "left"): _("towards the bottom left"),
        ("bottom", "right"): _("towards the bottom right"),
        ("top", ""): _("towards the top"),
        ("bottom", ""): _("towards the bottom"),
        ("", "left"): _("towards the left"),
        ("", "right"): _("towards the right"),
        ("", ""): _("near the middle"),
    }
    return places[(vertical, horizontal)]


def _drawn_as(marker: str, words: Words) -> str:
    _ = words.gettext
    return {
        "circle": _("drawn as circles"),
        "square": _("drawn as squares"),
        "triangle": _("drawn as triangles"),
        "diamond": _("drawn as diamonds"),
        "cross": _("drawn as crosses"),
        "star": _("drawn as stars"),
    }.get(marker, marker)


def describe_map(
    opinion_map: OpinionMap, groups: Sequence[GroupFigure], words: Words = ENGLISH
) -> str:
    """The opinion map in words: who is on it, which group sits where, and what it cannot show."""
    _, ngettext = words.gettext, words.ngettext
    n = opinion_map.n_people
    shown = map_sample_size(opinion_map)
    parts = [
        ngettext(
            "Each of the %(num)s person who voted is a point; people who voted alike sit close "
            "together. The axes summarise the votes and have no meaning of their own.",
            "Each of the %(num)s people who voted is a point; people who voted alike sit close "
            "together. The axes summarise the votes and have no meaning of their own.",
            n,
        )
        % {"num": number(n)}
    ]
    if shown < n:
        parts.append(
            _("The map shows an even sample of %(num)s of them, from every group.")
            % {"num": number(shown)}
        )
    if groups:
        xs = [p.x for p in opinion_map.points] or [0.0]
        ys = [p.y for p in opinion_map.points] or [0.0]
        mid_x, mid_y = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
        half_x = max((max(xs) - min(xs)) / 2, 1e-9)
        half_y = max((max(ys) - min(ys)) / 2, 1e-9)
        for g in groups:
            where = _where((g.center[0] - mid_x) / half_x, (g.center[1] - mid_y) / half_y, words)
            parts.append(
                ngettext(
                    "%(group)s: %(num)s person, %(drawn)s, %(where)s.",
                    "%(group)s: %(num)s people, %(drawn)s, %(where)s.",
                    g.size,
                )
                % {
                    "group": g.name,
                    "num": number(g.size),
                    "drawn": _drawn_as(g.marker, words),
                    "where": where,
                }
            )
    unplaced = sum(1 for p in opinion_map.points if not p.clustered)
    if unplaced:
        parts.append(
            ngettext(
                "%(num)s person with too few votes to count in the statistics is drawn hollow, "
                "in the shape of the group they are nearest to.",
                "%(num)s people with too few votes to count in the statistics are drawn hollow, "
                "in the shape of the group they are nearest to.",
                unplaced,
            )
            % {"num": number(unplaced)}
        )
    return " ".join(parts)
