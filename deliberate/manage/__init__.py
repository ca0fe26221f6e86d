"""What mission teams do to run consultations, and the moderation queue."""

from deliberate.manage import (
    indicator_views,  # noqa: F401 - its routes join ``bp``
    language_views,  # noqa: F401 - its routes join ``bp``
    participation_views,  # noqa: F401 - its routes join ``bp``
    response_views,  # noqa: F401 - its routes join ``bp``
)
from deliberate.manage.views import bp

__all__ = ["bp"]
