"""Taking part in a consultation: one statement at a time, answers, comments and "about you".

Every write is a plain POST form that works without JavaScript, followed by a redirect. Refusals
re-render the page they came from with a GOV.UK error summary and leave nothing half-saved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy.exc import IntegrityError

from deliberate.consultations.forms import AboutYouForm, CommentForm, VoteForm
from deliberate.consultations.participant_cookie import (
    cookie_was_unreadable,
    rate_limit_key,
    remember,
    visitor_for,
)
from deliberate.extensions import db, limiter
from deliberate.forms_support import show_refusal
from deliberate.models import Consultation, ModerationMode, Statement
from deliberate.services import analysis_runs, participation
from deliberate.services.errors import Refused
from deliberate.services.participation import Presence, SignInRequired
from deliberate.services.statements import DuplicateStatement

T = TypeVar("T")

bp = Blueprint("consultations", __name__, url_prefix="/consultations")

VOTE_LIMIT = "60 per minute"
COMMENT_LIMIT = "5 per minute"
ABOUT_YOU_LIMIT = "20 per minute"
# A looser cap per address, so discarding the cookie cannot multiply a participant's allowance.
ADDRESS_LIMIT = "600 per minute"

AFRESH_MESSAGE = (
    "We could not recognise the answers saved on this device, so your answers are now being "
    "saved as a new participant."
)


def _consultation(consultation_id: int) -> Consultation:
    user = current_user if current_user.is_authenticated else None
    consultation = participation.consultation_for(consultation_id, user)
    if consultation is None:
        abort(404)
    return consultation


def _show_url(consultation: Consultation) -> str:
    return url_for("consultations.show", consultation_id=consultation.id)


def _sign_in_redirect(consultation: Consultation):
    db.session.rollback()
    flash("Sign in to take part in this consultation.", "info")
    return redirect(url_for("auth.sign_in", next=_show_url(consultation)))


def _finish_write(consultation: Consultation, presence: Presence, target: str, message: str):
    """Commit, confirm, ask for a (debounced) re-analysis, and let the browser keep its token."""
    db.session.commit()
    analysis_runs.request_analysis(consultation.id)
    flash(message, "success")
    if presence.token is not None and (presence.started_afresh or cookie_was_unreadable()):
        flash(AFRESH_MESSAGE, "info")
    return remember(redirect(target), consultation, presence)


def _once_more_on_conflict(write: Callable[[], T]) -> T:
    """Run a write; if an identical request stored the same participant or vote first (a unique
    constraint fired), start again: the second run finds what the other request stored."""
    try:
        return write()
    except IntegrityError:
        db.session.rollback()
        return write()


def _page_context(consultation: Consultation) -> dict:
    visitor = visitor_for(consultation)
    return {
        "consultation": consultation,
        "overview": participation.overview(consultation, visitor),
        "closed_reason": participation.why_not_accepting(consultation),
        "needs_sign_in": visitor.user is None and not consultation.allow_anonymous,
        "cookie_unreadable": visitor.user is None and cookie_was_unreadable(),
        "sign_in_url": url_for("auth.sign_in", next=_show_url(consultation)),
    }


def _render_show(
    consultation: Consultation,
    *,
    comment_form: CommentForm | None = None,
    vote_problem: str | None = None,
    duplicate: Statement | None = None,
    status: int = 200,
):
    return render_template(
        "consultations/show.html",
        **_page_context(consultation),
        comment_form=comment_form or CommentForm(formdata=None),
        vote_problem=vote_problem,
        duplicate=duplicate,
        pre_moderated=consultation.moderation_mode is ModerationMode.PRE,
    ), status


def _render_show_problem(consultation: Consultation, problem: str, status: int):
    return _render_show(consultation, vote_problem=problem, status=status)


def _render_answers(consultation: Consultation, vote_problem: str | None = None, status=200):
    visitor = visitor_for(consultation)
    participant = participation.find_participant(consultation, visitor)
    return render_template(
        "consultations/answers.html",
        consultation=consultation,
        answers=participation.answers(consultation, participant),
        own_statements=participation.own_statements(consultation, participant),
        closed_reason=participation.why_not_accepting(consultation),
        vote_problem=vote_problem,
    ), status


@bp.get("/<int:consultation_id>")
def show(consultation_id: int):
    return _render_show(_consultation(consultation_id))


@bp.post("/<int:consultation_id>/votes")
@limiter.limit(VOTE_LIMIT, key_func=rate_limit_key)
@limiter.limit(ADDRESS_LIMIT)
def vote(consultation_id: int):
    consultation = _consultation(consultation_id)
    form = VoteForm()
    back_to_answers = form.return_to.data == "answers"
    render_problem = _render_answers if back_to_answers else _render_show_problem
    if not form.validate_on_submit():
        first_error = next(iter(form.errors.values()))[0]
        return render_problem(consultation, first_error, 400)
    try:
        visitor = visitor_for(consultation, for_write=True)
        outcome = _once_more_on_conflict(
            lambda: participation.cast_vote(
                consultation, visitor, form.chosen_statement_id, form.vote_choice
            )
        )
    except SignInRequired:
        return _sign_in_redirect(consultation)
    except Refused as refusal:
        db.session.rollback()
        return render_problem(consultation, refusal.message, 400)
    choice = form.vote_choice.label
    if back_to_answers:
        target = url_for(
            "consultations.answers",
            consultation_id=consultation.id,
            _anchor=f"statement-{outcome.vote.statement_id}",
        )
        message = f"Your answer is now: {choice}."
    else:
        target = _show_url(consultation)
        message = f"Your answer was saved: {choice}."
    return _finish_write(consultation, outcome.presence, target, message)


@bp.get("/<int:consultation_id>/answers")
def answers(consultation_id: int):
    return _render_answers(_consultation(consultation_id))


@bp.get("/<int:consultation_id>/statements/<int:statement_id>")
def statement(consultation_id: int, statement_id: int):
    """One statement on its own page: where a refused duplicate comment points people."""
    consultation = _consultation(consultation_id)
    found = db.session.get(Statement, statement_id)
    if found is None or found.consultation_id != consultation.id or not found.is_votable:
        abort(404)
    visitor = visitor_for(consultation)
    participant = participation.find_participant(consultation, visitor)
    return render_template(
        "consultations/statement.html",
        consultation=consultation,
        statement=found,
        current=participation.current_answer(participant, found),
        closed_reason=participation.why_not_accepting(consultation),
        needs_sign_in=visitor.user is None and not consultation.allow_anonymous,
        sign_in_url=url_for("auth.sign_in", next=_show_url(consultation)),
    )


@bp.post("/<int:consultation_id>/comments")
@limiter.limit(COMMENT_LIMIT, key_func=rate_limit_key)
@limiter.limit(ADDRESS_LIMIT)
def comment(consultation_id: int):
    consultation = _consultation(consultation_id)
    form = CommentForm()
    if not form.validate_on_submit():
        return _render_show(consultation, comment_form=form, status=400)
    try:
        visitor = visitor_for(consultation, for_write=True)
        outcome = _once_more_on_conflict(
            lambda: participation.add_comment(consultation, visitor, form.text.data)
        )
    except SignInRequired:
        return _sign_in_redirect(consultation)
    except DuplicateStatement as duplicate:
        db.session.rollback()
        show_refusal(form, duplicate)
        return _render_show(
            consultation, comment_form=form, duplicate=duplicate.original, status=400
        )
    except Refused as refusal:
        db.session.rollback()
        show_refusal(form, refusal)
        return _render_show(consultation, comment_form=form, status=400)
    if outcome.is_live:
        message = "Thank you: your statement has been added for other people to vote on."
    else:
        message = "Thank you: your statement will appear once a moderator has checked it."
    return _finish_write(consultation, outcome.presence, _show_url(consultation), message)


@bp.route("/<int:consultation_id>/about-you", methods=["GET", "POST"])
@limiter.limit(ABOUT_YOU_LIMIT, methods=["POST"], key_func=rate_limit_key)
def about_you(consultation_id: int):
    consultation = _consultation(consultation_id)
    areas = consultation.service_area_choices
    if not areas:
        abort(404)
    form = AboutYouForm()
    form.offer(areas)
    visitor = visitor_for(consultation, for_write=form.is_submitted())
    if form.validate_on_submit():
        try:
            presence = _once_more_on_conflict(
                lambda: participation.describe_participant(consultation, visitor, form.chosen_area)
            )
        except SignInRequired:
            return _sign_in_redirect(consultation)
        except Refused as refusal:
            db.session.rollback()
            show_refusal(form, refusal)
        else:
            return _finish_write(
                consultation, presence, _show_url(consultation), "Thank you: your answer was saved."
            )
    elif not form.is_submitted():
        participant = participation.find_participant(consultation, visitor)
        if participant is not None and participant.service_area:
            form.service_area.data = participant.service_area
    return render_template(
        "consultations/about_you.html",
        consultation=consultation,
        form=form,
        closed_reason=participation.why_not_accepting(consultation),
        needs_sign_in=visitor.user is None and not consultation.allow_anonymous,
        sign_in_url=url_for("auth.sign_in", next=_show_url(consultation)),
    ), 400 if form.errors else 200
