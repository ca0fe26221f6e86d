"""What one answer costs the server: the vote POST and the GET of the next statement after it.

    .venv/bin/python bench/bench_vote_path.py [--answers 300] [--statements 200] [--profile]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/bench_vote_path.py

A fresh database (SQLite; or, when DATABASE_URL is set, a uniquely named PostgreSQL database that
is dropped afterwards) gets one open consultation with ~200 seed statements and earlier participants
with their votes. Simulated browsers, half of them anonymous (with their participant cookie) and
half signed in, each with an address of its own, then answer as a person does through the Flask
test client: open the consultation, post the vote form with its CSRF token, follow the redirect to
the next statement, and so on. Rate limits are on, as in production (in memory; on Redis with
``--redis-url``).

Per answer (POST + the redirected GET): median and p95 wall time, CPU time of this process
(``time.process_time``; the test client runs the app in-process, so it is the server's CPU plus
the little the client adds) and SQL statements. The same run times ``GET /healthz`` and a plain
page (``/accessibility``, the layout and no database) so figures from other machines compare as
ratios. ``--profile`` adds the CPU spent inside named parts (template rendering, SQL, the next
statement's choice, the rate limiter, ...); ``--cprofile`` the functions and packages that cost
most; ``--redis-url`` puts RQ jobs and the rate limits on Redis, as in production.

Measured on this machine (2 cores shared with other work, load ~7: wall times are noisy, CPU
times less so), 200 statements, 12,000 earlier votes, 300 answers, medians per answer:

                       before (9bd108b)                after
    SQLite             18-19 ms CPU, 49 ms wall        8-11 ms CPU, 19-36 ms wall
    PostgreSQL         16 ms CPU + 8.8 ms PG's CPU     10-13 ms CPU + 1.4-1.9 ms PG's CPU
    PG + Redis         17.5 ms CPU + 9.1 ms PG's CPU   10.2 ms CPU + 1.6 ms PG's CPU
    SQL per answer     16.6                          11.6 (5 + 5 anonymous, +1/+2 signed in)

With 300,000 earlier votes (``--earlier 3000 --votes-each 100 --answers 100``) the scan of every
vote made an answer cost 291 ms of CPU on SQLite (696 ms wall), and 19 ms + 245 ms of PostgreSQL's
CPU (581 ms wall); after, 9.4 ms (29 ms wall) and 11.1 ms + 1.7 ms (35 ms wall): flat in the
number of votes. What is left is spread thin: a dozen ORM queries (about a third), the layout and
page templates, the rate limiter, sessions and Flask's own work on two requests.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import io
import logging
import os
import pstats
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("SECRET_KEY", "bench")

from bench_import import fresh_database
from flask_migrate import upgrade
from sqlalchemy import event, insert

from deliberate import create_app
from deliberate.extensions import db, token_hash
from deliberate.missions.catalogue import ensure_missions
from deliberate.models import (
    Consultation,
    ModerationMode,
    Participant,
    ParticipantRole,
    StatementOrigin,
    Vote,
    VoteEvent,
    utcnow,
)
from deliberate.services.accounts import register_user
from deliberate.services.analysis import run_analysis
from deliberate.services.statements import write_statement

PASSWORD = "correct horse battery"  # noqa: S105  (the bench accounts' own)
CSRF = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')
VOTE_FORM = re.compile(r'<form[^>]*id="vote".*?name="statement_id" value="(\d+)"', re.S)
CHOICES = ("agree", "disagree", "pass")

# The breakdown: stopwatches around these (module, attribute), each counting the CPU spent inside
# it (a stopwatch may run inside another: SQL time is also inside "overview", and so on). Names
# missing from the code under test are left out.
STOPWATCHES = {
    "the app (the rest is the test client's)": ("flask.app", "Flask.wsgi_app"),
    "template rendering": ("flask.templating", "_render"),
    "ORM execute (SQL incl. ORM work)": ("sqlalchemy.orm.session", "Session.execute"),
    "commit": ("sqlalchemy.orm.session", "Session.commit"),
    "connection checkout from the pool": ("sqlalchemy.pool.base", "_ConnectionFairy._checkout"),
    "  pre-ping": ("sqlalchemy.engine.default", "DefaultDialect.do_ping"),
    "overview (next statement, counts)": ("deliberate.services.participation", "overview"),
    "  find participant": ("deliberate.services.participation", "find_participant"),
    "  offered statements query": ("deliberate.services.participation", "_offered_statements"),
    "  vote counts (kept per process)": ("deliberate.services.vote_counts", "vote_counts"),
    "  statement tallies query": ("deliberate.services.participation", "statement_tallies"),
    "  participant count query": ("deliberate.services.participation", "participant_count"),
    "  choose_next_statement": ("deliberate.services.participation", "choose_next_statement"),
    "published-summary lookup": ("deliberate.services.reports", "published_run"),
    "published-summary lookup ": ("deliberate.services.reports", "has_published_run"),
    "cast_vote": ("deliberate.services.participation", "cast_vote"),
    "  join": ("deliberate.services.participation", "join"),
    "  record vote": ("deliberate.services.participation", "_record_vote"),
    "ORM flush": ("sqlalchemy.orm.session", "Session.flush"),
    "Session.get (by primary key)": ("sqlalchemy.orm.session", "Session.get"),
    "consultation lookup": ("deliberate.services.participation", "consultation_for"),
    "visitor_for": ("deliberate.consultations.views", "visitor_for"),
    "analysis request": ("deliberate.services.analysis_runs", "request_analysis"),
    "job queued after the commit (RQ)": ("deliberate.jobs", "RQRunner.enqueue"),
    "job queued after the commit (in process)": ("deliberate.jobs", "InProcessRunner.enqueue"),
    "flash": ("deliberate.consultations.views", "flash"),
    "session open": ("flask.sessions", "SecureCookieSessionInterface.open_session"),
    "session save": ("flask.sessions", "SecureCookieSessionInterface.save_session"),
    "participant cookie read": ("deliberate.consultations.participant_cookie", "read_tokens"),
    "rate limiter": ("flask_limiter._extension", "Limiter._check_request_limit"),
    "CSRF check": ("flask_wtf.csrf", "CSRFProtect.protect"),
    "load user (signed in)": ("flask_login.login_manager", "LoginManager._load_user"),
    "security headers": ("flask_talisman.talisman", "Talisman._set_response_headers"),
}


class Stopwatches:
    """CPU time inside each function of ``STOPWATCHES``, while ``running``; installed before the
    app is made, so hooks bound at start-up are timed too. Re-entrant calls count once."""

    def __init__(self) -> None:
        self.running = False
        self.spent: dict[str, float] = {}
        self._depth: dict[str, int] = {}
        for label, (module_name, path) in STOPWATCHES.items():
            try:
                owner = importlib.import_module(module_name)
            except ModuleNotFoundError:
                continue
            *owners, name = path.split(".")
            for part in owners:
                owner = getattr(owner, part)
            if hasattr(owner, name):
                setattr(owner, name, self._wrap(label, getattr(owner, name)))

    def _wrap(self, label: str, function):
        @functools.wraps(function)
        def timed(*args, **kwargs):
            if not self.running or self._depth.get(label):
                return function(*args, **kwargs)
            self._depth[label] = 1
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.spent[label] = self.spent.get(label, 0.0) + time.process_time() - started
                self._depth[label] = 0

        return timed

    def report(self, answers: int, cpu_ms: float) -> str:
        lines = [f"  breakdown (CPU ms per answer, of {cpu_ms:.2f} ms):"]
        for label in STOPWATCHES:
            if label in self.spent:
                ms = self.spent[label] / answers * 1000
                lines.append(f"    {label.rstrip():38s} {ms:6.2f} ms {ms / cpu_ms * 100:5.1f} %")
        return "\n".join(lines)


@dataclass
class Browser:
    client: object
    signed_in: bool
    page: str = ""


@dataclass
class Figures:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    sql: list[int] = field(default_factory=list)

    def add(self, wall: float, cpu: float, sql: int) -> None:
        self.wall.append(wall)
        self.cpu.append(cpu)
        self.sql.append(sql)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.wall) * 1000

    @property
    def p95_ms(self) -> float:
        return statistics.quantiles(self.wall, n=20)[-1] * 1000

    @property
    def cpu_ms(self) -> float:
        return statistics.median(self.cpu) * 1000

    @property
    def sql_per(self) -> float:
        return statistics.mean(self.sql)


class SqlCounter:
    """SQL statements sent, and for PostgreSQL the server processes (backends) that ran them, so
    the database's own CPU can be read from /proc (it runs on this machine)."""

    def __init__(self, engine) -> None:
        self.count = 0
        self.backends: set[int] = set()
        event.listen(engine, "before_cursor_execute", self._seen)
        if engine.dialect.name == "postgresql":
            engine.dispose()  # connections opened from now on say which backend they are
            event.listen(engine, "connect", self._backend)

    def _seen(self, *args) -> None:
        self.count += 1

    def _backend(self, dbapi_connection, record) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backends.add(cursor.fetchone()[0])
        dbapi_connection.commit()

    def database_cpu(self) -> float | None:
        """Seconds of CPU the backends have used so far (None for SQLite, which runs in here)."""
        if not self.backends:
            return None
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in self.backends:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except FileNotFoundError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / ticks


