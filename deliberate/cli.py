"""``flask --app wsgi deliberate ...``: the commands operators and the set-up scripts run.

Each command's writes are one unit of work: saved together at the end, or not at all.
"""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import click
from flask.cli import AppGroup

from deliberate.extensions import db
from deliberate.findings import read_findings
from deliberate.services.errors import Refused
from deliberate.unit_of_work import unit_of_work
from deliberate.wording import counted

deliberate_cli = AppGroup("deliberate", help="Deliberate's own commands.")


@deliberate_cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt="Name", default="Administrator")
@click.password_option()
def create_admin(email: str, name: str, password: str) -> None:
    """Create an administrator account, or make an existing account an administrator."""
    from deliberate.services import accounts

    try:
        with unit_of_work():
            user = accounts.find_user_by_email(email)
            if user is None:
                user = accounts.register_user(email, name, password)
            user.is_admin = True
    except Refused as refusal:
        raise click.ClickException(refusal.message) from None
    click.echo(f"{user.email} is an administrator.")


@deliberate_cli.command("purge")
def purge() -> None:
    """Delete, now, what has passed its retention period: held comments never posted, used or
    expired verification and account links, old outbox emails (periods: DELIBERATE_RETENTION_*).
    The site also does this by itself once a day; this command is for cron or for an operator."""
    from deliberate.services import retention

    with unit_of_work():
        purged = retention.purge()
    click.echo(purged.summary())


@deliberate_cli.command("load-demo")
def load_demo() -> None:
    """Load the five missions and the demo consultations; running it again duplicates nothing."""
    from flask import current_app

    from deliberate.demo import load_demo_data

    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("Demo data has known passwords: never load it in production.")
    with unit_of_work():
        for line in load_demo_data():
            click.echo(line)


@deliberate_cli.command("import-polis")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--mission", "mission_slug", default=None, help="Mission slug (default: the first).")
def import_polis(folder: Path, mission_slug: str | None) -> None:
    """Create a consultation from a Polis export folder; prints its id on the last line."""
    from sqlalchemy import select

    from deliberate.missions.catalogue import ensure_missions
    from deliberate.models import Mission
    from deliberate.polis_format import PolisFormatError
    from deliberate.services.embeddings import request_embedding
    from deliberate.services.polis_exchange import import_polis_folder

    with unit_of_work():
        missions = ensure_missions()
        if mission_slug is None:
            mission = missions[0]
        else:
            mission = db.session.scalar(select(Mission).where(Mission.slug == mission_slug))
            if mission is None:
                known = ", ".join(m.slug for m in missions)
                raise click.ClickException(f"No mission '{mission_slug}'. Missions: {known}")
        try:
            result = import_polis_folder(folder, mission)
        except PolisFormatError as error:
            raise click.ClickException(f"Nothing was imported. {error}") from None
        if result.created:
            request_embedding(result.consultation_id)  # one job embeds the whole conversation
    if result.created:
        click.echo(
            f"Imported {counted(result.statements, 'statement')}, "
            f"{counted(result.participants, 'participant')} and "
            f"{counted(result.votes, 'vote')} into '{mission.name}'."
        )
    else:
        click.echo("Already imported: nothing changed.")
    click.echo(result.consultation_id)


@deliberate_cli.command("export-polis")
@click.argument("consultation_id", type=int)
@click.argument("outdir", type=click.Path(file_okay=False, path_type=Path))
def export_polis(consultation_id: int, outdir: Path) -> None:
    """Write a consultation as a classic Polis export (our opinion groups in group-id), with
    topics.csv (comment-id, topic-id, topic-label; -1 is "Other") from the newest analysis."""
    from deliberate.models import Consultation
    from deliberate.polis_format import write_export
    from deliberate.services.polis_exchange import build_export, write_topics

    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None:
        raise click.ClickException(f"No consultation {consultation_id}.")
    write_export(build_export(consultation), outdir)
    write_topics(consultation, outdir)
    click.echo(f"Wrote {outdir}")


@deliberate_cli.command("analyse")
@click.argument("consultation_id", type=int)
def analyse(consultation_id: int) -> None:
    """Embed the statements not embedded yet, then find the topics and analyse the votes, and store
    both in one run (earlier runs stay as they were). The background job's code, lock included;
    a failure is stored as a failed run, shown on the team's dashboard."""
    from deliberate.analysis.embeddings import ModelIntegrityError
    from deliberate.jobs import tasks
    from deliberate.models import AnalysisRun, Consultation

    if db.session.get(Consultation, consultation_id) is None:
        raise click.ClickException(f"No consultation {consultation_id}.")
    with ExitStack() as bars:
        bar = None

        def advance(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                label = f"Embedding {total} statements"
                bar = bars.enter_context(click.progressbar(length=total, label=label))
            bar.update(done - bar.pos)

        try:
            run_id = tasks.analyse(
                consultation_id, only_when_stale=False, refit_topics=True, progress=advance
            )
        except tasks.AnotherWorkerIsOnIt:
            raise click.ClickException(
                f"Consultation {consultation_id} is being analysed by a worker now: "
                "try again once it has finished."
            ) from None
        except (ModelIntegrityError, OSError) as error:
            raise click.ClickException(
                f"The embedding model could not be loaded: {error}"
            ) from None
    run = db.session.get(AnalysisRun, run_id)
    findings = read_findings(run.results)
    click.echo(
        f"Stored analysis run {run.id} of consultation {consultation_id} in {run.duration_ms} ms: "
        f"{counted(run.n_participants, 'participant')}, {counted(run.n_statements, 'statement')}, "
        f"{counted(run.n_votes, 'vote')}. "
        f"{findings.votes.message}"
    )
    topics = findings.topics
    click.echo(f"Topics: {(topics.message or topics.status) if topics else 'not analysed'}")
