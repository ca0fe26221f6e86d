"""moderation reasons, edits, the policy and the analysis's moderation watermark

Revision ID: 0012_modlog
Revises: 0011_suspicious
Create Date: 2026-11-30 10:01:38.993584

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_modlog'
down_revision = '0011_suspicious'
branch_labels = None
depends_on = None


def upgrade():
    # Existing runs and consultations start at 0 moderation changes, so no run becomes stale by
    # the upgrade alone; statements already rejected keep no recorded reason (reports say so).
    op.create_table('site_texts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.Enum('moderation_policy', name='sitetextkey', native_enum=False, create_constraint=True, length=25), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_texts'))
    )
    with op.batch_alter_table('site_texts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_texts_key'), ['key'], unique=False)

    with op.batch_alter_table('analysis_runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('moderation_changes', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('moderation_changes', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('removal_reason', sa.Enum('abusive', 'personal_information', 'off_topic', 'duplicate', 'spam', 'unlawful', 'other', name='removalreason', native_enum=False, create_constraint=True, length=28), nullable=True))
        batch_op.add_column(sa.Column('removal_note', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('redacted_at', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('statements', schema=None) as batch_op:
        # The reason's check goes first: SQLite's batch copy would otherwise keep it.
        batch_op.drop_constraint(op.f('ck_statements_removalreason'), type_='check')
        batch_op.drop_column('redacted_at')
        batch_op.drop_column('removal_note')
        batch_op.drop_column('removal_reason')

    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_column('moderation_changes')

    with op.batch_alter_table('analysis_runs', schema=None) as batch_op:
        batch_op.drop_column('moderation_changes')

    with op.batch_alter_table('site_texts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_texts_key'))

    op.drop_table('site_texts')