def seed(statements: int, earlier: int, votes_each: int, browsers: int, rng) -> int:
    """The consultation, its seeds, earlier participants with their votes, and the accounts of
    the signed-in browsers; returns the consultation's id."""
    mission = ensure_missions()[0]
    consultation = Consultation(
        mission=mission,
        title="How should local transport change?",
        context="We want to hear from everyone who travels here.\n\nTell us what matters.",
        moderation_mode=ModerationMode.POST,
        allow_anonymous=True,
    )
    consultation.open()
    db.session.add(consultation)
    db.session.flush()
    ids = [
        write_statement(
            consultation,
            f"Statement {i}: buses on route {i} should run later.",
            origin=StatementOrigin.SEED,
        ).id
        for i in range(statements)
    ]
    now = utcnow()
    people = [
        Participant(
            consultation_id=consultation.id,
            anonymous_token_hash=token_hash(uuid.uuid4().hex),
            role=ParticipantRole.CITIZEN,
            created_at=now,
        )
        for _ in range(earlier)
    ]
    db.session.add_all(people)
    db.session.flush()
    rows = []
    for n, person in enumerate(people):
        for statement_id in rng.sample(ids, min(votes_each, len(ids))):
            rows.append(
                {
                    "consultation_id": consultation.id,
                    "participant_id": person.id,
                    "statement_id": statement_id,
                    "choice": rng.choice((1, -1, 0)),
                    "cast_at_ms": 1_700_000_000_000 + n,
                }
            )
    db.session.execute(insert(Vote), rows)
    db.session.execute(insert(VoteEvent), rows)
    for i in range(browsers):
        register_user(f"bench{i}@example.org", f"Bench person {i}", PASSWORD)
    db.session.commit()
    # A published summary, as a consultation under way has: the page links to it.
    run = run_analysis(consultation.id, topics=False)
    run.published_at = utcnow()
    db.session.commit()
    return consultation.id


