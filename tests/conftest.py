"""Fixtures shared by the whole suite.

The suite runs against the database named by ``TEST_DATABASE_URL``: ``sqlite`` (the default) uses a
fresh file in a temporary folder; a PostgreSQL URL makes a new, uniquely named database on that
server, migrates it, and drops it at the end, so each run leaves nothing behind. Tables are emptied
after every test.
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
import uuid
import warnings
from pathlib import Path

import pytest
from flask import has_app_context
from flask.testing import FlaskClient
from jinja2.bccache import Bucket, BytecodeCache
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import OperationalError

# Never let the suite write a secret into the developer's instance folder.
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")

from deliberate import create_app
from deliberate.config import normalise_database_url
from deliberate.extensions import db

# Tests written before tests/helpers.py existed import these from here; both ways keep working.
from tests.helpers import (  # noqa: F401
    POLIS_DATA,
    REPO_ROOT,
    csrf_token_from,
    sign_in,
    submit_form,
)

# Markers given from what a test uses, so no test has to remember them.
DATABASE_FIXTURES = {"app", "database_url", "_migrated"}


def pytest_collection_modifyitems(items):
    """``db``: the test opens the database (directly or through a fixture such as ``client`` or
    ``missions``), so the PostgreSQL pass of ``make test`` runs it; the rest (analysis, the Polis
    format, settings) touches no database and runs once, on the SQLite pass."""
    for item in items:
        if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)


def _postgres_database(server_url: str):
    url = make_url(normalise_database_url(server_url))
    name = f"deliberate_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    target = os.environ.get("TEST_DATABASE_URL", "sqlite") or "sqlite"
    if target == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'deliberate-test.sqlite3'}"
    else:
        yield from _postgres_database(target)


@pytest.fixture(scope="session")
def is_postgres(database_url) -> bool:
    return database_url.startswith("postgresql")


class _SeparateUserClient(FlaskClient):
    """A browser beside the test: the test's own session ends its transaction around each request,
    so the app sees what the test wrote and the test then reads what the app wrote (as two people
    using the site would), on SQLite's snapshot reads as on PostgreSQL."""

    def open(self, *args, **kwargs):
        self._end_test_transaction()
        try:
            return super().open(*args, **kwargs)
        finally:
            self._end_test_transaction()

    @staticmethod
    def _end_test_transaction() -> None:
        if has_app_context():  # the test body's own context, not a request's
            db.session.commit()


class _TemplatesCompiledOnce(BytecodeCache):
    """A running site compiles each template once; the suite builds two apps per test, and
    compiling the GOV.UK templates again for each took most of a page test's time. Compiled code is
    kept by template and source checksum, so a changed template is compiled again."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_COMPILED_TEMPLATES = _TemplatesCompiledOnce()


def make_test_app(database_url: str, tmp_path: Path, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_ENABLED": False,
        "MAIL_OUTBOX": str(tmp_path / "outbox"),
        "SERVER_NAME": "deliberate.test",
        # Real hashing, cheaper parameters: scrypt costs ~0.2 s a call and tests sign in a lot.
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "PREFERRED_URL_SCHEME": "http",
        # No daily purge job behind a test's back (tests/test_retention.py turns it on).
        "RETENTION_SCHEDULE": False,
    }
    config.update(overrides)
    app = create_app(config)
    app.test_client_class = _SeparateUserClient
    app.jinja_env.bytecode_cache = _COMPILED_TEMPLATES
    _APPS_OF_THIS_TEST.append(app)
    return app


_APPS_OF_THIS_TEST: list = []
JOB_PATIENCE = 240  # seconds a test's teardown waits for its running background job to end


def _stop_jobs_of_this_test() -> None:
    """Drop the jobs this test's apps queued and wait for a running one to end: a job still
    running while the tables are emptied deadlocks PostgreSQL's TRUNCATE, or writes into the next
    test's rows (analyses with their permutation test can take a while)."""
    while _APPS_OF_THIS_TEST:
        _APPS_OF_THIS_TEST.pop().extensions["deliberate_jobs"].shutdown(timeout=JOB_PATIENCE)


