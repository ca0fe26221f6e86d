"""audit events cannot be changed or removed, in PostgreSQL itself

Revision ID: 0013_audit_append_only
Revises: 0012_modlog
Create Date: 2026-11-30 10:50:00

The app's mapper already refuses to update or delete an audit event; on PostgreSQL a trigger
refuses it for every client of the database too (a raw SQL statement, a console). SQLite, the
embedded default for development, keeps the mapper's guard only.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0013_audit_append_only'
down_revision = '0012_modlog'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        """
        CREATE FUNCTION audit_events_append_only() RETURNS trigger AS $$
        BEGIN
            RAISE EXCEPTION 'audit events are never changed or removed';
        END;
        $$ LANGUAGE plpgsql
        """
    )
    op.execute(
        """
        CREATE TRIGGER audit_events_append_only
        BEFORE UPDATE OR DELETE ON audit_events
        FOR EACH ROW EXECUTE FUNCTION audit_events_append_only()
        """
    )


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER audit_events_append_only ON audit_events")
    op.execute("DROP FUNCTION audit_events_append_only()")