def timed(sql: SqlCounter, action: Callable[[], object]) -> tuple[float, float, int, object]:
    before_sql = sql.count
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return time.perf_counter() - wall, time.process_time() - cpu, sql.count - before_sql, result


def open_browsers(app, count: int) -> list[Browser]:
    browsers = []
    for i in range(count):
        client = app.test_client()
        client.environ_base["REMOTE_ADDR"] = f"10.{i // 250}.{i % 250}.7"
        signed_in = i % 2 == 1
        if signed_in:
            page = client.get("/sign-in").get_data(as_text=True)
            token = CSRF.search(page).group(1)
            data = {"csrf_token": token, "email": f"bench{i}@example.org", "password": PASSWORD}
            assert client.post("/sign-in", data=data).status_code == 302
        browsers.append(Browser(client, signed_in))
    return browsers


@dataclass
class AnswerFigures:
    answer: Figures = field(default_factory=Figures)  # the POST and the GET after it
    post: Figures = field(default_factory=Figures)
    get: Figures = field(default_factory=Figures)


def answer(browser: Browser, consultation_id: int, rng, sql: SqlCounter, out: AnswerFigures):
    """Post the vote form of the page the browser shows and follow the redirect, as a browser."""
    url = f"/consultations/{consultation_id}"
    form = VOTE_FORM.search(browser.page)
    assert form, "the page offers no statement to answer"
    data = {
        "csrf_token": CSRF.search(browser.page).group(1),
        "statement_id": form.group(1),
        "choice": rng.choice(CHOICES),
        "return_to": "consultation",
    }
    post = timed(sql, lambda: browser.client.post(f"{url}/votes", data=data))
    posted = post[3]
    assert posted.status_code == 302, (posted.status_code, posted.get_data(as_text=True)[:500])
    get = timed(sql, lambda: browser.client.get(posted.headers["Location"]))
    shown = get[3]
    assert shown.status_code == 200, shown.status_code
    browser.page = shown.get_data(as_text=True)
    assert "Your answer was saved" in browser.page
    out.post.add(*post[:3])
    out.get.add(*get[:3])
    out.answer.add(*(a + b for a, b in zip(post[:3], get[:3], strict=True)))


