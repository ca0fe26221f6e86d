"""The load benchmark's data: a fresh PostgreSQL database holding a real conversation, reopened.

The Polis export of scoop-hivemind.biodiversity (316 statements, 536 participants, ~30,000 votes)
is imported through the service `flask deliberate import-polis` uses, analysed and published the
way the demo does it, so the report page readers load is a realistic one; then the consultation is
reopened (imports arrive closed), anonymous participation allowed, and accounts made for the
simulated people who sign in (email confirmed, through the accounts service).

The seeded database is kept as a template: each run copies it (``CREATE DATABASE ... TEMPLATE``,
a file copy that takes a second), so runs with 1, 2 and 4 web workers start from the same data.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parents[2]
CONVERSATION = "scoop-hivemind.biodiversity"
MISSION_SLUG = "clean-energy"
ACCOUNT_PASSWORD = "load bench walrus meadow 2026"  # noqa: S105 - a throwaway bench database's
TEAM_EMAIL = "team@load-bench.example"


@dataclass(frozen=True)
class Seeded:
    """What the simulated people need to know about the seeded database."""

    consultation_id: int
    statements: int
    accounts: list[str]
    password: str


def _admin_engine(server_url: str):
    from deliberate.config import normalise_database_url

    return create_engine(make_url(normalise_database_url(server_url)), isolation_level="AUTOCOMMIT")


def database_url(server_url: str, name: str) -> str:
    from deliberate.config import normalise_database_url

    url = make_url(normalise_database_url(server_url)).set(database=name)
    return url.render_as_string(hide_password=False)


def database_name(url: str) -> str:
    from deliberate.config import normalise_database_url

    return make_url(normalise_database_url(url)).database or ""


def create_database(server_url: str, name: str, template: str | None = None) -> str:
    """A new database on the server (a copy of ``template`` when given); returns its URL."""
    engine = _admin_engine(server_url)
    try:
        with engine.connect() as connection:
            copy = f' TEMPLATE "{template}"' if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    finally:
        engine.dispose()
    return database_url(server_url, name)


def drop_database(server_url: str, name: str) -> None:
    engine = _admin_engine(server_url)
    try:
        with engine.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        engine.dispose()


def unique_name(kind: str) -> str:
    return f"deliberate_load_{kind}_{uuid.uuid4().hex[:8]}"


def polis_folder() -> Path:
    for base in (ROOT / "data" / "polis", Path("/work/shared/data/polis")):
        if (base / CONVERSATION).is_dir():
            return base / CONVERSATION
    raise SystemExit(f"No Polis export {CONVERSATION} under data/polis/")


def seed(url: str, accounts: int, migrate: bool = True) -> Seeded:
    """Migrate the database at ``url`` and fill it; safe to run again on the same database (the
    import is keyed by its source, accounts are found by email)."""
    os.environ.setdefault("SECRET_KEY", "load-bench-setup")
    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from deliberate import create_app
    from deliberate.extensions import db
    from deliberate.missions.catalogue import ensure_missions
    from deliberate.models import Consultation, ConsultationState, MissionTeamMember, Statement
    from deliberate.services import accounts as account_service
    from deliberate.services import reports
    from deliberate.services.analysis import run_analysis
    from deliberate.services.analysis_runs import latest_run
    from deliberate.services.consultations import reopen_consultation
    from deliberate.services.polis_exchange import import_polis_folder
    from deliberate.unit_of_work import unit_of_work

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None})
    with app.app_context():
        if migrate:
            upgrade()
        with unit_of_work():
            missions = {m.slug: m for m in ensure_missions()}
            mission = missions.get(MISSION_SLUG) or next(iter(missions.values()))
            team = account_service.find_user_by_email(TEAM_EMAIL) or account_service.register_user(
                TEAM_EMAIL, "Load bench team", ACCOUNT_PASSWORD
            )
            if not team.team_memberships:
                db.session.add(MissionTeamMember(user=team, mission=mission))
            result = import_polis_folder(polis_folder(), mission)
            consultation = db.session.get(Consultation, result.consultation_id)
            emails = [f"person{n:04d}@load-bench.example" for n in range(accounts)]
            for email in emails:
                if account_service.find_user_by_email(email) is None:
                    account_service.register_user(email, f"Person {email[6:10]}", ACCOUNT_PASSWORD)
        consultation_id = result.consultation_id
        with unit_of_work():
            if latest_run(consultation_id) is None:
                run_analysis(consultation_id)  # embeds the statements, fits topics, groups
        with unit_of_work():
            consultation = db.session.get(Consultation, consultation_id)
            if reports.published_run(consultation_id) is None:
                reports.publish_run(team, consultation, latest_run(consultation_id))
            if consultation.state is ConsultationState.CLOSED:
                reopen_consultation(team, consultation, "Reopened for the load benchmark")
            consultation.allow_anonymous = True
        statements = db.session.scalar(
            select(func.count(Statement.id)).where(Statement.consultation_id == consultation_id)
        )
        db.session.remove()
        db.engine.dispose()
    app.extensions["deliberate_jobs"].shutdown()  # nothing may hold the template open
    return Seeded(consultation_id, statements, emails, ACCOUNT_PASSWORD)


def as_dict(seeded: Seeded) -> dict:
    return asdict(seeded)
