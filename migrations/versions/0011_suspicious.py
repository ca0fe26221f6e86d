"""participants keep a keyed hash of their address and whether the team left them out of the analysis

Revision ID: 0011_suspicious
Revises: 0010_reports
Create Date: 2026-11-30 10:01:35.367104

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_suspicious'
down_revision = '0010_reports'
branch_labels = None
depends_on = None


def upgrade():
    # All nullable: existing participants have no address key and are not excluded.
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_key', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('excluded_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('excluded_for', sa.Enum('burst', 'identical_votes', name='participantflag', native_enum=False, create_constraint=True, length=23), nullable=True))
        batch_op.create_index('ix_participants_address_key_created_at', ['address_key', 'created_at'], unique=False)


def downgrade():
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_index('ix_participants_address_key_created_at')
        # The enum's check goes first: SQLite's table copy would keep it and miss the column.
        batch_op.drop_constraint(batch_op.f('ck_participants_participantflag'), type_='check')
        batch_op.drop_column('excluded_for')
        batch_op.drop_column('excluded_at')
        batch_op.drop_column('address_key')
