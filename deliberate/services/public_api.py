"""What the JSON API (``/api/v1``) reads: the same public things the site shows to someone who is
not signed in, a page at a time.

- Consultations: every one but drafts, as on the mission pages. Statements: only those people can
  vote on (accepted, and not hidden after reports); pending, removed or hidden ones never appear,
  not even as a count. Live vote counts are not served either (the site shows none): the counts
  are those of published analysis runs.
- Runs: only those published at some point, as on the report page's permanent links; a run is
  read through the one typed reader (``reports.figures_for``) and written out as the open-data
  ``run.json`` is (``open_data.run_document``), with one difference: statement ids are the site's
  own (those of the statements and votes endpoints), each with its ``export_id``, the comment-id
  of the CSVs and run.json in the open-data download.
- Pages are cut by id (keyset): ``after`` the last id seen, ``limit`` at most ``MAX_PAGE``. The
  order is the ids' and a page never shifts when rows are added, so walking the pages sees each
  row once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask_login import AnonymousUserMixin
from sqlalchemy import Select, select

from deliberate.extensions import db
from deliberate.models import (
    AnalysisRun,
    Consultation,
    ConsultationState,
    Idea,
    IdeaStage,
    Mission,
    ModerationStatus,
    RunStatus,
    Statement,
)
from deliberate.services import ideas, reports
from deliberate.services.polis_exchange import MODERATION_CODE, export_ids

T = TypeVar("T")

DEFAULT_PAGE = 50
MAX_PAGE = 100


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list; ``next_after`` is the ``after`` of the next page (None: the last)."""

    items: Sequence[T]
    next_after: int | None


def _page(query: Select[Any], id_column: Any, after: int, limit: int) -> Page[Any]:
    rows = db.session.scalars(query.where(id_column > after).order_by(id_column).limit(limit + 1))
    found = list(rows)
    more = len(found) > limit
    items = found[:limit]
    return Page(items, items[-1].id if more and items else None)


# -- missions and consultations --------------------------------------------------------------------


def missions() -> list[Mission]:
    return list(db.session.scalars(select(Mission).order_by(Mission.id)))


def mission(slug: str) -> Mission | None:
    return db.session.scalar(select(Mission).where(Mission.slug == slug))


def _public() -> Select[tuple[Consultation]]:
    return select(Consultation).where(Consultation.state != ConsultationState.DRAFT)


def consultations(
    after: int,
    limit: int,
    mission: Mission | None = None,
    state: ConsultationState | None = None,
) -> Page[Consultation]:
    query = _public()
    if mission is not None:
        query = query.where(Consultation.mission_id == mission.id)
    if state is not None:
        query = query.where(Consultation.state == state)
    return _page(query, Consultation.id, after, limit)


def consultation(consultation_id: int) -> Consultation | None:
    """A consultation anyone may read about: never a draft."""
    return reports.visible_consultation(consultation_id, None)


def published_run_ids(consultation_ids: Sequence[int]) -> dict[int, int]:
    """The run the public sees of each consultation (the one published last), in one query."""
    if not consultation_ids:
        return {}
    rows = db.session.execute(
        select(AnalysisRun.consultation_id, AnalysisRun.id)
        .where(
            AnalysisRun.consultation_id.in_(consultation_ids),
            AnalysisRun.status == RunStatus.DONE,
            AnalysisRun.published_at.is_not(None),
        )
        .order_by(AnalysisRun.published_at, AnalysisRun.id)
    )
    return {consultation_id: run_id for consultation_id, run_id in rows}  # the last one wins


# -- statements ------------------------------------------------------------------------------------


def _live(consultation: Consultation) -> Select[tuple[Statement]]:
    return select(Statement).where(
        Statement.consultation_id == consultation.id,
        Statement.moderation == ModerationStatus.ACCEPTED,
        Statement.hidden_by_reports_at.is_(None),
    )


def live_statements(consultation: Consultation, after: int, limit: int) -> Page[Statement]:
    return _page(_live(consultation), Statement.id, after, limit)


def live_statement(consultation: Consultation, statement_id: int) -> Statement | None:
    return db.session.scalar(_live(consultation).where(Statement.id == statement_id))


def statement_export_ids(consultation: Consultation) -> dict[int, int]:
    """Own statement id -> comment-id in the consultation's open-data CSVs and run.json."""
    return export_ids(Statement, consultation.id)


