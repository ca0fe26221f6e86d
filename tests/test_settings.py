"""Settings come from the environment; production refuses to start with a made-up secret."""

from __future__ import annotations

import pytest

from deliberate.config import (
    DEFAULT_LAWFUL_BASIS,
    EXAMPLE_CONTACT_EMAIL,
    ConfigurationError,
    engine_options,
    normalise_database_url,
    settings_from_environment,
)


def test_development_generates_a_secret_once_and_keeps_it(tmp_path):
    first = settings_from_environment(tmp_path, env={})
    second = settings_from_environment(tmp_path, env={})
    assert first["SECRET_KEY"] == second["SECRET_KEY"] and len(first["SECRET_KEY"]) > 40
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'deliberate.sqlite3'}"
    assert first["PASSWORD_HASH_METHOD"] == "scrypt"


PRODUCTION = {
    "DELIBERATE_ENV": "production",
    "DELIBERATE_CONTACT_EMAIL": "privacy@agency.gov.uk",
    "DATABASE_URL": "postgresql://deliberate@db.internal/deliberate",
    "REDIS_URL": "redis://queue.internal:6379/0",
}


def test_production_requires_a_secret_key(tmp_path):
    with pytest.raises(ConfigurationError, match="missing: SECRET_KEY"):
        settings_from_environment(tmp_path, env=PRODUCTION)
    settings = settings_from_environment(tmp_path, env={**PRODUCTION, "SECRET_KEY": "s" * 50})
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert not (tmp_path / "secret_key").exists()


def test_production_names_every_missing_shared_setting(tmp_path):
    """Every machine of a production site shares the database, Redis and the secret key: none
    falls back to a file of its own, and the refusal names all that is missing at once."""
    env = {"DELIBERATE_ENV": "production", "DELIBERATE_CONTACT_EMAIL": "privacy@agency.gov.uk"}
    with pytest.raises(ConfigurationError) as refused:
        settings_from_environment(tmp_path, env=env)
    assert str(refused.value).endswith("missing: DATABASE_URL, REDIS_URL, SECRET_KEY.")
    with pytest.raises(ConfigurationError, match=r"missing: REDIS_URL\.$"):
        settings_from_environment(
            tmp_path, env={**PRODUCTION, "SECRET_KEY": "s" * 50, "REDIS_URL": " "}
        )
    assert not (tmp_path / "secret_key").exists()
    assert not (tmp_path / "deliberate.sqlite3").exists()


def test_production_logs_json_and_development_text_unless_asked(tmp_path):
    production = {**PRODUCTION, "SECRET_KEY": "s" * 50}
    assert settings_from_environment(tmp_path, env=production)["LOG_FORMAT"] == "json"
    assert settings_from_environment(tmp_path, env={})["LOG_FORMAT"] == "text"
    asked = {"DELIBERATE_LOG_FORMAT": "JSON"}
    assert settings_from_environment(tmp_path, env=asked)["LOG_FORMAT"] == "json"
    with pytest.raises(ConfigurationError, match="DELIBERATE_LOG_FORMAT"):
        settings_from_environment(tmp_path, env={"DELIBERATE_LOG_FORMAT": "xml"})


def test_postgresql_connections_wait_a_bounded_time_and_sqlite_is_left_alone():
    options = engine_options("postgresql+psycopg://u@db/x", {"pool_pre_ping": True}, 3)
    assert options["connect_args"] == {"connect_timeout": 3}
    assert options["pool_pre_ping"] is True and options["hide_parameters"] is True
    sqlite = engine_options("sqlite:///x.db", {"pool_pre_ping": True}, 3)
    assert "connect_args" not in sqlite and sqlite["hide_parameters"] is True


def test_production_requires_a_real_contact_address(tmp_path):
    env = {"DELIBERATE_ENV": "production", "SECRET_KEY": "s" * 50}
    env.update({k: PRODUCTION[k] for k in ("DATABASE_URL", "REDIS_URL")})
    with pytest.raises(ConfigurationError, match="DELIBERATE_CONTACT_EMAIL must be set"):
        settings_from_environment(tmp_path, env=env)
    for example in ("privacy@deliberate.example", "a@example.org", "me@thing.invalid"):
        with pytest.raises(ConfigurationError, match="must be a real address"):
            settings_from_environment(tmp_path, env={**env, "DELIBERATE_CONTACT_EMAIL": example})
    with pytest.raises(ConfigurationError, match="DELIBERATE_DPO_EMAIL"):
        settings_from_environment(
            tmp_path, env={**env, **PRODUCTION, "DELIBERATE_DPO_EMAIL": "dpo@example.com"}
        )
    settings = settings_from_environment(tmp_path, env={**env, **PRODUCTION})
    assert settings["CONTACT_EMAIL"] == "privacy@agency.gov.uk"
    assert settings["CONTACT_EMAIL_IS_EXAMPLE"] is False


