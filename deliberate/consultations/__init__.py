"""Taking part in a consultation: citizens and staff answer statements and add their own."""

from deliberate.consultations.views import bp

__all__ = ["bp"]
