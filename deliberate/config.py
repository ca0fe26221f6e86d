"""Settings, read from the environment once, when the app is created.

Development needs nothing set: the database is a SQLite file and the secret key is generated once
into the instance folder. Production (``DELIBERATE_ENV=production``) refuses to start without a
real secret.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

# The checkout: templates, static files, migrations and data/ live beside the package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_STAFF_DOMAINS = ("nhs.net", "nhs.uk", "police.uk", "gov.uk", "sch.uk", "ac.uk")


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong in a way that must stop the app from starting."""


def _bool(value: str | None, default: bool = False) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def normalise_database_url(url: str) -> str:
    """Accept the ``postgres://`` and ``postgresql://`` forms hosts hand out; we drive psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _instance_secret(instance_path: Path) -> str:
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def settings_from_environment(instance_path: Path, env: dict[str, str] | None = None) -> dict:
    env = dict(os.environ if env is None else env)
    production = env.get("DELIBERATE_ENV", "development") == "production"

    secret = env.get("SECRET_KEY")
    if not secret:
        if production:
            raise ConfigurationError("SECRET_KEY must be set when DELIBERATE_ENV=production.")
        secret = _instance_secret(instance_path)

    database_url = env.get("DATABASE_URL") or f"sqlite:///{instance_path / 'deliberate.sqlite3'}"
    domains = env.get("DELIBERATE_STAFF_DOMAINS")
    staff_domains = (
        tuple(d.strip().lower().lstrip("@") for d in domains.split(",") if d.strip())
        if domains
        else DEFAULT_STAFF_DOMAINS
    )
    redis_url = env.get("REDIS_URL") or None
    return {
        "ENV_NAME": "production" if production else "development",
        "SECRET_KEY": secret,
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_ENABLED": _bool(env.get("DELIBERATE_RATELIMIT"), True),
        "DELIBERATE_EMBEDDING_MODEL": env.get("DELIBERATE_EMBEDDING_MODEL") or None,
        # New statements wait this long before being embedded, so a burst is embedded together.
        "EMBEDDING_DELAY_SECONDS": float(env.get("DELIBERATE_EMBEDDING_DELAY_SECONDS", "10")),
        # Cosine similarity from which a new comment is shown its near-duplicates first.
        "SIMILAR_STATEMENT_THRESHOLD": float(env.get("DELIBERATE_SIMILAR_THRESHOLD", "0.80")),
        # Resamples of people behind each bridging score's 90% interval (background work only).
        "BRIDGING_RESAMPLES": int(env.get("DELIBERATE_BRIDGING_RESAMPLES", "200")),
        # New votes wait this long before a re-analysis, so a burst becomes one run.
        "ANALYSIS_DEBOUNCE_SECONDS": float(env.get("DELIBERATE_ANALYSIS_DEBOUNCE_SECONDS", "30")),
        "STAFF_EMAIL_DOMAINS": staff_domains,
        "STAFF_VERIFICATION_HOURS": int(env.get("DELIBERATE_STAFF_VERIFICATION_HOURS", "24")),
        # How long the link that confirms a new account's email address works.
        "EMAIL_CONFIRMATION_HOURS": int(env.get("DELIBERATE_EMAIL_CONFIRMATION_HOURS", "24")),
        # How long a password reset link works.
        "PASSWORD_RESET_MINUTES": int(env.get("DELIBERATE_PASSWORD_RESET_MINUTES", "60")),
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": int(env.get("MAIL_PORT", "587")),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS"), True),
        "MAIL_FROM": env.get("MAIL_FROM", "Deliberate <no-reply@deliberate.invalid>"),
        "MAIL_OUTBOX": env.get("DELIBERATE_MAIL_OUTBOX") or str(instance_path / "outbox"),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "WTF_CSRF_TIME_LIMIT": None,
        # werkzeug's scrypt; the test suite sets a cheaper method so it is not dominated by hashing.
        "PASSWORD_HASH_METHOD": env.get("DELIBERATE_PASSWORD_HASH_METHOD", "scrypt"),
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
    }
