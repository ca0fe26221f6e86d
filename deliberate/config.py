"""Settings, read from the environment once, when the app is created.

Development needs nothing set: the database is a SQLite file, the secret key is generated once
into the instance folder, and the contact address on the privacy and accessibility pages is an
example, labelled as one. Production (``DELIBERATE_ENV=production``) refuses to start without a
real secret and a real contact address.
"""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

# The checkout: templates, static files, migrations and data/ live beside the package.
PROJECT_ROOT = Path(__file__).resolve().parent.parent

DEFAULT_STAFF_DOMAINS = ("nhs.net", "nhs.uk", "police.uk", "gov.uk", "sch.uk", "ac.uk")


# Shown in development when DELIBERATE_CONTACT_EMAIL is not set; the pages say it is an example.
EXAMPLE_CONTACT_EMAIL = "privacy@deliberate.example"
# The basis most public bodies give for consulting people; an operator states their own.
DEFAULT_LAWFUL_BASIS = "performing a task in the public interest (Article 6(1)(e) of the UK GDPR)"
# Domains reserved for examples and tests (RFC 2606, RFC 6761): nobody reads mail sent there.
_EXAMPLE_DOMAINS = re.compile(r"(^|\.)(example|invalid|test|localhost)$|^example\.(com|net|org)$")
_EMAIL = re.compile(r"[^@\s<>\"'(),;:]+@([^@\s<>\"'(),;:]+\.[^@\s<>\"'(),;:]+)")


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


def _email_setting(env: dict[str, str], name: str, production: bool) -> str | None:
    """An address people are told to write to: well formed, and a real one in production."""
    value = (env.get(name) or "").strip()
    if not value:
        return None
    match = _EMAIL.fullmatch(value)
    if match is None:
        raise ConfigurationError(f"{name} must be one email address, like privacy@example.gov.uk.")
    if production and _EXAMPLE_DOMAINS.search(match.group(1).lower()):
        raise ConfigurationError(f"{name} must be a real address when DELIBERATE_ENV=production.")
    return value


