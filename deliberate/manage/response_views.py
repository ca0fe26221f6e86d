"""The team's side of "You said, we did": the responses to a consultation, recording one (what
it answers: the published run's findings, statements and ideas of the mission), dated updates,
and what no response answers yet (deliberate.services.responses).

The team of the consultation's mission only (admins included); writes are POSTs with CSRF,
within the manage pages' shared rate limit.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from deliberate.manage.forms import ResponseForm, ResponseUpdateForm
from deliberate.manage.views import _consultation_run_by_user, bp
from deliberate.models import Consultation, ConsultationState, MissionResponse
from deliberate.models.response import RESPONSE_TEXT_MAX
from deliberate.services import responses as service
from deliberate.unit_of_work import may_be_refused


def _respondable(consultation_id: int) -> Consultation:
    consultation = _consultation_run_by_user(consultation_id)
    if consultation.state is ConsultationState.DRAFT:
        flash(_("A draft consultation has nothing to respond to yet: open it first."), "info")
        abort(redirect(url_for("manage.consultation", consultation_id=consultation.id)))
    return consultation


def _response(consultation: Consultation, response_id: int) -> MissionResponse:
    found = service.response_of(consultation, response_id)
    if found is None:
        abort(404)
    return found


@bp.get("/consultations/<int:consultation_id>/responses")
def responses(consultation_id: int):
    consultation = _respondable(consultation_id)
    return render_template(
        "manage/responses.html",
        consultation=consultation,
        responses=service.consultation_responses(consultation),
    )


@bp.route("/consultations/<int:consultation_id>/responses/new", methods=["GET", "POST"])
def new_response(consultation_id: int):
    consultation = _respondable(consultation_id)
    form = ResponseForm()
    if form.validate_on_submit():
        with may_be_refused(form):
            response = service.record_response(
                current_user,
                consultation,
                title=form.title.data,
                explanation=form.explanation.data,
                status=form.status.data,
                reason=form.reason.data,
                answers=form.answers.data or [],
            )
            flash(_("Response published."), "success")
            return redirect(
                url_for(
                    "responses.response", consultation_id=consultation.id, response_id=response.id
                )
            )
    status = 400 if form.errors else 200
    preselected = request.args.getlist("answer")
    return render_template(
        "manage/new_response.html",
        consultation=consultation,
        form=form,
        offered=service.answerables(consultation),
        chosen=set(form.answers.data or preselected),
        text_max=RESPONSE_TEXT_MAX,
    ), status


@bp.route(
    "/consultations/<int:consultation_id>/responses/<int:response_id>/update",
    methods=["GET", "POST"],
)
def update_response(consultation_id: int, response_id: int):
    consultation = _respondable(consultation_id)
    response = _response(consultation, response_id)
    form = ResponseUpdateForm()
    if form.validate_on_submit():
        with may_be_refused(form):
            service.add_update(
                current_user,
                response,
                note=form.note.data,
                status=form.status.data,
                reason=form.reason.data,
            )
            flash(_("Update published."), "success")
            return redirect(
                url_for(
                    "responses.response",
                    consultation_id=consultation.id,
                    response_id=response.id,
                    _anchor="updates",
                )
            )
    status = 400 if form.errors else 200
    return render_template(
        "manage/update_response.html", consultation=consultation, response=response, form=form
    ), status


@bp.get("/consultations/<int:consultation_id>/not-yet-answered")
def not_yet_answered(consultation_id: int):
    consultation = _respondable(consultation_id)
    return render_template(
        "manage/not_yet_answered.html",
        consultation=consultation,
        unanswered=service.not_yet_answered(consultation),
    )
