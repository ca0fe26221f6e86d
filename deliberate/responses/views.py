"""Public pages of the team's responses: a consultation's list, and one response with what it
answers and its dated updates. No sign-in needed; a draft consultation's are the team's alone."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from deliberate.models import Consultation
from deliberate.services import reports, responses

bp = Blueprint("responses", __name__)


def _consultation(consultation_id: int) -> Consultation:
    user = current_user if current_user.is_authenticated else None
    consultation = reports.visible_consultation(consultation_id, user)
    if consultation is None:
        abort(404)
    return consultation


@bp.get("/consultations/<int:consultation_id>/responses")
def responses_list(consultation_id: int):
    consultation = _consultation(consultation_id)
    return render_template(
        "responses/list.html",
        consultation=consultation,
        responses=responses.summaries(consultation),
        has_report=reports.has_published_run(consultation.id),
    )


@bp.get("/consultations/<int:consultation_id>/responses/<int:response_id>")
def response(consultation_id: int, response_id: int):
    consultation = _consultation(consultation_id)
    found = responses.response_of(consultation, response_id)
    if found is None:
        abort(404)
    return render_template(
        "responses/response.html",
        consultation=consultation,
        details=responses.response_details(found),
    )
