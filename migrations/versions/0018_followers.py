"""followers: addresses that asked to hear about a consultation, and who came back invited

Revision ID: 0018_followers
Revises: 0015_api_tokens
Create Date: 2026-11-30 15:45:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0018_followers'
down_revision = '0017_indicators'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'followers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('consultation_id', sa.Integer(), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('confirm_token_hash', sa.String(length=64), nullable=True),
        sa.Column('confirm_sent_at', sa.DateTime(), nullable=False),
        sa.Column('confirmed_at', sa.DateTime(), nullable=True),
        sa.Column('unsubscribe_salt', sa.String(length=64), nullable=False),
        sa.Column('unsubscribe_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['consultation_id'], ['consultations.id'], name=op.f('fk_followers_consultation_id_consultations'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_followers')),
        sa.UniqueConstraint('confirm_token_hash', name=op.f('uq_followers_confirm_token_hash')),
        sa.UniqueConstraint('consultation_id', 'email', name=op.f('uq_followers_consultation_id_email')),
        sa.UniqueConstraint('unsubscribe_hash', name=op.f('uq_followers_unsubscribe_hash')),
    )
    with op.batch_alter_table('followers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followers_consultation_id'), ['consultation_id'], unique=False)
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invited_back', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('participants', schema=None) as batch_op:
        batch_op.drop_column('invited_back')
    with op.batch_alter_table('followers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followers_consultation_id'))
    op.drop_table('followers')
