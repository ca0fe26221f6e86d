"""The anonymous participant cookie: which random token this browser holds for each consultation.

The cookie (``PARTICIPANT_COOKIE_NAME``, default ``deliberate_participant``) maps consultation id
to token, signed with the app's secret (itsdangerous), HTTP-only, SameSite=Lax, kept a year from
the last answer. Each consultation gets its own token, so the stored hashes cannot link one
person's answers across consultations. A cookie whose signature fails, that has expired or that does
not parse is ignored as a whole: nothing in it is trusted.

On the embed routes (``deliberate.embed.frame``) the cookie is another one, limited to ``/embed``
and SameSite=None where browsers accept that, so that it works inside another website's frame.

Before the first answer, a page that offers a form prepares a fresh token in the (signed, HTTP-only)
session. Both requests of a double click carry it, so they reach the same new participant instead of
making two; it is dropped once the cookie holds the token.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from flask import Response, after_this_request, current_app, g, request, session
from flask_login import current_user
from itsdangerous import BadData, URLSafeTimedSerializer

from deliberate.embed import frame
from deliberate.extensions import hashed_address
from deliberate.models import Consultation, utcnow
from deliberate.services import analysis_runs, anonymous_answers
from deliberate.services.address_keys import address_key
from deliberate.services.participation import Presence, Visitor, token_hash

DEFAULT_COOKIE_NAME = "deliberate_participant"
MAX_AGE = timedelta(days=365)
MAX_REMEMBERED = 40  # consultations remembered per browser; the oldest is forgotten first
_SALT = "deliberate.participant-cookie"
_PENDING = "participant_fresh_tokens"
_READ = "deliberate_participant_tokens"
_INVITED = "invited_to_rounds"


@dataclass(frozen=True)
class BrowserTokens:
    tokens: dict[str, str]
    unreadable: bool  # a cookie came, but was forged, expired or garbled


def cookie_name() -> str:
    if frame.in_frame_route():
        return frame.PARTICIPANT_COOKIE
    return current_app.config.get("PARTICIPANT_COOKIE_NAME", DEFAULT_COOKIE_NAME)


def _cookie_attributes() -> dict:
    if frame.in_frame_route():
        return frame.cookie_attributes()
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE"))
    return {"samesite": "Lax", "secure": secure, "path": "/"}


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def read_tokens() -> BrowserTokens:
    """The browser's tokens, checked once per request (the rate limit, the view and the reply
    each ask for them)."""
    raw = request.cookies.get(cookie_name())
    seen = g.get(_READ)
    if seen is not None and seen[0] == raw:
        return seen[1]
    read = _read_cookie(raw)
    setattr(g, _READ, (raw, read))
    return read


def _read_cookie(raw: str | None) -> BrowserTokens:
    if not raw:
        return BrowserTokens({}, unreadable=False)
    try:
        data = _serializer().loads(raw, max_age=int(MAX_AGE.total_seconds()))
    except BadData:
        return BrowserTokens({}, unreadable=True)
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in data.items()
    ):
        return BrowserTokens({}, unreadable=True)
    return BrowserTokens(data, unreadable=False)  # callers copy the dict before changing it


def _signed_in_user():
    return current_user if current_user.is_authenticated else None


def current_address_key() -> str | None:
    """Today's keyed hash of the address this request came from (never the address itself)."""
    if not request.remote_addr:
        return None
    return address_key(request.remote_addr, current_app.config["SECRET_KEY"], utcnow().date())


def visitor_for(consultation: Consultation, for_write: bool = False) -> Visitor:
    """Who is asking, for this consultation.

    A page with forms shown to a browser that holds no token here keeps a fresh one ready in the
    session; a write without one gets a new token that lives only if the write succeeds."""
    user = _signed_in_user()
    invited = consultation.id in session.get(_INVITED, [])
    if user is not None:
        return Visitor(user=user, invited=invited)
    key = str(consultation.id)
    token = read_tokens().tokens.get(key)
    fresh = session.get(_PENDING, {}).get(key)
    if fresh is None and consultation.allow_anonymous:
        if for_write:
            fresh = secrets.token_urlsafe(32)
        elif token is None:
            fresh = secrets.token_urlsafe(32)
            session[_PENDING] = {**session.get(_PENDING, {}), key: fresh}
    return Visitor(
        token=token, fresh_token=fresh, address_key=current_address_key(), invited=invited
    )


def remember_invitation(consultation_id: int) -> None:
    """This browser came through the invitation to a round (a next round's email to the
    followers of the earlier ones): its participant there, once started, counts as invited back.
    Kept in the session only, and only the consultation's id."""
    invited = [i for i in session.get(_INVITED, []) if i != consultation_id]
    session[_INVITED] = [*invited, consultation_id][-MAX_REMEMBERED:]


def keep_fresh_token(consultation: Consultation, visitor: Visitor) -> None:
    """Keep the fresh token a write was made ready with in the session, for a write that comes
    later (a comment held for the similarity check is posted by its author's next request)."""
    if visitor.user is not None or not visitor.fresh_token:
        return
    key = str(consultation.id)
    if session.get(_PENDING, {}).get(key) != visitor.fresh_token:
        session[_PENDING] = {**session.get(_PENDING, {}), key: visitor.fresh_token}


def cookie_was_unreadable() -> bool:
    return read_tokens().unreadable


def remember(response: Response, consultation: Consultation, presence: Presence) -> Response:
    """After a successful write, keep the participant's token (and refresh the cookie's life)."""
    if presence.token is None:
        return response
    key = str(consultation.id)
    tokens = dict(read_tokens().tokens)
    tokens.pop(key, None)
    tokens[key] = presence.token
    while len(tokens) > MAX_REMEMBERED:
        tokens.pop(next(iter(tokens)))
    pending = session.get(_PENDING, {})
    if key in pending:
        session[_PENDING] = {k: v for k, v in pending.items() if k != key}
    return _write_cookie(response, tokens)


def _write_cookie(response: Response, tokens: dict[str, str]) -> Response:
    response.set_cookie(
        cookie_name(),
        _serializer().dumps(tokens),
        max_age=int(MAX_AGE.total_seconds()),
        httponly=True,
        **_cookie_attributes(),
    )
    return response


def join_answers_to(user) -> list[int]:
    """On signing in (or confirming a new account): the answers this browser gave anonymously
    join the account (``services.anonymous_answers``), and the cookie forgets the tokens that
    reached them. The consultations concerned are analysed again."""
    tokens = {int(k): v for k, v in read_tokens().tokens.items() if k.isdigit()}
    joined = anonymous_answers.join_to_account(user, tokens)
    if not joined:
        return joined
    for consultation_id in joined:
        analysis_runs.request_analysis(consultation_id)
    left = {
        k: v for k, v in read_tokens().tokens.items() if not k.isdigit() or int(k) not in joined
    }
    pending = session.get(_PENDING, {})
    session[_PENDING] = {k: v for k, v in pending.items() if int(k) not in joined}

    @after_this_request
    def forget_joined(response: Response) -> Response:
        if left:
            return _write_cookie(response, left)
        response.delete_cookie(cookie_name(), **_cookie_attributes())
        return response

    return joined


def rate_limit_key() -> str:
    """Rate limits count per participant: the account, else this consultation's token (the one
    kept ready in the session before the first write becomes the cookie's), else the address."""
    user = _signed_in_user()
    if user is not None:
        return f"user:{user.id}"
    key = str((request.view_args or {}).get("consultation_id"))
    token = read_tokens().tokens.get(key) or session.get(_PENDING, {}).get(key)
    if token:
        return f"participant:{token_hash(token)[:32]}"
    return hashed_address()
