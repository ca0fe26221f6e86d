"""Taking part in a consultation: one statement at a time, answers, comments and "about you".

Every write is a plain POST form that works without JavaScript, followed by a redirect. Refusals
re-render the page they came from with a GOV.UK error summary and leave nothing half-saved.
"""

from __future__ import annotations

from typing import TypeVar

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from werkzeug.exceptions import TooManyRequests

from deliberate.consultations.forms import (
    AboutYouForm,
    CommentForm,
    HeldCommentForm,
    ReportForm,
    VoteForm,
)
from deliberate.consultations.participant_cookie import (
    cookie_was_unreadable,
    keep_fresh_token,
    rate_limit_key,
    remember,
    visitor_for,
)
from deliberate.errors import render_error
from deliberate.extensions import db, limiter
from deliberate.forms_support import show_refusal
from deliberate.i18n import current_language
from deliberate.models import (
    CheckStatus,
    Consultation,
    ModerationMode,
    ModerationStatus,
    SimilarityCheck,
    Statement,
)
from deliberate.services import (
    analysis_runs,
    embeddings,
    participation,
    reports,
    similar_statements,
    statement_reports,
    where_you_stand,
)
from deliberate.services.participation import (
    CommentOutcome,
    Presence,
    SignInRequired,
    TooManyNewParticipants,
)
from deliberate.services.statement_reports import AlreadyReported
from deliberate.services.statements import DuplicateStatement
from deliberate.unit_of_work import Refusal, may_be_refused, once_more_on_conflict

T = TypeVar("T")

bp = Blueprint("consultations", __name__, url_prefix="/consultations")

VOTE_LIMIT = "60 per minute"
COMMENT_LIMIT = "5 per minute"
HELD_COMMENT_LIMIT = "20 per minute"
REFRESH_SECONDS = 2
ABOUT_YOU_LIMIT = "20 per minute"
REPORT_LIMIT = "10 per minute"
# A looser cap per address, so discarding the cookie cannot multiply a participant's allowance.
ADDRESS_LIMIT = "600 per minute"
BLANK_COMMENT_FIELDS = "deliberate_blank_comment_fields"  # app.extensions key

TOO_MANY_NEW_TITLE = _l("Too many people have started taking part from your internet connection")

# Where a comment becomes a statement, its author agrees with it (participation.add_comment).
OWN_STATEMENT_AGREES = _l(
    "Your own statement counts as Agree; you can change your answer on Your answers."
)

AFRESH_MESSAGE = _l(
    "We could not recognise the answers saved on this device, so your answers are now being "
    "saved as a new participant."
)


def too_many_new_message(wait: int) -> str:
    """Why a new participant was refused for a while, and how long to wait."""
    seconds = ngettext("%(num)s second", "%(num)s seconds", wait)
    return _(
        "To keep automated answers out, only a few new participants can start from one "
        "internet connection each minute, and that many have started from yours. Your answer "
        "was not saved: wait %(seconds)s and try again. People who have already answered on "
        "this connection can carry on as usual.",
        seconds=seconds,
    )


