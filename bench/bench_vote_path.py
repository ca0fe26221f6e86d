"""What one answer costs the server: the vote POST and the GET of the next statement after it.

    .venv/bin/python bench/bench_vote_path.py [--answers 300] [--statements 200] [--profile]
    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python bench/bench_vote_path.py

A fresh database (SQLite; or, when DATABASE_URL is set, a uniquely named PostgreSQL database that
is dropped afterwards) gets one open consultation with ~200 seed statements and earlier participants
with their votes. Simulated browsers, half of them anonymous (with their participant cookie) and
half signed in, each with an address of its own, then answer as a person does through the Flask
test client: open the consultation, post the vote form with its CSRF token, follow the redirect to
the next statement, and so on. Rate limits are on (memory storage), as in production.

Per answer (POST + the redirected GET): median and p95 wall time, CPU time of this process
(``time.process_time``; the test client runs the app in-process, so it is the server's CPU plus
the little the client adds) and SQL statements. The same run times ``GET /healthz`` and a plain
page (``/accessibility``, the layout and no database) so figures from other machines compare as
ratios. ``--profile`` adds a cProfile breakdown of further answers: where the time goes.
"""

from __future__ import annotations

import argparse
import cProfile
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

# What the profile breakdown names, by the function whose cumulative time it reads (a function
# may sit inside another: SQL time is also inside "next statement", and so on).
BREAKDOWN = {
    "the vote view (all of the POST)": ("deliberate/consultations/views.py", "vote"),
    "the page view (all of the GET)": ("deliberate/consultations/views.py", "show"),
    "template rendering": ("flask/templating.py", "_render"),
    "SQL (execute, incl. ORM)": ("sqlalchemy/orm/session.py", "execute"),
    "commit": ("sqlalchemy/orm/session.py", "commit"),
    "overview (next statement, counts)": ("deliberate/services/participation.py", "overview"),
    "  statement tallies query": ("deliberate/services/participation.py", "statement_tallies"),
    "  choose_next_statement": ("deliberate/analysis/priority.py", "choose_next_statement"),
    "  participant count query": ("deliberate/services/participation.py", "participant_count"),
    "published run lookup": ("deliberate/services/reports/runs.py", "published_run"),
    "cast_vote": ("deliberate/services/participation.py", "cast_vote"),
    "analysis request": ("deliberate/services/analysis_runs.py", "request_analysis"),
    "flash": ("flask/helpers.py", "flash"),
    "session save": ("flask/sessions.py", "save_session"),
    "session open": ("flask/sessions.py", "open_session"),
    "participant cookie": ("deliberate/consultations/participant_cookie.py", "read_tokens"),
    "rate limiter": ("flask_limiter/_extension.py", "_check_request_limit"),
    "CSRF check": ("flask_wtf/csrf.py", "protect"),
    "load user (signed in)": ("flask_login/login_manager.py", "_load_user"),
    "security headers": ("flask_talisman/talisman.py", "_set_response_headers"),
}


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


def answer(browser: Browser, consultation_id: int, rng) -> None:
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
    posted = browser.client.post(f"{url}/votes", data=data)
    assert posted.status_code == 302, (posted.status_code, posted.get_data(as_text=True)[:500])
    shown = browser.client.get(posted.headers["Location"])
    assert shown.status_code == 200, shown.status_code
    browser.page = shown.get_data(as_text=True)
    assert "Your answer was saved" in browser.page


def drive(app, consultation_id, browsers, answers, sql, rng, profile=None) -> Figures:
    figures = Figures()
    url = f"/consultations/{consultation_id}"
    for browser in browsers:
        browser.page = browser.client.get(url).get_data(as_text=True)
    for n in range(answers):
        browser = browsers[n % len(browsers)]
        if profile is not None:
            profile.enable()
        wall, cpu, count, _ = timed(sql, lambda b=browser: answer(b, consultation_id, rng))
        if profile is not None:
            profile.disable()
        figures.add(wall, cpu, count)
    return figures


