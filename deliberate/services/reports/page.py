"""A report page: the run shown, where it stands among the consultation's runs and rounds."""

from __future__ import annotations

from dataclasses import dataclass

from deliberate.models import AnalysisRun, Consultation, ConsultationState, User
from deliberate.reporting.figures import Figures
from deliberate.services.consultations import next_round_of
from deliberate.services.reports.downloads import polis_zip, run_json
from deliberate.services.reports.report import Report, report_for
from deliberate.services.reports.rounds import CameBack, RoundComparison, came_back, compare_rounds
from deliberate.services.reports.runs import is_team, published_run, published_runs


@dataclass(frozen=True)
class ReportPage:
    """A report page: the run shown, where it stands among the consultation's runs and rounds."""

    consultation: Consultation
    run: AnalysisRun
    report: Report
    published: AnalysisRun | None  # what the public sees now
    earlier_runs: list[AnalysisRun]  # other runs ever published (permanent links)
    previous_round: Consultation | None
    previous_round_run: AnalysisRun | None
    next_round: Consultation | None
    next_round_run: AnalysisRun | None
    comparison: RoundComparison | None  # with the previous round, both published
    came_back: CameBack | None  # of this round's participants, those of the previous round
    is_team: bool
    zip_bytes: int  # sizes of the run's downloads, for the contents list at the top
    json_bytes: int

    @property
    def is_public(self) -> bool:
        return self.published is not None and self.published.id == self.run.id

    @property
    def figures(self) -> Figures:
        return self.report.figures


def report_page(consultation: Consultation, run: AnalysisRun, user: User | None) -> ReportPage:
    previous = consultation.previous_round
    if previous is not None and previous.state is ConsultationState.DRAFT:
        previous = None
    later = next_round_of(consultation)
    if later is not None and later.state is ConsultationState.DRAFT:
        later = None
    previous_run = published_run(previous.id) if previous else None
    comparison = None
    if previous_run is not None and run.published_at is not None:
        comparison = compare_rounds(previous, previous_run, consultation, run)
    return ReportPage(
        consultation=consultation,
        run=run,
        report=report_for(run),
        published=published_run(consultation.id),
        earlier_runs=[r for r in published_runs(consultation.id) if r.id != run.id],
        previous_round=previous,
        previous_round_run=previous_run,
        next_round=later,
        next_round_run=published_run(later.id) if later else None,
        comparison=comparison,
        came_back=came_back(consultation, previous, run) if previous is not None else None,
        is_team=is_team(user, consultation),
        zip_bytes=len(polis_zip(run)),
        json_bytes=len(run_json(run)),
    )
