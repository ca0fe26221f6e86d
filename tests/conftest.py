"""Fixtures shared by the whole suite, and how the suite runs in parallel.

The suite runs against the database named by ``TEST_DATABASE_URL``: ``sqlite`` (the default) uses a
fresh file in a temporary folder; a PostgreSQL URL makes a new, uniquely named database on that
server, migrates it, and drops it at the end, so each run leaves nothing behind. Tables are emptied
after every test.

``make test`` runs the suite with pytest-xdist (``-n 2 --dist loadgroup``): each worker is a
pytest process of its own, so every session-scoped fixture below exists once per worker, and two
test runs on one machine (the SQLite and the PostgreSQL pass, or two developers) never share
anything either. What a test needs to stay out of the other workers' way:

- Database: ``database_url`` is the worker's own (a SQLite file under the worker's own
  ``tmp_path_factory`` folder, or a PostgreSQL database ``deliberate_test_<worker>_<random>``).
  A subprocess (gunicorn, an RQ worker) is pointed at that URL, never at a fixed one.
- Redis: ask for the ``redis_url`` fixture, never write ``redis://127.0.0.1:6379/N``. It names a
  database index that this pytest process has claimed (15 down to 8, one per process, claims held in
  Redis itself: see ``_redis_db``), emptied before and after each test. Only FLUSHDB that database.
- Ports: bind to port 0 and read the port back (the browser tests' live server does), or take one
  from ``tests.helpers.free_port()`` for a subprocess that must be told its port, and retry if the
  subprocess finds it taken. Never a fixed port.
- Files: ``tmp_path`` (per test) or ``tmp_path_factory`` (per worker); nothing in the work tree
  except ``test-artifacts/<database kind>/``.
- Subprocesses and threads a test starts end with the test (a fixture's ``finally``), so nothing
  outlives the worker that started it.
- Tests that must share one worker's state carry ``@pytest.mark.xdist_group("name")``: the demo
  tests do (``demo``, given here from the marker), so the demo is loaded once per pass rather than
  once per worker.
- CPU: a worker runs torch, BLAS and numba on one thread (set below, before they load); a test
  that starts a Python subprocess passes that on through the environment.
- Expensive setup that tests only read: ``tests.helpers.build_once`` builds it once per worker and
  restores a copy of its rows for each later test (the demo, ``brexit_analysed``).

What keeps the suite fast, besides the workers: tables emptied by DELETE (PostgreSQL: triggers
off, sequences reset) rather than TRUNCATE, throwaway databases that do not fsync each commit,
templates and URL builders compiled once, cheap password hashing.

Reproducing a failure: the header shows PYTHONHASHSEED (``make test`` picks one and prints it; set
it to run again with the same one) and each worker writes the order it ran its tests in to
``test-artifacts/<database kind>/test-order/<worker>.txt``; a failure that depends on an earlier
test comes back with ``pytest -p no:xdist $(cat that-file)``. Every other seed in the suite is a
constant in the test that uses it.
"""

from __future__ import annotations

import os
import socket
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
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

# Never let the suite write a secret into the developer's instance folder.
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")

# Under xdist the workers already keep every core busy: one thread each for torch, BLAS and numba
# (read when they are first imported, after this). Two threads per worker on two cores spin-wait
# on each other: embedding 400 statements took 7 s of CPU instead of 2 on a busy machine.
if os.environ.get("PYTEST_XDIST_WORKER"):
    for _threads in (
        "OMP_NUM_THREADS",
        "MKL_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "NUMBA_NUM_THREADS",
    ):
        os.environ.setdefault(_threads, "1")

from deliberate import create_app
from deliberate.config import normalise_database_url
from deliberate.extensions import db

# Tests written before tests/helpers.py existed import these from here; both ways keep working.
from tests.helpers import (  # noqa: F401
    POLIS_DATA,
    REPO_ROOT,
    analysed_conversation,
    csrf_token_from,
    sign_in,
    submit_form,
)

