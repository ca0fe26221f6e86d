"""``flask --app wsgi deliberate ...``: the commands operators and the set-up scripts run."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from deliberate.extensions import db
from deliberate.services.errors import Refused

deliberate_cli = AppGroup("deliberate", help="Deliberate's own commands.")


@deliberate_cli.command("create-admin")
@click.option("--email", prompt=True)
@click.option("--name", prompt="Name", default="Administrator")
@click.password_option()
def create_admin(email: str, name: str, password: str) -> None:
    """Create an administrator account, or make an existing account an administrator."""
    from deliberate.services import accounts

    user = accounts.find_user_by_email(email)
    if user is None:
        try:
            user = accounts.register_user(email, name, password)
        except Refused as refusal:
            db.session.rollback()
            raise click.ClickException(refusal.message) from None
    user.is_admin = True
    db.session.commit()
    click.echo(f"{user.email} is an administrator.")


@deliberate_cli.command("load-demo")
def load_demo() -> None:
    """Load the five missions and the demo consultations. Safe to run again: nothing is duplicated."""
    from deliberate.demo import load_demo_data

    for line in load_demo_data():
        click.echo(line)
    db.session.commit()
