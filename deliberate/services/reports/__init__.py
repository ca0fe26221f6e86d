"""Published reports, by concern: ``runs`` (which run the public sees, publishing), ``report``
(what a run's report shows, from its stored findings), ``cache`` (computed once per run and
process), ``page`` (a report page among runs and rounds), ``downloads`` (JSON and Polis zip),
``rounds`` (comparing rounds, a mission's trajectory), ``dashboard`` (the team's view) and
``open_data`` (README, licence, the run's JSON and schema, the open data page's list).

Light on purpose: views import this package, so nothing here imports numpy, scikit-learn or torch.
Callers use the names below.
"""

from __future__ import annotations

from deliberate.services.reports import open_data
from deliberate.services.reports.cache import cached_for_run
from deliberate.services.reports.dashboard import (
    Dashboard,
    Participation,
    Progress,
    RunRequest,
    comparable_run,
    dashboard,
    moderation_backlog,
    participation_now,
    progress_of,
    request_run_now,
)
from deliberate.services.reports.downloads import (
    current_data_zip,
    polis_zip,
    run_json,
    run_record,
)
from deliberate.services.reports.open_data import OpenDataset, licence_of, published_datasets
from deliberate.services.reports.page import ReportPage, report_page
from deliberate.services.reports.report import (
    AWAITING_TEXT,
    REMOVED_TEXT,
    Report,
    figures_for,
    findings_of,
    public_text,
    report_for,
    statement_texts,
)
from deliberate.services.reports.rounds import (
    CameBack,
    CarriedStatement,
    RoundComparison,
    RoundPoint,
    Trajectory,
    compare_rounds,
    mission_trajectory,
    rounds_of,
)
from deliberate.services.reports.runs import (
    finished_run,
    finished_runs,
    has_published_run,
    is_team,
    may_see_run,
    publish_run,
    published_run,
    published_runs,
    visible_consultation,
)

__all__ = [
    "AWAITING_TEXT",
    "REMOVED_TEXT",
    "CameBack",
    "CarriedStatement",
    "Dashboard",
    "OpenDataset",
    "Participation",
    "Progress",
    "Report",
    "ReportPage",
    "RoundComparison",
    "RoundPoint",
    "RunRequest",
    "Trajectory",
    "cached_for_run",
    "comparable_run",
    "compare_rounds",
    "current_data_zip",
    "dashboard",
    "figures_for",
    "findings_of",
    "finished_run",
    "finished_runs",
    "has_published_run",
    "is_team",
    "licence_of",
    "may_see_run",
    "mission_trajectory",
    "moderation_backlog",
    "open_data",
    "participation_now",
    "polis_zip",
    "progress_of",
    "public_text",
    "publish_run",
    "published_datasets",
    "published_run",
    "published_runs",
    "report_for",
    "report_page",
    "request_run_now",
    "rounds_of",
    "run_json",
    "run_record",
    "statement_texts",
    "visible_consultation",
]