# pytest imports this file as ``conftest`` (tests/ is not a package) and test modules import it
# again as ``tests.conftest``: two modules, two lists of the apps a test made, and the fixtures
# stopped the background jobs of only one. Jobs of apps made with ``make_test_app`` in a test body
# then ran (30 s debounce) during later tests: an extra analysis run in another test's
# consultation, or a failed insert once the tables were emptied. One module under both names.
sys.modules.setdefault("tests.conftest", sys.modules[__name__])

# Markers given from what a test uses, so no test has to remember them.
DATABASE_FIXTURES = {"app", "database_url", "_migrated"}

# The pytest-xdist worker this process is ("gw0", "gw1", ...), or "main" without xdist.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
ARTIFACTS = REPO_ROOT / "test-artifacts"


def database_kind() -> str:
    target = os.environ.get("TEST_DATABASE_URL", "sqlite") or "sqlite"
    return "sqlite" if target == "sqlite" else make_url(target).get_backend_name()


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups
def pytest_collection_modifyitems(items):
    """``db``: the test opens the database (directly or through a fixture such as ``client`` or
    ``missions``), so the PostgreSQL pass of ``make test`` runs it; the rest (analysis, the Polis
    format, settings) touches no database and runs once, on the SQLite pass.

    ``demo`` tests share one xdist worker: the first loads the demo for real (a minute or two) and
    the others restore its copy in seconds (``tests.helpers.load_demo``)."""
    for item in items:
        if DATABASE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.db)
        if item.get_closest_marker("demo"):
            item.add_marker(pytest.mark.xdist_group("demo"))


class _XdistGroupsOnStructuredIds:
    """pytest-xdist 3.8 tells its controller a test's ``xdist_group`` by writing ``@group`` at the
    end of the test's id (``item._nodeid``), which pytest 9.2 no longer reads (it keeps a
    structured ``item._id``): ``--dist loadgroup`` then silently groups nothing (pytest-xdist
    issue 1386). Where that happened, write the suffix where pytest 9.2 reads it. Once xdist is
    fixed the ids already carry it and this does nothing."""

    @pytest.hookimpl(trylast=True)  # after xdist's own hook
    def pytest_collection_modifyitems(self, config, items):
        if not config.getvalue("loadgroup"):
            return
        from _pytest.nodeid import NodeId

        for item in items:
            groups = sorted(
                {
                    str(m.args[0] if m.args else m.kwargs.get("name", "default"))
                    for m in item.iter_markers("xdist_group")
                }
            )
            suffix = f"@{'_'.join(groups)}"
            if groups and not item.nodeid.endswith(suffix):
                item._id = NodeId.parse(item.nodeid + suffix)


def pytest_configure(config):
    if getattr(config, "workerinput", None) is not None:
        config.pluginmanager.register(_XdistGroupsOnStructuredIds(), "deliberate-xdist-groups")


def pytest_report_header(config):
    workers = os.environ.get("PYTEST_XDIST_WORKER_COUNT") or config.getoption("numprocesses", 0)
    return [
        f"database: {database_kind()}; xdist workers: {workers or 'none'}; "
        f"PYTHONHASHSEED={os.environ.get('PYTHONHASHSEED', 'random (unset)')}",
        f"each worker's test order: {_order_folder().relative_to(REPO_ROOT)}/<worker>.txt",
    ]


def _order_folder() -> Path:
    return ARTIFACTS / database_kind() / "test-order"


_ORDER_FILE: Path | None = None


def pytest_sessionstart(session):
    """Each process writes the tests it runs, in order, to a file of its own (see the docstring)."""
    global _ORDER_FILE
    if getattr(session.config, "workerinput", None) is None and session.config.getoption(
        "numprocesses", None
    ):
        return  # the xdist controller runs no test
    _order_folder().mkdir(parents=True, exist_ok=True)
    _ORDER_FILE = _order_folder() / f"{WORKER}.txt"
    _ORDER_FILE.write_text("")


