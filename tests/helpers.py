"""What tests do again and again, in one place: fill in forms as a person would, run a command,
count rows, read a page, let the background jobs finish, and load the demo.

Fixtures live in conftest.py; these are plain functions a test calls."""

from __future__ import annotations

import html as html_module
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import event, func, select, text
from werkzeug.serving import make_server

from deliberate import jobs
from deliberate.extensions import db

REPO_ROOT = Path(__file__).resolve().parent.parent
POLIS_DATA = REPO_ROOT / "data" / "polis"

CSRF_FIELD = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|'
    r'name="csrf_token" value="([^"]+)"|value="([^"]+)" name="csrf_token"'
)


def csrf_token_from(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "the page has no CSRF token field"
    return next(g for g in match.groups() if g)


def submit_form(client, page_url: str, data: dict, action: str | None = None, **kwargs):
    """Do what a person does: open the page, then post its form with the token it carries."""
    page = client.get(page_url)
    assert page.status_code == 200, page.status_code
    payload = {"csrf_token": csrf_token_from(page.get_data(as_text=True)), **data}
    return client.post(action or page_url, data=payload, **kwargs)


def sign_in(client, email: str, password: str = "correct horse battery"):
    response = submit_form(client, "/sign-in", {"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def html_of(response) -> str:
    return response.get_data(as_text=True)


def text_of(html: str) -> str:
    """What a person reads: tags dropped, entities and spaces tidied."""
    text = " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", html)).split())
    return re.sub(r" ([,.;:])(?=\s|$)", r"\1", text)  # "<bdi>Sam</bdi>, a nurse": "Sam, a nurse"


def error_summary(html: str) -> str:
    """The GOV.UK error summary at the top of a refused form, entities decoded."""
    match = re.search(r'class="govuk-error-summary".*?</div>\s*</div>', html, re.S)
    assert match, "no GOV.UK error summary on the page"
    return html_module.unescape(match.group(0))


def cli(app, *args) -> str:
    """Run `flask deliberate ...` as an operator would; it must succeed. Returns its output."""
    result = app.test_cli_runner().invoke(args=["deliberate", *[str(a) for a in args]])
    assert result.exit_code == 0, result.output
    return result.output


HEAVY_MODULES = ("numpy", "scipy", "sklearn", "torch", "bertopic")


def heavy_imports(*modules: str) -> list[str]:
    """The machine-learning modules that importing ``modules`` loads, in a fresh interpreter:
    what the request path must stay free of."""
    code = (
        "import sys\n"
        + "".join(f"import {m}\n" for m in modules)
        + f"print(','.join(m for m in {HEAVY_MODULES!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        check=True,
        env={"SECRET_KEY": "x", "PATH": "/usr/bin:/bin"},
    ).stdout.strip()
    return [m for m in out.split(",") if m]


def free_port() -> int:
    """A loopback port nobody listens on now, for a subprocess that must be told its port (a
    server in the test's own thread binds to port 0 instead). Another process may take it before
    the subprocess binds: start it again on a new port when it says the address is in use."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


@contextmanager
def sql_statements(app) -> Iterator[list[str]]:
    """The SQL statements the app sends to the database inside the block."""
    sent: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


@contextmanager
def served(app) -> Iterator[str]:
    """The app served from a thread on a free loopback port, as a real server (requests run at
    once, each in a thread of its own); yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["SERVER_NAME"] = None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def run_background_jobs(app) -> None:
    """Run what the site and the test queued, now (the debounce delays are skipped)."""
    for runner in {id(r): r for r in (app.extensions["deliberate_jobs"], jobs.runner())}.values():
        assert runner.wait_until_idle(timeout=180)
        assert runner.failures == []


# -- what takes long to build, built once per worker --------------------------------------------

_SNAPSHOTS: dict[tuple[str, str], dict[str, list[dict]]] = {}


def build_once(app, name: str, build: Callable[[], None]) -> bool:
    """Leave in the (empty) test database the rows ``build()`` leaves there.

    The first call of a process (an xdist worker) for ``name`` builds for real and keeps a copy of
    every row; later calls write that copy back, ids included, in a fraction of the time. So the
    code that builds still runs, once per worker and pass, and each test still starts from rows
    of its own. True when it built."""
    tables = db.metadata.sorted_tables
    db.session.commit()
    assert all(count(table) == 0 for table in tables), f"{name} needs an empty database"
    postgres = db.engine.dialect.name == "postgresql"
    key = (db.engine.url.render_as_string(hide_password=True), name)
    schema = "snapshot_" + re.sub(r"\W", "_", name)[:50]  # PostgreSQL: the copy stays on the server
    if key not in _SNAPSHOTS:
        build()
        db.session.commit()
        _SNAPSHOTS[key] = {} if postgres else _rows_of(tables)
        if postgres:
            _copy_tables(tables, to_schema=schema)
        return True
    if postgres:
        _copy_tables(tables, from_schema=schema)
    else:
        for table in tables:
            if _SNAPSHOTS[key][table.name]:
                db.session.execute(table.insert(), _SNAPSHOTS[key][table.name])
    db.session.commit()
    return False


def load_demo(app) -> None:
    """The demo's data in the (empty) test database, as `flask deliberate load-demo` leaves it.

    The first call of a worker loads it for real (the model, every import and analysis: a minute
    or two), later ones restore its copy (``build_once``); the ``demo`` tests share one xdist
    worker (tests/conftest.py). Tests of the loading itself run the command again on top, which
    must change nothing."""
    build_once(app, "demo", lambda: cli(app, "load-demo"))


def analysed_conversation(app, name: str = "brexit-consensus", mission: str = "growth"):
    """A real Polis conversation imported into the mission and analysed (votes only, as
    ``run_analysis(..., topics=False)``), in the (empty) test database; its run is returned.
    Built once per worker (``build_once``): tests that only need it there start from a copy."""
    from deliberate.missions.catalogue import ensure_missions
    from deliberate.models import AnalysisRun
    from deliberate.services.analysis import run_analysis
    from deliberate.services.polis_exchange import import_polis_folder

    def build() -> None:
        missions = {m.slug: m for m in ensure_missions()}
        imported = import_polis_folder(POLIS_DATA / name, missions[mission])
        db.session.commit()
        run_analysis(imported.consultation_id, topics=False)

    build_once(app, f"{name} in {mission}, analysed", build)
    return db.session.scalar(select(AnalysisRun).order_by(AnalysisRun.id.desc()).limit(1))


def _rows_of(tables) -> dict[str, list[dict]]:
    return {
        t.name: [
            dict(row)
            for row in db.session.execute(t.select().order_by(*t.primary_key.columns)).mappings()
        ]
        for t in tables
    }


def _copy_tables(tables, *, to_schema: str = "", from_schema: str = "") -> None:
    """Copy every table into a schema of its own, or back from it (ids, then sequences, kept)."""
    if to_schema:
        db.session.execute(text(f'CREATE SCHEMA "{to_schema}"'))
    for table in tables:
        name = f'"{table.name}"'
        if to_schema:
            db.session.execute(text(f'CREATE TABLE "{to_schema}".{name} AS TABLE {name}'))
        else:
            db.session.execute(text(f'INSERT INTO {name} TABLE "{from_schema}".{name}'))
            if "id" not in table.c:
                continue  # keyed by another table's id: no sequence of its own
            highest = select(func.max(table.c.id)).scalar_subquery()
            sequence = func.pg_get_serial_sequence(table.name, "id")
            db.session.execute(
                select(func.setval(sequence, func.coalesce(highest, 1), highest.isnot(None)))
            )
    db.session.commit()
