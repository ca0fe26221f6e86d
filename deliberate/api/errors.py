"""One error shape for every API answer that is not a success, whoever raised it:

    {"error": {"status": 404, "code": "not_found", "message": "...", "details": {...}}}

``code`` is a word a program can branch on (``consultation_closed``, ``invalid_token``...);
``message`` is a sentence for a person; ``details`` (only sometimes) says more: the fields a
request got wrong, or the statement a duplicate repeats. The site's own error handling
(``deliberate.errors``) hands every error under ``/api/`` here, so routing errors (404, 405), the
rate limiter's 429 and a database outage's 503 take this shape too, as do flask-smorest's 422s.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Response, jsonify
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from deliberate.security import UnreadableInput

# status -> (code, message) when nothing more specific was said
DEFAULTS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request could not be understood."),
    401: ("unauthorised", "This needs a personal API token: Authorization: Bearer <token>."),
    403: ("forbidden", "This token may not do that."),
    404: ("not_found", "There is nothing at this address, or nothing you may see."),
    405: ("method_not_allowed", "This address does not accept that method."),
    409: ("conflict", "The request conflicts with the state of what it names."),
    413: ("too_large", "The request body is too large."),
    415: ("unsupported_media_type", "Send the request body as JSON (application/json)."),
    422: ("invalid_request", "The request is not valid: see details."),
    429: ("too_many_requests", "Too many requests: wait as Retry-After says, then try again."),
    500: ("server_error", "Something went wrong on our side. Try again later."),
    503: ("unavailable", "The service is unavailable. Nothing was saved: try again shortly."),
}
UNREADABLE = "The web address contained characters that could not be read."


class ApiError(HTTPException):
    """A refusal the API words itself: its status, a code word, a message and maybe details."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = status
        self.word = code
        self.message = message
        self.details = details
        self.headers = headers or {}


def _word(status: int) -> str:
    name = HTTP_STATUS_CODES.get(status, "error")
    return re.sub(r"[^a-z]+", "_", name.lower()).strip("_")


def body(status: int, code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"status": status, "code": code, "message": message}
    if details:
        error["details"] = details
    return {"error": error}


def error_response(error: HTTPException | None, status: int | None = None) -> Response:
    """The JSON answer for ``error`` (or for a bare ``status``), keeping the headers the
    exception carries (Allow on a 405, Retry-After on a 429, WWW-Authenticate on a 401)."""
    status = status or (error.code if error is not None else None) or 500
    code, message = DEFAULTS.get(status, (_word(status), HTTP_STATUS_CODES.get(status, "Error")))
    details = None
    headers: dict[str, str] = {}
    if isinstance(error, ApiError):
        code, message, details = error.word, error.message, error.details
        headers.update(error.headers)
    elif isinstance(error, UnreadableInput):
        message = UNREADABLE
    elif error is not None:
        data = getattr(error, "data", None) or {}  # webargs' 422 and 400 carry their messages
        if data.get("messages"):
            details = data["messages"]
            if status == 400:
                message = "The request body is not valid JSON."
        headers.update(data.get("headers") or {})
    if error is not None:
        headers.update(
            (key, value) for key, value in error.get_headers() if key.lower() != "content-type"
        )
    response = jsonify(body(status, code, message, details))
    response.status_code = status
    response.headers.update(headers)
    return response