def _count(env: dict[str, str], name: str, default: int, unit: str = "") -> int:
    """A whole number of 1 or more (of ``unit``: "days"), or ``default`` when unset."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        of = f" of {unit}" if unit else ""
        raise ConfigurationError(f"{name} must be a whole number{of}, 1 or more.")
    return value


def _days(env: dict[str, str], name: str, default: int) -> int:
    return _count(env, name, default, "days")


def _contact_settings(env: dict[str, str], production: bool) -> dict:
    """Who runs this copy of the service and how to reach them, for the privacy and accessibility
    pages (never a form: people write to a person)."""
    contact = _email_setting(env, "DELIBERATE_CONTACT_EMAIL", production)
    if contact is None and production:
        raise ConfigurationError(
            "DELIBERATE_CONTACT_EMAIL must be set when DELIBERATE_ENV=production: the privacy and "
            "accessibility pages give it as the way to reach the people who run the service."
        )
    return {
        "CONTACT_EMAIL": contact or EXAMPLE_CONTACT_EMAIL,
        "CONTACT_EMAIL_IS_EXAMPLE": contact is None,
        "DPO_EMAIL": _email_setting(env, "DELIBERATE_DPO_EMAIL", production),
        "OPERATOR_NAME": (env.get("DELIBERATE_OPERATOR_NAME") or "").strip() or None,
        "LAWFUL_BASIS": (env.get("DELIBERATE_LAWFUL_BASIS") or "").strip() or DEFAULT_LAWFUL_BASIS,
    }


def _retention_settings(env: dict[str, str]) -> dict:
    """How long what is no longer needed is kept (deliberate.services.retention deletes it; the
    privacy page states these periods)."""
    return {
        # A comment held back for a similarity check and never posted.
        "RETENTION_HELD_COMMENT_DAYS": _days(env, "DELIBERATE_RETENTION_HELD_COMMENT_DAYS", 1),
        # Staff verification and account links (and the addresses they name), once used or expired.
        "RETENTION_TOKEN_DAYS": _days(env, "DELIBERATE_RETENTION_TOKEN_DAYS", 30),
        # Emails written to the outbox folder when no mail server is set.
        "RETENTION_OUTBOX_DAYS": _days(env, "DELIBERATE_RETENTION_OUTBOX_DAYS", 7),
        # The keyed hash of the address a new anonymous participant came from (for reviewing
        # bursts of new participants from one address).
        "RETENTION_ADDRESS_KEY_DAYS": _days(env, "DELIBERATE_RETENTION_ADDRESS_KEY_DAYS", 30),
        # Off: only `flask deliberate purge` (from cron, say) deletes; on: the site asks for a
        # purge job once an hour per process, which runs at most once a day.
        "RETENTION_SCHEDULE": _bool(env.get("DELIBERATE_RETENTION_SCHEDULE"), True),
    }


def _whole_number(env: dict[str, str], name: str, default: int, least: int = 1) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = least - 1
    if value < least:
        raise ConfigurationError(f"{name} must be a whole number, {least} or more.")
    return value


def _participation_review_settings(env: dict[str, str]) -> dict:
    """When anonymous participation looks scripted (deliberate.services.participation_review),
    and how many new anonymous participants one address may start a minute."""
    return {
        # This many new participants from one address within this many seconds is a burst.
        "BURST_PARTICIPANTS": _whole_number(env, "DELIBERATE_BURST_PARTICIPANTS", 5, least=2),
        "BURST_SECONDS": _whole_number(env, "DELIBERATE_BURST_SECONDS", 60),
        # Participants with the very same answers, at least this many, are flagged.
        "IDENTICAL_MIN_VOTES": _whole_number(env, "DELIBERATE_IDENTICAL_MIN_VOTES", 5),
        # New anonymous participants one address may start a minute, over all consultations
        # (0: no limit). Applies while rate limits are on (DELIBERATE_RATELIMIT).
        "NEW_PARTICIPANTS_PER_MINUTE": _whole_number(
            env, "DELIBERATE_NEW_PARTICIPANTS_PER_MINUTE", 10, least=0
        ),
    }


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
        # Distinct participants whose reports hide a statement until a moderator has checked it.
        "REPORT_THRESHOLD": _count(env, "DELIBERATE_REPORT_THRESHOLD", 3),
        # Resamples of people behind each bridging score's 90% interval (background work only).
        "BRIDGING_RESAMPLES": int(env.get("DELIBERATE_BRIDGING_RESAMPLES", "200")),
        # New votes wait this long before a re-analysis, so a burst becomes one run.
        "ANALYSIS_DEBOUNCE_SECONDS": float(env.get("DELIBERATE_ANALYSIS_DEBOUNCE_SECONDS", "30")),
        # How old the vote counts behind the next statement's draw may be (services.vote_counts).
        "VOTE_COUNTS_SECONDS": float(env.get("DELIBERATE_VOTE_COUNTS_SECONDS", "5")),
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
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Production sits behind a proxy that ends TLS and says X-Forwarded-Proto: https; a plain
        # HTTP request is redirected (set DELIBERATE_FORCE_HTTPS=0 where the proxy does that).
        "FORCE_HTTPS": _bool(env.get("DELIBERATE_FORCE_HTTPS"), production),
        "HSTS": production,
        # Proxies in front whose X-Forwarded-For and X-Forwarded-Proto are believed (ProxyFix).
        "TRUSTED_PROXIES": int(env.get("DELIBERATE_TRUSTED_PROXIES", "1" if production else "0")),
        "WTF_CSRF_TIME_LIMIT": None,
        # werkzeug's scrypt; the test suite sets a cheaper method so it is not dominated by hashing.
        "PASSWORD_HASH_METHOD": env.get("DELIBERATE_PASSWORD_HASH_METHOD", "scrypt"),
        "MAX_CONTENT_LENGTH": 2 * 1024 * 1024,
        **_contact_settings(env, production),
        **_retention_settings(env),
        **_participation_review_settings(env),
    }
