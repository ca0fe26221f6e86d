"""What administrators do: people, roles, mission teams, staff status and the audit log."""

from deliberate.admin.views import bp

__all__ = ["bp"]
