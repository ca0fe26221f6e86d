"""the indicator that measures each mission's goal, and its actual values over time

Revision ID: 0017_indicators
Revises: 0015_api_tokens
Create Date: 2026-11-30 15:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0017_indicators'
down_revision = '0016_responses'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'mission_indicators',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('mission_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('unit', sa.String(length=60), nullable=False),
        sa.Column('source', sa.String(length=500), nullable=False),
        sa.Column('source_url', sa.String(length=500), nullable=True),
        sa.Column('baseline_value', sa.Float(), nullable=False),
        sa.Column('baseline_on', sa.Date(), nullable=False),
        sa.Column('target_value', sa.Float(), nullable=False),
        sa.Column('target_on', sa.Date(), nullable=False),
        sa.Column('direction', sa.Enum('lower', 'higher', name='indicatordirection', native_enum=False, create_constraint=True, length=14), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['mission_id'], ['missions.id'], name=op.f('fk_mission_indicators_mission_id_missions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mission_indicators')),
        sa.UniqueConstraint('mission_id', name=op.f('uq_mission_indicators_mission_id')),
    )
    op.create_table(
        'indicator_values',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('indicator_id', sa.Integer(), nullable=False),
        sa.Column('measured_on', sa.Date(), nullable=False),
        sa.Column('value', sa.Float(), nullable=False),
        sa.Column('source', sa.String(length=500), nullable=False),
        sa.Column('note', sa.Text(), server_default='', nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['indicator_id'], ['mission_indicators.id'], name=op.f('fk_indicator_values_indicator_id_mission_indicators'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_indicator_values')),
        sa.UniqueConstraint('indicator_id', 'measured_on', name=op.f('uq_indicator_values_indicator_id_measured_on')),
    )
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_indicator_values_indicator_id'), ['indicator_id'], unique=False)


def downgrade():
    with op.batch_alter_table('indicator_values', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_indicator_values_indicator_id'))
    op.drop_table('indicator_values')
    op.drop_table('mission_indicators')
