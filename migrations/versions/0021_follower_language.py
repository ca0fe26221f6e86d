"""the interface language a follower asked in, so the emails to it are written in it

Revision ID: 0021_follower_language
Revises: 0020_languages
Create Date: 2026-12-01 12:00:00

Followers from before are taken to have asked in English (what they were emailed in so far).
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021_follower_language"
down_revision = "0020_languages"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("followers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("language", sa.String(length=8), server_default="en", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("followers", schema=None) as batch_op:
        batch_op.drop_column("language")