@bp.errorhandler(TooManyNewParticipants)
def _too_many_new_participants(error: TooManyNewParticipants):
    """A 429 that says why, with Retry-After; nothing of the refused write was saved."""
    wait = error.retry_after
    return render_error(
        429,
        TOO_MANY_NEW_TITLE,
        too_many_new_message(wait),
        TooManyRequests(retry_after=wait),
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
    flash(_("Sign in to take part in this consultation."), "info")
    return redirect(url_for("auth.sign_in", next=_show_url(consultation)))


def _finish_write(
    consultation: Consultation,
    presence: Presence,
    target: str,
    message: str,
    category: str = "success",
):
    """Confirm, ask for a (debounced) re-analysis, and let the browser keep its token. An answer
    given on the consultation page is confirmed in the category "answer": shown short, beside
    the next statement, so that it stays in sight on a phone."""
    analysis_runs.request_analysis(consultation.id)
    flash(message, category)
    if presence.token is not None and (presence.started_afresh or cookie_was_unreadable()):
        flash(str(AFRESH_MESSAGE), "info")
    return remember(redirect(target), consultation, presence)


def _page_context(consultation: Consultation) -> dict:
    visitor = visitor_for(consultation)
    return {
        "consultation": consultation,
        "overview": participation.overview(consultation, visitor),
        "closed_reason": participation.why_not_accepting(consultation),
        "closed_on": consultation.closed_on(),
        "needs_sign_in": visitor.user is None and not consultation.allow_anonymous,
        "cookie_unreadable": visitor.user is None and cookie_was_unreadable(),
        "sign_in_url": url_for("auth.sign_in", next=_show_url(consultation)),
    }


def blank_comment_fields() -> Markup | None:
    """The comment form's fields with nothing typed and no error: the same for everyone who reads
    the page in one language, so rendered once per process and language (the GOV.UK character
    count was half the page's rendering). None while templates reload as they change
    (development)."""
    if current_app.jinja_env.auto_reload:
        return None
    by_language = current_app.extensions.setdefault(BLANK_COMMENT_FIELDS, {})
    language = current_language()
    kept = by_language.get(language)
    if kept is None:
        fields = render_template(
            "consultations/_comment_fields.html", comment_form=CommentForm(formdata=None)
        )
        # A rendered template: its HTML is escaped already.
        kept = by_language.setdefault(language, Markup(fields))  # noqa: S704
    return kept


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
        blank_comment_fields=blank_comment_fields() if comment_form is None else None,
        vote_problem=vote_problem,
        duplicate=duplicate,
        pre_moderated=consultation.moderation_mode is ModerationMode.PRE,
        has_published_summary=reports.has_published_run(consultation.id),
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
    with may_be_refused() as refusal:
        visitor = visitor_for(consultation, for_write=True)
        outcome = once_more_on_conflict(
            lambda: participation.cast_vote(
                consultation, visitor, form.chosen_statement_id, form.vote_choice
            )
        )
        choice = form.vote_choice.label
        if back_to_answers:
            target = url_for(
                "consultations.answers",
                consultation_id=consultation.id,
                _anchor=f"statement-{outcome.statement_id}",
            )
            message = _("Your answer is now: %(choice)s.", choice=choice)
        else:
            target = _show_url(consultation)
            message = _("Your answer was saved: %(choice)s.", choice=choice)
        category = "success" if back_to_answers else "answer"
        return _finish_write(consultation, outcome.presence, target, message, category)
    if isinstance(refusal.error, SignInRequired):
        return _sign_in_redirect(consultation)
    return render_problem(consultation, refusal.message, 400)


@bp.get("/<int:consultation_id>/answers")
def answers(consultation_id: int):
    return _render_answers(_consultation(consultation_id))


@bp.get("/<int:consultation_id>/where-you-stand")
def stand(consultation_id: int):
    """The visitor's own place among the published summary's opinion groups: only their own
    participant is read (the account, else this browser's cookie), never one named in the URL."""
    consultation = _consultation(consultation_id)
    participant = participation.find_participant(consultation, visitor_for(consultation))
    response = make_response(
        render_template(
            "consultations/where_you_stand.html",
            consultation=consultation,
            stand=where_you_stand.where_you_stand(consultation, participant),
            closed_reason=participation.why_not_accepting(consultation),
        )
    )
    response.headers["Cache-Control"] = "no-store"  # one person's page, never kept by a proxy
    return response


@bp.get("/<int:consultation_id>/statements/<int:statement_id>")
def statement(consultation_id: int, statement_id: int):
    """One statement on its own page: where a refused duplicate comment points people."""
    consultation = _consultation(consultation_id)
    found = _shown_statement(consultation, statement_id)
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


def _shown_statement(consultation: Consultation, statement_id: int) -> Statement:
    """A statement participants can see, or one reports hid (its page says so); else 404."""
    found = db.session.get(Statement, statement_id)
    if found is None or found.consultation_id != consultation.id:
        abort(404)
    hidden = found.is_hidden_by_reports and found.moderation is ModerationStatus.ACCEPTED
    if not (found.is_votable or hidden):
        abort(404)
    return found


@bp.route("/<int:consultation_id>/statements/<int:statement_id>/report", methods=["GET", "POST"])
@limiter.limit(REPORT_LIMIT, methods=["POST"], key_func=rate_limit_key)
@limiter.limit(ADDRESS_LIMIT, methods=["POST"])
def report_statement(consultation_id: int, statement_id: int):
    """Report a statement to the moderators: a reason from the policy and an optional note."""
    consultation = _consultation(consultation_id)
    statement = _shown_statement(consultation, statement_id)
    form = ReportForm()
    if not form.is_submitted():
        form.return_to.data = "statement" if request.args.get("from") == "statement" else None
    visitor = visitor_for(consultation, for_write=form.is_submitted())
    back = _show_url(consultation)
    if form.return_to.data == "statement" and statement.is_votable:
        back = url_for(
            "consultations.statement", consultation_id=consultation.id, statement_id=statement.id
        )
    if form.validate_on_submit():
        with may_be_refused(form) as refusal:
            outcome = once_more_on_conflict(
                lambda: statement_reports.report_statement(
                    consultation, visitor, statement.id, form.reason.data, form.note.data
                )
            )
            flash(_("Thank you: your report has been sent to the moderators."), "success")
            if outcome.presence.token is not None and cookie_was_unreadable():
                flash(str(AFRESH_MESSAGE), "info")
            return remember(redirect(back, 303), consultation, outcome.presence)
        if isinstance(refusal.error, SignInRequired):
            return _sign_in_redirect(consultation)
        if isinstance(refusal.error, AlreadyReported):
            flash(refusal.message + ".", "info")
            return redirect(back, 303)
    participant = participation.find_participant(consultation, visitor)
    return render_template(
        "consultations/report.html",
        consultation=consultation,
        statement=statement,
        form=form,
        back=back,
        already_reported=statement_reports.has_reported(participant, statement),
        not_reportable=statement_reports.why_not_reportable(statement),
        closed_reason=participation.why_not_accepting(consultation),
        needs_sign_in=visitor.user is None and not consultation.allow_anonymous,
        sign_in_url=url_for("auth.sign_in", next=_show_url(consultation)),
    ), 400 if form.errors else 200


@bp.post("/<int:consultation_id>/comments")
@limiter.limit(COMMENT_LIMIT, key_func=rate_limit_key)
@limiter.limit(ADDRESS_LIMIT)
def comment(consultation_id: int):
    consultation = _consultation(consultation_id)
    form = CommentForm()
    if not form.validate_on_submit():
        return _render_show(consultation, comment_form=form, status=400)
    with may_be_refused(form) as refusal:
        visitor = visitor_for(consultation, for_write=True)
        held = similar_statements.hold_for_check(consultation, visitor, form.text.data)
        if held is not None:
            similar_statements.request_check(held)
            keep_fresh_token(consultation, visitor)  # the held comment's author writes with it
            return redirect(_held_url(consultation, held.token), 303)
        outcome = once_more_on_conflict(
            lambda: participation.add_comment(consultation, visitor, form.text.data)
        )
        return _finish_comment(consultation, outcome)
    return _refuse_comment(consultation, form, refusal)


def _refuse_comment(consultation: Consultation, form: CommentForm, refusal: Refusal):
    """The comment page again, the refusal on the form; or the sign-in page, when that is it."""
    if isinstance(refusal.error, SignInRequired):
        return _sign_in_redirect(consultation)
    error = refusal.error
    original = error.original if isinstance(error, DuplicateStatement) else None
    return _render_show(consultation, comment_form=form, duplicate=original, status=400)


def _finish_comment(consultation: Consultation, outcome: CommentOutcome, embedded: bool = False):
    if outcome.is_live:
        message = _("Thank you: your statement has been added for other people to vote on.")
    else:
        message = _("Thank you: your statement will appear once a moderator has checked it.")
    message += f" {OWN_STATEMENT_AGREES}"
    response = _finish_write(consultation, outcome.presence, _show_url(consultation), message)
    if not embedded:
        embeddings.request_embedding(consultation.id)
    return response


def _held_url(consultation: Consultation, held_token: str) -> str:
    return url_for(
        "consultations.held_comment", consultation_id=consultation.id, held_token=held_token
    )


def _held_for_visitor(consultation: Consultation, held_token: str) -> SimilarityCheck | None:
    """The held comment at this address, if this visitor wrote it; None when it is gone (posted
    from another tab, or dropped). Anyone else gets a 404, whatever session or cookie they send."""
    held = similar_statements.held_comment_by_token(consultation, held_token)
    if held is None:
        return None
    if not similar_statements.is_author(held, visitor_for(consultation, for_write=True)):
        abort(404)
    return held


def _post_held(consultation: Consultation, held: SimilarityCheck):
    """Post a held comment as its author, with the usual confirmation or refusal."""
    check_id, text = held.id, held.text
    with may_be_refused() as refusal:
        visitor = visitor_for(consultation, for_write=True)
        outcome = once_more_on_conflict(
            lambda: similar_statements.post_held_comment(consultation, visitor, check_id)
        )
        if outcome is None:  # posted already, from another tab or a double click
            return redirect(_show_url(consultation))
        return _finish_comment(consultation, outcome, embedded=True)
    if isinstance(refusal.error, SignInRequired):
        return _sign_in_redirect(consultation)
    form = CommentForm(formdata=None, data={"text": text})
    show_refusal(form, refusal.error)
    similar_statements.drop_held_comment(check_id)
    return _refuse_comment(consultation, form, refusal)


@bp.get("/<int:consultation_id>/comments/held/<held_token>")
def held_comment(consultation_id: int, held_token: str):
    """Where the author waits while their comment is compared with the statements already made."""
    consultation = _consultation(consultation_id)
    held = _held_for_visitor(consultation, held_token)
    if held is None:  # posted already, or dropped
        return redirect(_show_url(consultation))
    similar = similar_statements.similar_statements(held)
    if held.status is CheckStatus.CLEAR or (held.status is CheckStatus.SIMILAR and not similar):
        return _post_held(consultation, held)  # nothing close (any more): post as asked
    overdue = similar_statements.is_overdue(held)
    response = make_response(
        render_template(
            "consultations/held_comment.html",
            consultation=consultation,
            held=held,
            similar=similar,
            overdue=overdue,
            form=HeldCommentForm(formdata=None),
        )
    )
    if held.status is CheckStatus.CHECKING and not overdue:
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


@bp.post("/<int:consultation_id>/comments/held/<held_token>")
@limiter.limit(HELD_COMMENT_LIMIT, key_func=rate_limit_key)
@limiter.limit(ADDRESS_LIMIT)
def post_held_comment(consultation_id: int, held_token: str):
    """The held comment page's buttons: "Post my statement anyway", "Post without waiting"."""
    consultation = _consultation(consultation_id)
    if not HeldCommentForm().validate_on_submit():
        abort(400)
    held = _held_for_visitor(consultation, held_token)
    if held is None:
        return redirect(_show_url(consultation))
    return _post_held(consultation, held)


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
        with may_be_refused(form) as refusal:
            presence = once_more_on_conflict(
                lambda: participation.describe_participant(consultation, visitor, form.chosen_area)
            )
            return _finish_write(
                consultation,
                presence,
                _show_url(consultation),
                _("Thank you: your answer was saved."),
            )
        if isinstance(refusal.error, SignInRequired):
            return _sign_in_redirect(consultation)
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
