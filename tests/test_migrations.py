"""The migrations build exactly the schema the models describe, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from deliberate.extensions import db
from tests.conftest import _postgres_database, make_test_app


def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    if database_url.startswith("postgresql"):
        yield from _postgres_database(database_url)
    else:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"


def test_upgrade_from_empty_then_downgrade_to_nothing_and_up_again(empty_database_url, tmp_path):
    app = make_test_app(empty_database_url, tmp_path)
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "missions", "consultations", "statements", "votes"} <= tables
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
        db.engine.dispose()


def test_existing_ideas_keep_their_author_unnamed_and_learn_where_they_work(
    empty_database_url, tmp_path
):
    """0008_privacy: ideas proposed before authors could choose stay unnamed; where their author
    works comes from the broad accepted domain of their verified work address."""
    import sqlalchemy as sa

    from deliberate.missions.catalogue import ensure_missions

    app = make_test_app(empty_database_url, tmp_path)
    with app.app_context():
        upgrade(revision="0008_privacy-1")
        mission = ensure_missions()[0]
        # The users table as it was at that revision (the model has moved on since).
        users = sa.table(
            "users",
            *(sa.column(c) for c in ("email", "display_name", "password_hash", "staff_email")),
            sa.column("is_admin"),
            sa.column("is_moderator"),
            sa.column("session_token"),
            sa.column("created_at", sa.DateTime),
        )
        nurse_id = db.session.execute(
            users.insert()
            .values(
                email="nurse@example.org",
                display_name="Sam Nurse",
                password_hash="x",
                staff_email="sam@gosh.nhs.uk",
                is_admin=False,
                is_moderator=False,
                session_token="t",
                created_at=sa.func.now(),
            )
            .returning(sa.column("id"))
        ).scalar_one()
        ideas = sa.table(
            "ideas",
            *(sa.column(c) for c in ("mission_id", "author_id", "title", "problem", "proposal")),
            sa.column("evidence"),
            sa.column("stage"),
            sa.column("created_at", sa.DateTime),
        )
        for title, author in (("From a nurse", nurse_id), ("Author unknown", None)):
            db.session.execute(
                ideas.insert().values(
                    mission_id=mission.id,
                    author_id=author,
                    title=title,
                    problem="p",
                    proposal="i",
                    evidence="",
                    stage="proposed",
                    created_at=sa.func.now(),
                )
            )
        db.session.commit()
        db.session.remove()
        upgrade()
        rows = db.session.execute(
            sa.text("SELECT title, show_author_name, author_staff_domain FROM ideas ORDER BY title")
        ).all()
        assert [tuple(r) for r in rows] == [
            ("Author unknown", False, None),
            ("From a nurse", False, "nhs.uk"),
        ]
        db.session.remove()
        db.engine.dispose()
