"""ideas keep whether the author's name is shown, and where they work

Revision ID: 0008_privacy
Revises: 0007_selfservice
Create Date: 2026-11-30 09:41:43.232763

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008_privacy'
down_revision = '0007_selfservice'
branch_labels = None
depends_on = None

# The staff domains of deliberate/config.py when this migration was written, if the settings
# cannot be read.
DEFAULT_STAFF_DOMAINS = ("nhs.net", "nhs.uk", "police.uk", "gov.uk", "sch.uk", "ac.uk")


def _staff_domains() -> tuple[str, ...]:
    try:
        from flask import current_app

        return tuple(current_app.config["STAFF_EMAIL_DOMAINS"])
    except (RuntimeError, KeyError):
        return DEFAULT_STAFF_DOMAINS


def _broadest_match(email: str | None, domains: tuple[str, ...]) -> str | None:
    if not email or "@" not in email:
        return None
    own = email.rsplit("@", 1)[1].lower()
    matches = [d for d in domains if own == d or own.endswith("." + d)]
    return min(matches, key=len) if matches else None


def upgrade():
    # Every existing idea keeps its author's name hidden (the default from now on); where its
    # author works is read from their verified work address, if they still have one.
    with op.batch_alter_table('ideas', schema=None) as batch_op:
        batch_op.add_column(sa.Column('show_author_name', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('author_staff_domain', sa.String(length=253), nullable=True))

    ideas = sa.table(
        'ideas',
        sa.column('id', sa.Integer),
        sa.column('author_id', sa.Integer),
        sa.column('author_staff_domain', sa.String),
    )
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('staff_email', sa.String))
    connection = op.get_bind()
    domains = _staff_domains()
    rows = connection.execute(
        sa.select(ideas.c.id, users.c.staff_email).join(users, users.c.id == ideas.c.author_id)
    ).all()
    for idea_id, staff_email in rows:
        domain = _broadest_match(staff_email, domains)
        if domain is not None:
            connection.execute(
                ideas.update().where(ideas.c.id == idea_id).values(author_staff_domain=domain)
            )


def downgrade():
    with op.batch_alter_table('ideas', schema=None) as batch_op:
        batch_op.drop_column('author_staff_domain')
        batch_op.drop_column('show_author_name')