def test_development_gives_an_example_contact_address_and_says_so(tmp_path):
    settings = settings_from_environment(tmp_path, env={})
    assert settings["CONTACT_EMAIL"] == EXAMPLE_CONTACT_EMAIL
    assert settings["CONTACT_EMAIL_IS_EXAMPLE"] is True
    assert settings["DPO_EMAIL"] is None and settings["OPERATOR_NAME"] is None
    assert settings["LAWFUL_BASIS"] == DEFAULT_LAWFUL_BASIS


def test_contact_and_operator_settings_are_read_and_checked(tmp_path):
    settings = settings_from_environment(
        tmp_path,
        env={
            "DELIBERATE_CONTACT_EMAIL": " privacy@agency.gov.uk ",
            "DELIBERATE_DPO_EMAIL": "dpo@agency.gov.uk",
            "DELIBERATE_OPERATOR_NAME": "The Missions Agency",
            "DELIBERATE_LAWFUL_BASIS": "our public task under the Missions Act",
        },
    )
    assert settings["CONTACT_EMAIL"] == "privacy@agency.gov.uk"
    assert settings["DPO_EMAIL"] == "dpo@agency.gov.uk"
    assert settings["OPERATOR_NAME"] == "The Missions Agency"
    assert settings["LAWFUL_BASIS"] == "our public task under the Missions Act"
    for bad in ("not an address", "a@b", "a@b.uk, c@d.uk", 'x"@y.uk', "<a@b.uk>"):
        with pytest.raises(ConfigurationError, match="one email address"):
            settings_from_environment(tmp_path, env={"DELIBERATE_CONTACT_EMAIL": bad})


def test_retention_periods_are_read_and_must_be_whole_days(tmp_path):
    defaults = settings_from_environment(tmp_path, env={})
    assert (defaults["RETENTION_HELD_COMMENT_DAYS"], defaults["RETENTION_TOKEN_DAYS"]) == (1, 30)
    assert defaults["RETENTION_SCHEDULE"] is True
    settings = settings_from_environment(
        tmp_path,
        env={
            "DELIBERATE_RETENTION_HELD_COMMENT_DAYS": "7",
            "DELIBERATE_RETENTION_TOKEN_DAYS": "90",
            "DELIBERATE_RETENTION_OUTBOX_DAYS": "2",
            "DELIBERATE_RETENTION_SCHEDULE": "off",
        },
    )
    assert settings["RETENTION_HELD_COMMENT_DAYS"] == 7 and settings["RETENTION_TOKEN_DAYS"] == 90
    assert settings["RETENTION_OUTBOX_DAYS"] == 2 and settings["RETENTION_SCHEDULE"] is False
    for bad in ("0", "-3", "a week", "1.5"):
        with pytest.raises(ConfigurationError, match="DELIBERATE_RETENTION_TOKEN_DAYS"):
            settings_from_environment(tmp_path, env={"DELIBERATE_RETENTION_TOKEN_DAYS": bad})


def test_environment_settings_are_read(tmp_path):
    settings = settings_from_environment(
        tmp_path,
        env={
            "DATABASE_URL": "postgres://u@db:5432/deliberate",
            "REDIS_URL": "redis://127.0.0.1:6379/0",
            "DELIBERATE_STAFF_DOMAINS": "nhs.net, @Police.uk",
            "DELIBERATE_EMBEDDING_MODEL": "/models/multilingual",
        },
    )
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db:5432/deliberate"
    assert settings["RATELIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379/0"
    assert settings["STAFF_EMAIL_DOMAINS"] == ("nhs.net", "police.uk")
    assert settings["DELIBERATE_EMBEDDING_MODEL"] == "/models/multilingual"


def test_database_url_forms():
    assert normalise_database_url("sqlite:///x.db") == "sqlite:///x.db"
    assert normalise_database_url("postgresql://a@b/c") == "postgresql+psycopg://a@b/c"
