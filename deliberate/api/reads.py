"""Reading without signing in: missions, consultations, their live statements, published analysis
runs and ideas, as the site shows them to someone who is not signed in
(``services.public_api`` says what that is)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import current_app, request, url_for

from deliberate.api.blueprint import blp
from deliberate.api.errors import ApiError
from deliberate.api.schemas import (
    ConsultationQuery,
    ConsultationSchema,
    IdeaDetailsSchema,
    IdeaQuery,
    IdeaSchema,
    MissionSchema,
    PageQuery,
    RunSchema,
    RunSummarySchema,
    StatementSchema,
    page_of,
)
from deliberate.models import AnalysisRun, Consultation, ConsultationState, Mission, Statement
from deliberate.services import participation, public_api, reports
from deliberate.services.ideas import IdeaDetails, IdeaSummary
from deliberate.services.public_api import Page

# A published run changes only when a moderator later takes down or edits one of its statements
# (its text then reads differently): caches may keep it a while, and ask again with its ETag.
RUN_CACHE_CONTROL = "public, max-age=300"


# -- what every list and lookup shares -------------------------------------------------------------


def paged(
    page: Page[Any], items: list[dict[str, Any]], limit: int, **filters: Any
) -> tuple[dict, dict]:
    """A page's body and its ``Link`` header: the next page's address, with the same filters."""
    if page.next_after is None:
        return {"items": items, "next": None}, {}
    kept = {name: getattr(v, "value", v) for name, v in filters.items() if v is not None}
    following = url_for(
        request.endpoint,
        **(request.view_args or {}),
        **kept,
        after=page.next_after,
        limit=limit,
        _external=True,
    )
    return {"items": items, "next": following}, {"Link": f'<{following}>; rel="next"'}


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"No {what} here: it does not exist, or is not public.")


def public_consultation(consultation_id: int) -> Consultation:
    consultation = public_api.consultation(consultation_id)
    if consultation is None:
        raise not_found("such consultation")
    return consultation


def _mission(slug: str | None) -> Mission | None:
    """The mission a filter names (the schema allows only the catalogue's slugs)."""
    if slug is None:
        return None
    found = public_api.mission(slug)
    if found is None:  # in the catalogue, not yet in this database
        raise not_found("such mission")
    return found


# -- representations -------------------------------------------------------------------------------


def mission_dict(mission: Mission) -> dict[str, Any]:
    return {
        "slug": mission.slug,
        "name": mission.name,
        "goal": mission.goal,
        "page_url": url_for("missions.mission", slug=mission.slug, _external=True),
    }


def consultation_dict(consultation: Consultation, published_run_id: int | None) -> dict[str, Any]:
    licence = reports.licence_of(consultation)
    reason = participation.why_not_accepting(consultation)
    return {
        "id": consultation.id,
        "mission": consultation.mission.slug,
        "title": consultation.title,
        "context": consultation.context,
        "state": consultation.state,
        "accepting_answers": reason is None,
        "not_accepting_because": reason,
        "moderation_mode": consultation.moderation_mode,
        "allow_anonymous": consultation.allow_anonymous,
        "round_number": consultation.round_number,
        "previous_round_id": consultation.previous_round_id,
        "opens_at": consultation.opens_at,
        "closes_at": consultation.closes_at,
        "opened_at": consultation.opened_at,
        "closed_at": consultation.closed_at,
        "published_run_id": published_run_id,
        "licence": {"name": licence.name, "url": licence.url, "attribution": licence.attribution},
        "source_url": licence.source_url,
        "page_url": url_for("consultations.show", consultation_id=consultation.id, _external=True),
    }


def statement_dict(statement: Statement, export_ids: dict[int, int]) -> dict[str, Any]:
    return {
        "id": statement.id,
        "consultation_id": statement.consultation_id,
        "text": statement.text,
        "language": statement.language,
        "translations": {t.language: t.text for t in statement.translations},
        "origin": statement.origin,
        "edited": statement.redacted_at is not None,
        "created_at": statement.created_at,
        "export_id": export_ids[statement.id],
    }


def run_summary(run: AnalysisRun, current_id: int | None) -> dict[str, Any]:
    return {
        "id": run.id,
        "consultation_id": run.consultation_id,
        "finished_at": run.finished_at,
        "published_at": run.published_at,
        "current": run.id == current_id,
        "n_participants": run.n_participants,
        "n_statements": run.n_statements,
        "n_votes": run.n_votes,
        "report_url": url_for(
            "reports.run_report",
            consultation_id=run.consultation_id,
            run_id=run.id,
            _external=True,
        ),
    }


def idea_dict(summary: IdeaSummary | IdeaDetails) -> dict[str, Any]:
    idea, support = summary.idea, summary.support
    return {
        "id": idea.id,
        "mission": idea.mission.slug,
        "title": idea.title,
        "problem": idea.problem,
        "proposal": idea.proposal,
        "evidence": idea.evidence,
        "stage": idea.stage,
        "author": idea.author_description,
        "author_name": idea.public_author_name,
        "trial_learning": idea.trial_learning,
        "created_at": idea.created_at,
        "support": {"staff": support.staff, "citizens": support.citizens, "total": support.total},
        "page_url": url_for("ideas.idea", idea_id=idea.id, _external=True),
    }


# -- missions --------------------------------------------------------------------------------------


@blp.route("/missions", tags=["Missions"])
@blp.response(200, page_of(MissionSchema, "MissionPage"))
def list_missions():
    """The government missions

    Five, fixed: every consultation and idea belongs to one."""
    return {"items": [mission_dict(m) for m in public_api.missions()], "next": None}


@blp.route("/missions/<slug>", tags=["Missions"])
@blp.response(200, MissionSchema)
def get_mission(slug: str):
    """One mission"""
    mission = public_api.mission(slug)
    if mission is None:
        raise not_found("such mission")
    return mission_dict(mission)


# -- consultations ---------------------------------------------------------------------------------


@blp.route("/consultations", tags=["Consultations"])
@blp.arguments(ConsultationQuery, location="query", as_kwargs=True)
@blp.response(200, page_of(ConsultationSchema, "ConsultationPage"))
def list_consultations(
    after: int, limit: int, mission: str | None = None, state: str | None = None
):
    """Consultations

    Every consultation that is open or closed (drafts are never public), oldest first."""
    chosen = ConsultationState(state) if state else None
    page = public_api.consultations(after, limit, _mission(mission), chosen)
    published = public_api.published_run_ids([c.id for c in page.items])
    items = [consultation_dict(c, published.get(c.id)) for c in page.items]
    return paged(page, items, limit, mission=mission, state=state)


@blp.route("/consultations/<int:consultation_id>", tags=["Consultations"])
@blp.response(200, ConsultationSchema)
def get_consultation(consultation_id: int):
    """One consultation"""
    consultation = public_consultation(consultation_id)
    published = public_api.published_run_ids([consultation.id])
    return consultation_dict(consultation, published.get(consultation.id))


@blp.route("/consultations/<int:consultation_id>/statements", tags=["Statements"])
@blp.arguments(PageQuery, location="query", as_kwargs=True)
@blp.response(200, page_of(StatementSchema, "StatementPage"))
def list_statements(consultation_id: int, after: int, limit: int):
    """The statements people can vote on

    Only live statements: accepted by the moderators (or not needing them), and not hidden after
    reports. No live vote counts: those of a published run are in its analysis."""
    consultation = public_consultation(consultation_id)
    page = public_api.live_statements(consultation, after, limit)
    export_ids = public_api.statement_export_ids(consultation)
    return paged(page, [statement_dict(s, export_ids) for s in page.items], limit)


@blp.route(
    "/consultations/<int:consultation_id>/statements/<int:statement_id>", tags=["Statements"]
)
@blp.response(200, StatementSchema)
def get_statement(consultation_id: int, statement_id: int):
    """One live statement"""
    consultation = public_consultation(consultation_id)
    statement = public_api.live_statement(consultation, statement_id)
    if statement is None:
        raise not_found("such statement people can vote on")
    return statement_dict(statement, public_api.statement_export_ids(consultation))


# -- published analysis runs -----------------------------------------------------------------------


@blp.route("/consultations/<int:consultation_id>/runs", tags=["Analyses"])
@blp.arguments(PageQuery, location="query", as_kwargs=True)
@blp.response(200, page_of(RunSummarySchema, "RunPage"))
def list_runs(consultation_id: int, after: int, limit: int):
    """Published analyses of a consultation

    Every analysis ever published, oldest first; ``current`` marks the one the public sees now.
    Analyses the mission team has not published are not here."""
    consultation = public_consultation(consultation_id)
    page = public_api.published_runs(consultation, after, limit)
    current = public_api.published_run_ids([consultation.id]).get(consultation.id)
    return paged(page, [run_summary(run, current) for run in page.items], limit)


@blp.route("/consultations/<int:consultation_id>/runs/<int:run_id>", tags=["Analyses"])
@blp.response(200, RunSchema)
@blp.alt_response(
    304, description="Not Modified: the ETag sent in If-None-Match is still the run's"
)
def get_run(consultation_id: int, run_id: int):
    """One published analysis

    What the report page shows: opinion groups with their representative statements, common
    ground (consensus), divisions, topics, staff and citizens compared, moderation, and the
    method with its parameters. Statement ids are those of the statements endpoint; each
    statement's ``export_id`` is its comment-id in the open-data download.

    Sent with an ETag: ask again with If-None-Match and an unchanged run answers 304."""
    consultation = public_consultation(consultation_id)
    run = public_api.published_run(consultation, run_id)
    if run is None:
        raise not_found("such published analysis")
    document = public_api.run_document(consultation, run)
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    response = current_app.response_class(body, mimetype="application/json")
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.headers["Cache-Control"] = RUN_CACHE_CONTROL
    return response.make_conditional(request)


# -- ideas -----------------------------------------------------------------------------------------


@blp.route("/ideas", tags=["Ideas"])
@blp.arguments(IdeaQuery, location="query", as_kwargs=True)
@blp.response(200, page_of(IdeaSchema, "IdeaPage"))
def list_ideas(after: int, limit: int, mission: str | None = None, stage=None):
    """Ideas from frontline staff

    Every idea, oldest first, with its stage and its support from staff and from citizens."""
    page = public_api.ideas_page(after, limit, _mission(mission), stage)
    return paged(
        page, [idea_dict(summary) for summary in page.items], limit, mission=mission, stage=stage
    )


@blp.route("/ideas/<int:idea_id>", tags=["Ideas"])
@blp.response(200, IdeaDetailsSchema)
def get_idea(idea_id: int):
    """One idea, and its journey through the stages"""
    details = public_api.idea(idea_id)
    if details is None:
        raise not_found("such idea")
    return {
        **idea_dict(details),
        "stages": [
            {
                "from_stage": change.from_stage,
                "to_stage": change.to_stage,
                "reason": change.reason,
                "changed_at": change.changed_at,
            }
            for change in details.history
        ],
    }