# -- published analysis runs -----------------------------------------------------------------------


def _published(consultation: Consultation) -> Select[tuple[AnalysisRun]]:
    return select(AnalysisRun).where(
        AnalysisRun.consultation_id == consultation.id,
        AnalysisRun.status == RunStatus.DONE,
        AnalysisRun.published_at.is_not(None),
    )


def published_runs(consultation: Consultation, after: int, limit: int) -> Page[AnalysisRun]:
    """Every run ever published (each keeps its permanent link), oldest first."""
    return _page(_published(consultation), AnalysisRun.id, after, limit)


def published_run(consultation: Consultation, run_id: int) -> AnalysisRun | None:
    return db.session.scalar(_published(consultation).where(AnalysisRun.id == run_id))


def run_document(consultation: Consultation, run: AnalysisRun) -> dict[str, Any]:
    """The run as the API serves it: run.json's findings with the site's statement ids, each
    statement's ``export_id``, and staff and citizens compared. Built once per run and process
    (again after a moderation decision, as every report is); a fresh dict each call."""
    built: dict[str, Any] = reports.cached_for_run(
        "api-run", run, lambda: _build_run_document(consultation, run)
    )
    # Publishing the run again (after a newer one) moves its date; nothing else of it changes.
    return {**built, "run": {**built["run"], "published_at": _time(run.published_at)}}


def _time(moment: Any) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"


def _build_run_document(consultation: Consultation, run: AnalysisRun) -> dict[str, Any]:
    figures = reports.figures_for(run)
    rows = db.session.execute(
        select(Statement.id, Statement.moderation).where(
            Statement.consultation_id == consultation.id
        )
    ).all()
    own_ids = {sid: sid for sid, _ in rows} | {row.id: row.id for row in figures.statements}
    moderated = {sid: MODERATION_CODE[moderation] for sid, moderation in rows}
    document = reports.open_data.run_document(
        consultation, run, figures, reports.findings_of(run), own_ids, moderated
    )
    for key in ("format", "format_version", "schema"):  # they describe the download's run.json
        document.pop(key)
    comment_ids = statement_export_ids(consultation)
    for statement in document["statements"]:
        statement["export_id"] = comment_ids.get(statement["id"])
    document["roles"] = _roles(figures.roles)
    return document


def _roles(roles: Any) -> dict[str, Any] | None:
    """Staff and citizens compared, as the report shows it: who took part on each side, and the
    statements where they differ most or both agree (tested, with q-values)."""
    if roles is None:
        return None

    def side(agreed: Any, disagreed: Any) -> dict[str, int]:
        return {"agrees": agreed.count, "disagrees": disagreed.count, "seen": agreed.seen}

    def finding(r: Any) -> dict[str, Any]:
        return {
            "statement_id": r.statement.id,
            "staff": side(r.staff, r.staff_disagree),
            "citizens": side(r.citizens, r.citizens_disagree),
            "q_value": r.q_value,
            "both_agree_q": r.both_agree_q,
            "test": r.test,
        }

    return {
        "n_staff": roles.n_staff,
        "n_citizens": roles.n_citizens,
        "message": roles.message,
        "n_compared": roles.n_compared,
        "differ_most": [finding(r) for r in roles.differ_most],
        "both_agree": [finding(r) for r in roles.both_agree],
    }


# -- ideas -----------------------------------------------------------------------------------------


def ideas_page(
    after: int, limit: int, mission: Mission | None = None, stage: IdeaStage | None = None
) -> Page[ideas.IdeaSummary]:
    query = select(Idea)
    if mission is not None:
        query = query.where(Idea.mission_id == mission.id)
    if stage is not None:
        query = query.where(Idea.stage == stage)
    page = _page(query, Idea.id, after, limit)
    counts = ideas.support_counts([idea.id for idea in page.items])
    return Page([ideas.IdeaSummary(idea, counts[idea.id]) for idea in page.items], page.next_after)


def idea(idea_id: int) -> ideas.IdeaDetails | None:
    """An idea with its support and its public journey through the stages, as its page shows
    them to someone who is not signed in."""
    found = db.session.get(Idea, idea_id)
    return None if found is None else ideas.idea_details(found, AnonymousUserMixin())
