"""The mission team's pages for the indicator that measures its goal: set or change it, and add,
change or remove its actual values (deliberate.services.indicators).

Team of that mission only (admins included), checked on the server; every write is a POST with a
CSRF token, under the manage pages' per-user rate limit, and recorded in the audit log.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from deliberate.extensions import db
from deliberate.manage.forms import ConfirmForm
from deliberate.manage.indicator_forms import IndicatorForm, IndicatorValueForm
from deliberate.manage.views import _mission_run_by_user, bp
from deliberate.models import IndicatorValue, Mission
from deliberate.services import consultations as consultation_service
from deliberate.services import indicators
from deliberate.unit_of_work import may_be_refused


def _value_run_by_user(value_id: int) -> IndicatorValue:
    row = db.get_or_404(IndicatorValue, value_id)
    if not consultation_service.may_run(current_user, row.indicator.mission_id):
        abort(403)
    return row


def _to_indicator(mission: Mission):
    return redirect(url_for("manage.indicator", slug=mission.slug))


@bp.get("/missions/<slug>/indicator")
def indicator(slug: str):
    mission = _mission_run_by_user(slug)
    return render_template(
        "manage/indicator.html",
        mission=mission,
        view=indicators.indicator_view(mission),
    )


@bp.route("/missions/<slug>/indicator/edit", methods=["GET", "POST"])
def edit_indicator(slug: str):
    mission = _mission_run_by_user(slug)
    current = indicators.indicator_of(mission)
    posted = request.method == "POST"
    form = IndicatorForm() if posted else IndicatorForm.for_indicator(current)
    if form.validate_on_submit():
        with may_be_refused(form):
            indicators.set_indicator(current_user, mission, form.settings())
            flash(_("The indicator has been saved."), "success")
            return _to_indicator(mission)
    status = 400 if form.errors else 200
    return render_template(
        "manage/indicator_form.html", mission=mission, form=form, exists=current is not None
    ), status


@bp.route("/missions/<slug>/indicator/values/new", methods=["GET", "POST"])
def add_indicator_value(slug: str):
    mission = _mission_run_by_user(slug)
    current = indicators.indicator_of(mission)
    if current is None:
        flash(_("Set the indicator before recording its values."), "info")
        return redirect(url_for("manage.edit_indicator", slug=mission.slug))
    form = IndicatorValueForm()
    if form.validate_on_submit():
        with may_be_refused(form):
            indicators.add_value(current_user, current, form.entry())
            flash(_("The value has been added."), "success")
            return _to_indicator(mission)
    status = 400 if form.errors else 200
    return render_template(
        "manage/indicator_value.html", mission=mission, indicator=current, form=form, row=None
    ), status


@bp.route("/indicator-values/<int:value_id>/edit", methods=["GET", "POST"])
def edit_indicator_value(value_id: int):
    row = _value_run_by_user(value_id)
    mission = row.indicator.mission
    posted = request.method == "POST"
    form = IndicatorValueForm() if posted else IndicatorValueForm.for_value(row)
    if form.validate_on_submit():
        with may_be_refused(form):
            indicators.change_value(current_user, row, form.entry())
            flash(_("The value has been changed."), "success")
            return _to_indicator(mission)
    status = 400 if form.errors else 200
    return render_template(
        "manage/indicator_value.html", mission=mission, indicator=row.indicator, form=form, row=row
    ), status


@bp.route("/indicator-values/<int:value_id>/remove", methods=["GET", "POST"])
def remove_indicator_value(value_id: int):
    """A confirmation page (GET), and the removal it confirms (POST with confirm=yes)."""
    row = _value_run_by_user(value_id)
    mission = row.indicator.mission
    form = ConfirmForm()
    if form.validate_on_submit():
        with may_be_refused(form):
            indicators.remove_value(current_user, row)
            flash(_("The value has been removed."), "success")
            return _to_indicator(mission)
    status = 400 if form.errors else 200
    return render_template(
        "manage/indicator_remove_value.html",
        mission=mission,
        row=row,
        amount=indicators.series_of(row.indicator).amount(row.value),
        form=form,
    ), status
