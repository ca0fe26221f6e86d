"""The embed pages: one statement at a time, answered inside a frame on another website.

The same service and rules as the site's own page (``participation.cast_vote``, the same rate
limits, closed consultations refused in plain words), a plain POST form that works without
JavaScript, then a redirect back to the embed page with a status message. Nobody is signed in
inside a frame (``frame``): people take part anonymously where the consultation allows it, and
are otherwise sent to the site, in a new tab, to sign in.

An answer whose CSRF check fails inside a frame nearly always means the browser kept no cookie
for the frame (third-party cookies blocked): the person gets a page that says so and opens the
consultation in a new tab, never a bare "form expired" error.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request, url_for
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, TooManyRequests

from deliberate.consultations.forms import VoteForm
from deliberate.consultations.participant_cookie import rate_limit_key, visitor_for
from deliberate.consultations.views import (
    ADDRESS_LIMIT,
    TOO_MANY_NEW_TITLE,
    VOTE_LIMIT,
    _finish_write,
    too_many_new_message,
)
from deliberate.embed import frame
from deliberate.errors import ERROR_TEXT, OTHER_CLIENT_ERROR_TEXT, UNREADABLE_TEXT
from deliberate.extensions import limiter
from deliberate.models import Consultation
from deliberate.security import UnreadableInput
from deliberate.services import participation, reports
from deliberate.services.participation import TooManyNewParticipants
from deliberate.unit_of_work import may_be_refused, once_more_on_conflict

bp = Blueprint("embed", __name__, url_prefix=frame.EMBED_PATH)


def _consultation(consultation_id: int) -> Consultation:
    """The consultation as anyone not signed in sees it (drafts are not found)."""
    consultation = participation.consultation_for(consultation_id, None)
    if consultation is None:
        abort(404)
    return consultation


def _page_url(consultation_id: int) -> str:
    return url_for("embed.consultation", consultation_id=consultation_id)


def _site_links(consultation_id: int) -> dict:
    """Where the frame sends people, in a new tab: the full page, signing in, the summary."""
    show = url_for("consultations.show", consultation_id=consultation_id)
    return {
        "full_url": show,
        "sign_in_url": url_for("auth.sign_in", next=show),
        "embed_url": _page_url(consultation_id),
    }


def _render(consultation: Consultation, problem: str | None = None, status: int = 200):
    visitor = visitor_for(consultation)
    return render_template(
        "embed/consultation.html",
        consultation=consultation,
        overview=participation.overview(consultation, visitor),
        closed_reason=participation.why_not_accepting(consultation),
        needs_sign_in=not consultation.allow_anonymous,
        has_published_summary=reports.published_run(consultation.id) is not None,
        embedding_allowed=bool(current_app.config.get("EMBED_ORIGINS")),
        problem=problem,
        **_site_links(consultation.id),
    ), status


@bp.get("/consultations/<int:consultation_id>")
def consultation(consultation_id: int):
    return _render(_consultation(consultation_id))


@bp.post("/consultations/<int:consultation_id>/answers")
@limiter.limit(VOTE_LIMIT, key_func=rate_limit_key)
@limiter.limit(ADDRESS_LIMIT)
def answer(consultation_id: int):
    consultation = _consultation(consultation_id)
    form = VoteForm()
    if not form.validate_on_submit():
        return _render(consultation, next(iter(form.errors.values()))[0], 400)
    with may_be_refused() as refusal:
        visitor = visitor_for(consultation, for_write=True)
        outcome = once_more_on_conflict(
            lambda: participation.cast_vote(
                consultation, visitor, form.chosen_statement_id, form.vote_choice
            )
        )
        message = _("Your answer was saved: %(choice)s.", choice=form.vote_choice.label)
        return _finish_write(consultation, outcome.presence, _page_url(consultation.id), message)
    return _render(consultation, refusal.message, 400)


# -- what goes wrong inside a frame ---------------------------------------------------------------


@bp.errorhandler(CSRFError)
def _no_cookie_in_frame(error: CSRFError):
    """The answer came back without the frame's cookie (blocked), or with a stale form: either
    way nothing was saved, and the consultation works in a tab of its own."""
    consultation_id = (request.view_args or {}).get("consultation_id")
    return render_template(
        "embed/open_in_new_tab.html",
        blocked=frame.SESSION_COOKIE not in request.cookies,
        secure_cookies=frame.cross_site_cookies(),
        **(_site_links(consultation_id) if consultation_id is not None else {}),
    ), 400


@bp.errorhandler(TooManyNewParticipants)
def _too_many_new_participants(error: TooManyNewParticipants):
    wait = error.retry_after
    message = too_many_new_message(wait)
    return _render_error(429, TOO_MANY_NEW_TITLE, message, TooManyRequests(retry_after=wait))


@bp.errorhandler(UnreadableInput)
def _unreadable(error: UnreadableInput):
    return _render_error(400, *UNREADABLE_TEXT[error.where], error)


def _http_error(error: HTTPException):
    """Errors inside the frame keep the frame's own layout, with a way out to the site."""
    code = error.code or 500
    if code < 400:
        return error
    default = OTHER_CLIENT_ERROR_TEXT if code < 500 else ERROR_TEXT[500]
    return _render_error(code, *ERROR_TEXT.get(code, default), error)


# By code as well: Flask prefers the site's handler for a code to a blueprint's for a class.
for _code in ERROR_TEXT:
    bp.register_error_handler(_code, _http_error)
bp.register_error_handler(HTTPException, _http_error)


def _render_error(
    code: int, title: str | LazyString, message: str | LazyString, error: HTTPException
):
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    consultation_id = (request.view_args or {}).get("consultation_id")
    body = render_template(
        "embed/error.html",
        code=code,
        title=title,
        message=message,
        # A consultation that exists: a way on to it on the site.
        **(_site_links(consultation_id) if consultation_id is not None and code != 404 else {}),
    )
    return body, code, headers