def drive(consultation_id, browsers, answers, sql, rng, profile=None) -> AnswerFigures:
    figures = AnswerFigures()
    url = f"/consultations/{consultation_id}"
    for browser in browsers:
        browser.page = browser.client.get(url).get_data(as_text=True)
    for n in range(answers):
        if profile is not None:
            profile.enable()
        answer(browsers[n % len(browsers)], consultation_id, rng, sql, figures)
        if profile is not None:
            profile.disable()
    return figures


def baseline(client, path: str, times: int, sql: SqlCounter) -> Figures:
    figures = Figures()
    for _ in range(times):
        wall, cpu, count, response = timed(sql, lambda: client.get(path))
        assert response.status_code == 200, (path, response.status_code)
        figures.add(wall, cpu, count)
    return figures


def package_of(filename: str) -> str:
    """'sqlalchemy' for .../site-packages/sqlalchemy/orm/session.py; 'deliberate', 'templates',
    'python' (the standard library) or '{built-in}' otherwise."""
    if filename.startswith("~") or filename.startswith("<"):
        return "{built-ins, C}" if filename.startswith("~") else filename.split(">")[0] + ">"
    path = Path(filename)
    if "site-packages" in path.parts:
        return path.parts[path.parts.index("site-packages") + 1].removesuffix(".py")
    for marker in ("deliberate", "templates", "bench"):
        if marker in path.parts:
            return marker
    return "python (standard library)"


def own_time_top(profile: cProfile.Profile, lines: int = 20) -> str:
    stats = pstats.Stats(profile)
    by_package: dict[str, float] = {}
    for (filename, _, _), (_, _, own, _, _) in stats.stats.items():
        by_package[package_of(filename)] = by_package.get(package_of(filename), 0.0) + own
    total = sum(by_package.values())
    shares = sorted(by_package.items(), key=lambda item: -item[1])[:14]
    packages = "  own CPU time by package (cProfile): " + ", ".join(
        f"{name} {own / total * 100:.0f}%" for name, own in shares
    )
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(lines)
    kept = [line for line in out.getvalue().splitlines() if re.match(r"\s+(\d|ncalls)", line)]
    return (
        packages
        + "\n  cProfile, top functions by own CPU time (profiler overhead included):\n"
        + "\n".join("    " + line for line in kept)
    )


