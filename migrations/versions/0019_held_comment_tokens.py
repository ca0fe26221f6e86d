"""a held comment is found by a random token, never reused, and remembers its author

Revision ID: 0019_held_comment_tokens
Revises: 0015_api_tokens
Create Date: 2026-11-30 15:40:00

Held comments are short-lived (a day at most): those held while this runs are dropped rather than
given an author they cannot prove, and their authors simply post again.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0019_held_comment_tokens'
down_revision = '0018_followers'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("DELETE FROM similarity_checks")
    with op.batch_alter_table('similarity_checks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('token', sa.String(length=64), nullable=False))
        batch_op.add_column(sa.Column('author_user_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('author_token_hash', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_similarity_checks_token'), ['token'])
        batch_op.create_index(batch_op.f('ix_similarity_checks_author_user_id'), ['author_user_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_similarity_checks_author_user_id_users'), 'users', ['author_user_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('similarity_checks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_similarity_checks_author_user_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_similarity_checks_author_user_id'))
        batch_op.drop_constraint(batch_op.f('uq_similarity_checks_token'), type_='unique')
        batch_op.drop_column('author_token_hash')
        batch_op.drop_column('author_user_id')
        batch_op.drop_column('token')