def baseline(client, path: str, times: int, sql: SqlCounter) -> Figures:
    figures = Figures()
    for _ in range(times):
        wall, cpu, count, response = timed(sql, lambda: client.get(path))
        assert response.status_code == 200, (path, response.status_code)
        figures.add(wall, cpu, count)
    return figures


def breakdown(profile: cProfile.Profile, answers: int) -> str:
    stats = pstats.Stats(profile)
    cumulative: dict[str, float] = {}
    for (filename, _, name), (_, _, _, cum, _) in stats.stats.items():
        for label, (suffix, function) in BREAKDOWN.items():
            if name == function and filename.endswith(suffix):
                cumulative[label] = cumulative.get(label, 0.0) + cum
    total = sum(
        cum for (f, _, n), (*_, cum, _) in stats.stats.items() if n == "answer" and "bench" in f
    )
    lines = [f"  profiled: {total / answers * 1000:.2f} ms per answer (profiler overhead included)"]
    for label in BREAKDOWN:
        ms = cumulative.get(label, 0.0) / answers * 1000
        lines.append(f"  {label:40s} {ms:7.2f} ms  {ms / (total / answers * 1000) * 100:5.1f} %")
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("tottime").print_stats(15)
    lines.append("  top functions by own time:")
    lines.extend(
        "    " + line
        for line in out.getvalue().splitlines()
        if re.match(r"\s+\d", line) or "ncalls" in line
    )
    return "\n".join(lines)


def run(target: str, args, folder: Path) -> None:
    url, drop = fresh_database(target, folder)
    label = "sqlite" if target == "sqlite" else "postgresql"
    rng = random.Random(13)
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "RATELIMIT_ENABLED": not args.no_limits,
            "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # signing in is not what is measured
            "RETENTION_SCHEDULE": False,
            "ANALYSIS_DEBOUNCE_SECONDS": 3600,  # no analysis runs during the bench
            "BRIDGING_RESAMPLES": 5,  # the published run is set-up, not what is measured
        }
    )
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
        answers = drive(app, consultation_id, browsers, args.answers, sql, rng)
        database_after = sql.database_cpu()
        print(
            f"\n== {label}: {args.statements} statements, {args.earlier} earlier participants x "
            f"{args.votes_each} votes; {args.answers} answers by {len(browsers)} browsers "
            f"(half signed in); rate limits {'off' if args.no_limits else 'on'}"
        )
        print(f"  {'':28s} {'median':>9s} {'p95':>9s} {'CPU':>9s} {'SQL':>6s}")
        for name, figures in (
            ("answer (POST + next GET)", answers),
            ("GET /healthz", health),
            ("GET /accessibility", page),
        ):
            print(
                f"  {name:28s} {figures.median_ms:6.2f} ms {figures.p95_ms:6.2f} ms "
                f"{figures.cpu_ms:6.2f} ms {figures.sql_per:6.1f}"
            )
        if database_before is not None:
            per = (database_after - database_before) / args.answers * 1000
            print(f"  PostgreSQL's own CPU per answer (its backends, from /proc): {per:.2f} ms")
        print(
            f"  ratios: answer / healthz {answers.median_ms / health.median_ms:.1f}x, "
            f"answer / plain page {answers.median_ms / page.median_ms:.1f}x (medians of wall time)"
        )
        if args.profile:
            profile = cProfile.Profile()
            more = open_browsers(app, browsers_needed)
            drive(app, consultation_id, more, args.answers, sql, rng, profile)
            print(breakdown(profile, args.answers))
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
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--profile-out", help="also save the profile to PROFILE_OUT.<database>")
    parser.add_argument("--no-limits", action="store_true", help="rate limits off")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    targets = ["sqlite"] + ([os.environ["DATABASE_URL"]] if os.environ.get("DATABASE_URL") else [])
    if args.only == "sqlite":
        targets = ["sqlite"]
    elif args.only == "postgresql":
        targets = targets[1:]
    with tempfile.TemporaryDirectory() as tmp:
        for target in targets:
            run(target, args, Path(tmp))


if __name__ == "__main__":
    main()