def pytest_runtest_logstart(nodeid, location):
    if _ORDER_FILE is not None:
        with _ORDER_FILE.open("a") as order:
            order.write(nodeid.split("@", 1)[0] + "\n")  # without xdist's "@group" suffix


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if exitstatus == pytest.ExitCode.TESTS_FAILED:
        terminalreporter.write_line(
            f"To run a worker's tests again in its order (PYTHONHASHSEED="
            f"{os.environ.get('PYTHONHASHSEED', 'unset')}): TEST_DATABASE_URL=... python -m pytest "
            f"-p no:xdist $(cat {_order_folder().relative_to(REPO_ROOT)}/<worker>.txt)"
        )


def _postgres_database(server_url: str):
    url = make_url(normalise_database_url(server_url))
    name = f"deliberate_test_{WORKER}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
        # A throwaway database need not wait for the disk at each commit (7 ms a commit here,
        # 0.3 ms without); what other sessions see, and when, is unchanged.
        connection.execute(text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@event.listens_for(Engine, "connect")
def _sqlite_without_waiting_for_the_disk(dbapi_connection, connection_record) -> None:
    """The suite's SQLite files are thrown away: no fsync at each commit (8 ms each here). Only
    what a power cut would keep changes; the app's own pragmas (WAL, foreign keys) still apply."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.execute("PRAGMA synchronous=OFF")


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


# -- Redis: one database index per pytest process -------------------------------------------------

REDIS_SERVER = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379").rstrip("/")
REDIS_TEST_DBS = range(15, 7, -1)  # the suite's share of Redis' 16 databases
REDIS_CLAIMS_DB = 0  # where the claims are kept: no test ever empties it
REDIS_CLAIM_SECONDS = 3 * 3600  # a claim left by a process that was killed lapses after this


def _redis_claim_key(index: int) -> str:
    return f"deliberate-test:claim:db{index}"


def _claimant() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _claim_lapsed(holder: bytes | None) -> bool:
    """A claim whose process is gone (on this machine) can be taken over at once."""
    if holder is None:
        return True
    host, _, pid = holder.decode().rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _take_claim(claims, key: str, holder: bytes | None, me: str) -> bool:
    """Set the claim if it is still what we read (absent, or a lapsed one): of two processes
    taking the same index at once, one wins."""
    from redis.exceptions import WatchError

    if holder is None:
        return bool(claims.set(key, me, nx=True, ex=REDIS_CLAIM_SECONDS))
    with claims.pipeline() as pipe:
        try:
            pipe.watch(key)
            if pipe.get(key) != holder:
                return False
            pipe.multi()
            pipe.set(key, me, ex=REDIS_CLAIM_SECONDS)
            pipe.execute()
            return True
        except WatchError:
            return False


@pytest.fixture(scope="session")
def _redis_db():
    """Claim one Redis database index for this pytest process (each xdist worker is one).

    Claims are keys in database 0, set only if absent, so two processes never get the same index:
    the SQLite and PostgreSQL passes may run at once, and other people's test runs may share the
    server. An index holding keys that nobody claimed is someone else's (a developer's worker) and
    is left alone. Fails under CI when Redis does not answer; skips elsewhere (it is optional)."""
    from redis import Redis
    from redis.exceptions import RedisError

    claims = Redis.from_url(f"{REDIS_SERVER}/{REDIS_CLAIMS_DB}")
    try:
        claims.ping()
    except RedisError as error:
        message = f"Redis is not answering on {REDIS_SERVER}: {error}"
        pytest.fail(message) if os.environ.get("CI") else pytest.skip(message)
    me = _claimant()
    for index in REDIS_TEST_DBS:
        key = _redis_claim_key(index)
        holder = claims.get(key)
        if holder is not None and not _claim_lapsed(holder):
            continue
        if holder is None and Redis.from_url(f"{REDIS_SERVER}/{index}").dbsize():
            continue  # in use by something that does not claim
        if _take_claim(claims, key, holder, me):
            break
    else:
        pytest.fail(f"No free Redis database among {list(REDIS_TEST_DBS)} on {REDIS_SERVER}")
    url = f"{REDIS_SERVER}/{index}"
    Redis.from_url(url).flushdb()  # what a killed run may have left
    try:
        yield url
    finally:
        Redis.from_url(url).flushdb()
        if claims.get(key) == me.encode():
            claims.delete(key)


@pytest.fixture
def redis_url(_redis_db) -> str:
    """This process's own Redis database (``redis://host:port/N``), empty at the start and the end
    of the test. Give it to the app (``REDIS_URL``) and to any worker or subprocess the test
    starts."""
    from redis import Redis

    connection = Redis.from_url(_redis_db)
    connection.flushdb()
    yield _redis_db
    connection.flushdb()


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


def _url_builders_compiled_on_first_use() -> None:
    """Werkzeug compiles two URL builders (Python source, ``compile()``) for every rule when an
    app registers its routes: 14 of the 25 ms of CPU an app costs to create, and the suite creates
    two apps a test while a test builds URLs for a handful of its 81 rules. Compile each builder
    the first time it builds a URL instead; the builder and what it builds are the same."""
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    if getattr(compile_builder, "on_first_use", False):
        return

    def on_first_use(self, append_unknown: bool = True):
        compiled = None

        def build(rule, *args, **kwargs):
            nonlocal compiled
            if compiled is None:
                compiled = compile_builder(rule, append_unknown)
            return compiled(rule, *args, **kwargs)

        return build

    on_first_use.on_first_use = True  # type: ignore[attr-defined]
    Rule._compile_builder = on_first_use  # type: ignore[method-assign]


_url_builders_compiled_on_first_use()


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
    """Delete every row and start the ids at 1 again, as a new database would.

    PostgreSQL: row by row with the triggers off for this transaction (the audit log's append-only
    guard, and the foreign keys, which would only check rows being deleted anyway), then each
    sequence set back. TRUNCATE did the same in ~50 ms a test, writing new files for 19 tables;
    deleting the few rows a test leaves takes ~2 ms. Switching triggers off needs a superuser (the
    suite's usual ``postgres``); with another role, TRUNCATE as before."""
    tables = [t for t in db.metadata.sorted_tables]
    if db.engine.dialect.name != "postgresql":
        with db.engine.begin() as connection:
            for table in reversed(tables):
                connection.execute(table.delete())
        return
    for attempt in range(3):
        try:
            with db.engine.begin() as connection:
                connection.execute(text("SET LOCAL lock_timeout = '30s'"))
                if _may_switch_triggers_off(connection):
                    connection.execute(text("SET LOCAL session_replication_role = replica"))
                    for table in reversed(tables):
                        connection.execute(table.delete())
                    connection.execute(_RESTART_SEQUENCES)
                else:
                    names = ", ".join(f'"{t.name}"' for t in tables)
                    connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
            return
        except OperationalError:  # a deadlock, or a lock still held after the timeout
            if attempt == 2:
                raise
            _end_other_sessions_and_say_which()


_RESTART_SEQUENCES = text(
    "SELECT setval(format('%I.%I', schemaname, sequencename), 1, false) FROM pg_sequences "
    "WHERE schemaname = current_schema() AND last_value IS NOT NULL"
)
_SUPERUSER: dict[str, bool] = {}


def _may_switch_triggers_off(connection) -> bool:
    key = connection.engine.url.render_as_string(hide_password=True)
    if key not in _SUPERUSER:
        _SUPERUSER[key] = bool(
            connection.scalar(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"))
        )
    return _SUPERUSER[key]


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
def brexit_analysed(app):
    """The real brexit-consensus conversation imported into the growth mission and analysed
    (votes only): the run. Built once per worker, then restored (``tests.helpers.build_once``),
    so it needs an empty database: list it before fixtures that write (``missions``, people)."""
    return analysed_conversation(app)


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
