"""Personal API tokens: created and revoked by their owner on the account page, presented by a
program as ``Authorization: Bearer <token>`` to take part through the JSON API as that person.

- The token is shown once, when it is made; only its SHA-256 is stored, so neither the database
  nor a backup of it opens anything.
- A token acts as its owner and nothing more: the same participant, the same role (staff or
  citizen, read from the account at every write), the same rules and limits as the site.
- Revoking is at once and for good; the row stays (named, dated) for the owner's data download.
- A token names its owner's account only; signing out, even everywhere, does not end it (revoke
  it for that). Deleting the account deletes its tokens.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select

from deliberate.extensions import db, token_hash
from deliberate.models import ApiHeldComment, ApiToken, SimilarityCheck, User, utcnow
from deliberate.models.api_token import API_TOKEN_NAME_MAX
from deliberate.services import audit
from deliberate.services.errors import Refused, one_line

PREFIX = "dlb_"  # so a token is recognisable in a log or a secret scanner's findings
MAX_ACTIVE = 10  # tokens one account may hold at once


class InvalidToken(Exception):
    """No token, or one that opens nothing: unknown, revoked, or its account is gone."""

    def __init__(self, message: str, presented: bool = True):
        super().__init__(message)
        self.message = message
        self.presented = presented  # False: no token came at all


@dataclass(frozen=True)
class NewToken:
    """A token just made: ``secret`` is what its owner copies, shown this once."""

    token: ApiToken
    secret: str


def clean_name(name: str | None) -> str:
    """The token's name as its owner will recognise it in the list: white space tidied."""
    return one_line(name, "name", "Name", API_TOKEN_NAME_MAX, "Enter a name for the token")


def active_tokens(user: User) -> list[ApiToken]:
    """The owner's tokens that still work, newest first."""
    return list(
        db.session.scalars(
            select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
        )
    )


def create_token(user: User, name: str | None) -> NewToken:
    name = clean_name(name)
    held = db.session.scalar(
        select(func.count(ApiToken.id)).where(
            ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)
        )
    )
    if held >= MAX_ACTIVE:
        raise Refused(
            f"You already have {MAX_ACTIVE} API tokens: revoke one you no longer use first", "name"
        )
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, token_hash=token_hash(secret), created_at=utcnow())
    db.session.add(token)
    db.session.flush()
    audit.record("api_token.created", token, actor_id=user.id)
    return NewToken(token, secret)


def own_token(user: User, token_id: int) -> ApiToken | None:
    """The owner's token that still works; None for anyone else's, or one already revoked."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or not token.is_active:
        return None
    return token


def revoke_token(user: User, token: ApiToken) -> None:
    if token.user_id != user.id:
        raise Refused("That is not one of your API tokens")
    if token.is_active:
        token.revoked_at = utcnow()
        db.session.flush()
        audit.record("api_token.revoked", token, actor_id=user.id)


def authenticate(secret: str | None) -> ApiToken:
    """The working token a request presented, its use noted; else ``InvalidToken``."""
    if not secret:
        raise InvalidToken("This needs a personal API token: Authorization: Bearer <token>", False)
    token = db.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(secret)))
    # The lookup is by hash; compare once more in constant time all the same.
    if token is None or not hmac.compare_digest(token.token_hash, token_hash(secret)):
        raise InvalidToken("This API token is not known")
    if not token.is_active:
        raise InvalidToken("This API token has been revoked")
    token.last_used_at = utcnow()
    db.session.flush()
    return token


# -- comments held for the similarity check --------------------------------------------------------


def hold_for(user: User, check: SimilarityCheck) -> None:
    """Only this account may follow and post the comment it sent."""
    db.session.add(ApiHeldComment(check_id=check.id, user_id=user.id))
    db.session.flush()


def held_by(user: User, check_id: int) -> bool:
    held = db.session.get(ApiHeldComment, check_id)
    return held is not None and held.user_id == user.id
