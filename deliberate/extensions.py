"""Every Flask extension object, created unbound so that no module needs the app to reach them."""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, date, datetime

import flask_limiter
from flask import Flask, Response, current_app
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def token_hash(token: str) -> str:
    """What is stored of a secret token (an emailed link, a participant's cookie): its SHA-256,
    so the database alone opens nothing."""
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_hash(purpose: str, value: str, day: date | None = None, secret: str | None = None) -> str:
    """A short keyed hash (HMAC with the secret key) of ``value``, kept instead of an IP address
    or an email address (rate-limit counters, participants' address keys). With ``day``, the hash
    of one value changes from one day to the next."""
    message = f"{purpose}|{day.isoformat() if day else ''}|{value}".encode()
    key = str(secret if secret is not None else current_app.config["SECRET_KEY"]).encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def hashed_address(today: date | None = None) -> str:
    """The rate-limit key of the address a request comes from: a keyed hash that rotates every
    day (UTC), never the IP address itself."""
    today = today or datetime.now(UTC).date()
    return "address:" + keyed_hash("address", get_remote_address() or "", day=today)


class Limiter(flask_limiter.Limiter):
    """Flask-Limiter, whose every 429 says when to try again (``Retry-After``, in seconds)."""

    def init_app(self, app: Flask) -> None:
        super().init_app(app)
        app.after_request(self._say_when_to_retry)

    def _say_when_to_retry(self, response: Response) -> Response:
        if response.status_code == 429 and "Retry-After" not in response.headers:
            breached = self.current_limit
            wait = int(breached.reset_at - time.time()) if breached is not None else 60
            response.headers["Retry-After"] = str(max(wait, 1))
        return response


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
limiter = Limiter(key_func=hashed_address, default_limits=[])


def acting_person_key() -> str:
    """The rate-limit key of whoever sends a request: a signed-in person on their own, whatever
    network they share with others; anyone else by the keyed hash of their address."""
    from flask_login import current_user

    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return hashed_address()
