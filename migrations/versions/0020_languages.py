"""the languages of a consultation's content, and the team's translations of it

Revision ID: 0020_languages
Revises: 0019_held_comment_tokens
Create Date: 2026-12-01 10:00:00

Existing consultations and statements are taken to be in English (the only language so far).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0020_languages'
down_revision = '0019_held_comment_tokens'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default='en', nullable=False))
        batch_op.add_column(sa.Column('other_languages', sa.String(length=100), server_default='', nullable=False))
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), server_default='en', nullable=False))
    op.create_table(
        'statement_translations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('statement_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('by_user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['by_user_id'], ['users.id'], name=op.f('fk_statement_translations_by_user_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['statement_id'], ['statements.id'], name=op.f('fk_statement_translations_statement_id_statements'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_statement_translations')),
        sa.UniqueConstraint('statement_id', 'language', name=op.f('uq_statement_translations_statement_id_language')),
    )
    with op.batch_alter_table('statement_translations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_statement_translations_statement_id'), ['statement_id'], unique=False)
    op.create_table(
        'consultation_translations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('consultation_id', sa.Integer(), nullable=False),
        sa.Column('language', sa.String(length=8), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('context', sa.Text(), nullable=False),
        sa.Column('by_user_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['by_user_id'], ['users.id'], name=op.f('fk_consultation_translations_by_user_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_consultation_translations_consultation_id_consultations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_consultation_translations')),
        sa.UniqueConstraint('consultation_id', 'language', name=op.f('uq_consultation_translations_consultation_id_language')),
    )
    with op.batch_alter_table('consultation_translations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_consultation_translations_consultation_id'), ['consultation_id'], unique=False)


def downgrade():
    with op.batch_alter_table('consultation_translations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_consultation_translations_consultation_id'))
    op.drop_table('consultation_translations')
    with op.batch_alter_table('statement_translations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_statement_translations_statement_id'))
    op.drop_table('statement_translations')
    with op.batch_alter_table('statements', schema=None) as batch_op:
        batch_op.drop_column('language')
    with op.batch_alter_table('consultations', schema=None) as batch_op:
        batch_op.drop_column('other_languages')
        batch_op.drop_column('language')
