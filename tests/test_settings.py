"""Settings come from the environment; production refuses to start with a made-up secret."""

from __future__ import annotations

import pytest

from deliberate.config import (
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


def test_production_requires_a_secret_key(tmp_path):
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        settings_from_environment(tmp_path, env={"DELIBERATE_ENV": "production"})
    settings = settings_from_environment(
        tmp_path, env={"DELIBERATE_ENV": "production", "SECRET_KEY": "s" * 50}
    )
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert not (tmp_path / "secret_key").exists()


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
