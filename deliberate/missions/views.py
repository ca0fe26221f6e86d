"""The home page and the mission pages."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user
from sqlalchemy import select

from deliberate.extensions import db
from deliberate.models import Consultation, ConsultationState, Mission
from deliberate.services import ideas, reports

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
    return render_template(
        "missions/mission.html",
        mission=mission,
        consultations=consultations,
        on_team=on_team,
        trajectories=reports.mission_trajectory(mission),
        mission_ideas=ideas.mission_ideas(mission, limit=LATEST_IDEAS),
    )
