"""participants report statements; a statement is hidden after enough reports, until moderated

Revision ID: 0010_reports
Revises: 0009_accounts
Create Date: 2026-11-30 10:01:29.936673

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010_reports'
down_revision = '0009_accounts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('statement_reports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('statement_id', sa.Integer(), nullable=False),
    sa.Column('participant_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Enum('abusive', 'personal_information', 'off_topic', 'duplicate', 'spam', 'unlawful', 'other', name='reportreason', native_enum=False, create_constraint=True, length=28), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['participant_id'], ['participants.id'], name=op.f('fk_statement_reports_participant_id_participants'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_statement_reports_statement_id_statements'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_reports')),
    sa.UniqueConstraint('statement_id', 'participant_id', name=op.f('uq_statement_reports_statement_id_participant_id'))
    )
    with op.batch_alter_table('statement_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_reports_participant_id'), ['participant_id'], unique=False)

    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hidden_by_reports_at', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.drop_column('hidden_by_reports_at')

    with op.batch_alter_table('statement_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_reports_participant_id'))

    op.drop_table('statement_reports')