@pytest.fixture(autouse=True)
def _stop_background_jobs():
    """Jobs a test queued must not run later against the next test's rows."""
    yield
    _stop_jobs_of_this_test()


@pytest.fixture(scope="session")
def _migrated(database_url, tmp_path_factory):
    """Build the schema once per run through the real migrations, as `make run` does."""
    from flask_migrate import upgrade

    app = make_test_app(database_url, tmp_path_factory.mktemp("migrate"))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return True


@pytest.fixture
def app(database_url, _migrated, tmp_path):
    """The app under test. Requests get a fresh app context each, as in production; the test body
    itself runs in the context of a twin app on the same database, so ``db.session`` works in tests
    without leaking ``g`` (and the signed-in user) from one request into the next."""
    served = make_test_app(database_url, tmp_path)
    twin = make_test_app(database_url, tmp_path)
    twin.config = served.config  # one set of settings, whichever app a command or test runs in
    with twin.app_context():
        yield served
        db.session.remove()
        _stop_jobs_of_this_test()  # before the tables are emptied (this runs before autouse ones)
        _empty_all_tables()
        db.engine.dispose()
    with served.app_context():
        db.engine.dispose()


def _empty_all_tables() -> None:
    tables = [t for t in db.metadata.sorted_tables]
    if db.engine.dialect.name != "postgresql":
        with db.engine.begin() as connection:
            for table in reversed(tables):
                connection.execute(table.delete())
        return
    names = ", ".join(f'"{t.name}"' for t in tables)
    for attempt in range(3):
        try:
            with db.engine.begin() as connection:
                connection.execute(text("SET LOCAL lock_timeout = '30s'"))
                connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        except OperationalError:  # a deadlock, or a lock still held after the timeout
            if attempt == 2:
                raise
            _end_other_sessions_and_say_which()


def _end_other_sessions_and_say_which() -> None:
    """A connection still at work in this test's database blocks the emptying of its tables.
    End it, and say loudly what it was running and which threads were alive, so the test that
    left it behind can be found (CI once deadlocked here without saying who the other was)."""
    with db.engine.connect() as connection:
        others = connection.execute(
            text(
                "SELECT pid, state, left(query, 300) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                "AND state <> 'idle'"
            )
        ).all()
        for pid, _state, _query in others:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    frames = sys._current_frames()
    threads = [
        f"{thread.name}:\n{''.join(traceback.format_stack(frames[thread.ident])[-6:])}"
        for thread in threading.enumerate()
        if thread is not threading.current_thread() and thread.ident in frames
    ]
    warnings.warn(
        "Tables could not be emptied while other sessions were at work; ended them.\n"
        f"Sessions: {others}\nThreads:\n" + "\n".join(threads),
        stacklevel=1,
    )


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def outbox(app) -> Path:
    return Path(app.config["MAIL_OUTBOX"])


# -- factories -----------------------------------------------------------------------------------


@pytest.fixture
def missions(app):
    from deliberate.missions.catalogue import ensure_missions

    result = {m.slug: m for m in ensure_missions()}
    db.session.commit()
    return result


@pytest.fixture
def create_user(app):
    from deliberate.models import MissionTeamMember, utcnow
    from deliberate.services.accounts import register_user

    counter = iter(range(1, 10_000))

    def create(
        email: str | None = None,
        password: str = "correct horse battery",
        name: str = "Test Person",
        staff_email: str | None = None,
        admin: bool = False,
        moderator: bool = False,
        team: tuple = (),
    ):
        user = register_user(email or f"person{next(counter)}@example.org", name, password)
        user.is_admin, user.is_moderator = admin, moderator
        if staff_email:
            user.staff_email, user.staff_verified_at = staff_email, utcnow()
        for mission in team:
            db.session.add(MissionTeamMember(user=user, mission=mission))
        db.session.commit()
        return user

    return create
