"""email confirmation: accounts registered through the site wait for their address to be confirmed

Revision ID: 0009_accounts
Revises: 0008_privacy
Create Date: 2026-11-30 09:41:41.039806

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009_accounts'
down_revision = '0008_privacy'
branch_labels = None
depends_on = None

OLD_PURPOSES = ('password_reset', 'email_change')
NEW_PURPOSES = ('password_reset', 'email_change', 'confirm_email')


def _purpose(values):
    return sa.Enum(
        *values, name='tokenpurpose', native_enum=False, create_constraint=True, length=22
    )


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_confirmed_at', sa.DateTime(), nullable=True))
    # Accounts made before confirmation existed count as confirmed, from when they were made.
    users = sa.table(
        'users',
        sa.column('created_at', sa.DateTime),
        sa.column('email_confirmed_at', sa.DateTime),
    )
    op.execute(users.update().values(email_confirmed_at=users.c.created_at))

    # A new kind of account token: the link that confirms a new account's address.
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.alter_column(
            'purpose',
            existing_type=_purpose(OLD_PURPOSES),
            type_=_purpose(NEW_PURPOSES),
            existing_nullable=False,
        )


def downgrade():
    tokens = sa.table('account_tokens', sa.column('purpose', sa.String))
    op.execute(tokens.delete().where(tokens.c.purpose == 'confirm_email'))
    with op.batch_alter_table('account_tokens', schema=None) as batch_op:
        batch_op.alter_column(
            'purpose',
            existing_type=_purpose(NEW_PURPOSES),
            type_=_purpose(OLD_PURPOSES),
            existing_nullable=False,
        )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_confirmed_at')
