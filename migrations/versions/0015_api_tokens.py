"""personal API tokens, and whose program a comment held for the similarity check belongs to

Revision ID: 0015_api_tokens
Revises: 0014_pending_jobs
Create Date: 2026-11-30 15:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_api_tokens'
down_revision = '0014_pending_jobs'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'api_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_tokens_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_tokens')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_api_tokens_token_hash')),
    )
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_tokens_user_id'), ['user_id'], unique=False)

    op.create_table(
        'api_held_comments',
        sa.Column('check_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['check_id'], ['similarity_checks.id'], name=op.f('fk_api_held_comments_check_id_similarity_checks'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_api_held_comments_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('check_id', name=op.f('pk_api_held_comments')),
    )
    with op.batch_alter_table('api_held_comments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_held_comments_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('api_held_comments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_held_comments_user_id'))
    op.drop_table('api_held_comments')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_tokens_user_id'))
    op.drop_table('api_tokens')
