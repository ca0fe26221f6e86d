"""Settings come from the environment; production refuses to start with a made-up secret."""

from __future__ import annotations

import pytest

from deliberate.config import (
    DEFAULT_LAWFUL_BASIS,
    EXAMPLE_CONTACT_EMAIL,
    ConfigurationError,
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


PRODUCTION = {"DELIBERATE_ENV": "production", "DELIBERATE_CONTACT_EMAIL": "privacy@agency.gov.uk"}


def test_production_requires_a_secret_key(tmp_path):
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        settings_from_environment(tmp_path, env=PRODUCTION)
    settings = settings_from_environment(tmp_path, env={**PRODUCTION, "SECRET_KEY": "s" * 50})
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert not (tmp_path / "secret_key").exists()


def test_production_requires_a_real_contact_address(tmp_path):
    env = {"DELIBERATE_ENV": "production", "SECRET_KEY": "s" * 50}
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
