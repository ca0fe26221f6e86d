"""Error pages: one GOV.UK-style template for every HTTP error, in words a person can act on (and
for the JSON API, its one error object: see ``JSON_ERRORS``)."""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, render_template
from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from deliberate.security import UnreadableInput

# status code -> (title, what the person can do about it)
ERROR_TEXT: dict[int, tuple[LazyString, LazyString]] = {
    400: (
        _l("Sorry, there is a problem with your request"),
        _l("The page could not understand what was sent. Go back and try again."),
    ),
    403: (
        _l("You do not have permission to see this page"),
        _l("If you think you should have access, check you are signed in with the right account."),
    ),
    404: (
        _l("Page not found"),
        _l(
            "If you typed the web address, check it is correct. "
            "If you pasted the web address, check you copied the entire address."
        ),
    ),
    405: (
        _l("Sorry, that did not work"),
        _l("This page cannot be used in that way. Go back and try again."),
    ),
    413: (
        _l("The file or text you sent is too large"),
        _l("Go back and send something smaller: a shorter text, or a smaller file."),
    ),
    429: (
        _l("You have done that too many times"),
        _l("Wait a minute and try again."),
    ),
    500: (
        _l("Sorry, there is a problem with the service"),
        _l("Try again later."),
    ),
    503: (
        _l("Sorry, the service is unavailable"),
        _l("Nothing you sent has been saved. Wait a moment, then go back and try again."),
    ),
}

# Seconds a client is asked to wait before trying again when the database does not answer.
DATABASE_RETRY_AFTER = 5

log = logging.getLogger("deliberate.errors")

# Any other client error Werkzeug can raise (401, 410, 415, 431 ...).
OTHER_CLIENT_ERROR_TEXT = ERROR_TEXT[400]

UNREADABLE_TEXT = {
    "form": (
        _l("The form contained characters that could not be read"),
        _l(
            "Something in what was sent could not be read as text. "
            "Go back, check what you typed or pasted, and try again."
        ),
    ),
    "web address": (
        _l("The web address contained characters that could not be read"),
        _l(
            "If you typed the web address, check it is correct. "
            "If you pasted the web address, check you copied the entire address."
        ),
    ),
}

CSRF_TEXT = (
    _l("Your form expired"),
    _l("Your form expired or was not sent correctly. Go back, reload the page and try again."),
)


# app.extensions key: (wants JSON, answer) given by a part of the site that answers errors in JSON
# (the API, deliberate.api): ``wants()`` says whether this request is one of its own, and
# ``answer(error, code)`` gives its response.
JSON_ERRORS = "deliberate_json_errors"


def render_error(
    code: int,
    title: str | LazyString,
    message: str | LazyString,
    error: HTTPException | None = None,
):
    json_errors = current_app.extensions.get(JSON_ERRORS)
    if json_errors is not None:
        wants, answer = json_errors
        if wants():
            return answer(error, code), code, {}
    response_headers = {}
    if error is not None:
        # Keep what the exception says about itself (Allow on 405, Retry-After on 429).
        response_headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    body = render_template("errors/error.html", code=code, title=title, message=message)
    return body, code, response_headers


def init_app(app: Flask) -> None:
    def handle_http_error(error: HTTPException):
        code = error.code
        if code is None or code < 400:  # not an error (Flask passes routing redirects by)
            return error
        default = OTHER_CLIENT_ERROR_TEXT if code < 500 else ERROR_TEXT[500]
        title, message = ERROR_TEXT.get(code, default)
        return render_error(code, title, message, error)

    def handle_csrf_error(error: CSRFError):
        return render_error(400, *CSRF_TEXT, error)

    def handle_unreadable_input(error: UnreadableInput):
        return render_error(400, *UNREADABLE_TEXT[error.where], error)

    def handle_database_error(error: DBAPIError | PoolTimeout):
        if isinstance(error, DBAPIError) and not (
            isinstance(error, OperationalError) or error.connection_invalidated
        ):
            raise error  # a query the database refused (a broken constraint): a bug, so a 500
        return database_unavailable(error)

    for code in ERROR_TEXT:
        app.register_error_handler(code, handle_http_error)
    # Every other HTTP error gets the same page; the handlers by class below are more specific
    # (CSRFError and UnreadableInput are BadRequests), so Flask picks them for theirs.
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(UnreadableInput, handle_unreadable_input)
    app.register_error_handler(DBAPIError, handle_database_error)
    app.register_error_handler(PoolTimeout, handle_database_error)


def database_unavailable(error: Exception):
    """The database did not answer (down, restarting, unreachable, out of connections): a 503
    page that says nothing was saved, drawn without the database. The unit of work has already
    rolled the request back; the connection pool checks each connection before use, so the site
    recovers by itself once the database is back."""
    original = getattr(error, "orig", None)
    log.warning(
        "database unavailable",
        extra={
            # Class names and the SQLSTATE only: the messages can quote what was sent.
            "error": type(error).__name__,
            "cause": type(original).__name__ if original is not None else None,
            "sqlstate": getattr(original, "sqlstate", None),
        },
    )
    _forget_the_signed_in_user()
    body, code, headers = render_error(503, *ERROR_TEXT[503])
    headers.update({"Retry-After": str(DATABASE_RETRY_AFTER), "Cache-Control": "no-store"})
    return body, code, headers


def _forget_the_signed_in_user() -> None:
    """The page header asks who is signed in, and that asks the database: draw this page as for
    a visitor who is not signed in (the next page, once the database answers, knows them again)."""
    from deliberate.extensions import db, login_manager

    try:
        db.session.rollback()
    except Exception:  # the connection is gone; the session is discarded at the request's end
        current_app.logger.debug("rollback after a database error failed too", exc_info=True)
    g._login_user = login_manager.anonymous_user()
