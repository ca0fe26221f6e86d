"""What mission teams do to run consultations, and the moderation queue."""

from deliberate.manage.views import bp

__all__ = ["bp"]
