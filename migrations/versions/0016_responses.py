"""the mission team's responses to a consultation ("You said, we did"), what each answers, and
their dated updates

Revision ID: 0016_responses
Revises: 0015_api_tokens
Create Date: 2026-11-30 15:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016_responses'
down_revision = '0015_api_tokens'
branch_labels = None
depends_on = None

STATUSES = ('considering', 'decided', 'in_progress', 'done', 'not_doing')
KINDS = (
    'statement', 'idea', 'consensus', 'divisive', 'representative', 'role_difference',
    'role_agreement', 'topic',
)


def _status(name):
    return sa.Enum(*STATUSES, name=name, native_enum=False, create_constraint=True, length=19)


def upgrade():
    op.create_table(
        'mission_responses',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('consultation_id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('explanation', sa.Text(), nullable=False),
        sa.Column('status', _status('responsestatus'), nullable=False),
        sa.Column('not_doing_reason', sa.Text(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_mission_responses_consultation_id_consultations'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_mission_responses_created_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_mission_responses')),
    )
    with op.batch_alter_table('mission_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mission_responses_consultation_id'), ['consultation_id'], unique=False)

    op.create_table(
        'response_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.Enum(*KINDS, name='linkkind', native_enum=False, create_constraint=True, length=23), nullable=False),
        sa.Column('run_id', sa.Integer(), nullable=True),
        sa.Column('statement_id', sa.Integer(), nullable=True),
        sa.Column('group_id', sa.Integer(), nullable=True),
        sa.Column('topic_id', sa.Integer(), nullable=True),
        sa.Column('idea_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['idea_id'], ['ideas.id'], name=op.f('fk_response_links_idea_id_ideas'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['response_id'], ['mission_responses.id'], name=op.f('fk_response_links_response_id_mission_responses'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['run_id'], ['analysis_runs.id'], name=op.f('fk_response_links_run_id_analysis_runs'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_response_links_statement_id_statements'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_response_links')),
    )
    with op.batch_alter_table('response_links', schema=None) as batch_op:
        for column in ('response_id', 'run_id', 'statement_id', 'idea_id'):
            batch_op.create_index(batch_op.f(f'ix_response_links_{column}'), [column], unique=False)

    op.create_table(
        'response_updates',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('response_id', sa.Integer(), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('from_status', _status('from_status'), nullable=True),
        sa.Column('to_status', _status('to_status'), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_response_updates_created_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['response_id'], ['mission_responses.id'], name=op.f('fk_response_updates_response_id_mission_responses'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_response_updates')),
    )
    with op.batch_alter_table('response_updates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_response_updates_response_id'), ['response_id'], unique=False)


def downgrade():
    with op.batch_alter_table('response_updates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_response_updates_response_id'))
    op.drop_table('response_updates')
    with op.batch_alter_table('response_links', schema=None) as batch_op:
        for column in ('idea_id', 'statement_id', 'run_id', 'response_id'):
            batch_op.drop_index(batch_op.f(f'ix_response_links_{column}'))
    op.drop_table('response_links')
    with op.batch_alter_table('mission_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mission_responses_consultation_id'))
    op.drop_table('mission_responses')
