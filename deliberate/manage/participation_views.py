"""Reviewing participation that may be scripted: the flagged participants of a consultation, and
leaving them out of the analysis or including them again (deliberate.services.participation_review).

Open to whoever moderates the consultation (its mission team and the global moderators), as
rejecting a statement is: both decide what the analysis counts, and both are recorded in the audit
log with their reason.
"""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from deliberate.manage.forms import ParticipantReviewForm
from deliberate.manage.views import _consultation_to_moderate, bp
from deliberate.models import Consultation
from deliberate.services import analysis_runs
from deliberate.services import consultations as consultation_service
from deliberate.services import participation_review as review_service
from deliberate.services.audit import REASON_MAX
from deliberate.unit_of_work import may_be_refused
from deliberate.wording import number

# A group lists this many of its participants to act on one by one; a larger one is also acted
# on whole.
LISTED_MAX = 100


def _settings() -> review_service.ReviewSettings:
    return review_service.ReviewSettings.from_config(current_app.config)


def _render_review(
    consultation: Consultation, form: ParticipantReviewForm | None = None, status: int = 200
):
    return render_template(
        "manage/participation_review.html",
        consultation=consultation,
        review=review_service.review(consultation, _settings()),
        failed=form,
        reason_max=REASON_MAX,
        listed_max=LISTED_MAX,
        may_run=consultation_service.may_run(current_user, consultation.mission_id),
    ), status


@bp.get("/consultations/<int:consultation_id>/participation-review")
def participation_review(consultation_id: int):
    return _render_review(_consultation_to_moderate(consultation_id))


def _left_out(n: int) -> str:
    return ngettext(
        "%(count)s participant left out of the analysis.",
        "%(count)s participants left out of the analysis.",
        n,
        count=number(n),
    )


def _included(n: int) -> str:
    return ngettext(
        "%(count)s participant included in the analysis again.",
        "%(count)s participants included in the analysis again.",
        n,
        count=number(n),
    )


@bp.post("/consultations/<int:consultation_id>/participation-review")
def review_participants(consultation_id: int):
    """ "Exclude from the analysis" or "Include again", for the participants ticked in one group."""
    consultation = _consultation_to_moderate(consultation_id)
    form = ParticipantReviewForm()
    if not form.validate_on_submit():
        if set(form.errors) - {"participants", "reason"}:
            abort(400)  # not sent from the page's forms
        return _render_review(consultation, form, status=400)
    page = url_for("manage.participation_review", consultation_id=consultation.id)
    with may_be_refused(form):
        ids = form.participants.data
        if form.whole_group:
            ids = review_service.members_of(consultation, _settings(), form.group.data)
        if form.excluding:
            changed = review_service.exclude(
                current_user, consultation, ids, form.flag, form.reason.data, _settings()
            )
            done = _left_out(changed)
        else:
            changed = review_service.include_again(
                current_user, consultation, ids, form.reason.data
            )
            done = _included(changed)
        if changed:
            analysis_runs.request_analysis(consultation.id)
            flash(done + " " + _("The analysis will run again shortly."), "success")
        else:
            flash(_("Nothing changed: those participants were already as you asked."), "info")
        return redirect(page)
    return _render_review(consultation, form, status=400)
