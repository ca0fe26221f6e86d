"""The home page and the mission pages."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template
from flask_login import current_user
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import Consultation, ConsultationState, Mission
from deliberate.services import ideas, indicators, mission_timeline, reports

bp = Blueprint("missions", __name__)
LATEST_IDEAS = 3  # the newest ideas from frontline staff shown on a mission page


@bp.get("/")
def home():
    missions = db.session.scalars(select(Mission).order_by(Mission.position)).all()
    return render_template("missions/home.html", missions=missions)


@bp.get("/missions/<slug>")
def mission(slug: str):
    mission = db.first_or_404(select(Mission).where(Mission.slug == slug))
    query = select(Consultation).where(Consultation.mission_id == mission.id)
    on_team = current_user.is_authenticated and current_user.is_on_team(mission.id)
    if not on_team:
        query = query.where(Consultation.state != ConsultationState.DRAFT)
    consultations = db.session.scalars(
        query.order_by(Consultation.created_at.desc(), Consultation.id.desc())
    ).all()
    events = mission_timeline.mission_timeline(mission)
    return render_template(
        "missions/mission.html",
        mission=mission,
        consultations=consultations,
        multi_round=mission_timeline.multi_round_ids(consultations),
        on_team=on_team,
        indicator=indicators.indicator_view(mission, events),
        timeline_events=events,
        trajectories=reports.mission_trajectory(mission),
        mission_ideas=ideas.mission_ideas(mission, limit=LATEST_IDEAS),
    )


@bp.get("/missions/<slug>/indicator.csv")
def indicator_csv(slug: str):
    """The indicator's baseline, target and actual values, for anyone to check or reuse."""
    mission = db.first_or_404(select(Mission).where(Mission.slug == slug))
    indicator = indicators.indicator_of(mission)
    if indicator is None:
        abort(404)
    return Response(
        indicators.values_csv(indicator),
        mimetype="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="deliberate-{mission.slug}-indicator.csv"'
        },
    )
