"""Settings, read from the environment once, when the app is created.

Development needs nothing set: the database is a SQLite file, the secret key is generated once
into the instance folder, and the contact address on the privacy and accessibility pages is an
example, labelled as one. Production (``DELIBERATE_ENV=production``) refuses to start without a
real secret, PostgreSQL and Redis named (``DATABASE_URL``, ``REDIS_URL``) and a real contact
address: a production site on a SQLite file, with jobs in a thread and limits counted per process,
would work on one machine and lose work on several.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

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


# What every machine of a production site must be given (they share the database, the queue and
# the key that signs cookies).
PRODUCTION_REQUIRED = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")


class ConfigurationError(RuntimeError):
    """A setting is missing or wrong in a way that must stop the app from starting."""


def missing_for_production(env: dict[str, str]) -> list[str]:
    """The settings production needs that ``env`` leaves unset or empty."""
    return [name for name in PRODUCTION_REQUIRED if not (env.get(name) or "").strip()]


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
        # Addresses that follow a consultation: deleted this long after its last round closed.
        "FOLLOWER_KEEP_DAYS": _days(env, "DELIBERATE_FOLLOWER_KEEP_DAYS", 90),
        # ... and, never confirmed, this long after the confirmation link was sent (it then
        # stops working).
        "FOLLOWER_CONFIRM_DAYS": _days(env, "DELIBERATE_FOLLOWER_CONFIRM_DAYS", 7),
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


# Licences an operator may name by their short name alone; any other needs its URL as well.
KNOWN_DATA_LICENCES = {
    "CC BY 4.0": "https://creativecommons.org/licenses/by/4.0/",
    "CC BY-SA 4.0": "https://creativecommons.org/licenses/by-sa/4.0/",
    "CC0 1.0": "https://creativecommons.org/publicdomain/zero/1.0/",
    "OGL-UK-3.0": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
    "ODbL 1.0": "https://opendatacommons.org/licenses/odbl/1-0/",
}
DEFAULT_DATA_LICENCE = "CC BY 4.0"


def _open_data_settings(env: dict[str, str]) -> dict:
    """The licence of the data the site publishes (its own consultations; imported conversations
    keep the licence and attribution they came with)."""
    name = (env.get("DELIBERATE_DATA_LICENCE") or "").strip() or DEFAULT_DATA_LICENCE
    url = (env.get("DELIBERATE_DATA_LICENCE_URL") or "").strip() or KNOWN_DATA_LICENCES.get(name)
    if url is None:
        known = ", ".join(KNOWN_DATA_LICENCES)
        raise ConfigurationError(
            f"DELIBERATE_DATA_LICENCE is {name!r}: set DELIBERATE_DATA_LICENCE_URL to its text, "
            f"or name one of {known}."
        )
    return {"DATA_LICENCE": name, "DATA_LICENCE_URL": url}


def _seconds_list(env: dict[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """Whole numbers of seconds separated by commas ("30,300"), each 0 or more."""
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        values = tuple(int(part) for part in raw.split(","))
    except ValueError:
        values = (-1,)
    if any(value < 0 for value in values):
        raise ConfigurationError(f"{name} must be whole numbers of seconds, like 30,300.")
    return values


def _job_settings(env: dict[str, str], redis_url: str | None, production: bool) -> dict:
    """Background jobs (deliberate.jobs): retries, time limits, the per-consultation lock, and
    what happens while Redis does not answer."""
    pause = float(env.get("DELIBERATE_TEST_ANALYSIS_PAUSE_SECONDS") or 0)
    if pause and production:
        raise ConfigurationError(
            "DELIBERATE_TEST_ANALYSIS_PAUSE_SECONDS is for the fault tests only: unset it."
        )
    settings: dict = {
        # A failed job is tried again this many times (so 2: three tries in all) ...
        "JOB_RETRIES": _whole_number(env, "DELIBERATE_JOB_RETRIES", 2, least=0),
        # ... after these waits (the last one repeats when there are more retries than waits).
        "JOB_RETRY_SECONDS": _seconds_list(env, "DELIBERATE_JOB_RETRY_SECONDS", (30, 300)),
        # The longest one job may run before its worker stops it (and it counts as failed).
        "JOB_TIMEOUT_SECONDS": _whole_number(env, "DELIBERATE_JOB_TIMEOUT_SECONDS", 3600),
        # A worker says it is alive three times in this period while it runs a job; a job whose
        # worker stayed silent this long was abandoned (the worker died) and is tried again.
        "JOB_ABANDONED_SECONDS": _whole_number(env, "DELIBERATE_JOB_ABANDONED_SECONDS", 30, 3),
        # The lock that keeps two workers from analysing one consultation at once expires this
        # long after its holder stopped renewing it (its holder renews it three times as often).
        "JOB_LOCK_SECONDS": _whole_number(env, "DELIBERATE_JOB_LOCK_SECONDS", 60, least=3),
        # A job that finds the lock taken looks again after this long.
        "JOB_LOCK_WAIT_SECONDS": _whole_number(env, "DELIBERATE_JOB_LOCK_WAIT_SECONDS", 30),
        # Jobs asked for while Redis did not answer wait in the database; each process looks
        # for them at most this often (and after each job it queues once Redis is back).
        "PENDING_JOB_CHECK_SECONDS": _whole_number(env, "DELIBERATE_PENDING_JOB_CHECK_SECONDS", 30),
        # Fault tests only: the analysis job waits this long before storing its run.
        "TEST_ANALYSIS_PAUSE_SECONDS": pause,
    }
    if redis_url:
        # Redis stopped: rate limits are counted in each process's memory meanwhile, and a
        # request waits at most about a second for Redis to answer.
        settings["RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"] = True
        settings["RATELIMIT_STORAGE_OPTIONS"] = redis_client_options()
    return settings


def redis_client_options() -> dict:
    """How the web processes talk to Redis: one quick try again, then give up rather than hold a
    request (redis-py's default tries ten times, up to a second apart)."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return {"socket_connect_timeout": 1, "socket_timeout": 2, "retry": Retry(NoBackoff(), 1)}


_HOST_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_NONE = ("'none'", "none")


def _origin(item: str) -> str:
    """One origin as a browser writes it (``scheme://host[:port]``, lower case), or an error that
    says what to change."""
    name = "DELIBERATE_EMBED_ORIGINS"
    example = "like https://www.example.gov.uk or http://localhost:8080"
    if "*" in item:
        raise ConfigurationError(
            f"{name}: {item!r} has a wildcard; list each website's origin, {example}."
        )
    if item.lower() in _NONE:
        raise ConfigurationError(f"{name}: 'none' stands alone, meaning no website may embed.")
    try:
        parts = urlsplit(item.removesuffix("/") if item.count("/") == 3 else item)
        port = parts.port
    except ValueError:
        raise ConfigurationError(f"{name}: {item!r} is not an origin, {example}.") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or "//" not in item:
        raise ConfigurationError(f"{name}: {item!r} is not an origin, {example}.")
    if parts.path or parts.query or parts.fragment or "?" in item or "#" in item:
        raise ConfigurationError(
            f"{name}: {item!r} has a path; give the origin only (no path), {example}."
        )
    if parts.username is not None or parts.password is not None or port == 0:
        raise ConfigurationError(f"{name}: {item!r} is not an origin, {example}.")
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 address, written in brackets
        ipaddress.IPv6Address(host)
        host = f"[{host}]"
    elif not all(_HOST_LABEL.fullmatch(label) for label in host.split(".")):
        raise ConfigurationError(
            f"{name}: {item!r} has a host name browsers would not match; write international "
            f"names in their xn-- form, {example}."
        )
    return f"{parts.scheme.lower()}://{host}" + (f":{port}" if port is not None else "")


def embed_origins(raw: str | None) -> tuple[str, ...]:
    """The websites that may show the embedded participation page in a frame, from the
    comma-separated ``DELIBERATE_EMBED_ORIGINS``: each ``scheme://host[:port]``, no paths (one
    trailing slash is forgiven) and no wildcards. Empty, or ``'none'``: no website may."""
    items = [item.strip() for item in (raw or "").split(",") if item.strip()]
    if len(items) == 1 and items[0].lower() in _NONE:
        return ()
    origins: list[str] = []
    for item in items:
        try:
            origin = _origin(item)
        except ValueError:  # a bracketed host that is not an IPv6 address
            raise ConfigurationError(
                f"DELIBERATE_EMBED_ORIGINS: {item!r} is not an origin, like "
                "https://www.example.gov.uk."
            ) from None
        if origin not in origins:
            origins.append(origin)
    return tuple(origins)


def settings_from_environment(instance_path: Path, env: dict[str, str] | None = None) -> dict:
    env = dict(os.environ if env is None else env)
    production = env.get("DELIBERATE_ENV", "development") == "production"

    missing = missing_for_production(env) if production else []
    if missing:
        raise ConfigurationError(
            f"DELIBERATE_ENV=production needs {', '.join(PRODUCTION_REQUIRED)} set; "
            f"missing: {', '.join(missing)}."
        )
    secret = env.get("SECRET_KEY") or _instance_secret(instance_path)

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
        # Completed by engine_options() once the app knows its database (tests set another).
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Seconds to wait for PostgreSQL to accept a connection: an unreachable database gives a
        # 503 page and a failing /readyz within seconds instead of a hung request.
        "DATABASE_CONNECT_TIMEOUT": _count(
            env, "DELIBERATE_DATABASE_CONNECT_TIMEOUT", 3, "seconds"
        ),
        # "json": one JSON object a line (always so in production); "text": for a person to read.
        "LOG_FORMAT": log_format(env),
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
        # Where people reach the site: the base of links in emails written outside a request
        # (a command, a background job).
        "PUBLIC_URL": env.get("DELIBERATE_PUBLIC_URL", "http://127.0.0.1:5000"),
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
        **_open_data_settings(env),
        **_job_settings(env, redis_url, production),
        # Websites allowed to show /embed/consultations/<id> in a frame (CSP frame-ancestors).
        "EMBED_ORIGINS": embed_origins(env.get("DELIBERATE_EMBED_ORIGINS")),
    }


def log_format(env: dict[str, str]) -> str:
    """``json`` when asked for or in production, else ``text``."""
    asked = (env.get("DELIBERATE_LOG_FORMAT") or "").strip().lower()
    if asked not in ("", "json", "text"):
        raise ConfigurationError("DELIBERATE_LOG_FORMAT must be json or text.")
    production = env.get("DELIBERATE_ENV", "development") == "production"
    return asked or ("json" if production else "text")


def engine_options(database_uri: str, options: dict, connect_timeout: int) -> dict:
    """SQLAlchemy engine options for this database: connections checked before use (a database
    that restarted is reconnected to by itself), statement parameters kept out of error messages
    (they can hold an email address, and errors are logged), and on PostgreSQL a bounded wait
    for a connection."""
    options = {"pool_pre_ping": True, "hide_parameters": True, **options}
    if database_uri.startswith("postgresql"):
        connect_args = {"connect_timeout": connect_timeout, **options.get("connect_args", {})}
        options["connect_args"] = connect_args
    return options
