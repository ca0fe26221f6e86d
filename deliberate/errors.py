"""Error pages: one GOV.UK-style template for every HTTP error, in words a person can act on."""

from __future__ import annotations

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from deliberate.security import UnreadableInput

# status code -> (title, what the person can do about it)
ERROR_TEXT: dict[int, tuple[str, str]] = {
    400: (
        "Sorry, there is a problem with your request",
        "The page could not understand what was sent. Go back and try again.",
    ),
    403: (
        "You do not have permission to see this page",
        "If you think you should have access, check you are signed in with the right account.",
    ),
    404: (
        "Page not found",
        "If you typed the web address, check it is correct. "
        "If you pasted the web address, check you copied the entire address.",
    ),
    405: (
        "Sorry, that did not work",
        "This page cannot be used in that way. Go back and try again.",
    ),
    413: (
        "The file or text you sent is too large",
        "Go back and send something smaller: a shorter text, or a smaller file.",
    ),
    429: (
        "You have done that too many times",
        "Wait a minute and try again.",
    ),
    500: (
        "Sorry, there is a problem with the service",
        "Try again later.",
    ),
}

# Any other client error Werkzeug can raise (401, 410, 415, 431 ...).
OTHER_CLIENT_ERROR_TEXT = ERROR_TEXT[400]

UNREADABLE_TEXT = {
    "form": (
        "The form contained characters that could not be read",
        "Something in what was sent could not be read as text. "
        "Go back, check what you typed or pasted, and try again.",
    ),
    "web address": (
        "The web address contained characters that could not be read",
        "If you typed the web address, check it is correct. "
        "If you pasted the web address, check you copied the entire address.",
    ),
}

CSRF_TEXT = (
    "Your form expired",
    "Your form expired or was not sent correctly. Go back, reload the page and try again.",
)


def render_error(code: int, title: str, message: str, error: HTTPException | None = None):
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

    for code in ERROR_TEXT:
        app.register_error_handler(code, handle_http_error)
    # Every other HTTP error gets the same page; the handlers by class below are more specific
    # (CSRFError and UnreadableInput are BadRequests), so Flask picks them for theirs.
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(UnreadableInput, handle_unreadable_input)