def run(target: str, args, folder: Path, stopwatches: Stopwatches | None) -> None:
    url, drop = fresh_database(target, folder)
    label = "sqlite" if target == "sqlite" else "postgresql"
    rng = random.Random(13)
    settings = {
        "SQLALCHEMY_DATABASE_URI": url,
        "RATELIMIT_ENABLED": not args.no_limits,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # signing in is not what is measured
        "RETENTION_SCHEDULE": False,
        "ANALYSIS_DEBOUNCE_SECONDS": 3600,  # no analysis runs during the bench
        "BRIDGING_RESAMPLES": 5,  # the published run is set-up, not what is measured
    }
    if args.redis_url:
        settings.update(REDIS_URL=args.redis_url, RATELIMIT_STORAGE_URI=args.redis_url)
    app = create_app(settings)
    try:
        with app.app_context():
            logging.disable(logging.INFO)  # the migrations' own lines
            upgrade()
            logging.disable(logging.NOTSET)
            browsers_needed = max(2, -(-args.answers // args.answers_each))
            consultation_id = seed(
                args.statements, args.earlier, args.votes_each, browsers_needed, rng
            )
            engine = db.engine
            db.session.remove()
        sql = SqlCounter(engine)
        browsers = open_browsers(app, browsers_needed)
        plain = app.test_client()
        for path in ("/healthz", "/accessibility", f"/consultations/{consultation_id}"):
            plain.get(path)  # compile the templates, open the pool
        health = baseline(plain, "/healthz", args.answers, sql)
        page = baseline(plain, "/accessibility", args.answers, sql)
        database_before = sql.database_cpu()
        figures = drive(consultation_id, browsers, args.answers, sql, rng)
        database_after = sql.database_cpu()
        print(
            f"\n== {label}: {args.statements} statements, {args.earlier} earlier participants x "
            f"{args.votes_each} votes; {args.answers} answers by {len(browsers)} browsers "
            f"(half signed in); rate limits {'off' if args.no_limits else 'on'}"
            f"{'; Redis: RQ jobs and rate limits' if args.redis_url else ''}"
        )
        print(f"  {'':28s} {'median':>9s} {'p95':>9s} {'CPU':>9s} {'SQL':>6s}")
        for name, row in (
            ("answer (POST + next GET)", figures.answer),
            ("  the vote POST", figures.post),
            ("  the GET it redirects to", figures.get),
            ("GET /healthz", health),
            ("GET /accessibility", page),
        ):
            print(
                f"  {name:28s} {row.median_ms:6.2f} ms {row.p95_ms:6.2f} ms "
                f"{row.cpu_ms:6.2f} ms {row.sql_per:6.1f}"
            )
        if database_before is not None:
            per = (database_after - database_before) / args.answers * 1000
            print(f"  PostgreSQL's own CPU per answer (its backends, from /proc): {per:.2f} ms")
        answer_cpu = figures.answer.cpu_ms
        print(
            f"  ratios: answer / healthz {figures.answer.median_ms / health.median_ms:.1f}x wall, "
            f"{answer_cpu / health.cpu_ms:.1f}x CPU; answer / plain page "
            f"{figures.answer.median_ms / page.median_ms:.1f}x wall, "
            f"{answer_cpu / page.cpu_ms:.1f}x CPU (medians)"
        )
        if stopwatches is not None:
            more = open_browsers(app, browsers_needed)
            stopwatches.spent.clear()
            stopwatches.running = True
            timed_figures = drive(consultation_id, more, args.answers, sql, rng)
            stopwatches.running = False
            total = sum(timed_figures.answer.cpu) / args.answers * 1000
            print(stopwatches.report(args.answers, total))
        if args.cprofile:
            # CPU time, not wall time: other work on the machine must not show up as ours.
            profile = cProfile.Profile(time.process_time)
            drive(consultation_id, open_browsers(app, browsers_needed), 100, sql, rng, profile)
            print(own_time_top(profile))
            if args.profile_out:
                profile.dump_stats(f"{args.profile_out}.{label}")
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--answers", type=int, default=300)
    parser.add_argument("--answers-each", type=int, default=30, help="answers per browser")
    parser.add_argument("--statements", type=int, default=200)
    parser.add_argument("--earlier", type=int, default=300, help="earlier participants")
    parser.add_argument("--votes-each", type=int, default=40, help="votes per earlier one")
    parser.add_argument("--profile", action="store_true", help="CPU time inside named parts")
    parser.add_argument("--cprofile", action="store_true", help="cProfile's top functions")
    parser.add_argument("--profile-out", help="save the cProfile data to PROFILE_OUT.<database>")
    parser.add_argument(
        "--redis-url",
        help="RQ jobs and rate limits on this Redis database, which must be empty (it is emptied "
        "afterwards)",
    )
    parser.add_argument("--no-limits", action="store_true", help="rate limits off")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    targets = ["sqlite"] + ([os.environ["DATABASE_URL"]] if os.environ.get("DATABASE_URL") else [])
    if args.only == "sqlite":
        targets = ["sqlite"]
    elif args.only == "postgresql":
        targets = targets[1:]
    stopwatches = Stopwatches() if args.profile else None
    redis = None
    if args.redis_url:
        from redis import Redis

        redis = Redis.from_url(args.redis_url)
        if redis.dbsize():
            parser.error(f"{args.redis_url} is not empty: give the bench a database of its own")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for target in targets:
                run(target, args, Path(tmp), stopwatches)
                if redis is not None:
                    redis.flushdb()
    finally:
        if redis is not None:
            redis.flushdb()


if __name__ == "__main__":
    main()
