"""Ideas from frontline staff: proposing, listing, supporting, and the mission team's decisions."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from deliberate.extensions import acting_person_key, db, limiter
from deliberate.ideas.forms import MoveIdeaForm, ProposeIdeaForm, SupportForm, TrialLearningForm
from deliberate.models import Idea, IdeaStage, Mission
from deliberate.models.idea import IDEA_TEXT_MAX, IDEA_TITLE_MAX
from deliberate.services import ideas, responses
from deliberate.unit_of_work import may_be_refused

bp = Blueprint("ideas", __name__)

PROPOSE_LIMIT = "10 per minute"
SUPPORT_LIMIT = "10 per minute"
TEAM_LIMIT = "30 per minute"


def _mission_or_404(slug: str) -> Mission:
    return db.first_or_404(select(Mission).where(Mission.slug == slug))


def _idea_or_404(idea_id: int) -> Idea:
    return db.get_or_404(Idea, idea_id)


@bp.route("/missions/<slug>/ideas/new", methods=["GET", "POST"])
@login_required
@limiter.limit(PROPOSE_LIMIT, methods=["POST"], key_func=acting_person_key)
def new(slug: str):
    mission = _mission_or_404(slug)
    if not ideas.may_propose(current_user):
        return render_template("ideas/staff_only.html", mission=mission), 403
    form = ProposeIdeaForm()
    if form.validate_on_submit():
        with may_be_refused(form) as refusal:
            idea = ideas.propose_idea(
                current_user,
                mission,
                title=form.title.data,
                problem=form.problem.data,
                proposal=form.proposal.data,
                evidence=form.evidence.data,
                show_name=form.shows_name,
            )
            flash(_("Your idea has been published. The mission team will review it."), "success")
            return redirect(url_for("ideas.idea", idea_id=idea.id))
        if isinstance(refusal.error, ideas.DuplicateIdea):
            flash(_("%(problem)s: here it is.", problem=refusal.message), "info")
            return redirect(url_for("ideas.idea", idea_id=refusal.error.original.id))
    return render_template(
        "ideas/new.html",
        mission=mission,
        form=form,
        anonymous_author=ideas.anonymous_author(current_user),
        title_max=IDEA_TITLE_MAX,
        text_max=IDEA_TEXT_MAX,
    )


@bp.get("/missions/<slug>/ideas")
def mission_ideas(slug: str):
    mission = _mission_or_404(slug)
    try:
        stage = IdeaStage(request.args.get("stage", ""))
    except ValueError:
        stage = None
    return render_template(
        "ideas/list.html",
        mission=mission,
        summaries=ideas.mission_ideas(mission, stage=stage),
        stage=stage,
        stage_totals=ideas.stage_totals(mission),
        may_propose=ideas.may_propose(current_user),
    )


def _render_idea(
    idea: Idea,
    move_form: MoveIdeaForm | None = None,
    learning_form: TrialLearningForm | None = None,
    status: int = 200,
):
    details = ideas.idea_details(idea, current_user)
    if move_form is None:
        move_form = MoveIdeaForm(formdata=None)
    move_form.offer(idea.next_stages)
    if learning_form is None:
        learning_form = TrialLearningForm(formdata=None, learning=idea.trial_learning)
    return render_template(
        "ideas/idea.html",
        details=details,
        idea=idea,
        support_form=SupportForm(formdata=None),
        move_form=move_form,
        learning_form=learning_form,
        text_max=IDEA_TEXT_MAX,
        responses=responses.citing_idea(idea),
    ), status


@bp.get("/ideas/<int:idea_id>")
def idea(idea_id: int):
    return _render_idea(_idea_or_404(idea_id))


@bp.post("/ideas/<int:idea_id>/support")
@limiter.limit(SUPPORT_LIMIT, key_func=acting_person_key)
def support(idea_id: int):
    idea = _idea_or_404(idea_id)
    page = url_for("ideas.idea", idea_id=idea.id)
    if not current_user.is_authenticated:
        # Back to the idea, not to this POST-only address, once signed in.
        return redirect(url_for("auth.sign_in", next=page))
    with may_be_refused() as refusal:
        ideas.support_idea(current_user, idea)
        flash(_("Thank you: your support has been counted."), "success")
        return redirect(page)
    flash(refusal.message, "info")
    return redirect(page)


def _team_only(idea: Idea) -> None:
    """A server-side check: hiding the forms is not enough."""
    if not ideas.may_manage(current_user, idea):
        abort(403)


@bp.post("/ideas/<int:idea_id>/stage")
@limiter.limit(TEAM_LIMIT, key_func=acting_person_key)
def move(idea_id: int):
    idea = _idea_or_404(idea_id)
    _team_only(idea)
    form = MoveIdeaForm()
    form.offer(idea.next_stages)
    if form.validate_on_submit():
        with may_be_refused(form):
            change = ideas.move_idea(current_user, idea, form.stage.data, form.reason.data)
            flash(_("The idea is now %(stage)s.", stage=change.to_stage.label.lower()), "success")
            return redirect(url_for("ideas.idea", idea_id=idea.id))
    return _render_idea(idea, move_form=form, status=400)


@bp.post("/ideas/<int:idea_id>/learning")
@limiter.limit(TEAM_LIMIT, key_func=acting_person_key)
def learning(idea_id: int):
    idea = _idea_or_404(idea_id)
    _team_only(idea)
    form = TrialLearningForm()
    if form.validate_on_submit():
        with may_be_refused(form):
            ideas.record_trial_learning(current_user, idea, form.learning.data)
            flash(_("What the trial learnt has been saved."), "success")
            return redirect(url_for("ideas.idea", idea_id=idea.id))
    return _render_idea(idea, learning_form=form, status=400)
