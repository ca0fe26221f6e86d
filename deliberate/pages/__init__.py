"""The pages every public service needs (accessibility, privacy, cookies) and a health check."""

from deliberate.pages.views import bp

__all__ = ["bp"]
