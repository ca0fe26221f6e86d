"""Rounds of a question: comparing two, and a mission's trajectory over its consultations.

Every figure comes from the rounds' published runs through their findings: a page that states
"agreed by every group" reads the same stored, tested count as the report of that run.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from markupsafe import Markup
from sqlalchemy import func, or_, select

from deliberate.extensions import db
from deliberate.models import (
    AnalysisRun,
    Consultation,
    ConsultationState,
    Mission,
    Participant,
    Statement,
)
from deliberate.reporting import charts
from deliberate.reporting.changes import CarriedStatement, changes_between
from deliberate.reporting.figures import Figures
from deliberate.services.consultations import ConsultationCounts, counts_for, rounds_of
from deliberate.services.reports.cache import reader_words
from deliberate.services.reports.report import figures_for
from deliberate.services.reports.runs import published_run


@dataclass(frozen=True)
class CameBack:
    """How many of a round's participants took part in the round before, as far as the service
    can tell: those signed in to the same account both times, and those who came through the
    invitation emailed to the earlier round's followers (``Participant.invited_back``). Anyone
    else who came back anonymously is not counted, so this is a lower bound.

    Counts participants who had started by the time the run began, so a published report does
    not change."""

    earlier: Consultation
    n_came_back: int
    n_participants: int


def came_back(consultation: Consultation, earlier: Consultation, run: AnalysisRun) -> CameBack:
    in_this_round = (
        Participant.consultation_id == consultation.id,
        Participant.created_at <= run.started_at,
    )
    signed_in_before = select(Participant.user_id).where(
        Participant.consultation_id == earlier.id, Participant.user_id.is_not(None)
    )
    total = db.session.scalar(select(func.count()).select_from(Participant).where(*in_this_round))
    returning = db.session.scalar(
        select(func.count())
        .select_from(Participant)
        .where(
            *in_this_round,
            or_(Participant.invited_back, Participant.user_id.in_(signed_in_before)),
        )
    )
    return CameBack(earlier, int(returning or 0), int(total or 0))


@dataclass(frozen=True)
class RoundComparison:
    earlier: Consultation
    later: Consultation
    earlier_run: AnalysisRun
    later_run: AnalysisRun
    earlier_figures: Figures
    later_figures: Figures
    carried: tuple[CarriedStatement, ...]  # largest change first
    n_new: int  # statements of the later round not asked in the earlier one

    @property
    def n_changed(self) -> int:
        """Statements whose agreement changed (the test holds), up or down."""
        return sum(1 for c in self.carried if c.changed)

    @property
    def n_up(self) -> int:
        return sum(1 for c in self.carried if c.changed and (c.change or 0) > 0)

    @property
    def n_down(self) -> int:
        return sum(1 for c in self.carried if c.changed and (c.change or 0) < 0)


def compare_rounds(
    earlier: Consultation, earlier_run: AnalysisRun, later: Consultation, later_run: AnalysisRun
) -> RoundComparison:
    """Agreement then and now on every statement both rounds asked (matched by normalised text)."""
    then_figures, now_figures = figures_for(earlier_run), figures_for(later_run)

    def by_text(consultation: Consultation, run: AnalysisRun) -> dict[str, int]:
        rows = db.session.execute(
            select(Statement.normalised_text, Statement.id)
            .where(
                Statement.consultation_id == consultation.id,
                Statement.id <= run.last_statement_id,
            )
            .order_by(Statement.id.desc())
        )
        return {text: sid for text, sid in rows}

    then_ids, now_ids = by_text(earlier, earlier_run), by_text(later, later_run)
    pairs = []
    for text, now_id in now_ids.items():
        then_id = then_ids.get(text)
        then_row = then_figures.statement(then_id) if then_id is not None else None
        now_row = now_figures.statement(now_id)
        if then_row is None or now_row is None or not (then_row.seen and now_row.seen):
            continue
        pairs.append((then_row, now_row))
    carried = changes_between(pairs, now_figures.alpha)
    n_new = sum(1 for text in now_ids if text not in then_ids)
    return RoundComparison(
        earlier, later, earlier_run, later_run, then_figures, now_figures, carried, n_new
    )


@dataclass(frozen=True)
class RoundPoint:
    """One round on a mission's trajectory, with its published figures when it has them."""

    consultation: Consultation
    run: AnalysisRun | None
    figures: Figures | None
    live: ConsultationCounts


@dataclass(frozen=True)
class Trajectory:
    """One question asked over one or more rounds, and how its answers moved."""

    rounds: tuple[RoundPoint, ...]
    comparisons: tuple[RoundComparison, ...]  # between consecutive rounds both published
    chart: Markup
    chart_description: str

    @property
    def title(self) -> str:
        return self.rounds[-1].consultation.title


def mission_trajectory(mission: Mission) -> list[Trajectory]:
    """The public consultations of a mission grouped into their rounds, newest question first,
    each round with its published figures (participation, groups, common ground, topics)."""
    consultations = list(
        db.session.scalars(
            select(Consultation)
            .where(
                Consultation.mission_id == mission.id,
                Consultation.state != ConsultationState.DRAFT,
            )
            .order_by(Consultation.created_at, Consultation.id)
        )
    )
    live = counts_for(c.id for c in consultations)
    public = {c.id for c in consultations}
    chains: list[list[Consultation]] = []
    placed: set[int] = set()
    for consultation in consultations:
        if consultation.id in placed:
            continue
        chain = [c for c in rounds_of(consultation) if c.id in public]
        placed.update(c.id for c in chain)
        chains.append(chain)
    out = []
    for chain in chains:
        points = []
        for consultation in chain:
            run = published_run(consultation.id)
            points.append(
                RoundPoint(
                    consultation, run, figures_for(run) if run else None, live[consultation.id]
                )
            )
        comparisons = tuple(
            compare_rounds(a.consultation, a.run, b.consultation, b.run)
            for a, b in pairwise(points)
            if a.run is not None and b.run is not None
        )
        chart, text = _trajectory_chart(points)
        out.append(Trajectory(tuple(points), comparisons, chart, text))
    out.sort(key=lambda t: max(p.consultation.created_at for p in t.rounds), reverse=True)
    return out


def _trajectory_chart(points: list[RoundPoint]) -> tuple[Markup, str]:
    _ = reader_words().gettext
    published = [p for p in points if p.figures is not None]
    if len(points) < 2 or len(published) < 2:
        return Markup(""), ""
    columns = [
        (_("Round %(round)s") % {"round": p.consultation.round_number}, p.figures.n_voters)
        for p in published
    ]
    counts = "; ".join(f"{label}: {value:,}" for label, value in columns)
    text = _("People taking part in each round: %(counts)s.") % {"counts": counts}
    return charts.column_svg(
        f"trajectory-{points[0].consultation.id}", columns, _("People taking part by round"), text
    ), text
