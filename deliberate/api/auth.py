"""Who writes through the API: the owner of the personal token in ``Authorization: Bearer``.

Only the header counts. The site's session cookie is never read here (API routes are exempt from
the site's CSRF check because they use no cookies), so a browser that is merely signed in, or a
page on another site that makes it send a request, can write nothing through the API.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import g, request

from deliberate.api.errors import ApiError
from deliberate.models import ApiToken, User
from deliberate.services import api_tokens

REALM = "Deliberate API"
_TOKEN = "api_token"  # noqa: S105 (where g keeps it, not a secret)


def _presented() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None


def _unauthorised(problem: api_tokens.InvalidToken) -> ApiError:
    """A 401 whose WWW-Authenticate says what to send (RFC 6750): without an error code when no
    token came, ``invalid_token`` when one came and opens nothing."""
    challenge = f'Bearer realm="{REALM}"'
    code = "token_required"
    if problem.presented:
        challenge += f', error="invalid_token", error_description="{problem.message}"'
        code = "invalid_token"
    return ApiError(401, code, problem.message + ".", headers={"WWW-Authenticate": challenge})


def token_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """The view runs only for a working token; it then acts as the token's owner. Put it
    outside the rate limits, which count per owner."""

    @wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        try:
            setattr(g, _TOKEN, api_tokens.authenticate(_presented()))
        except api_tokens.InvalidToken as problem:
            raise _unauthorised(problem) from None
        return view(*args, **kwargs)

    return checked


def current_token() -> ApiToken:
    return g.get(_TOKEN)


def acting_user() -> User:
    return current_token().user


def person_key() -> str:
    """The rate-limit key of the token's owner: the same key as their signed-in browser's on the
    site (``user:<id>``), so the site and the API share one allowance."""
    return f"user:{current_token().user_id}"
