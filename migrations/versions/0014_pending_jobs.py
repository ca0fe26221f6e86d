"""jobs asked for while Redis did not answer

Revision ID: 0014_pending_jobs
Revises: 0013_audit_append_only
Create Date: 2026-11-30 13:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_pending_jobs'
down_revision = '0013_audit_append_only'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pending_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('function', sa.String(length=200), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=True),
    sa.Column('consultation_id', sa.Integer(), nullable=True),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pending_jobs')),
    sa.UniqueConstraint('key', name=op.f('uq_pending_jobs_key'))
    )


def downgrade():
    op.drop_table('pending_jobs')
